//! Where a run's files go, and the rule that a command removes nothing it did
//! not write in this invocation: `report --from` adds or replaces only the
//! formats asked for; `verify` clears the stale files of an earlier run in the
//! same folder and names each.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gcverify_checks::model::Lang;
use gcverify_checks::{Catalog, RunReport};
use gcverify_reports::{Format, SUMS_FILE_NAME};

/// One message, Japanese first, English under `--lang en`.
pub fn say(lang: Lang, ja: impl Into<String>, en: impl Into<String>) -> String {
    match lang {
        Lang::Ja => ja.into(),
        Lang::En => en.into(),
    }
}

/// Report files of gcverify's formats present in `dir`.
fn present_report_files(dir: &Path) -> Vec<PathBuf> {
    Format::ALL.iter().filter_map(|f| f.file_name()).map(|n| dir.join(n)).filter(|p| p.is_file()).collect()
}

/// `verify`: a new run's files into `out`. The library clears gcverify's files
/// of formats not written now (they are of an earlier run and would otherwise
/// sit beside this run's as if they were its own); each one removed is named.
pub fn write_run_files(report: &RunReport, catalog: &Catalog, formats: &[Format], out: &Path, lang: Lang) -> Result<Vec<PathBuf>> {
    let before = present_report_files(out);
    let written = gcverify_reports::write_files(report, catalog, formats, out, lang).with_context(|| format!("writing reports to {}", out.display()))?;
    for gone in before.iter().filter(|p| !p.exists()) {
        eprintln!(
            "gcverify: {}",
            say(lang, format!("前回の実行の古いファイルを削除: {}", gone.display()), format!("removed a stale file of an earlier run: {}", gone.display()))
        );
    }
    Ok(written)
}

/// `report --from`: the formats asked for, rendered into a staging folder
/// inside `out` and moved in, so no other file of `out` is ever removed. The
/// new `SHA256SUMS` lists what was written now plus every file the old
/// manifest listed for this same run with an unchanged hash (and this run's
/// own `result.json`), so `sha256sum -c` still checks the whole folder.
pub fn render_files(report: &RunReport, catalog: &Catalog, formats: &[Format], out: &Path, lang: Lang, artefacts: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating output directory {}", out.display()))?;
    let staging =
        tempfile::Builder::new().prefix(".gcverify-render-").tempdir_in(out).with_context(|| format!("creating a staging folder in {}", out.display()))?;
    let staged = gcverify_reports::write_files_with(report, catalog, formats, staging.path(), lang, artefacts)
        .with_context(|| format!("writing reports to {}", out.display()))?;
    let old_sums = std::fs::read_to_string(out.join(SUMS_FILE_NAME)).unwrap_or_default();
    let mut written = Vec::new();
    let mut new_sums = String::new();
    for path in &staged {
        let Some(name) = path.file_name() else { continue };
        if name == SUMS_FILE_NAME {
            new_sums = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            continue;
        }
        let dest = out.join(name);
        std::fs::rename(path, &dest).with_context(|| format!("moving {} to {}", path.display(), dest.display()))?;
        written.push(dest);
    }
    if new_sums.is_empty() {
        return Ok(written);
    }
    let (header, mut lines) = split_manifest(&new_sums);
    let listed: Vec<String> = lines.iter().map(|l| l.get(66..).unwrap_or_default().to_string()).collect();
    let same_run_listing = split_manifest(&old_sums);
    let old_is_this_run = same_run_listing.0.starts_with(&format!("# gcverify run {} ", report.run_id));
    for path in present_report_files(out) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if listed.contains(&name) {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {} for {SUMS_FILE_NAME}", path.display()))?;
        let line = format!("{}  {name}", gcverify_checks::sha256_hex(&bytes));
        let listed_before = old_is_this_run && same_run_listing.1.contains(&line);
        if listed_before || (name == gcverify_reports::JSON_FILE_NAME && json_run_id(&bytes).as_deref() == Some(report.run_id.as_str())) {
            lines.push(line);
        }
    }
    // The run's raw files (load logs, the availability store) are no report:
    // they stay listed while present and unchanged.
    if old_is_this_run {
        for line in &same_run_listing.1 {
            let name = line.get(66..).unwrap_or_default();
            if name.is_empty() || name.split('/').any(|c| c == "..") || lines.iter().any(|l| l.get(66..) == Some(name)) {
                continue;
            }
            if let Ok(bytes) = std::fs::read(out.join(name)) {
                if format!("{}  {name}", gcverify_checks::sha256_hex(&bytes)) == *line {
                    lines.push(line.clone());
                }
            }
        }
    }
    lines.sort_by(|a, b| a.get(66..).cmp(&b.get(66..)));
    let sums = out.join(SUMS_FILE_NAME);
    std::fs::write(&sums, format!("{header}\n{}\n", lines.join("\n"))).with_context(|| format!("writing {}", sums.display()))?;
    written.push(sums);
    Ok(written)
}

/// A manifest's `# gcverify run …` header and its `<hex>  <name>` lines.
fn split_manifest(text: &str) -> (String, Vec<String>) {
    let mut header = String::new();
    let mut lines = Vec::new();
    for l in text.lines() {
        if l.starts_with('#') {
            header = l.to_string();
        } else if l.len() > 66 {
            lines.push(l.to_string());
        }
    }
    (header, lines)
}

fn json_run_id(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(bytes).ok()?.get("run_id")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_splits_into_header_and_lines() {
        let hex = "a".repeat(64);
        let (h, l) = split_manifest(&format!("# gcverify run R (prod x)\n{hex}  junit.xml\n"));
        assert_eq!(h, "# gcverify run R (prod x)");
        assert_eq!(l, vec![format!("{hex}  junit.xml")]);
    }
}
