//! `continuity.dr_site` (A.1.4.1 システム再開目標 / A.3.1.1 復旧方針 /
//! A.3.2.1 保管場所分散度): in the DR region, a copy of every protected
//! resource younger than `[continuity] dr_copy_max_age_hours`, found in the
//! vaults the plans' copy actions write to; the AMIs and launch templates the
//! scenario names for the rebuild; for A.1.4.1 the 72-hour 安否確認 data
//! export (newest object under an S3 prefix), or, when the scenario declares
//! none, an ERROR saying a desk attestation is needed.

use std::sync::Arc;

use chrono::Duration;

use super::scope;
use super::{hm, hm_ja, jst, points, ts};
use crate::model::{EvidenceStatus, Msg};
use crate::probes::backup;
use crate::probes::{Findings, ProbeInput};

const VAULT_POINTS: &str = "backup:ListRecoveryPointsByBackupVault";

#[derive(serde::Deserialize)]
struct Need {
    /// Rebuild artefacts (AMIs / launch templates) in the DR region.
    artefacts_required: bool,
    /// The 72-hour data export (安否確認等のデータ提供).
    export: bool,
}

pub async fn dr_site(input: Arc<ProbeInput>) -> Findings {
    let level = input.level.as_str();
    // What each level of each item needs: catalog params.level.
    let need: Need = match input.item.level_param(level) {
        Ok(Some(n)) => n,
        Ok(None) => return super::unsupported_level(&input.item, level),
        Err(e) => return Findings::cannot(&e, &e),
    };
    let primary = input.scenario.aws.primary_region.clone();
    let dr = input.scenario.aws.dr_region.clone();
    let cfg = &input.scenario.continuity;
    let mut f = Findings::new();
    let resources = scope::discover(&input, &mut f).await;
    f.claim("dr-copies");

    // Copies: the DR vaults are where the plans' copy actions write.
    let max_age = Duration::hours(cfg.dr_copy_max_age_hours as i64);
    let mut oldest_copy: Option<Duration> = None;
    if let Some(rules) = backup::read_rules(&input, &primary, &mut f, input.now.date_naive()).await {
        let vaults = super::dr_vaults(&rules, &dr);
        if vaults.is_empty() {
            if !f.has(EvidenceStatus::Error) {
                f.fail(
                    "backup-plans",
                    Some(&primary),
                    crate::msg!("DR リージョン {dr} のボールトへ複製するバックアップルールなし", "no backup rule copies to a vault in the DR region {dr}"),
                    "backup:GetBackupPlan",
                );
            }
        } else {
            let client = input.aws.backup(&dr);
            let (mut listing_failed, mut skipped) = (false, Vec::new());
            for r in &resources {
                if listing_failed {
                    skipped.push(r.name.clone());
                    continue;
                }
                let mut copies = Vec::new();
                let mut failed = false;
                for v in &vaults {
                    match points::in_vault(&client, &dr, v, Some(&r.arn), &mut f).await {
                        Some(list) => copies.extend(list),
                        None => failed = true,
                    }
                }
                listing_failed = failed;
                let Some(newest) = points::newest(&copies) else {
                    if !failed {
                        f.fail(
                            &r.arn,
                            Some(&dr),
                            Msg::new(
                                format!("{}: DR ボールト {} に利用可能な複製なし（{}）", r.name, vaults.join(","), points::census_ja(&copies)),
                                format!("{}: no usable copy in the DR vault(s) {} ({})", r.name, vaults.join(","), points::census(&copies)),
                            ),
                            VAULT_POINTS,
                        );
                    }
                    continue;
                };
                let age = input.now - newest.created;
                if age > max_age {
                    f.fail(
                        &r.arn,
                        Some(&dr),
                        crate::msg!(
                            "{1} の最新の DR 複製 {0} は {2} 経過 > {3}",
                            "newest DR copy {0} in {1} is {2} old > {3}",
                            jst(newest.created),
                            newest.vault,
                            hm(age),
                            hm(max_age)
                        ),
                        VAULT_POINTS,
                    );
                } else if newest.encrypted == Some(false) {
                    f.fail(
                        &r.arn,
                        Some(&dr),
                        crate::msg!("DR 複製 {0} は暗号化なし（IsEncrypted=false）", "DR copy {0} is not encrypted (IsEncrypted=false)", newest.arn),
                        VAULT_POINTS,
                    );
                } else {
                    f.pass(
                        &r.arn,
                        Some(&dr),
                        crate::msg!(
                            "{0}: DR 複製 {1}（{2}、{3} 経過 ≤ {4}）、暗号化済",
                            "{0}: DR copy {1} in {2} ({3} old ≤ {4}), encrypted",
                            r.name,
                            jst(newest.created),
                            newest.vault,
                            hm(age),
                            hm(max_age)
                        ),
                        VAULT_POINTS,
                    );
                    oldest_copy = oldest_copy.max(Some(age));
                }
            }
            super::note_skipped(&mut f, &dr, &skipped);
        }
    }

    // Rebuild artefacts in the DR region.
    let ec2 = input.aws.ec2(&dr);
    if need.artefacts_required && cfg.dr_images.is_empty() && cfg.dr_launch_templates.is_empty() {
        f.error(
            "dr-artefacts",
            Some(&dr),
            crate::msg!(
                "レベル{level}（DRサイトで構築）には DR の構築資材が必要: [continuity] dr_images / dr_launch_templates を記載",
                "level {level} (rebuilt at the DR site) needs the DR build artefacts: list [continuity] dr_images / dr_launch_templates"
            ),
            "scenario",
        );
    }
    for image in &cfg.dr_images {
        ami(&input, &dr, image, &mut f).await;
    }
    for lt in &cfg.dr_launch_templates {
        launch_template(&ec2, &dr, lt, &mut f).await;
    }

    // A.1.4.1: 72-hour data provision.
    let mut export_age = None;
    if need.export {
        f.claim("anpi-export");
        export_age = export(&input, &mut f).await;
    }
    let copy_txt = oldest_copy.map(|a| (hm_ja(a), hm(a))).unwrap_or_default();
    let export_txt = export_age
        .map(|a| (format!("、72時間データ提供用エクスポート最新 {}前", hm_ja(a)), format!("; 72-hour data export newest {} old", hm(a))))
        .unwrap_or_default();
    f.ok_summary(Msg::new(
        format!(
            "DRリージョン {dr}: {}件のリソースの複製あり（最古 {}前 ≤ {}時間）、AMI {}件・起動テンプレート {}件あり{}",
            resources.len(),
            copy_txt.0,
            max_age.num_hours(),
            cfg.dr_images.len(),
            cfg.dr_launch_templates.len(),
            export_txt.0
        ),
        format!(
            "DR region {dr}: copies of all {} resource(s) (oldest {} ≤ {}h); {} AMI(s), {} launch template(s) present{}",
            resources.len(),
            copy_txt.1,
            max_age.num_hours(),
            cfg.dr_images.len(),
            cfg.dr_launch_templates.len(),
            export_txt.1
        ),
    ));
    f
}

