//! `cargo xtask iam-policy`: prints a parseable, read-only policy that
//! lists every action the probes declare.

use std::process::Command;

#[test]
fn iam_policy_prints_the_union_of_probe_actions() {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask")).arg("iam-policy").output().expect("xtask runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["Version"], "2012-10-17");
    let st = &v["Statement"][0];
    assert_eq!(st["Effect"], "Allow");
    let actions: Vec<&str> = st["Action"].as_array().expect("Action list").iter().filter_map(|a| a.as_str()).collect();
    let probes = gcverify_checks::probes::registry::all().map(|p| p.actions);
    for list in probes.chain([gcverify_checks::inventory::ACTIONS]) {
        for call in list {
            let need = gcverify_checks::probes::permissions::iam_action(call);
            assert!(actions.contains(&need), "{need} missing from the printed policy");
        }
    }
    // S3 permissions are named after the resource, not the operation.
    assert!(actions.contains(&"s3:ListAllMyBuckets") && !actions.contains(&"s3:ListBuckets"));
    assert!(actions.iter().all(|a| !a.contains(":Put") && !a.contains(":Create") && !a.contains(":Delete")), "{actions:?}");
}

#[test]
fn the_restore_drill_has_its_own_write_policy() {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["iam-policy", "--restore-drill"]).output().expect("xtask runs");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    let actions: Vec<&str> = v["Statement"][0]["Action"].as_array().expect("Action list").iter().filter_map(|a| a.as_str()).collect();
    for need in ["backup:StartRestoreJob", "ec2:TerminateInstances", "rds:DeleteDBInstance", "ec2:CreateTags"] {
        assert!(actions.contains(&need), "{need} missing: {actions:?}");
    }
    assert_eq!(v["Statement"][1]["Action"][0], "iam:PassRole");
    assert_eq!(v["Statement"][1]["Condition"]["StringEquals"]["iam:PassedToService"], "backup.amazonaws.com");
    // And none of it in the read-only policy.
    let ro = Command::new(env!("CARGO_BIN_EXE_xtask")).arg("iam-policy").output().expect("xtask runs");
    let ro = String::from_utf8_lossy(&ro.stdout);
    assert!(!ro.contains("StartRestoreJob") && !ro.contains("TerminateInstances") && !ro.contains("PassRole"), "{ro}");
}

#[test]
fn restore_drill_without_a_drill_table_is_a_usage_error() {
    // The demo scenario without its [continuity.drill] tables (the demo itself has a drill target).
    let demo = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/demo.toml")).expect("demo.toml");
    let mut in_drill = false;
    let without: Vec<&str> = demo
        .lines()
        .filter(|l| {
            let t = l.trim();
            if t.starts_with('[') {
                in_drill = t.trim_start_matches('[').starts_with("continuity.drill");
            }
            !in_drill
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-drill.toml");
    std::fs::write(&path, without.join("\n")).expect("write the scenario");
    let o = Command::new(env!("CARGO_BIN_EXE_xtask")).arg("verify").arg("--scenario").arg(&path).arg("--restore-drill").output().expect("xtask runs");
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[continuity.drill]"));
}
