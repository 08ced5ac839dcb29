//! `continuity.rpo` (A.1.3.1 RPO 業務停止時): measured RPO per resource =
//! now − the newest point it can be restored to (newest completed recovery
//! point; for RDS also LatestRestorableTime, whichever is newer).
//! Level 1/2: that point lies within 5 / 1 営業日 (Japanese calendar with
//! 年末年始). Level 3 (障害発生時点): point-in-time restore whose lag is
//! within `[continuity] max_pitr_lag_minutes`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::coverage::Protection;
use super::scope::{self, Resource};
use super::{hm, hm_ja, jst, points, unsupported, BusinessCalendar};
use crate::model::{Figure, Msg, Outcome};
use crate::probes::{Findings, ProbeInput};

const POINTS: &str = "backup:ListRecoveryPointsByResource";
const RDS: &str = "rds:DescribeDBInstances";

/// The newest restorable instant of a resource and where it comes from.
struct Restorable {
    at: DateTime<Utc>,
    source: String,
}

pub async fn rpo(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    let days = match level {
        "0" => return Findings::level_asks_nothing(level),
        "1" => Some(5),
        "2" => Some(1),
        "3" => None,
        _ => return unsupported(level, "0-3"),
    };
    let region = input.scenario.aws.primary_region.clone();
    let mut f = Findings::new();
    let resources = scope::discover(&input, &mut f).await;
    let client = input.aws.backup(&region);
    let mut measured: Vec<(Duration, String)> = Vec::new();
    match days {
        Some(n) => {
            let cal = match BusinessCalendar::builtin().and_then(|c| c.deadline(input.now, n)) {
                Ok(d) => d,
                Err(why) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {why}"), format!("could not verify: {why}"))),
            };
            let (deadline, day) = cal;
            let limit = Some((input.now - deadline).num_seconds());
            let mut listing_failed = false;
            for r in &resources {
                if listing_failed && r.pitr.is_none() {
                    not_measured(&mut f, &region, r, limit);
                    continue;
                }
                let Some(best) = newest_restorable(&client, &region, r, &mut f, listing_failed).await else {
                    listing_failed = true;
                    unmeasured_figure(&mut f, r, limit, false);
                    continue;
                };
                let Some(best) = best else {
                    f.fail(
                        &r.arn,
                        Some(&region),
                        crate::msg!(
                            "{0}: 完了した復旧ポイントも復元可能時刻もない: 復旧元なし",
                            "{0}: no completed recovery point and no restorable time: nothing to recover from",
                            r.name
                        ),
                        POINTS,
                    );
                    unmeasured_figure(&mut f, r, limit, true);
                    continue;
                };
                let age = input.now - best.at;
                let figure = Figure::RpoAge { resource: r.name.clone(), age_secs: age.num_seconds(), limit_secs: limit };
                if best.at < deadline {
                    f.fail(
                        &r.arn,
                        Some(&region),
                        crate::msg!(
                            "実測RPO {0}（最新の復元可能時点 {1}、{2} より）は {n} 営業日（{day} 00:00 JST）より古い",
                            "measured RPO {0} (newest restorable point {1} from {2}) is older than {n} business day(s) ({day} 00:00 JST)",
                            hm(age),
                            jst(best.at),
                            best.source
                        ),
                        &best.source,
                    );
                } else {
                    f.pass(
                        &r.arn,
                        Some(&region),
                        crate::msg!(
                            "実測RPO {0}（最新の復元可能時点 {1}、{2} より）。{n} 営業日前 = {day} 00:00 JST",
                            "measured RPO {0} (newest restorable point {1} from {2}); {n} business day(s) before = {day} 00:00 JST",
                            hm(age),
                            jst(best.at),
                            best.source
                        ),
                        &best.source,
                    );
                    measured.push((age, r.name.clone()));
                }
                f.figure(figure);
            }
            summary(&mut f, &measured, &format!("{n}営業日前（{day} 00:00 JST）以降"), &format!("within {n} business day(s) (since {day} 00:00 JST)"));
        }
        None => {
            let max = Duration::minutes(input.scenario.continuity.max_pitr_lag_minutes as i64);
            let mut protection: Option<Option<Protection>> = None;
            // The stateless servers' deadline (1 営業日), computed once.
            let mut daily_deadline = None;
            let mut listing_failed = false;
            for r in &resources {
                if let Some(p) = &r.pitr {
                    match p.latest_restorable.filter(|_| p.retention_days > 0) {
                        Some(t) if input.now - t <= max => {
                            f.pass(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "PITR 遅延 {0}（LatestRestorableTime {1}）≤ {2}、BackupRetentionPeriod={3}d",
                                    "PITR lag {0} (LatestRestorableTime {1}) ≤ {2}; BackupRetentionPeriod={3}d",
                                    hm(input.now - t),
                                    jst(t),
                                    hm(max),
                                    p.retention_days
                                ),
                                RDS,
                            );
                            measured.push((input.now - t, r.name.clone()));
                            f.figure(Figure::RpoAge { resource: r.name.clone(), age_secs: (input.now - t).num_seconds(), limit_secs: Some(max.num_seconds()) });
                        }
                        Some(t) => {
                            f.fail(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "PITR 遅延 {0}（LatestRestorableTime {1}）> {2}",
                                    "PITR lag {0} (LatestRestorableTime {1}) > {2}",
                                    hm(input.now - t),
                                    jst(t),
                                    hm(max)
                                ),
                                RDS,
                            );
                            f.figure(Figure::RpoAge { resource: r.name.clone(), age_secs: (input.now - t).num_seconds(), limit_secs: Some(max.num_seconds()) });
                        }
                        None => {
                            f.fail(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "ポイントインタイムリストアなし（BackupRetentionPeriod={0}d、LatestRestorableTime なし）: 障害発生時点へ復旧できない",
                                    "no point-in-time restore (BackupRetentionPeriod={0}d, LatestRestorableTime absent): the point of failure cannot be reached",
                                    p.retention_days
                                ),
                                RDS,
                            );
                            unmeasured_figure(&mut f, r, Some(max.num_seconds()), true);
                        }
                    }
                    continue;
                }
                // A server declared to hold no business data needs only its daily point.
                if stateless(&input.scenario.continuity.stateless_servers, r) {
                    if listing_failed {
                        not_measured(&mut f, &region, r, None);
                        continue;
                    }
                    let (deadline, day) = match daily_deadline.get_or_insert_with(|| BusinessCalendar::builtin().and_then(|c| c.deadline(input.now, 1))) {
                        Ok(d) => *d,
                        Err(why) => {
                            f.error(&r.arn, Some(&region), crate::msg!("営業日カレンダーを使えない: {why}", "{why}"), "calendar");
                            unmeasured_figure(&mut f, r, None, false);
                            continue;
                        }
                    };
                    let limit = Some((input.now - deadline).num_seconds());
                    match newest_restorable(&client, &region, r, &mut f, false).await {
                        None => {
                            listing_failed = true;
                            unmeasured_figure(&mut f, r, limit, false);
                        }
                        Some(None) => {
                            f.fail(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "{0}: データを持たないサーバに完了した復旧ポイントなし",
                                    "{0}: stateless server without any completed recovery point",
                                    r.name
                                ),
                                POINTS,
                            );
                            unmeasured_figure(&mut f, r, limit, true);
                        }
                        Some(Some(best)) if best.at < deadline => {
                            f.fail(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "{0}: データを持たないサーバの最新の復旧ポイント {1} は1営業日（{day} 00:00 JST）より古い",
                                    "{0}: stateless server's newest recovery point {1} is older than 1 business day ({day} 00:00 JST)",
                                    r.name,
                                    jst(best.at)
                                ),
                                &best.source,
                            );
                            f.figure(Figure::RpoAge { resource: r.name.clone(), age_secs: (input.now - best.at).num_seconds(), limit_secs: limit });
                        }
                        Some(Some(best)) => {
                            let age = input.now - best.at;
                            f.pass(
                                &r.arn,
                                Some(&region),
                                crate::msg!(
                                    "データを持たないと宣言（[continuity] stateless_servers）: 最新の復旧ポイント {0}（{1} 経過）は1営業日以内",
                                    "declared stateless ([continuity] stateless_servers: no business data on it): newest recovery point {0} ({1} old) within 1 business day",
                                    jst(best.at),
                                    hm(age)
                                ),
                                &best.source,
                            );
                            f.figure(Figure::RpoAge { resource: r.name.clone(), age_secs: age.num_seconds(), limit_secs: limit });
                        }
                    }
                    continue;
                }
                // Not a database with PITR: only an AWS Backup continuous rule could reach 障害発生時点.
                if protection.is_none() {
                    protection = Some(Protection::read(&input, &mut f).await);
                }
                let limit = Some(max.num_seconds());
                let Some(Some(prot)) = &protection else {
                    not_measured(&mut f, &region, r, limit);
                    continue;
                };
                let (_, rules) = prot.covering(r);
                if listing_failed {
                    not_measured(&mut f, &region, r, limit);
                    continue;
                }
                let newest = match points::by_resource(&client, &region, &r.arn, &mut f).await {
                    Some(list) => points::newest(&list).map(|p| {
                        crate::msg!("最新の復旧ポイント {0}（{1} 経過）", "newest recovery point {0} ({1} old)", jst(p.created), hm(input.now - p.created))
                    }),
                    None => {
                        listing_failed = true;
                        unmeasured_figure(&mut f, r, limit, false);
                        continue;
                    }
                };
                let newest = newest.unwrap_or_else(|| Msg::new("完了した復旧ポイントなし", "no completed recovery point"));
                let (newest_ja, newest_en) = (&newest.ja, &newest.en);
                match rules.iter().find(|r| r.continuous) {
                    Some(c) => {
                        f.error(
                            &r.arn,
                            Some(&region),
                            crate::msg!(
                                "継続的バックアップのルール {0}/{1} が対象（{newest_ja}）だが、AWS Backup が測る遅延を報告しない",
                                "continuous backup rule {0}/{1} covers it ({newest_en}), but AWS Backup reports no lag to measure",
                                c.plan,
                                c.name
                            ),
                            POINTS,
                        );
                        unmeasured_figure(&mut f, r, limit, false);
                    }
                    // An unread selection may assign it to an existing continuous rule: unknown, not NG.
                    None if !prot.complete && prot.rules.iter().any(|r| r.continuous) => {
                        f.info(
                            &r.arn,
                            Some(&region),
                            crate::msg!(
                                "継続的バックアップの対象か不明: 一部の選択を読めない（{newest_ja}）",
                                "continuous rule coverage unknown: some selections could not be read ({newest_en})"
                            ),
                            POINTS,
                        );
                        unmeasured_figure(&mut f, r, limit, false);
                    }
                    // AWS Backup has no continuous backup for EC2: a server holding
                    // data reaches the point of failure through its own archive logs or
                    // replication, which no AWS API shows. Not OK, not a proven violation.
                    None if r.backup_type() == "EC2" => {
                        f.info(
                            &r.arn,
                            Some(&region),
                            crate::msg!("継続的バックアップのない EC2 サーバ（{newest_ja}）", "EC2 server without continuous backup ({newest_en})"),
                            POINTS,
                        );
                        unmeasured_figure(&mut f, r, limit, false);
                        let name = r.label();
                        f.unverified(Msg::new(
                            format!("{name}: 障害発生時点への復旧（アーカイブログ・レプリケーション）はAWSから確認できない（データを持たないサーバは [continuity] stateless_servers に宣言、持つサーバは証跡で確認）"),
                            format!("{name}: recovery to the point of failure (archive logs, replication) cannot be seen from AWS (declare servers without business data in [continuity] stateless_servers; attest the others)"),
                        ));
                    }
                    None => {
                        f.fail(
                            &r.arn,
                            Some(&region),
                            crate::msg!(
                                "障害発生時点への復旧には継続的バックアップ・PITR が必要だが、{0} にはない（{newest_ja}）",
                                "the point of failure needs continuous backup / PITR; {0} has none ({newest_en})",
                                r.name
                            ),
                            POINTS,
                        );
                        unmeasured_figure(&mut f, r, limit, true);
                    }
                }
            }
            summary(&mut f, &measured, &format!("障害発生時点（PITR遅延 {}以内）", hm_ja(max)), &format!("point of failure (PITR lag ≤ {})", hm(max)));
        }
    }
    f
}

