//! The one table of colours and symbols for the five outcomes, used by every
//! format (xlsx fills, report.html's CSS, the Markdown and terminal marks, the
//! fleet summary). A symbol as well as a colour, so that a black-and-white
//! print still tells the outcomes apart; NG is dark and 検証不能 light, so they
//! differ in grey too.

use gcverify_checks::model::{Lang, Outcome};

/// How one outcome looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Look {
    pub outcome: Outcome,
    /// Printed before the label: × NG, ! 検証不能, ? 要確認, ○ OK, – 対象外.
    pub symbol: &'static str,
    /// The symbol in ASCII, for terminals: ○ × – are of ambiguous width
    /// (two columns in many Japanese terminals) and would break the table's lines.
    pub ascii: &'static str,
    /// Cell background, 0xRRGGBB.
    pub fill: u32,
    /// Text on that background, 0xRRGGBB.
    pub ink: u32,
    /// The terminal's foreground colour (16-colour ANSI, read on dark and light
    /// backgrounds alike); `None` leaves the terminal's own.
    pub term: Option<comfy_table::Color>,
}

/// Every outcome's look, in [`crate::OUTCOMES`] order.
pub(crate) const LOOKS: [Look; 5] = [
    Look { outcome: Outcome::Ok, ascii: "o", symbol: "○", fill: 0xC6EFCE, ink: 0x006100, term: Some(comfy_table::Color::Green) },
    // Dark with white text: the darkest cell of a grey print.
    Look { outcome: Outcome::Ng, ascii: "x", symbol: "×", fill: 0xB00020, ink: 0xFFFFFF, term: Some(comfy_table::Color::Red) },
    Look { outcome: Outcome::Error, ascii: "!", symbol: "!", fill: 0xFFD966, ink: 0x5C3B00, term: Some(comfy_table::Color::Yellow) },
    Look { outcome: Outcome::NotApplicable, ascii: "-", symbol: "–", fill: 0xEDEDED, ink: 0x4D4D4D, term: None },
    Look { outcome: Outcome::Pending, ascii: "?", symbol: "?", fill: 0xCCE5FF, ink: 0x003A75, term: Some(comfy_table::Color::Cyan) },
];

/// The look of `o`.
pub(crate) fn look(o: Outcome) -> &'static Look {
    match o {
        Outcome::Ok => &LOOKS[0],
        Outcome::Ng => &LOOKS[1],
        Outcome::Error => &LOOKS[2],
        Outcome::NotApplicable => &LOOKS[3],
        Outcome::Pending => &LOOKS[4],
    }
}

/// `× NG`, `! 検証不能`: the symbol, then the label.
pub(crate) fn marked(o: Outcome, lang: Lang) -> String {
    format!("{} {}", look(o).symbol, o.label(lang))
}

