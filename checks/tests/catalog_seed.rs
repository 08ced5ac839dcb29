//! Checks `checks/catalog.toml` against the pilot project's 検証結果 table
//! (`verification-results-table.txt`, text extracted from a PDF).
//!
//! The seed is read from `$GCVERIFY_SEED_DIR/verification-results-table.txt`
//! if that variable is set (`.ci/run` sets it: there a missing seed fails),
//! else from `<CARGO_MANIFEST_DIR>/../../shared/seeds/`. A fresh clone
//! outside CI has no `../shared`: the test then says it did not run, and why.
//!
//! Only `toml` (parsed into `toml::Value`) and std are used, so this test does
//! not depend on any type of the library crate.

use std::collections::HashSet;
use std::path::PathBuf;

const SEED_FILE: &str = "verification-results-table.txt";

/// Keys every `[[item]]` must have (and no others).
const ITEM_KEYS: &[&str] = &[
    "id",
    "category",
    "subcategory",
    "metric",
    "description",
    "standard_level",
    "standard_label",
    "selection_condition",
    "notes",
    "selected_level",
    "selected_label",
    "level_note",
    "verified",
    "not_verified_reason",
    "check_item",
    "scope",
    "kind",
    "method",
    "probe",
    "pilot",
];

/// Keys that are gcverify's, not the seed's: the 確認観点 and the probe's per-item parameters.
const OPTIONAL_ITEM_KEYS: &[&str] = &["point", "params", "not_applicable_at"];

/// Keys of every `[item.pilot]` table.
const PILOT_KEYS: &[&str] = &["start", "end", "result", "event", "achieved_level", "achieved"];

const LEVELS: &[&str] = &["0", "1", "2", "3", "4", "5", "*"];

fn is_level(tok: &str) -> bool {
    LEVELS.contains(&tok)
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed_path() -> PathBuf {
    match std::env::var_os("GCVERIFY_SEED_DIR") {
        Some(dir) => PathBuf::from(dir).join(SEED_FILE),
        None => manifest_dir().join("..").join("..").join("shared").join("seeds").join(SEED_FILE),
    }
}

/// The seed's text; `None` (the test does not run) only when no seed
/// directory was named and the default one does not exist.
fn load_seed() -> Option<String> {
    let path = seed_path();
    if std::env::var_os("GCVERIFY_SEED_DIR").is_none() && !path.exists() {
        eprintln!(
            "catalog_seed: NOT RUN — no seed at {} (a clone outside CI has no ../shared); \
             set GCVERIFY_SEED_DIR to the folder holding {SEED_FILE} to run it (CI does)",
            path.display()
        );
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => panic!(
            "seed file not found or unreadable: looked at {} ({}); \
             set GCVERIFY_SEED_DIR to the directory containing {}",
            path.display(),
            e,
            SEED_FILE
        ),
    }
}

fn load_catalog() -> Vec<toml::Value> {
    let path = manifest_dir().join("catalog.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read catalog {}: {}", path.display(), e));
    let doc: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("catalog {} is not valid TOML: {}", path.display(), e));
    doc.get("item").and_then(|v| v.as_array()).unwrap_or_else(|| panic!("catalog {} has no [[item]] array", path.display())).clone()
}

/// If `line` begins with an item ID such as `C.1.2.2` (a letter A-F, then
/// three dot-separated numbers, followed by whitespace or end of line),
/// return that ID.
fn leading_item_id(line: &str) -> Option<&str> {
    let first = line.split_whitespace().next()?;
    if !line.starts_with(first) {
        return None; // leading whitespace: not an item row
    }
    let mut parts = first.split('.');
    let letter = parts.next()?;
    if letter.len() != 1 || !matches!(letter.as_bytes()[0], b'A'..=b'F') {
        return None;
    }
    let nums: Vec<&str> = parts.collect();
    if nums.len() != 3 || nums.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(first)
}

/// One item's rows in the seed.
struct SeedBlock {
    id: String,
    /// Non-blank lines of the block, starting with the ID line.
    lines: Vec<String>,
}

