//! Continuity probes against a real moto server. moto implements backup
//! plans and vaults, EC2 images and launch templates, and S3, but not backup
//! selections, recovery points or restore jobs: every row that needs those
//! must come out ERROR (never OK) here, while the parts moto does serve
//! (DR-region AMI, launch template, the 72-hour export object) show up as
//! observed evidence, and their absence as NG.

mod common;

use common::*;
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::seed_continuity::{DR_IMAGE, DR_LAUNCH_TEMPLATE, EXPORT_BUCKET, EXPORT_PREFIX};

const ITEMS: [&str; 8] = ["C.1.2.2", "C.1.2.3", "A.1.3.1", "A.1.3.2", "A.1.3.3", "A.1.4.1", "A.3.1.1", "A.3.2.1"];

fn continuity(images: &str, templates: &str) -> String {
    format!(
        "{BASE}\n[backup]\nplans = [\"juki-daily\"]\n\n[continuity]\ndr_images = [{images}]\ndr_launch_templates = [{templates}]\n\n[continuity.export]\nbucket = \"{EXPORT_BUCKET}\"\nprefix = \"{EXPORT_PREFIX}\"\nmax_age_hours = 24\n"
    )
}

#[tokio::test]
async fn rows_needing_recovery_points_or_restore_jobs_are_error_never_ok() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let text = continuity(&format!("\"{DR_IMAGE}\""), &format!("\"{DR_LAUNCH_TEMPLATE}\""));
    let r = run(&server.endpoint(), scenario(&text), &ITEMS).await;
    for id in ITEMS {
        let i = item(&r, id);
        assert_eq!(i.outcome, Outcome::Error, "{id} must be ERROR against moto: {}\n{}", i.summary_en, evidence_text(i));
        assert!(!i.summary_en.contains("not implemented"), "{id}: the probe is registered: {}", i.summary_en);
        // The reason names the Backup API the emulator lacks.
        assert!(i.evidence.iter().any(|e| e.status == EvidenceStatus::Error && e.detail.contains("backup:")), "{id}: {}", evidence_text(i));
    }
    // What moto does serve was observed: the seeded DR AMI, launch template and export object.
    let a141 = item(&r, "A.1.4.1");
    let t = evidence_text(a141);
    assert!(a141.evidence.iter().any(|e| e.subject == DR_IMAGE && e.status == EvidenceStatus::Pass && e.region.as_deref() == Some("ap-northeast-3")), "{t}");
    assert!(a141.evidence.iter().any(|e| e.subject == DR_LAUNCH_TEMPLATE && e.status == EvidenceStatus::Pass), "{t}");
    assert!(
        a141.evidence
            .iter()
            .any(|e| e.subject.starts_with("s3://juki-anpi-export/") && e.status == EvidenceStatus::Pass && e.detail.contains("anpi-latest.csv")),
        "{t}"
    );
    // The tag-scoped resources were found and named (EC2 instances and the RDS database).
    let cov = evidence_text(item(&r, "C.1.2.2"));
    assert!(cov.contains("juki-db") || evidence_text(item(&r, "A.1.3.1")).contains("juki-db"), "{cov}");
}

#[tokio::test]
async fn missing_dr_artefacts_and_unwritten_export_are_ng() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), false).await.expect("seed");
    let text = continuity(&format!("\"{DR_IMAGE}\""), &format!("\"{DR_LAUNCH_TEMPLATE}\""));
    let r = run(&server.endpoint(), scenario(&format!("{text}\n[levels]\n\"A.3.1.1\" = \"3\"\n")), &["A.1.4.1", "A.3.1.1"]).await;
    for id in ["A.1.4.1", "A.3.1.1"] {
        let i = item(&r, id);
        assert_eq!(i.outcome, Outcome::Ng, "{id}: {}\n{}", i.summary_en, evidence_text(i));
        let fails: Vec<&str> = i.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
        assert!(fails.contains(&DR_IMAGE), "{id}: {fails:?}");
    }
    let a141 = item(&r, "A.1.4.1");
    assert!(
        a141.evidence.iter().any(|e| e.status == EvidenceStatus::Fail && e.subject.starts_with("s3://juki-anpi-export/") && e.detail.contains("never run")),
        "{}",
        evidence_text(a141)
    );
}

#[tokio::test]
async fn a141_without_declared_export_asks_for_attestation() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");
    let r = run(&server.endpoint(), scenario(&format!("{BASE}\n[backup]\nplans = [\"juki-daily\"]\n")), &["A.1.4.1"]).await;
    let i = item(&r, "A.1.4.1");
    assert_eq!(i.outcome, Outcome::Error);
    assert!(i.evidence.iter().any(|e| e.subject == "72h-data-provision" && e.detail.contains("desk attestation")), "{}", evidence_text(i));
}
