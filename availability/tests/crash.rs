//! `kill -9` of the probe process while it writes, then a restart: every
//! cycle the process reported as committed is in the store, each slot has
//! all of its targets or none (one transaction per cycle), and replaying the
//! same slots after the restart adds nothing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use gcverify_availability::local_target::LocalTarget;
use gcverify_availability::store::Store;

const START: i64 = 1_795_000_020; // 2026-11-17 (a Tuesday), JST daytime; any value works.

fn scenario(dir: &std::path::Path, http: &str, tcp: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[environment]
name = "crash"

[availability]
store = "avail.sqlite"
interval_secs = 60

[[availability.targets]]
name = "web"
url = "{http}/"

[[availability.targets]]
name = "db"
tcp = "{tcp}"

[[availability.targets]]
name = "batch"
tcp = "{tcp}"
"#
    );
    let p = dir.join("crash.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Start the probe with an injected clock, read `committed SLOT NEW` lines.
fn spawn(scenario: &std::path::Path, cycles: u64) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_gcverify-availability"))
        .args(["--scenario", &scenario.display().to_string(), "--simulate-from", &START.to_string(), "--cycles", &cycles.to_string(), "--print-commits"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("probe binary starts")
}

fn parse(line: &str) -> (i64, usize) {
    let mut it = line.split_whitespace().skip(1);
    let slot = it.next().and_then(|s| s.parse().ok()).expect("slot");
    let new = it.next().and_then(|s| s.parse().ok()).expect("count");
    (slot, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = LocalTarget::start("ok").await.unwrap();
    let path = scenario(dir.path(), &server.url(), &server.address());

    // Run until 150 cycles are committed, then SIGKILL mid-stream.
    let (committed, killed_at) = tokio::task::spawn_blocking({
        let path = path.clone();
        move || {
            let mut child = spawn(&path, 100_000);
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut committed = Vec::new();
            for line in lines.by_ref() {
                let line = line.unwrap();
                committed.push(parse(&line).0);
                if committed.len() == 150 {
                    break;
                }
            }
            child.kill().unwrap(); // SIGKILL on Unix
            let status = child.wait().unwrap();
            // Lines the process printed between our last read and the kill.
            for line in lines.map_while(Result::ok) {
                committed.push(parse(&line).0);
            }
            (committed, status)
        }
    })
    .await
    .unwrap();
    assert!(!killed_at.success(), "the probe was killed, not finished");

    let store = Store::open(&dir.path().join("avail.sqlite"), 60).unwrap();
    assert_eq!(store.integrity().unwrap(), "ok");
    let ids: Vec<i64> = ["web", "db", "batch"].iter().map(|n| store.find_target(n).unwrap().unwrap()).collect();
    let per_target: Vec<Vec<i64>> = ids.iter().map(|id| store.samples(*id).unwrap().iter().map(|s| s.slot).collect()).collect();
    // All targets have the same slots: a cycle is all or nothing.
    assert_eq!(per_target[0], per_target[1]);
    assert_eq!(per_target[0], per_target[2]);
    let stored = &per_target[0];
    for slot in &committed {
        assert!(stored.contains(slot), "committed slot {slot} was lost");
    }
    // At most the one cycle in flight when the kill came may be there unreported.
    assert!(stored.len() <= committed.len() + 1, "{} stored, {} reported", stored.len(), committed.len());
    let before = store.count().unwrap();
    drop(store);

    // Restart over the same clock range and a bit further: replayed slots add nothing.
    let total = stored.len() as u64 + 10;
    let out = tokio::task::spawn_blocking({
        let path = path.clone();
        move || spawn(&path, total).wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let lines: Vec<(i64, usize)> = String::from_utf8_lossy(&out.stdout).lines().map(parse).collect();
    assert_eq!(lines.len() as u64, total);
    for (slot, new) in &lines {
        let expect = if stored.contains(slot) { 0 } else { 3 };
        assert_eq!(*new, expect, "slot {slot}");
    }
    let store = Store::open(&dir.path().join("avail.sqlite"), 60).unwrap();
    assert_eq!(store.count().unwrap(), before + 3 * (total as i64 - stored.len() as i64));
    assert_eq!(store.integrity().unwrap(), "ok");
    drop(server);
}