async fn ami(input: &ProbeInput, region: &str, image: &str, f: &mut Findings) {
    const CALL: &str = "ec2:DescribeImages";
    let images = match input.inventory.images(region).await {
        Ok(i) => i,
        Err(e) => return f.listing_error(&e),
    };
    let named: Vec<&aws_sdk_ec2::types::Image> =
        images.iter().filter(|i| if image.starts_with("ami-") { i.image_id() == Some(image) } else { i.name() == Some(image) }).collect();
    match named.iter().find(|i| i.state().map(|s| s.as_str()) == Some("available")) {
        Some(i) => f.pass(
            image,
            Some(region),
            crate::msg!(
                "AMI {0}（{1}）利用可能、作成 {2}",
                "AMI {0} ({1}) available, created {2}",
                i.image_id().unwrap_or("-"),
                i.name().unwrap_or("-"),
                i.creation_date().unwrap_or("-")
            ),
            CALL,
        ),
        None if named.is_empty() => f.fail(
            image,
            Some(region),
            Msg::new("再構築に必要な AMI が DR リージョンにない", "AMI needed for the rebuild does not exist in the DR region"),
            CALL,
        ),
        None => f.fail(
            image,
            Some(region),
            crate::msg!(
                "AMI はあるが利用可能でない（State={0}）",
                "AMI exists but is not available (State={0})",
                named[0].state().map(|s| s.as_str()).unwrap_or("-")
            ),
            CALL,
        ),
    }
}