fn seed_blocks(seed: &str) -> Vec<SeedBlock> {
    let mut blocks: Vec<SeedBlock> = Vec::new();
    for line in seed.lines() {
        if let Some(id) = leading_item_id(line) {
            blocks.push(SeedBlock { id: id.to_string(), lines: Vec::new() });
        }
        if let Some(b) = blocks.last_mut() {
            if !line.trim().is_empty() {
                b.lines.push(line.to_string());
            }
        }
    }
    // The PDF repeats the table header at a page break (between E.7.1.3 and
    // E.10.1.1). It starts with the run-together header line
    // "原因メトリクス説明メトリクス（指標）中項目大項目" and ends just before the
    // next item row, so anything from such a line on is not part of the item.
    for b in &mut blocks {
        if let Some(pos) = b.lines.iter().position(|l| l.starts_with("原因メトリクス")) {
            b.lines.truncate(pos);
        }
    }
    blocks
}

/// What the test derives from a seed block, independently of the catalog.
#[derive(Debug)]
struct SeedFacts {
    standard_level: String,
    selected_level: String,
    verified: bool,
    kind: Option<String>,
    achieved_level: Option<String>,
}

/// Derive levels, 有/無, 種別 and the realized level from a block.
///
/// The PDF text is (mostly) emitted column by column, and column starts that
/// share a baseline are merged onto one line separated by spaces. So, as a
/// token stream, a row reads: ID, 大項目, 中項目, 小項目, メトリクス説明,
/// <standard level> <label…>, 選択時の条件, 備考, <selected level> <label…>,
/// 有|無, … 種別 …, <achieved level> OK.
///
/// * The 有/無 column is the first token that is exactly "有" or "無" on a line
///   with at least two tokens. (A lone "無" line is the tail of a broken 小項目
///   such as "伝送データの暗号化の有" / "無" in E.6.1.1, E.6.1.2, C.4.5.1; the
///   real 検証実施有無 token is always followed by 判断理由 or 検証事項 text.)
/// * Level tokens are whole tokens "0"–"5" or "*". Before the 有/無 token there
///   are exactly two: the standard's level and the selected level (the one
///   immediately before the 有/無 column, ignoring label fragments). Level
///   tokens are not always at a line start: in C.1.2.5, C.5.9.1, D.1.1.1 and
///   E.6.1.1 the standard level is merged mid-line after the メトリクス説明.
/// * 種別 is the token "実機" or "机上".
/// * The realized level is the second-to-last token of the block's last line
///   when the line ends in "<level> OK" (absent for unverified items).
fn seed_facts(block: &SeedBlock) -> Result<SeedFacts, String> {
    let id = &block.id;
    let mut toks: Vec<(&str, usize)> = Vec::new(); // (token, tokens on its line)
    for line in &block.lines {
        let ts: Vec<&str> = line.split_whitespace().collect();
        let n = ts.len();
        toks.extend(ts.into_iter().map(|t| (t, n)));
    }
    if toks.first().map(|t| t.0) != Some(id.as_str()) {
        return Err(format!("{id}: seed block does not start with its ID"));
    }
    let toks = &toks[1..];

    let vpos =
        toks.iter().position(|&(t, n)| (t == "有" || t == "無") && n >= 2).ok_or_else(|| format!("{id}: no 有/無 (検証実施有無) token in seed block"))?;
    let verified = toks[vpos].0 == "有";

    let levels: Vec<&str> = toks[..vpos].iter().map(|t| t.0).filter(|t| is_level(t)).collect();
    if levels.len() != 2 {
        return Err(format!(
            "{id}: expected exactly 2 level tokens (standard, selected) before the 有/無 \
             column in the seed, found {levels:?}"
        ));
    }

    let kinds: Vec<&str> = toks.iter().map(|t| t.0).filter(|t| *t == "実機" || *t == "机上").collect();
    if kinds.len() > 1 {
        return Err(format!("{id}: several 種別 tokens in seed block: {kinds:?}"));
    }

    let last: Vec<&str> = block.lines.last().map(|l| l.split_whitespace().collect()).unwrap_or_default();
    let achieved_level = match last.as_slice() {
        [.., lvl, res] if is_level(lvl) && (*res == "OK" || *res == "NG") => Some(lvl.to_string()),
        _ => None,
    };

    Ok(SeedFacts {
        standard_level: levels[0].to_string(),
        selected_level: levels[1].to_string(),
        verified,
        kind: kinds.first().map(|k| k.to_string()),
        achieved_level,
    })
}

