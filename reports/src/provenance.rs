//! Where a run came from, said the same way on the xlsx cover, the HTML
//! header and the Markdown: run ID, tool commit, the standard's edition,
//! scenario digest, AWS account and caller, who ran it, and the SHA-256 of
//! the run's result.json (the record every other file is rendered from).

use gcverify_checks::model::{Lang, RunReport, ScenarioRef};

/// What the reports know of their run beyond the [`RunReport`]: the digest of
/// its result.json as written (or found) beside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    pub result_sha256: Option<String>,
}

/// One line of provenance in both languages.
pub(crate) struct Fact {
    pub ja: &'static str,
    pub en: &'static str,
    pub value_ja: String,
    pub value_en: String,
}

impl Fact {
    pub(crate) fn label(&self, lang: Lang) -> &'static str {
        if lang == Lang::Ja {
            self.ja
        } else {
            self.en
        }
    }

    pub(crate) fn value(&self, lang: Lang) -> &str {
        if lang == Lang::Ja {
            &self.value_ja
        } else {
            &self.value_en
        }
    }
}

/// The scenario file and its digest, then the other files it was built from.
pub(crate) fn scenario_text(s: &ScenarioRef) -> String {
    let mut text = format!("{}\nSHA-256 {}", s.path, s.sha256);
    for layer in s.layers.iter().filter(|l| l.path != s.path) {
        text.push_str(&format!("\n＋ {} SHA-256 {}", layer.path, layer.sha256));
    }
    text
}

/// The provenance facts, in the order every format shows them.
pub(crate) fn facts(report: &RunReport, stamp: &Stamp) -> Vec<Fact> {
    let none = || ("（記録なし）".to_string(), "(not recorded)".to_string());
    let or_none = |v: &Option<String>| v.clone().map(|v| (v.clone(), v)).unwrap_or_else(none);
    let fact = |ja, en, (value_ja, value_en): (String, String)| Fact { ja, en, value_ja, value_en };
    let t = &report.target;
    // 実行者: --run-by, else the STS caller (which a run under a container or a
    // CI job always has), else the OS user; a caller says it is one.
    let caller = |arn: &str| (format!("{arn}（STS 呼び出し元。--run-by 指定なし）"), format!("{arn} (the STS caller; no --run-by given)"));
    let run_by = match (&report.run_by, &t.caller_arn) {
        (Some(u), Some(arn)) if u == arn => caller(arn),
        (Some(u), _) => (u.clone(), u.clone()),
        (None, Some(arn)) => caller(arn),
        (None, None) => none(),
    };
    let commit = report.tool_commit.clone();
    vec![
        fact("実行ID", "Run ID", (report.run_id.clone(), report.run_id.clone())),
        fact(
            "ツール",
            "Tool",
            (
                format!("gcverify {} ({})", report.tool_version, commit.as_deref().unwrap_or("commit 記録なし")),
                format!("gcverify {} ({})", report.tool_version, commit.as_deref().unwrap_or("commit not recorded")),
            ),
        ),
        fact(
            "基準の版",
            "Edition of the standard",
            report.catalog.standard_version.clone().map(|v| (v.clone(), v)).unwrap_or_else(|| {
                (
                    "（記録なし: 項目カタログが標準の版を記録していない）".into(),
                    "(not recorded: the item catalog does not record the standard's edition)".into(),
                )
            }),
        ),
        fact("シナリオ", "Scenario", report.scenario.as_ref().map(scenario_text).map(|s| (s.clone(), s)).unwrap_or_else(none)),
        fact("アカウントID", "AWS account", or_none(&t.account_id)),
        fact("呼び出し元 ARN", "Caller ARN", or_none(&t.caller_arn)),
        fact("実行者", "Run by", run_by),
        fact(
            "result.json SHA-256",
            "result.json SHA-256",
            stamp.result_sha256.clone().map(|h| (h.clone(), h)).unwrap_or_else(|| ("（result.json なし）".into(), "(no result.json)".into())),
        ),
    ]
}