fn no_template() -> Msg {
    Msg::new("再構築に必要な起動テンプレートが DR リージョンにない", "launch template needed for the rebuild does not exist in the DR region")
}

async fn launch_template(ec2: &aws_sdk_ec2::Client, region: &str, name: &str, f: &mut Findings) {
    const CALL: &str = "ec2:DescribeLaunchTemplates";
    match ec2.describe_launch_templates().launch_template_names(name).send().await {
        Ok(o) => match o.launch_templates().first() {
            Some(t) => f.pass(
                name,
                Some(region),
                crate::msg!(
                    "起動テンプレート {0} あり（最新バージョン {1}）",
                    "launch template {0} exists (latest version {1})",
                    t.launch_template_id().unwrap_or("-"),
                    t.latest_version_number().unwrap_or(0)
                ),
                CALL,
            ),
            None => f.fail(name, Some(region), no_template(), CALL),
        },
        Err(e) if crate::aws::error_code(&e).is_some_and(|c| c.contains("NotFound")) => f.fail(name, Some(region), no_template(), CALL),
        Err(e) => f.aws_error(CALL, Some(region), &e),
    }
}

/// The newest object of the declared export; its age when compliant.
async fn export(input: &ProbeInput, f: &mut Findings) -> Option<Duration> {
    const CALL: &str = "s3:ListObjectsV2";
    const SUBJECT: &str = "72h-data-provision";
    let Some(e) = &input.scenario.continuity.export else {
        f.error(
            SUBJECT,
            None,
            Msg::new(
                "発災後72時間以内のデータ提供: シナリオにエクスポート（[continuity.export]）の宣言がない。提供手順の机上確認が必要",
                "data provision within 72 hours of a disaster: the scenario declares no export ([continuity.export]); this needs a desk attestation of the provision procedure",
            ),
            "scenario",
        );
        return None;
    };
    let region = e.region.clone().unwrap_or_else(|| input.scenario.aws.dr_region.clone());
    let location = format!("s3://{}/{}", e.bucket, e.prefix);
    if region == input.scenario.aws.primary_region {
        f.fail(
            &location,
            Some(&region),
            Msg::new(
                "エクスポートがプライマリリージョンにある: 大規模災害ではプライマリサイトとともに失われる",
                "the export is kept in the primary region: it is lost with the primary site in a large-scale disaster",
            ),
            "scenario",
        );
    }
    let s3 = input.aws.s3(&region);
    let mut newest = None;
    let mut count = 0usize;
    let mut pages = s3.list_objects_v2().bucket(&e.bucket).prefix(&e.prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => {
                for o in p.contents() {
                    count += 1;
                    newest = newest.max(ts(o.last_modified()).map(|t| (t, o.key().unwrap_or("").to_string())));
                }
            }
            Err(err) if crate::aws::error_code(&err) == Some("NoSuchBucket") => {
                f.fail(&location, Some(&region), Msg::new("エクスポート先のバケットが存在しない", "export bucket does not exist"), CALL);
                return None;
            }
            Err(err) => {
                f.aws_error(CALL, Some(&region), &err);
                return None;
            }
        }
    }
    let max = Duration::hours(e.max_age_hours as i64);
    let Some((t, key)) = newest else {
        f.fail(
            &location,
            Some(&region),
            Msg::new(
                "エクスポートのオブジェクトなし: 安否確認データのエクスポートが一度も実行されていない",
                "no export object found: the safety-confirmation data export has never run",
            ),
            CALL,
        );
        return None;
    };
    let age = input.now - t;
    if age > max {
        f.fail(
            &location,
            Some(&region),
            crate::msg!("最新のエクスポート {key}（{0}）は {1} 経過 > {2}", "newest export {key} ({0}) is {1} old > {2}", jst(t), hm(age), hm(max)),
            CALL,
        );
        None
    } else {
        f.pass(
            &location,
            Some(&region),
            crate::msg!(
                "最新のエクスポート {key}（{0}）は {1} 経過 ≤ {2}、オブジェクト {count}件",
                "newest export {key} ({0}) is {1} old ≤ {2}; {count} object(s)",
                jst(t),
                hm(age),
                hm(max)
            ),
            CALL,
        );
        Some(age)
    }
}
