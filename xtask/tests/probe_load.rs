//! `cargo xtask probe load` as a user runs it: the demo's local web target
//! (127.0.0.1) under a few seconds of open-model load per phase.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("NO_COLOR", "1").env_remove("AWS_PROFILE").output().expect("xtask runs")
}

#[test]
fn probe_load_runs_both_phases_of_the_demo_profile() {
    let o = xtask(&["probe", "load", "--env", "demo", "--lang", "en"]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    // Seconds of load where the catalog asks for 1,000 requests per operation:
    // 要確認 (exit 2) naming the lowered minimum, never OK.
    assert_eq!(o.status.code(), Some(2), "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("[PENDING]") && out.contains("shortened observation"), "{out}");
    assert!(out.contains("B.2.1.4") && out.contains("B.2.1.5"), "{out}");
    assert!(out.contains("住民票照会") && out.contains("異動届入力"), "{out}");
    assert!(out.contains("p95 of all 2 operations within 3000 ms"), "{out}");
    assert!(out.contains("p99 of all 2 operations within 5000 ms"), "{out}");
}

#[test]
fn noncompliant_demo_normal_phase_is_ng_at_three_seconds() {
    let o = xtask(&["probe", "load", "--env", "demo-noncompliant", "--phase", "normal", "--lang", "en"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("B.2.1.4") && out.contains("[NG]") && out.contains("> 3000 ms"), "{out}");
    assert!(!out.contains("B.2.1.5"), "{out}");
}
