//! `cargo xtask drill cleanup`: delete what earlier drills left behind —
//! first from the journals (restore jobs whose copy was never deleted,
//! including jobs that finished after the drill gave up on them), then
//! anything tagged [`kinds::TAG`] or named [`kinds::NAME_PREFIX`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::journal::Journal;
use super::kinds::{self, Kind};
use crate::aws::{failure_reason, AwsContext};

#[derive(Debug, Default, Clone, Serialize)]
pub struct CleanupReport {
    /// Copies deleted (or, with `dry_run`, that would be).
    pub deleted: Vec<String>,
    /// Copies whose delete failed, with the reason.
    pub failed: Vec<String>,
    /// Restore jobs still running: run cleanup again once they end.
    pub pending: Vec<String>,
    /// Journals that still have work (kept on disk).
    pub journals_left: Vec<PathBuf>,
}

impl CleanupReport {
    pub fn clean(&self) -> bool {
        self.failed.is_empty() && self.pending.is_empty()
    }
}

async fn delete_one(aws: &AwsContext, arn: &str, dry_run: bool, report: &mut CleanupReport) -> bool {
    let Some(kind) = Kind::from_arn(arn) else {
        report.failed.push(format!("{arn}: type not handled by the drill; delete it by hand"));
        return false;
    };
    if dry_run {
        report.deleted.push(format!("{arn} (dry run: not deleted)"));
        return false;
    }
    match kinds::delete(aws, kind, arn).await {
        Ok(done) => {
            report.deleted.push(format!("{arn}: {done}"));
            true
        }
        Err(why) => {
            report.failed.push(format!("{arn}: {why}"));
            false
        }
    }
}

pub async fn cleanup(aws: &AwsContext, regions: &[String], state_dir: &Path, dry_run: bool) -> Result<CleanupReport, super::DrillError> {
    let mut report = CleanupReport::default();
    let journal_err = |e: std::io::Error| super::DrillError::Journal { path: state_dir.display().to_string(), source: e };
    let mut handled: Vec<String> = Vec::new();
    for mut j in Journal::load_all(state_dir).map_err(journal_err)? {
        let pending: Vec<_> = j.pending().cloned().collect();
        for e in pending {
            let mut created = e.created_arn.clone();
            if created.is_none() {
                match aws.backup(&e.region).describe_restore_job().restore_job_id(&e.job_id).send().await {
                    Ok(o) => {
                        let status = o.status().map(|s| s.as_str().to_string()).unwrap_or_default();
                        created = o.created_resource_arn().filter(|a| !a.is_empty()).map(str::to_string);
                        if created.is_none() {
                            if matches!(status.as_str(), "COMPLETED" | "FAILED" | "ABORTED") {
                                if !dry_run {
                                    j.update(&e.job_id, |x| x.cleaned = true).map_err(journal_err)?;
                                }
                            } else {
                                report.pending.push(format!("restore job {} ({}) is {status}: run cleanup again once it ends", e.job_id, e.source_arn));
                            }
                            continue;
                        }
                    }
                    Err(err) => {
                        report.failed.push(format!("restore job {}: {}", e.job_id, failure_reason("backup:DescribeRestoreJob", &err)));
                        continue;
                    }
                }
            }
            let Some(arn) = created else { continue };
            handled.push(arn.clone());
            if delete_one(aws, &arn, dry_run, &mut report).await {
                j.update(&e.job_id, |x| {
                    x.created_arn = Some(arn.clone());
                    x.cleaned = true;
                })
                .map_err(journal_err)?;
            }
        }
        if j.pending().next().is_some() {
            report.journals_left.push(j.path().to_path_buf());
        }
    }
    for region in regions {
        match kinds::leftovers(aws, region).await {
            Ok(found) => {
                for (arn, _drill) in found {
                    if handled.iter().any(|h| kinds::short_id(h) == kinds::short_id(&arn)) {
                        continue;
                    }
                    delete_one(aws, &arn, dry_run, &mut report).await;
                }
            }
            Err(why) => report.failed.push(format!("{region}: cannot list drill copies: {why}")),
        }
    }
    Ok(report)
}
