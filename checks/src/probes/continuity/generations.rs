//! `backup.generations` (C.1.2.5 両リージョンにスナップショットが保存されている):
//! every resource in scope has the required generations of usable recovery
//! points in the primary region and, as copies, in the DR region.

use std::sync::Arc;

use super::{dr_vaults, points, scope};
use crate::model::Msg;
use crate::probes::backup;
use crate::probes::{Findings, ProbeInput};

const BY_RESOURCE: &str = "backup:ListRecoveryPointsByResource";
const BY_VAULT: &str = "backup:ListRecoveryPointsByBackupVault";

pub async fn generations(input: Arc<ProbeInput>) -> Findings {
    let primary = input.scenario.aws.primary_region.clone();
    let dr = input.scenario.aws.dr_region.clone();
    let declared = input.scenario.backup.generations;
    let need = declared.unwrap_or(1) as usize;
    let mut f = Findings::new();
    if declared.is_none() {
        f.info(
            "generations",
            None,
            Msg::new(
                "[backup] generations 未設定: リージョンごとに利用可能な復旧ポイント1件以上を要求",
                "[backup] generations is not set: at least 1 usable recovery point per region is required",
            ),
            "scenario",
        );
    }
    let resources = scope::discover(&input, &mut f).await;
    let Some(rules) = backup::read_rules(&input, &primary, &mut f, input.now.date_naive()).await else { return f };
    let vaults = dr_vaults(&rules, &dr);
    if vaults.is_empty() {
        f.fail(
            "backup-plans",
            Some(&primary),
            crate::msg!(
                "DR リージョン {dr} のボールトへ複製するバックアップルールなし: 復旧ポイントは1リージョンのみ",
                "no backup rule copies to a vault in the DR region {dr}: recovery points exist in one region only"
            ),
            "backup:GetBackupPlan",
        );
    }
    let (home, away) = (input.aws.backup(&primary), input.aws.backup(&dr));
    for r in &resources {
        // Primary region: the resource's own points.
        if let Some(list) = points::by_resource(&home, &primary, &r.arn, &mut f).await {
            judge(&mut f, &r.arn, &r.name, &primary, &list, need, BY_RESOURCE);
        } else {
            // The failure is recorded once; the other resources would fail alike.
            break;
        }
        if vaults.is_empty() {
            continue;
        }
        let mut copies = Vec::new();
        for v in &vaults {
            match points::in_vault(&away, &dr, v, Some(&r.arn), &mut f).await {
                Some(list) => copies.extend(list),
                None => return f,
            }
        }
        judge(&mut f, &r.arn, &r.name, &dr, &copies, need, BY_VAULT);
    }
    f.ok_summary(Msg::new(
        format!("対象 {}件すべてに {primary}・{dr} の両リージョンで復旧ポイント{need}世代以上", resources.len()),
        format!("all {} resource(s) have at least {need} usable recovery point(s) in both {primary} and {dr}", resources.len()),
    ));
    f
}

fn judge(f: &mut Findings, arn: &str, name: &str, region: &str, list: &[points::Point], need: usize, source: &str) {
    let usable = list.iter().filter(|p| p.usable()).count();
    let detail = Msg::new(
        format!("{name}: {region} に利用可能な復旧ポイント {usable}件（必要 {need}件、{}）", points::census_ja(list)),
        format!("{name}: {usable} usable recovery point(s) in {region} (need {need}; {})", points::census(list)),
    );
    if usable >= need {
        f.pass(arn, Some(region), detail, source);
    } else {
        f.fail(arn, Some(region), detail, source);
    }
}
