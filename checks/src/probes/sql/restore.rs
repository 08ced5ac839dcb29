//! `sql.restore_validation` (C.1.2.2 「手順通りに復元できる」, A.1.3.1 restored
//! after a failure): the restore drill's database copies are read with the
//! scenario's validation queries — row counts against the source database
//! within a tolerance, the newest business record against the recovery
//! point — so that "restored" means the data is there, not that a job ended.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gcverify_scenarios::{Database, RestoreValidation, ValidationKind};
use serde::Serialize;

use super::session::Session;
use crate::aws::AwsContext;
use crate::model::{EvidenceStatus, Msg};
use crate::probes::{Findings, ProbeInput};

/// One validation query's result on one copy.
#[derive(Debug, Clone, Serialize)]
pub struct Validated {
    pub name: String,
    pub status: EvidenceStatus,
    pub detail: Msg,
}

/// Run every validation on the copy at `host:port` (the source is `[database]`).
pub async fn validate(
    db: &Database,
    host: &str,
    port: Option<u16>,
    checks: &[RestoreValidation],
    point_created: Option<DateTime<Utc>>,
    aws: &AwsContext,
) -> Vec<Validated> {
    let mut at = db.clone();
    at.host = host.to_string();
    at.port = port.or(db.port);
    let result = |v: &RestoreValidation, status, detail: Msg| Validated { name: v.name.get_ref().clone(), status, detail };
    let mut copy = match Session::open(&at, aws).await {
        Ok(s) => s,
        Err(e) => {
            return checks.iter().map(|v| result(v, EvidenceStatus::Error, crate::msg!("復元したコピーに接続できない: {e}", "restored copy: {e}"))).collect()
        }
    };
    let mut source: Option<Result<Session, String>> = None;
    let mut out = Vec::new();
    for v in checks {
        let r = match v.kind {
            ValidationKind::Count => {
                let restored = match copy.count(&v.query).await {
                    Ok(n) => n,
                    Err(why) => {
                        out.push(result(v, EvidenceStatus::Error, crate::msg!("復元したコピーを照会できない: {why}", "restored copy: {why}")));
                        continue;
                    }
                };
                if source.is_none() {
                    source = Some(Session::open(db, aws).await.map_err(|e| e.to_string()));
                }
                let original = match source.as_mut() {
                    Some(Ok(s)) => s.count(&v.query).await,
                    Some(Err(why)) => Err(why.clone()),
                    None => Err("no source session".into()),
                };
                match original {
                    Ok(orig) => {
                        let diff = (restored - orig).abs() as f64;
                        let allowed = orig.abs() as f64 * v.tolerance_percent / 100.0;
                        let tolerance = v.tolerance_percent;
                        let detail =
                            crate::msg!("復元 {restored}件、元 {orig}件（許容差 {tolerance}%）", "restored {restored}, source {orig} (tolerance {tolerance}%)");
                        let ok = diff <= allowed && (restored > 0 || orig == 0);
                        result(v, if ok { EvidenceStatus::Pass } else { EvidenceStatus::Fail }, detail)
                    }
                    Err(why) => result(
                        v,
                        EvidenceStatus::Error,
                        crate::msg!(
                            "復元 {restored}件。比較する元のデータベースを読めない: {why}",
                            "restored {restored}; the source database could not be read to compare: {why}"
                        ),
                    ),
                }
            }
            ValidationKind::Newest => match (copy.newest(&v.query).await, point_created) {
                (Err(why), _) => result(v, EvidenceStatus::Error, crate::msg!("復元したコピーを照会できない: {why}", "restored copy: {why}")),
                (Ok(None), _) => result(
                    v,
                    EvidenceStatus::Fail,
                    Msg::new("復元したコピーにレコードがない（照会の結果が NULL）", "the restored copy has no record (the query returned NULL)"),
                ),
                (Ok(Some(_)), None) => result(
                    v,
                    EvidenceStatus::Error,
                    Msg::new(
                        "復旧ポイントの時刻が不明: 最新レコードと比べられない",
                        "the recovery point's time is unknown: nothing to compare the newest record with",
                    ),
                ),
                (Ok(Some(newest)), Some(point)) => {
                    let lag_min = (point - newest).num_seconds() as f64 / 60.0;
                    let limit = v.max_lag_minutes.unwrap_or(0.0);
                    let (newest, point) = (newest.format("%Y-%m-%d %H:%M:%S UTC"), point.format("%Y-%m-%d %H:%M:%S UTC"));
                    let detail = crate::msg!(
                        "復元した最新レコード {newest} は復旧ポイント {point} の {lag_min:.1}分前（上限 {limit}分）: データから測ったRPO",
                        "newest restored record {newest}, {lag_min:.1} min before the recovery point {point} (limit {limit} min): the RPO measured from the data"
                    );
                    result(v, if lag_min <= limit { EvidenceStatus::Pass } else { EvidenceStatus::Fail }, detail)
                }
            },
        };
        out.push(r);
    }
    copy.close().await;
    if let Some(Ok(s)) = source {
        s.close().await;
    }
    out
}

/// The drill's database copies, judged by their validation queries.
pub async fn restore_validation(input: Arc<ProbeInput>) -> Findings {
    let checks = input.scenario.continuity.drill.as_ref().map(|d| d.validations.as_slice()).unwrap_or_default();
    let Some(drill) = input.drill.as_ref() else {
        return Findings::cannot(
            "復元データの検証は --restore-drill で復元したコピーを [[continuity.drill.validation]] の照会で確かめる（この実行では復元していない）",
            "restored data is validated on the copies of `verify --restore-drill` with [[continuity.drill.validation]] queries; this run restored nothing",
        );
    };
    if checks.is_empty() {
        return Findings::cannot(
            "[[continuity.drill.validation]]（復元したデータを確かめる照会）がシナリオにない（対象なし）",
            "no [[continuity.drill.validation]] in the scenario: nothing to validate restored data with",
        );
    }
    let mut f = Findings::new();
    let mut databases = 0;
    for r in drill.resources.iter().filter(|r| matches!(r.resource_type.as_str(), "RDS" | "Aurora")) {
        databases += 1;
        if r.validation.is_empty() {
            let (stage, detail) = (format!("{:?}", r.stage), &r.detail);
            f.error(
                &r.name,
                None,
                crate::msg!("復元したコピーを検証していない（段階 {stage}）: {detail}", "restored copy not validated (stage {stage}): {detail}"),
                "restore-drill",
            );
            continue;
        }
        for v in &r.validation {
            let subject = format!("{} / {}", r.name, v.name);
            match v.status {
                EvidenceStatus::Pass => f.pass(&subject, None, v.detail.clone(), "sql"),
                EvidenceStatus::Fail => f.fail(&subject, None, v.detail.clone(), "sql"),
                _ => f.error(&subject, None, v.detail.clone(), "sql"),
            }
        }
    }
    if databases == 0 {
        f.error(
            "restore-drill",
            None,
            Msg::new(
                "復元訓練でデータベース（RDS/Aurora）を復元していない: 検証するデータがない",
                "the drill restored no database (RDS/Aurora): no data to validate",
            ),
            "restore-drill",
        );
    }
    f.ok_summary(Msg::new(
        format!("復元したDB {databases}件で照会による検証がすべて適合（件数・最新レコード）"),
        format!("every validation query passed on {databases} restored database(s) (row counts, newest record)"),
    ));
    f
}
