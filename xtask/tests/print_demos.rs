//! Both demos on paper, as a user runs them (issue 27): `demo` and `demo
//! --noncompliant` write 検証結果.xlsx and report.html, which are printed
//! through LibreOffice and Chromium and checked by the same checks as the
//! sample run's (`reports/tests/support/print.rs`): the cover on one A4 page,
//! the table on A3 at 8 pt or more with every row, the HTML on A4 with the
//! run ID on every page and the collapsed evidence printed. With
//! GCVERIFY_SCREENS=DIR the PDFs, the xlsx's first pages as PNG and the HTML
//! at 1280 and 390 px are kept in DIR/demo and DIR/demo-noncompliant.

mod common;

#[allow(dead_code)]
#[path = "../../reports/tests/support/print.rs"]
mod print;

use common::{text, xtask};

#[test]
fn both_demos_print_on_paper_an_auditor_reads() {
    let test = "both_demos_print_on_paper_an_auditor_reads";
    let Some(soffice) = print::require_libreoffice(test) else { return };
    if print::require_chromium(test).is_none() {
        return;
    }
    for (name, args) in [("demo", vec!["demo"]), ("demo-noncompliant", vec!["demo", "--noncompliant"])] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        let dir = out.to_str().expect("utf8");
        let o = xtask(&[args.as_slice(), &["--format", "json,xlsx,html", "--out", dir]].concat());
        assert!(matches!(o.status.code(), Some(0..=2)), "{name}: {}", text(&o));
        let report = gcverify_reports::read_json(&out.join("result.json")).unwrap_or_else(|e| panic!("{name}: result.json: {e:#}"));
        let keep = print::screens(name);
        let work = tmp.path().join("xlsx");
        std::fs::create_dir_all(&work).expect("work dir");
        print::check_xlsx(&soffice, &out.join("検証結果.xlsx"), &report, &work, keep.as_deref());
        let work = tmp.path().join("html");
        std::fs::create_dir_all(&work).expect("work dir");
        print::check_html(&out.join("report.html"), &report, &work, keep.as_deref());
    }
}