/// A resource not checked after a listing failed: said of it alone, with a figure so the chart lists it.
fn not_measured(f: &mut Findings, region: &str, r: &Resource, limit_secs: Option<i64>) {
    f.info(
        &r.arn,
        Some(region),
        Msg::new(format!("一覧の取得に失敗したため未確認: {}", r.name), format!("not checked after the listing failed: {}", r.name)),
        "continuity",
    );
    unmeasured_figure(f, r, limit_secs, false);
}

/// The chart's entry for a resource whose age is unknown (`violation`: nothing to recover from).
fn unmeasured_figure(f: &mut Findings, r: &Resource, limit_secs: Option<i64>, violation: bool) {
    f.figure(Figure::RpoUnmeasured { resource: r.name.clone(), limit_secs, violation });
}

/// Whether the scenario declares `r` (an EC2 instance, by ID or `Name` tag) stateless.
fn stateless(declared: &[String], r: &Resource) -> bool {
    r.backup_type() == "EC2" && declared.iter().any(|d| *d == r.name || r.arn.ends_with(&format!("/{d}")) || r.tags.get("Name") == Some(d))
}

fn summary(f: &mut Findings, measured: &[(Duration, String)], need_ja: &str, need_en: &str) {
    if let Some((age, name)) = measured.iter().max_by_key(|(a, _)| *a) {
        f.ok_summary(Msg::new(
            format!("実測RPO 最大 {}（{name}）、{}件すべて要求 {need_ja} を充足", hm_ja(*age), measured.len()),
            format!("measured RPO worst {} ({name}); all {} resource(s) meet {need_en}", hm(*age), measured.len()),
        ));
    }
}

/// The newer of the newest usable recovery point and (RDS) LatestRestorableTime.
/// Outer `None`: the listing failed (recorded).
async fn newest_restorable(client: &aws_sdk_backup::Client, region: &str, r: &Resource, f: &mut Findings, skip_listing: bool) -> Option<Option<Restorable>> {
    let list = if skip_listing { None } else { points::by_resource(client, region, &r.arn, f).await };
    let from_points = list.as_deref().and_then(points::newest).map(|p| Restorable { at: p.created, source: POINTS.into() });
    let from_pitr = r.pitr.as_ref().filter(|p| p.retention_days > 0).and_then(|p| p.latest_restorable).map(|at| Restorable { at, source: RDS.into() });
    if list.is_none() && from_pitr.is_none() {
        return None;
    }
    Some(match (from_points, from_pitr) {
        (Some(a), Some(b)) => Some(if a.at >= b.at { a } else { b }),
        (a, b) => a.or(b),
    })
}