fn str_field<'a>(item: &'a toml::Value, key: &str) -> Option<&'a str> {
    item.get(key).and_then(|v| v.as_str())
}

fn item_id(item: &toml::Value, index: usize) -> String {
    str_field(item, "id").map(str::to_string).unwrap_or_else(|| format!("<item #{} without id>", index + 1))
}

#[test]
fn catalog_matches_seed() {
    let Some(seed) = load_seed() else { return };
    let items = load_catalog();
    let blocks = seed_blocks(&seed);
    let mut errors: Vec<String> = Vec::new();

    // --- 2. count, uniqueness, set and order of IDs -------------------------
    if items.len() != 50 {
        errors.push(format!("catalog has {} items, expected 50", items.len()));
    }
    if blocks.len() != 50 {
        errors.push(format!("seed has {} lines beginning with an item ID, expected 50", blocks.len()));
    }
    let ids: Vec<String> = items.iter().enumerate().map(|(i, it)| item_id(it, i)).collect();
    let mut seen = HashSet::new();
    for id in &ids {
        if !seen.insert(id.clone()) {
            errors.push(format!("{id}: duplicate item ID in catalog"));
        }
    }
    let seed_ids: Vec<String> = blocks.iter().map(|b| b.id.clone()).collect();
    let seed_set: HashSet<&String> = seed_ids.iter().collect();
    let cat_set: HashSet<&String> = ids.iter().collect();
    for id in seed_set.difference(&cat_set) {
        errors.push(format!("{id}: in seed but missing from catalog"));
    }
    for id in cat_set.difference(&seed_set) {
        errors.push(format!("{id}: in catalog but not in seed"));
    }
    for (i, (c, s)) in ids.iter().zip(seed_ids.iter()).enumerate() {
        if c != s {
            errors.push(format!("{c}: catalog position {} holds {c}, seed has {s} there (order differs)", i + 1));
        }
    }

    // --- 3./4. per-item checks ------------------------------------------------
    for (i, item) in items.iter().enumerate() {
        errors.extend(check_item(item, i, &blocks));
    }

    if !errors.is_empty() {
        panic!("catalog.toml does not match the seed ({}):\n  {}", seed_path().display(), errors.join("\n  "));
    }
}

