//! A 50-row sample run built from the builtin catalog, shared by the tests.

use chrono::{DateTime, Duration, Utc};
use gcverify_checks::catalog::Catalog;
use gcverify_checks::model::{Evidence, EvidenceStatus, ItemResult, Outcome, PointResult, RunReport, ScenarioRef, Target};

pub(crate) fn t0() -> DateTime<Utc> {
    // 2026-11-02 10:00 JST
    DateTime::parse_from_rfc3339("2026-11-02T01:00:00Z").expect("valid timestamp").with_timezone(&Utc)
}

/// Outcome of row `i`: items the pilot did not verify are N/A (as the engine
/// makes them), the others cycle through every outcome.
pub(crate) fn outcome_for(i: usize, verified: bool) -> Outcome {
    if !verified {
        return Outcome::NotApplicable;
    }
    match i % 7 {
        0 | 1 => Outcome::Ok,
        2 => Outcome::Ng,
        3 | 4 => Outcome::Error,
        5 => Outcome::Pending,
        _ => Outcome::NotApplicable,
    }
}

/// Number of evidence entries of row `i` (0, 1, 2 or 3).
pub(crate) fn evidence_count(i: usize) -> usize {
    i % 4
}

pub(crate) fn sample_report() -> RunReport {
    let catalog = Catalog::builtin();
    let start = t0();
    let statuses = [EvidenceStatus::Pass, EvidenceStatus::Fail, EvidenceStatus::Info, EvidenceStatus::Error];
    let items = catalog
        .items()
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let outcome = outcome_for(i, item.verified);
            let (summary, summary_en) = if item.verified {
                (format!("{} の事象 {i}", item.metric), format!("finding {i} for {}", item.id))
            } else {
                (format!("対象外: {}", item.not_verified_reason), format!("not applicable (pilot judgement): {}", item.not_verified_reason))
            };
            let item_start = start + Duration::minutes(i as i64);
            let evidence = (0..evidence_count(i))
                .map(|k| Evidence {
                    id: None,
                    status: statuses[(i + k) % statuses.len()],
                    subject: format!("arn:aws:ec2:ap-northeast-1:123456789012:volume/vol-{i:03}{k}"),
                    region: (k % 2 == 0).then(|| "ap-northeast-1".to_string()),
                    detail: format!("Encrypted={}", (i + k) % 2 == 0).into(),
                    source: "ec2:DescribeVolumes".to_string(),
                    claim: None,
                    observed_at: item_start + Duration::seconds(k as i64),
                    figure: None,
                })
                .collect();
            ItemResult {
                id: item.id.clone(),
                category: item.category.clone(),
                metric: item.metric.clone(),
                selected_level: if i == 1 { "3".to_string() } else { item.selected_level.clone() },
                kind: item.kind,
                probe: item.probe.to_string(),
                outcome,
                summary,
                summary_en,
                achieved_level: (outcome == Outcome::Ok).then(|| item.selected_level.clone()),
                evidence,
                // The first row has two 確認観点: one verified, one waiting for a reviewer.
                points: if i == 0 {
                    vec![
                        PointResult {
                            id: "probe-point".into(),
                            text: "暗号化を確認".into(),
                            text_en: "encryption checked".into(),
                            refers_to: vec![],
                            verifier: item.probe.to_string(),
                            outcome: Outcome::Ok,
                            summary: "確認済".into(),
                            summary_en: "verified".into(),
                            evidence: vec![],
                            attestation: None,
                            period: None,
                        },
                        PointResult {
                            id: "desk-point".into(),
                            text: "手順書を確認".into(),
                            text_en: "procedure reviewed".into(),
                            refers_to: vec!["E.7.1.1 ログを取得する".into()],
                            verifier: "attestation".into(),
                            outcome: Outcome::Pending,
                            summary: "要確認: 記録なし".into(),
                            summary_en: "pending: no record".into(),
                            evidence: vec![],
                            attestation: None,
                            period: None,
                        },
                    ]
                } else {
                    Vec::new()
                },
                attestation: None,
                period: None,
                started_at: item_start,
                // The last item runs into December (JST) to exercise 終了月.
                finished_at: if i == 49 { start + Duration::days(30) } else { item_start + Duration::seconds(30) },
            }
        })
        .collect();
    let mut report = RunReport {
        run_id: "20261102T010000Z-5a5a5a5a".to_string(),
        environment: "stg".to_string(),
        municipality: "サンプル市".to_string(),
        system: "住民記録システム".to_string(),
        tool_version: "0.1.0".to_string(),
        tool_commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
        started_at: start,
        finished_at: start + Duration::days(30),
        scenario: Some(ScenarioRef {
            path: "scenarios/stg.toml".into(),
            sha256: "ab".repeat(32),
            layers: vec![
                gcverify_checks::model::Layer { path: "scenarios/base.toml".into(), sha256: "cd".repeat(32) },
                gcverify_checks::model::Layer { path: "scenarios/stg.toml".into(), sha256: "ab".repeat(32) },
            ],
        }),
        target: Target {
            endpoint: None,
            emulator: false,
            primary_region: Some("ap-northeast-1".into()),
            dr_region: Some("ap-northeast-3".into()),
            account_id: Some("123456789012".into()),
            caller_arn: Some("arn:aws:iam::123456789012:user/verifier".into()),
            partition: Some("aws".into()),
        },
        catalog: catalog.reference(),
        items,
        warnings: Vec::new(),
        lowered_minimums: Vec::new(),
        run_by: None,
        comparison: None,
    };
    report.number_evidence();
    report
}

/// The sample report after a night in which one OK row turned NG, with its
/// 前回比 against the sample report; returns the report and the row's ID.
pub(crate) fn compared_report() -> (RunReport, String) {
    let before = sample_report();
    let mut after = sample_report();
    after.run_id = "20261103T000000Z-0000c0de".into();
    let i = after.items.iter().position(|i| i.outcome == Outcome::Ok).expect("an OK row");
    after.items[i].outcome = Outcome::Ng;
    after.items[i].summary = "未暗号化のボリューム vol-1 <b>".into();
    after.items[i].summary_en = "unencrypted volume vol-1 <b>".into();
    after.comparison = Some(gcverify_checks::comparison::compare(Some((&before, "history/20261102T000000Z-00000001.json".into())), &after));
    let id = after.items[i].id.clone();
    (after, id)
}

/// An interval log as the load probe writes it: one tag per operation.
pub(crate) fn write_hlog(path: &std::path::Path, ops: &[(&str, &[u64])]) {
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    use hdrhistogram::serialization::V2DeflateSerializer;
    let mut file = std::fs::File::create(path).expect("create hlog");
    let mut ser = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new().begin_log_with(&mut file, &mut ser).expect("log");
    for (tag, values_ms) in ops {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
        for v in *values_ms {
            h.record(v * 1000).expect("record");
        }
        log.write_histogram(&h, std::time::Duration::ZERO, std::time::Duration::from_secs(1), Tag::new(tag)).expect("write");
    }
}
