//! Nightly use end to end against moto: every run kept in OUT/history/,
//! `--compare last` (empty 前回比 for an unchanged night, a planted violation
//! newly NG), `--fail-on new-ng` (a known NG does not fail the next night, a
//! new one does), retention, `report --diff`, and the config errors.

mod common;

use std::path::Path;

use common::{moto_exe, text, write, xtask};
use gcverify_demo::fleet::{role_arn, seed_municipality};

fn result(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).expect("result.json")).expect("valid JSON")
}

fn history(out: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(out.join("history")).expect("history folder").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_runs_compare_with_the_last_and_fail_only_on_regressions() {
    let moto = gcverify_demo::MotoServer::start(&moto_exe()).await.expect("moto starts");
    let ep = moto.endpoint();
    let account = "111111111111";
    let juki = [("System", "juki")];
    seed_municipality(&ep, account, &juki, false).await.expect("seed a compliant system");

    let dir = tempfile::tempdir().expect("tmp");
    let scenario = write(
        dir.path(),
        "nightly.toml",
        &format!(
            "[environment]\nname = \"nightly\"\nmunicipality = \"試験市\"\nsystem = \"住民記録システム\"\n\n[aws]\nendpoint_url = \"{ep}\"\nrole_arn = \"{}\"\n\n[scope]\ntags = {{ System = \"juki\" }}\n",
            role_arn(account)
        ),
    );
    let out = dir.path().join("out");
    let (s, o) = (scenario.to_str().expect("utf8"), out.to_str().expect("utf8"));
    let nightly = |extra: &[&str]| {
        let mut args = vec!["verify", "--scenario", s, "--only", "E.6.1.2", "--format", "table,json,md,junit,xlsx,html", "--out", o];
        args.extend_from_slice(extra);
        xtask(&args)
    };

    // Config errors come before any probe: nothing is written.
    let e = nightly(&["--fail-on", "new-ng"]);
    assert_eq!(e.status.code(), Some(3), "{}", text(&e));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--fail-on new-ng needs --compare"), "{}", text(&e));
    let e = nightly(&["--compare", "/nonexistent/result.json"]);
    assert_eq!(e.status.code(), Some(3), "{}", text(&e));
    assert!(String::from_utf8_lossy(&e.stderr).contains("/nonexistent/result.json"), "{}", text(&e));
    assert!(!out.exists(), "nothing written on a config error");

    // Night 1: no earlier run. Every NG/検証不能 row counts as new.
    let first = nightly(&["--compare", "last", "--fail-on", "new-ng"]);
    let r1 = result(&out);
    let outcome1 = r1["items"][0]["outcome"].as_str().expect("outcome").to_string();
    assert_ne!(outcome1, "NG", "the compliant system's row is not NG: {}", text(&first));
    assert!(r1["comparison"]["baseline"].is_null(), "{}", r1["comparison"]);
    let expected = if outcome1 == "ERROR" { 2 } else { 0 };
    assert_eq!(first.status.code(), Some(expected), "{}", text(&first));
    let kept = history(&out);
    assert!(kept.len() == 1 && kept[0].ends_with(&format!("_{}.json", r1["run_id"].as_str().expect("run id"))), "{kept:?}");

    // Night 2, nothing changed: an empty 前回比 against night 1 in every format.
    let second = nightly(&["--compare", "last", "--fail-on", "new-ng"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    let r2 = result(&out);
    assert_eq!(r2["comparison"]["baseline"]["run_id"], r1["run_id"]);
    assert_eq!(r2["comparison"]["changes"], serde_json::json!([]), "{}", r2["comparison"]);
    assert!(String::from_utf8_lossy(&second.stdout).contains("前回比: 変化なし"), "{}", text(&second));
    assert!(std::fs::read_to_string(out.join("検証結果.md")).expect("md").contains("## 前回比: 変化なし"));
    assert!(std::fs::read_to_string(out.join("junit.xml")).expect("junit").contains("name=\"変化なし\""));
    assert!(std::fs::read_to_string(out.join("report.html")).expect("html").contains("<section id=\"comparison\">"));
    assert_eq!(history(&out).len(), 2);

    // A violation is planted: an unencrypted volume attached to a system instance.
    seed_municipality(&ep, account, &juki, true).await.expect("plant a violation");
    let third = nightly(&["--compare", "last", "--fail-on", "new-ng", "--keep-history", "2"]);
    assert_eq!(third.status.code(), Some(1), "newly NG fails the night: {}", text(&third));
    let r3 = result(&out);
    let change = &r3["comparison"]["changes"][0];
    assert_eq!((change["id"].as_str(), change["kind"].as_str(), change["after"].as_str()), (Some("E.6.1.2"), Some("newly_ng"), Some("NG")), "{change}");
    assert_eq!(change["before"].as_str(), Some(outcome1.as_str()));
    assert_eq!(r3["comparison"]["baseline"]["run_id"], r2["run_id"]);
    assert!(String::from_utf8_lossy(&third.stdout).contains("[新たにNG] E.6.1.2"), "{}", text(&third));
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit");
    assert!(junit.contains("type=\"newly_ng\""), "{junit}");
    assert!(std::fs::read_to_string(out.join("検証結果.md")).expect("md").contains("| E.6.1.2 | "), "the md lists the row");
    let kept = history(&out);
    let ends = |i: usize, r: &serde_json::Value| kept.get(i).is_some_and(|k| k.ends_with(&format!("_{}.json", r["run_id"].as_str().unwrap_or("?"))));
    assert!(kept.len() == 2 && ends(0, &r2) && ends(1, &r3), "retention 2, oldest first: {kept:?}");

    // Night 4: the NG is known now. --fail-on new-ng passes; the plain exit code still says NG.
    let fourth = nightly(&["--compare", "last", "--fail-on", "new-ng"]);
    assert_eq!(fourth.status.code(), Some(0), "a known NG is not a regression: {}", text(&fourth));
    assert_eq!(result(&out)["comparison"]["changes"], serde_json::json!([]), "the same violation (new IDs aside) is no change");
    let fifth = nightly(&["--compare", "last"]);
    assert_eq!(fifth.status.code(), Some(1), "{}", text(&fifth));

    // report --diff: night 2 against night 3, as text and as JSON; a run against itself.
    let night2 = out.join("history").join(&kept[0]);
    let night3 = out.join("history").join(&kept[1]);
    let (n2, n3) = (night2.to_str().expect("utf8"), night3.to_str().expect("utf8"));
    let d = xtask(&["report", "--diff", n2, n3]);
    assert_eq!(d.status.code(), Some(1), "{}", text(&d));
    assert!(String::from_utf8_lossy(&d.stdout).contains("[新たにNG] E.6.1.2"), "{}", text(&d));
    let d = xtask(&["report", "--diff", n2, n3, "--format", "json"]);
    let diff: serde_json::Value = serde_json::from_slice(&d.stdout).expect("the diff as JSON");
    assert_eq!(diff["changes"][0]["kind"], "newly_ng");
    let d = xtask(&["report", "--diff", n3, n2, "--lang", "en"]);
    let back = String::from_utf8_lossy(&d.stdout).into_owned();
    match outcome1.as_str() {
        // NG → 検証不能 is no pass either.
        "ERROR" => assert!(d.status.code() == Some(2) && back.contains("[newly ERROR] E.6.1.2"), "{}", text(&d)),
        "OK" => assert!(d.status.code() == Some(0) && back.contains("[fixed] E.6.1.2"), "{}", text(&d)),
        _ => assert!(d.status.code() == Some(0) && back.contains("[outcome changed] E.6.1.2"), "{}", text(&d)),
    }
    let d = xtask(&["report", "--diff", n3, n3]);
    assert_eq!(d.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&d.stdout).contains("変化なし"), "{}", text(&d));
    let d = xtask(&["report", "--diff", n2, "/nonexistent"]);
    assert_eq!(d.status.code(), Some(3), "{}", text(&d));

    // report --from re-renders night 5's files byte for byte, 前回比 included.
    let md_before = std::fs::read(out.join("検証結果.md")).expect("md");
    let r = xtask(&["report", "--from", o, "--format", "md"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert_eq!(std::fs::read(out.join("検証結果.md")).expect("md"), md_before);
}

/// 前回比 follows the row's history, not one step: with nights
/// 検証不能 → NG → 検証不能 (and OK → NG → OK) in the history, the third night's
/// row is 「解消」, so `--fail-on new-ng` (the comparison's exit code) is 0.
#[test]
fn a_row_back_to_its_state_before_the_ng_is_fixed_not_new() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = dir.path().to_str().expect("utf8");
    let run = xtask(&["verify", "--env", "demo-noncompliant", "--only", "C.1.2.5", "--format", "json", "--out", o, "--keep-history", "0"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let saved = result(dir.path());
    let night = |day: u32, outcome: &str| {
        let mut r = saved.clone();
        r["run_id"] = format!("202611{day:02}T000000Z-0000000{day}").into();
        r["started_at"] = format!("2026-11-{day:02}T00:00:00Z").into();
        r["items"][0]["outcome"] = outcome.into();
        r
    };
    for (first, third) in [("ERROR", "ERROR"), ("OK", "OK")] {
        let _ = std::fs::remove_dir_all(dir.path().join("history"));
        for (day, outcome) in [(1, first), (2, "NG")] {
            let r = night(day, outcome);
            write(&dir.path().join("history"), &format!("202611{day:02}T000000.000000Z_{}.json", r["run_id"].as_str().expect("id")), &r.to_string());
        }
        write(dir.path(), "result.json", &night(3, third).to_string());
        let r = xtask(&["report", "--from", o, "--compare", "last", "--format", "json,md", "--lang", "en"]);
        assert!(r.status.code().is_some_and(|c| c != 3), "{}", text(&r));
        let c = &result(dir.path())["comparison"];
        assert_eq!(c["baseline"]["run_id"], "20261102T000000Z-00000002", "{c}");
        let kinds: Vec<&str> = c["changes"].as_array().expect("changes").iter().filter_map(|x| x["kind"].as_str()).collect();
        assert_eq!(kinds, ["fixed"], "{first} → NG → {third}: {c}");
        let md = std::fs::read_to_string(dir.path().join("検証結果.md")).expect("md");
        assert!(md.contains("newly NG 0 / newly ERROR 0 / fixed 1"), "{first} → NG → {third}: {md}");
    }
}