/// All problems with one catalog item; every message names the item ID.
fn check_item(item: &toml::Value, index: usize, blocks: &[SeedBlock]) -> Vec<String> {
    let id = item_id(item, index);
    let mut errors: Vec<String> = Vec::new();
    let mut err = |msg: String| errors.push(format!("{id}: {msg}"));

    // Shape: exactly the expected keys, right types.
    match item.as_table() {
        Some(t) => {
            for k in ITEM_KEYS {
                if !t.contains_key(*k) {
                    err(format!("missing key `{k}`"));
                }
            }
            for k in t.keys() {
                if !ITEM_KEYS.contains(&k.as_str()) && !OPTIONAL_ITEM_KEYS.contains(&k.as_str()) {
                    err(format!("unexpected key `{k}`"));
                }
            }
            for k in ITEM_KEYS {
                let v = t.get(*k);
                let ok = match *k {
                    "verified" => v.is_none_or(|v| v.is_bool()),
                    "pilot" => v.is_none_or(|v| v.is_table()),
                    _ => v.is_none_or(|v| v.is_str()),
                };
                if !ok {
                    err(format!("key `{k}` has the wrong type"));
                }
            }
        }
        None => {
            err("item is not a table".into());
            return errors;
        }
    }
    let pilot = item.get("pilot").and_then(|p| p.as_table());
    if let Some(p) = pilot {
        for k in PILOT_KEYS {
            if !p.get(*k).is_some_and(|v| v.is_str()) {
                err(format!("pilot.{k} missing or not a string"));
            }
        }
        for k in p.keys() {
            if !PILOT_KEYS.contains(&k.as_str()) {
                err(format!("unexpected key `pilot.{k}`"));
            }
        }
    }

    let s = |k: &str| str_field(item, k).unwrap_or("");
    let verified = item.get("verified").and_then(|v| v.as_bool());
    let kind = s("kind");
    let probe = s("probe");

    // 4. non-empty essentials.
    for k in ["category", "metric", "probe"] {
        if s(k).trim().is_empty() {
            err(format!("`{k}` is empty"));
        }
    }
    if verified == Some(true) && s("check_item").trim().is_empty() {
        err("`check_item` is empty although verified = true".into());
    }
    if verified == Some(false) && s("not_verified_reason").trim().is_empty() {
        err("`not_verified_reason` is empty although verified = false".into());
    }
    for k in ["standard_level", "selected_level"] {
        if !is_level(s(k)) {
            err(format!("`{k}` = {:?} is not one of {LEVELS:?}", s(k)));
        }
    }
    if !["実機", "机上", ""].contains(&kind) {
        err(format!("`kind` = {kind:?} is not 実機 or 机上"));
    }
    if verified == Some(true) && kind.is_empty() {
        err("`kind` is empty although verified = true".into());
    }

    // Probe naming rules.
    if kind == "机上" && probe != "attestation" {
        err(format!("机上 item must use probe \"attestation\", has {probe:?}"));
    } else if verified == Some(false) && probe != "not_applicable" && !(id == "E.10.1.2" && probe == "web.waf") {
        // E.10.1.2's probe is 対象外 at the pilot's level 0 and checks WAF above it.
        err(format!("unverified item must use probe \"not_applicable\", has {probe:?}"));
    } else if kind == "実機" && verified == Some(true) && probe != "attestation" {
        // A 実機 item no API can observe (manuals, contracts, migration
        // plans) is verified by a person's attestation instead of a probe.
        let well_formed = probe.split_once('.').is_some_and(|(f, n)| {
            !f.is_empty() && !n.is_empty() && probe.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        });
        if !well_formed {
            err(format!("実機 probe {probe:?} is not of the form family.name"));
        }
    }

    // 3. against the seed (matched by ID, so an order error does not cascade).
    let Some(block) = blocks.iter().find(|b| b.id == id) else {
        return errors; // already reported as missing from the seed
    };
    let facts = match seed_facts(block) {
        Ok(f) => f,
        Err(e) => {
            // `e` already starts with the ID.
            errors.push(e);
            return errors;
        }
    };
    if s("selected_level") != facts.selected_level {
        err(format!("selected_level {:?} but the seed's 選択レベル is {:?}", s("selected_level"), facts.selected_level));
    }
    if s("standard_level") != facts.standard_level {
        err(format!("standard_level {:?} but the seed's standard level is {:?}", s("standard_level"), facts.standard_level));
    }
    if verified != Some(facts.verified) {
        err(format!("verified = {verified:?} but the seed's 検証実施有無 is {}", if facts.verified { "有" } else { "無" }));
    }
    match &facts.kind {
        Some(k) if k != kind => err(format!("kind {kind:?} but the seed's 種別 is {k:?}")),
        None if !kind.is_empty() => err(format!("kind {kind:?} but the seed block has no 種別 token")),
        _ => {}
    }
    let achieved = pilot.and_then(|p| p.get("achieved_level")).and_then(|v| v.as_str()).unwrap_or("");
    match &facts.achieved_level {
        Some(a) if a != achieved => err(format!("pilot.achieved_level {achieved:?} but the seed's 実現したレベル is {a:?}")),
        None if !achieved.is_empty() => err(format!("pilot.achieved_level {achieved:?} but the seed block has no realized level")),
        _ => {}
    }
    errors.extend(text_fields_match(&id, item, block));
    errors
}

