//! `verify --fleet` end to end against moto's accounts (switched by the role
//! assumed): a compliant account, one with a violation, one whose role cannot
//! be assumed, one whose endpoint is down, and one 共同利用 account holding
//! two municipalities told apart by tags; then the same fleet in two shards
//! merged with `report --merge`.

mod common;

use std::path::Path;

use common::{moto_exe, text, write, xtask, xtask_with};
use gcverify_demo::fleet::{role_arn, seed_municipality};

fn fleet_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("fleet.json")).expect("fleet.json")).expect("valid JSON")
}

/// `report --merge` of the shards' fleet folders into `out`, the matrix printed.
fn merge_shards(parts: &[std::path::PathBuf], out: &Path) -> std::process::Output {
    let mut args = vec!["report", "--merge"];
    args.extend(parts.iter().map(|p| p.to_str().expect("utf8")));
    args.extend(["--format", "table", "--out", out.to_str().expect("utf8")]);
    xtask(&args)
}

/// name → (E.6.1.2's outcome, unreachable reason, account).
fn rows(fleet: &serde_json::Value) -> Vec<(String, String, Option<String>, Option<String>)> {
    fleet["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().to_string(),
                m["outcomes"]["E.6.1.2"].as_str().unwrap_or("absent").to_string(),
                m["unreachable"].as_str().map(str::to_string),
                m["account"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_verifies_every_account_and_one_failure_stops_none() {
    let moto = gcverify_demo::MotoServer::start(&moto_exe()).await.expect("moto starts");
    let ep = moto.endpoint();
    let juki = [("System", "juki")];
    seed_municipality(&ep, "111111111111", &juki, false).await.expect("seed good");
    seed_municipality(&ep, "222222222222", &juki, true).await.expect("seed bad");
    seed_municipality(&ep, "444444444444", &[("System", "juki"), ("Municipality", "A市")], false).await.expect("seed A市");
    seed_municipality(&ep, "444444444444", &[("System", "juki"), ("Municipality", "B町")], true).await.expect("seed B町");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();

    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "base.toml",
        &format!(
            "[environment]\nname = \"base\"\nsystem = \"住民記録システム\"\n\n[aws]\nendpoint_url = \"{ep}\"\n\n[scope]\ntags = {{ System = \"juki\" }}\n"
        ),
    );
    let long_session = "s".repeat(65);
    let fleet = write(
        dir.path(),
        "fleets/asp.toml",
        &format!(
            r#"[fleet]
name = "asp"
base = "../base.toml"

[[environment]]
name = "good"
municipality = "良市"
role_arn = "{good}"

[[environment]]
name = "bad"
municipality = "悪町"
role_arn = "{bad}"

[[environment]]
name = "denied"
municipality = "拒村"
role_arn = "{denied}"
session_name = "{long_session}"

[[environment]]
name = "down"
municipality = "停市"
role_arn = "{good}"
[environment.scenario]
aws.endpoint_url = "http://127.0.0.1:{dead}"

[[environment]]
name = "shared-a"
municipality = "A市"
role_arn = "{shared}"
shared = "kyodo"
[environment.scenario]
scope.tags = {{ Municipality = "A市" }}

[[environment]]
name = "shared-b"
municipality = "B町"
role_arn = "{shared}"
shared = "kyodo"
[environment.scenario]
scope.tags = {{ Municipality = "B町" }}
"#,
            good = role_arn("111111111111"),
            bad = role_arn("222222222222"),
            denied = role_arn("333333333333"),
            shared = role_arn("444444444444"),
        ),
    );
    let fleet_arg = fleet.to_str().expect("utf8");
    let out = dir.path().join("out");
    let o = xtask(&[
        "verify",
        "--fleet",
        fleet_arg,
        "--only",
        "E.6.1.2",
        "--format",
        "table,json,xlsx",
        "--jobs",
        "3",
        "--run-by",
        "運用担当 夜間",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "an NG anywhere is the fleet's exit code: {all}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().filter(|l| l.starts_with('[') && l.contains("/6] ")).count(), 6, "one progress line per environment: {all}");

    let whole = fleet_json(&out.join("asp"));
    let rows = rows(&whole);
    let get = |name: &str| rows.iter().find(|r| r.0 == name).cloned().unwrap_or_else(|| panic!("{name} missing: {all}"));
    // The row is 検証不能 without [database] (its database points); the storage point decides here.
    let point = |name: &str| -> String {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("asp").join(name).join("result.json")).expect("result.json")).expect("json");
        let item = r["items"].as_array().and_then(|i| i.iter().find(|i| i["id"] == "E.6.1.2")).cloned().expect("E.6.1.2");
        item["points"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["id"] == "storage-encrypted"))
            .map(|p| p["outcome"].as_str().unwrap_or_default().to_string())
            .expect("point")
    };
    assert_ne!(get("good").1, "NG", "{all}");
    assert_eq!(point("good"), "OK", "{all}");
    assert_eq!(point("bad"), "NG");
    assert_eq!(point("shared-a"), "OK", "A市 is not judged by B町's volume");
    assert_eq!(point("shared-b"), "NG");
    assert_eq!(point("denied"), "ERROR");
    assert_eq!(get("good").3.as_deref(), Some("111111111111"), "the role's account was used");
    assert_eq!(get("bad").1, "NG", "{all}");
    assert_eq!(get("bad").3.as_deref(), Some("222222222222"));
    let denied = get("denied");
    assert_eq!(denied.1, "ERROR", "{all}");
    assert!(
        denied.2.as_deref().is_some_and(|w| w.contains("sts:GetCallerIdentity") && w.contains("sts:AssumeRole") && w.contains("ValidationError")),
        "says why: {denied:?}"
    );
    assert_eq!(get("down").1, "ERROR", "{all}");
    assert!(get("down").2.is_some());

    // Provenance: a fleet environment's result.json names every file its scenario
    // was built from, each with the digest of the text read.
    let good: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("asp/good/result.json")).expect("result.json")).expect("json");
    assert_eq!(good["run_by"], "運用担当 夜間", "実行者 of every fleet environment is --run-by");
    let layers: Vec<(String, String)> = good["scenario"]["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| (l["path"].as_str().unwrap_or_default().to_string(), l["sha256"].as_str().unwrap_or_default().to_string()))
        .collect();
    for file in ["base.toml", "fleets/asp.toml"] {
        let digest = gcverify_checks::sha256_hex(&std::fs::read(dir.path().join(file)).expect("the file"));
        assert!(layers.iter().any(|(p, d)| p.ends_with(file) && *d == digest), "{file} with its digest in {layers:?}");
    }
    // The 共同利用 group names nothing to verify its separation by: its row is 検証不能, not absent, not OK.
    let sep = whole["separation"].as_array().expect("separation rows");
    assert_eq!(sep.len(), 1, "{all}");
    assert_eq!((sep[0]["group"].as_str(), sep[0]["outcome"].as_str()), (Some("kyodo"), Some("ERROR")), "{all}");
    assert!(sep[0]["summary"].as_str().is_some_and(|s| s.contains("分離の確認対象が未設定")), "{all}");
    // 共同利用: B町's violation is B町's alone.
    assert_ne!(get("shared-a").1, "NG", "A市 is not judged by B町's volume: {all}");
    assert_eq!(get("shared-b").1, "NG", "{all}");
    assert_eq!(get("shared-a").3.as_deref(), Some("444444444444"));
    for name in ["good", "bad", "denied", "down", "shared-a", "shared-b"] {
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("asp").join(name).join("result.json")).expect("per-environment result.json")).expect("json");
        assert_eq!(r["environment"], name);
        assert!(out.join("asp").join(name).join("検証結果.xlsx").is_file());
    }
    // The denied environment's row says why in its own report too.
    let denied_report = std::fs::read_to_string(out.join("asp/denied/result.json")).expect("json");
    assert!(denied_report.contains("AWSアカウントに接続できない"), "{denied_report}");
    // Matrix: one line per environment, the NG item named with where.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("bad ") && l.contains('×')), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("denied ") && l.contains('!')), "{stdout}");
    assert!(stdout.contains("NG E.6.1.2: bad, shared-b"), "{stdout}");
    // fleet.xlsx: the item's sheet lists the environments that are NG or 検証不能.
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("asp/fleet.xlsx")).expect("fleet.xlsx");
    let sheet = wb.worksheet_range("E.6.1.2").expect("E.6.1.2 sheet");
    let listed: Vec<String> = sheet.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert_eq!(listed, ["bad", "denied", "down", "good", "shared-a", "shared-b"], "NG or 検証不能 (good and shared-a lack [database])");

    // scope --fleet: one line per environment with its scope's size or why not.
    let o = xtask(&["scope", "--fleet", fleet_arg]);
    assert_eq!(o.status.code(), Some(2), "two environments cannot be listed: {}", text(&o));
    let scope = String::from_utf8_lossy(&o.stdout).into_owned();
    let size = |name: &str| -> usize {
        let line = scope.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("{name}: {scope}"));
        line.split("対象 ").nth(1).and_then(|r| r.split('件').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"))
    };
    assert!(size("good") > 0, "{scope}");
    assert_eq!(size("bad"), size("good") + 1, "the data volume: {scope}");
    assert_eq!(size("shared-a"), size("good"), "A市's share only, not B町's: {scope}");
    assert_eq!(size("shared-b"), size("bad"), "{scope}");
    assert!(scope.lines().any(|l| l.starts_with("denied ") && l.contains("一覧取得失敗")), "{scope}");

    // Two shards merged give the one run's summary.
    let (o1, o2, merged) = (dir.path().join("s1"), dir.path().join("s2"), dir.path().join("merged"));
    for (shard, d) in [("1/2", &o1), ("2/2", &o2)] {
        let o = xtask(&["verify", "--fleet", fleet_arg, "--only", "E.6.1.2", "--format", "json", "--shard", shard, "--out", d.to_str().expect("utf8")]);
        assert!(matches!(o.status.code(), Some(1 | 2)), "{}", text(&o));
        assert_eq!(fleet_json(&d.join("asp"))["shard"], shard);
    }
    let o = merge_shards(&[o1.join("asp"), o2.join("asp")], &merged);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let m = fleet_json(&merged);
    assert!(m["shard"].is_null());
    let strip = |v: &serde_json::Value| -> Vec<(String, serde_json::Value, serde_json::Value, bool)> {
        v["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|x| (x["name"].as_str().unwrap_or_default().to_string(), x["outcomes"].clone(), x["account"].clone(), x["unreachable"].is_string()))
            .collect()
    };
    assert_eq!(strip(&m), strip(&whole), "merged shards = one run");
    // Overlapping shards are refused.
    let o =
        xtask(&["report", "--merge", o1.join("asp").to_str().expect("utf8"), o1.join("asp").to_str().expect("utf8"), "--out", merged.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    drop(moto);
}

/// 共同利用 with a database per municipality's schema: the group's
/// supplementary row in fleet.json, the matrix and fleet.xlsx, NG naming the
/// pair whose GRANT crosses; made once by the shard holding the group's first
/// member, so merged shards hold it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_group_gets_its_separation_row() {
    if !gcverify_demo::postgres::available_for_tests() {
        return;
    }
    let moto = gcverify_demo::MotoServer::start(&moto_exe()).await.expect("moto starts");
    let ep = moto.endpoint();
    seed_municipality(&ep, "444444444444", &[("System", "juki"), ("Municipality", "A市")], false).await.expect("seed A市");
    seed_municipality(&ep, "444444444444", &[("System", "juki"), ("Municipality", "B町")], false).await.expect("seed B町");
    let pg = gcverify_demo::postgres::PgServer::start("super-secret-fleet").await.expect("PostgreSQL starts");
    gcverify_demo::postgres::seed_shared(&pg, &[("a_city", "a_city_app", "a-pw"), ("b_town", "b_town_app", "b-pw")]).await.expect("seed");
    gcverify_demo::postgres::shared_admin(&pg, "GRANT USAGE ON SCHEMA b_town TO a_city_app; GRANT SELECT ON b_town.residents TO a_city_app")
        .await
        .expect("grant");

    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "base.toml",
        &format!(
            "[environment]\nname = \"base\"\nsystem = \"住民記録システム\"\n\n[aws]\nendpoint_url = \"{ep}\"\n\n[scope]\ntags = {{ System = \"juki\" }}\n\n\
             [database]\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {port}\ndatabase = \"kyodo\"\nuser = \"gcverify_ro\"\ntls = false\n",
            port = pg.port()
        ),
    );
    let member = |name: &str, town: &str, schema: &str, env: &str| {
        format!(
            "[[environment]]\nname = \"{name}\"\nmunicipality = \"{town}\"\nrole_arn = \"{role}\"\nshared = \"kyodo\"\n[environment.scenario]\n\
             scope.tags = {{ Municipality = \"{town}\" }}\nseparation = {{ schema = \"{schema}\", table = \"residents\", user = \"{schema}_app\", password_env = \"{env}\" }}\n\n",
            role = role_arn("444444444444")
        )
    };
    let fleet = write(
        dir.path(),
        "fleets/kyodo.toml",
        &format!(
            "[fleet]\nname = \"kyodo\"\nbase = \"../base.toml\"\n\n{}{}",
            member("shared-a", "A市", "a_city", "GCVERIFY_FLEET_SEP_A"),
            member("shared-b", "B町", "b_town", "GCVERIFY_FLEET_SEP_B")
        ),
    );
    let env = [("GCVERIFY_FLEET_SEP_A", "a-pw"), ("GCVERIFY_FLEET_SEP_B", "b-pw")];
    let fleet_arg = fleet.to_str().expect("utf8");
    let out = dir.path().join("out");
    let o = xtask_with(&["verify", "--fleet", fleet_arg, "--only", "E.6.1.2", "--format", "table,json,xlsx", "--out", out.to_str().expect("utf8")], &env);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "the cross-read is NG: {all}");
    let whole = fleet_json(&out.join("kyodo"));
    let rows = whole["separation"].as_array().expect("separation rows");
    assert_eq!(rows.len(), 1, "{all}");
    assert_eq!(rows[0]["group"], "kyodo");
    assert_eq!(rows[0]["outcome"], "NG", "{all}");
    let obs: Vec<&str> = rows[0]["observations"].as_array().expect("observations").iter().filter_map(|v| v.as_str()).collect();
    assert!(obs.iter().any(|l| l.starts_with("A市 → B町: 読めた") && l.contains("b_town.residents")), "{obs:?}");
    assert!(obs.iter().any(|l| l.starts_with("B町 → A市: 分離")), "{obs:?}");
    assert!(rows[0]["summary"].as_str().is_some_and(|s| s.contains("A市 → B町")), "{all}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("団体間のデータ分離（補足・標準の表外） [kyodo] NG"), "{stdout}");
    assert!(stdout.contains("  A市 → B町: 読めた"), "{stdout}");
    assert!(!all.contains("a-pw") && !all.contains("b-pw"), "no password in any output: {all}");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("kyodo/fleet.xlsx")).expect("fleet.xlsx");
    let sheet = wb.worksheet_range("団体間分離（補足）").expect("the separation sheet");
    assert_eq!(sheet.get_value((1, 1)).map(|v| v.to_string()).as_deref(), Some("NG"));

    // Two shards: the group is checked once, by the shard holding shared-a; merged, one row.
    let (o1, o2, merged) = (dir.path().join("s1"), dir.path().join("s2"), dir.path().join("merged"));
    for (shard, d) in [("1/2", &o1), ("2/2", &o2)] {
        let o =
            xtask_with(&["verify", "--fleet", fleet_arg, "--only", "E.6.1.2", "--format", "json", "--shard", shard, "--out", d.to_str().expect("utf8")], &env);
        assert!(matches!(o.status.code(), Some(1 | 2)), "{}", text(&o));
    }
    assert_eq!(fleet_json(&o1.join("kyodo"))["separation"].as_array().map(Vec::len), Some(1));
    assert_eq!(fleet_json(&o2.join("kyodo"))["separation"].as_array().map(Vec::len), Some(0));
    let o = merge_shards(&[o1.join("kyodo"), o2.join("kyodo")], &merged);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let m = fleet_json(&merged);
    assert_eq!(m["separation"], whole["separation"], "merged shards hold the one run's row");
    drop(moto);
}

#[test]
fn fleet_config_errors_exit_3_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "a.toml", "extends = \"b.toml\"\n[environment]\nname = \"a\"\n");
    write(dir.path(), "b.toml", "\n\nextends = \"a.toml\"\n[environment]\nname = \"b\"\n");
    let fleet = write(dir.path(), "fleets/f.toml", "[fleet]\nbase = \"../a.toml\"\n[[environment]]\nname = \"x\"\n");
    let o = xtask(&["verify", "--fleet", fleet.to_str().expect("utf8"), "--out", dir.path().join("out").to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("b.toml:3:") && stderr.contains("cycle"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing written");
    // Unknown item in one entry's levels: that entry's line in the fleet file.
    write(dir.path(), "ok.toml", "[environment]\nname = \"ok\"\n");
    let fleet = write(
        dir.path(),
        "fleets/g.toml",
        "[fleet]\nbase = \"../ok.toml\"\n[[environment]]\nname = \"x\"\n[environment.scenario]\nlevels = { \"Z.1.1.1\" = \"1\" }\n",
    );
    let o = xtask(&["verify", "--fleet", fleet.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("g.toml:6:"), "{}", text(&o));
    let o = xtask(&["verify", "--fleet", fleet.to_str().expect("utf8"), "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}
