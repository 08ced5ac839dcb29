//! Paper: report.html printed by headless Chromium and 検証結果.xlsx converted
//! by LibreOffice, each once, and the PDFs read back with poppler (pdfinfo,
//! pdftotext): the paper size, the cover on one page, the main table at 8 pt
//! or more with its header on every page, the run ID on every HTML page and
//! the evidence of collapsed rows printed.
//!
//! Without the programs the tests say NOT RUN, unless CI requires them:
//! GCVERIFY_REQUIRE_CHROMIUM=1 (Chromium), GCVERIFY_REQUIRE_LIBREOFFICE=1
//! (`apt-get install libreoffice-calc poppler-utils`). By default they print
//! the 50-row sample run; GCVERIFY_PRINT_FROM=DIR prints a saved run instead
//! (e.g. the demo's), and GCVERIFY_SCREENS=DIR keeps the PDFs and PNGs in
//! DIR/sample (the HTML at 1280 and 390 px wide, the xlsx's first pages).
//! The checks themselves are `support/print.rs`, which
//! `xtask/tests/print_demos.rs` runs on both demos.

#[allow(dead_code)]
#[path = "../src/testutil.rs"]
mod testutil;

#[allow(dead_code)]
#[path = "support/print.rs"]
mod print;

use std::path::{Path, PathBuf};

use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Lang, RunReport};
use gcverify_reports::{read_json, write_files_with, Format};

/// The run to print and the folder its files (and interval logs) are in.
fn rendered(formats: &[Format], out: &Path) -> RunReport {
    let (report, artefacts) = match std::env::var_os("GCVERIFY_PRINT_FROM") {
        Some(dir) => (read_json(&Path::new(&dir).join("result.json")).expect("GCVERIFY_PRINT_FROM has a result.json"), PathBuf::from(dir)),
        None => (testutil::sample_report(), out.to_path_buf()),
    };
    write_files_with(&report, &Catalog::builtin(), formats, out, Lang::Ja, &artefacts).expect("write");
    report
}

#[test]
fn xlsx_prints_the_cover_on_one_page_and_the_table_on_a3_at_8pt_or_more() {
    let Some(soffice) = print::require_libreoffice("xlsx_prints_the_cover_on_one_page_and_the_table_on_a3_at_8pt_or_more") else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = rendered(&[Format::Xlsx], tmp.path());
    print::check_xlsx(&soffice, &tmp.path().join("検証結果.xlsx"), &report, tmp.path(), print::screens("sample").as_deref());
}

#[test]
fn html_prints_on_a4_with_the_run_id_on_every_page_and_the_evidence_expanded() {
    if print::require_chromium("html_prints_on_a4_with_the_run_id_on_every_page_and_the_evidence_expanded").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = rendered(&[Format::Html], tmp.path());
    print::check_html(&tmp.path().join("report.html"), &report, tmp.path(), print::screens("sample").as_deref());
}