/// Transcribed text fields in the seed's column order (pilot fields last).
const TEXT_FIELDS: &[&str] = &[
    "category",
    "subcategory",
    "metric",
    "description",
    "standard_label",
    "selection_condition",
    "notes",
    "selected_label",
    "level_note",
    "not_verified_reason",
    "check_item",
    "scope",
    "method",
    "pilot.start",
    "pilot.end",
    "pilot.result",
    "pilot.event",
    "pilot.achieved",
];

/// Shortest piece of a field that may be matched on its own: the PDF breaks a
/// column's text and interleaves other columns between the pieces.
const MIN_PIECE: usize = 4;

fn compact(s: &str) -> Vec<char> {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn find_from(hay: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from);
    }
    (from..hay.len().saturating_sub(needle.len() - 1)).find(|&i| hay[i..i + needle.len()] == *needle)
}

/// Where `field` lies in `seed` (both without whitespace): as pieces of at
/// least [`MIN_PIECE`] characters (or the field's last few), each found after
/// the previous one. Returns the first piece's position, or the field's
/// offset where it stopped matching.
fn locate(seed: &[char], field: &[char], from: usize) -> Result<usize, usize> {
    let mut pos = from;
    let mut i = 0;
    let mut first = None;
    while i < field.len() {
        let min = MIN_PIECE.min(field.len() - i);
        let Some(at) = find_from(seed, &field[i..i + min], pos) else { return Err(i) };
        // Extend the piece as far as the seed continues it.
        let mut len = min;
        while i + len < field.len() && at + len < seed.len() && seed[at + len] == field[i + len] {
            len += 1;
        }
        first.get_or_insert(at);
        pos = at + len;
        i += len;
    }
    Ok(first.unwrap_or(from))
}

/// Every transcribed text field must be the seed's text for the item,
/// whitespace aside, and the fields must start in column order.
fn text_fields_match(id: &str, item: &toml::Value, block: &SeedBlock) -> Vec<String> {
    let seed = compact(&block.lines.join("\n"));
    let mut errors = Vec::new();
    let mut from = 0;
    for key in TEXT_FIELDS {
        let value = match key.split_once('.') {
            Some((table, k)) => item.get(table).and_then(|t| t.get(k)).and_then(|v| v.as_str()),
            None => str_field(item, key),
        }
        .unwrap_or("");
        let field = compact(value);
        if field.is_empty() {
            continue;
        }
        match locate(&seed, &field, from) {
            Ok(at) => from = at,
            Err(stop) => {
                let shown: String = field[stop..].iter().take(20).collect();
                errors.push(format!("{id}: `{key}` differs from the seed from 「{shown}」 on (or is out of column order)"));
            }
        }
    }
    errors
}

#[test]
fn text_comparison_catches_a_changed_label_and_allows_interleaved_columns() {
    let block = SeedBlock {
        id: "X.1.1.1".into(),
        lines: vec!["X.1.1.1 運用・保守性 通常運用 外部データの".into(), "利用可否 システムの".into(), "復旧に外部データを利用できない".into()],
    };
    let item = |metric: &str, label: &str| -> toml::Value {
        toml::from_str(&format!("category = \"運用・保守性\"\nsubcategory = \"通常運用\"\nmetric = \"{metric}\"\nstandard_label = \"{label}\"\n"))
            .expect("toml")
    };
    assert!(text_fields_match("X", &item("外部データの利用可否", "システムの復旧に外部データを利用できない"), &block).is_empty());
    let changed = text_fields_match("X", &item("外部データの利用可能性", "システムの復旧に外部データを利用できない"), &block);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].contains("`metric`"), "{changed:?}");
    let swapped = text_fields_match("X", &item("外部データの利用可否", "運用・保守性"), &block);
    assert_eq!(swapped.len(), 1, "a field found only before the previous one is out of order: {swapped:?}");
}