/// `#B00020`
pub(crate) fn hex(rgb: u32) -> String {
    format!("#{rgb:06X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG relative luminance of an sRGB colour (0 black … 1 white).
    fn luminance(rgb: u32) -> f64 {
        let channel = |shift: u32| {
            let c = f64::from((rgb >> shift) & 0xFF) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
    }

    /// WCAG contrast ratio of two colours (1 … 21).
    fn contrast(a: u32, b: u32) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn the_table_covers_every_outcome_once_in_tally_order() {
        let order: Vec<Outcome> = LOOKS.iter().map(|l| l.outcome).collect();
        assert_eq!(order, crate::OUTCOMES);
        for o in crate::OUTCOMES {
            assert_eq!(look(o).outcome, o);
        }
    }

    /// Told apart without colour: five different symbols, and NG and
    /// 検証不能 far apart in grey (the issue: same luminance, alike on paper).
    #[test]
    fn outcomes_differ_in_black_and_white() {
        let symbols: std::collections::BTreeSet<&str> = LOOKS.iter().map(|l| l.symbol).collect();
        assert_eq!(symbols.len(), 5);
        assert_eq!(symbols, ["×", "!", "?", "○", "–"].into_iter().collect());
        let (ng, error) = (luminance(look(Outcome::Ng).fill), luminance(look(Outcome::Error).fill));
        assert!(error - ng > 0.4, "NG {ng:.2} and 検証不能 {error:.2} must differ in grey");
        for l in LOOKS {
            assert!(contrast(l.fill, l.ink) >= 4.5, "{:?}: text readable on its fill ({:.1})", l.outcome, contrast(l.fill, l.ink));
        }
        let fills: std::collections::BTreeSet<u32> = LOOKS.iter().map(|l| l.fill).collect();
        assert_eq!(fills.len(), 5, "every outcome its own fill");
        let ascii: std::collections::BTreeSet<&str> = LOOKS.iter().map(|l| l.ascii).collect();
        assert_eq!(ascii.len(), 5);
        assert!(ascii.iter().all(|a| a.is_ascii()));
    }

    #[test]
    fn marks_and_hex() {
        assert_eq!(marked(Outcome::Ng, Lang::Ja), "× NG");
        assert_eq!(marked(Outcome::Error, Lang::Ja), "! 検証不能");
        assert_eq!(marked(Outcome::Pending, Lang::En), "? PENDING");
        assert_eq!(hex(0x00FF0A), "#00FF0A");
        assert!((luminance(0xFFFFFF) - 1.0).abs() < 1e-9 && luminance(0) == 0.0);
    }

    /// Every format takes its colours and symbols from [`LOOKS`]: the HTML's
    /// CSS and cells, the xlsx's fills and 結果 cells, the Markdown and the
    /// terminal's marks, the fleet summary's fills; and no source keeps a copy
    /// of a fill.
    #[test]
    fn every_format_uses_the_one_table() {
        use std::io::Read as _;
        let report = crate::testutil::sample_report();
        let catalog = gcverify_checks::catalog::Catalog::builtin();
        let html = crate::render_html(&report, Lang::Ja, std::path::Path::new("/nonexistent"));
        let md = crate::render_markdown(&report, Lang::Ja);
        let term = crate::render_table(&report, Lang::Ja, Some(300), true);
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("x.xlsx");
        crate::write_xlsx(&report, &catalog, &path).expect("xlsx");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).expect("open")).expect("zip");
        let mut part = |name: &str| {
            let mut text = String::new();
            zip.by_name(name).expect(name).read_to_string(&mut text).expect("utf8");
            text
        };
        let (styles, strings) = (part("xl/styles.xml"), part("xl/sharedStrings.xml"));
        for l in LOOKS {
            let o = l.outcome;
            assert!(report.count(o) > 0, "the sample has {o:?}");
            let class = match o {
                Outcome::Ok => "ok",
                Outcome::Ng => "ng",
                Outcome::Error => "error",
                Outcome::NotApplicable => "na",
                Outcome::Pending => "pending",
            };
            assert!(html.contains(&format!(".o-{class}{{background:{};color:{}}}", hex(l.fill), hex(l.ink))), "html css {o:?}");
            assert!(html.contains(&format!("<td class=\"o-{class}\"><span class=\"sym\">{}</span> ", crate::html::esc(l.symbol))), "html cell {o:?}");
            assert!(styles.contains(&format!("rgb=\"FF{:06X}\"", l.fill)), "xlsx fill {o:?}");
            assert!(styles.contains(&format!("rgb=\"FF{:06X}\"", l.ink)), "xlsx ink {o:?}");
            assert!(strings.contains(&format!(">{}<", marked(o, Lang::Ja))), "xlsx cell {o:?}");
            assert!(md.contains(&format!(" {} |", marked(o, Lang::Ja))) || md.contains(&format!(" **{}** |", marked(o, Lang::Ja))), "md {o:?}");
            let item = report.items.iter().find(|i| i.outcome == o).expect("row");
            let row = term.lines().find(|r| r.starts_with(&format!("| {} ", item.id))).expect("terminal row");
            assert!(row.contains(&format!("{} {}", o.label(Lang::Ja), l.ascii)), "terminal {o:?}: {row}");
            assert_eq!(l.term.is_some(), row.contains("\x1b["), "terminal colour {o:?}: {row}");
        }
        // The fleet summary's fills.
        let member = crate::fleet::MemberSummary::from_report(&report, None, None, None, 0);
        let fleet = crate::fleet::FleetSummary::new("f", None, report.items.iter().map(|i| i.id.clone()).collect(), vec![member], Vec::new());
        crate::fleet::write_fleet_xlsx(&fleet, tmp.path(), Lang::Ja).expect("fleet.xlsx");
        let mut zip = zip::ZipArchive::new(std::fs::File::open(tmp.path().join(crate::fleet::FLEET_XLSX)).expect("open")).expect("zip");
        let mut styles = String::new();
        zip.by_name("xl/styles.xml").expect("styles").read_to_string(&mut styles).expect("utf8");
        for o in [Outcome::Ok, Outcome::Ng, Outcome::Error] {
            assert!(styles.contains(&format!("rgb=\"FF{:06X}\"", look(o).fill)), "fleet fill {o:?}");
        }
        // No copy of a fill elsewhere in the sources.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        while let Some(p) = files.pop() {
            if p.is_dir() {
                files.extend(std::fs::read_dir(&p).expect("dir").map(|e| e.expect("entry").path()));
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("style.rs") {
                let text = std::fs::read_to_string(&p).expect("source").to_uppercase();
                for l in LOOKS {
                    for lit in [format!("0X{:06X}", l.fill), format!("#{:06X}", l.fill)] {
                        assert!(!text.contains(&lit), "{} copies {lit}", p.display());
                    }
                }
            }
        }
    }
}
