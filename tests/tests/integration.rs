//! C.4.5.1 連携処理 checked by their results: HTTP answers from a local server,
//! exchanged files in moto's S3, queries on a throwaway PostgreSQL. Reachability
//! alone is not OK: a wrong status, a stale or empty file, a short count are NG.

use gcverify_checks::probes::{integration, Conclusion};
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_loadgen::server::{self, ServerConfig};

mod common;
use common::{emulator, moto, postgres_available, probe_input};

async fn judge(endpoint: &str, text: &str, now: chrono::DateTime<chrono::Utc>) -> Conclusion {
    let s = gcverify_scenarios::parse(&format!("[environment]\nname = \"int\"\n{text}"), std::path::Path::new("int.toml")).expect("scenario");
    integration::processes(probe_input("C.4.5.1", "1", s, emulator(endpoint), now)).await.conclude("1")
}

fn outcome_of<'a>(c: &'a Conclusion, process: &str) -> Vec<(EvidenceStatus, &'a gcverify_checks::Msg)> {
    c.evidence.iter().filter(|e| e.subject == process).map(|e| (e.status, &e.detail)).collect()
}

#[tokio::test]
async fn http_and_file_processes_are_judged_by_their_results() {
    let web = server::start(ServerConfig::delay_ms(0), 0).await.expect("web");
    let moto = moto().await;
    let s3 = emulator(&moto.endpoint()).s3("ap-northeast-1");
    gcverify_demo::seed::create_bucket(&s3, "juki-exchange", "ap-northeast-1").await.expect("bucket");
    for (key, body) in [("out/tennyu/20261201.csv", "id,kind\n1,転入\n"), ("out/empty/20261201.csv", "")] {
        s3.put_object().bucket("juki-exchange").key(key).body(body.as_bytes().to_vec().into()).send().await.expect("object");
    }
    let url = web.url();
    let good = format!(
        r#"
[[integrations.process]]
name = "住基ネット照会"
http = {{ url = "{url}/", body_contains = "住民記録" }}
[[integrations.process]]
name = "認証連携"
http = {{ url = "{url}/login", method = "POST", body = "user=demo", json_pointer = "/token", json_equals = "t0ken" }}
[[integrations.process]]
name = "転入通知ファイル"
file = {{ bucket = "juki-exchange", prefix = "out/tennyu/", suffix = ".csv", max_age_hours = 24 }}
"#
    );
    let c = judge(&moto.endpoint(), &good, chrono::Utc::now()).await;
    assert_eq!(c.outcome, Outcome::Ok, "{:?}", c.evidence);
    assert!(c.summary.ja.contains("連携処理 3件"), "{}", c.summary.ja);

    // Two days later the same file is stale: the process has not run.
    let c = judge(&moto.endpoint(), &good, chrono::Utc::now() + chrono::Duration::hours(48)).await;
    assert_eq!(c.outcome, Outcome::Ng);
    let file = outcome_of(&c, "転入通知ファイル");
    assert!(file[0].0 == EvidenceStatus::Fail && file[0].1.contains("h old (> 24 h)"), "{file:?}");

    // The cases that would pass a reachability check.
    let bad = format!(
        r#"
[integrations]
timeout_secs = 1
[[integrations.process]]
name = "税務連携"
http = {{ url = "{url}/status/503" }}
[[integrations.process]]
name = "認証連携"
http = {{ url = "{url}/login", method = "POST", json_pointer = "/token", json_equals = "other" }}
[[integrations.process]]
name = "応答なし"
http = {{ url = "{url}/hang" }}
[[integrations.process]]
name = "空ファイル"
file = {{ bucket = "juki-exchange", prefix = "out/empty/", max_age_hours = 24 }}
[[integrations.process]]
name = "ファイルなし"
file = {{ bucket = "juki-exchange", prefix = "out/none/", max_age_hours = 24 }}
"#
    );
    let c = judge(&moto.endpoint(), &bad, chrono::Utc::now()).await;
    assert_eq!(c.outcome, Outcome::Ng, "{:?}", c.evidence);
    for (process, why) in [
        ("税務連携", "status 503, expected [200]"),
        ("認証連携", "JSON /token is not \"other\""),
        ("応答なし", "no answer within 1 s"),
        ("空ファイル", "0 bytes (< 1)"),
        ("ファイルなし", "no file"),
    ] {
        let e = outcome_of(&c, process);
        assert!(e.len() == 1 && e[0].0 == EvidenceStatus::Fail && e[0].1.contains(why), "{process}: {e:?}");
    }
    // The answer's own value is not repeated in evidence.
    assert!(!c.evidence.iter().any(|e| e.detail.contains("t0ken")));

    // A bucket that cannot be read is not a failed process: 検証不能.
    let c = judge(&moto.endpoint(), "[[integrations.process]]\nname = \"x\"\nfile = { bucket = \"no-such-bucket\", max_age_hours = 1 }\n", chrono::Utc::now())
        .await;
    assert_eq!(c.outcome, Outcome::Error, "{:?}", c.evidence);
    // And nothing declared is nothing verified.
    let c = judge(&moto.endpoint(), "", chrono::Utc::now()).await;
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("nothing to judge"), "{}", c.summary.en);
}

#[tokio::test]
async fn sql_processes_use_the_read_only_session_and_one_failure_does_not_spoil_the_next() {
    if !postgres_available() {
        return;
    }
    let pg = gcverify_demo::postgres::PgServer::start("admin-pw").await.expect("PostgreSQL");
    gcverify_demo::postgres::seed_juki(&pg, "ro-pw", false).await.expect("seed");
    std::env::set_var("GCVERIFY_TEST_INT_PW", "ro-pw");
    let text = format!(
        r#"
[database]
engine = "postgres"
host = "127.0.0.1"
port = {}
database = "juki"
user = "gcverify_ro"
password_env = "GCVERIFY_TEST_INT_PW"
tls = false
[[integrations.process]]
name = "壊れた照会"
sql = {{ query = "SELECT count(*) FROM no_such_table" }}
[[integrations.process]]
name = "住民異動の受信"
sql = {{ query = "SELECT count(*) FROM residents", min = 1 }}
[[integrations.process]]
name = "件数不足"
sql = {{ query = "SELECT count(*) FROM residents", min = 1000 }}
"#,
        pg.port()
    );
    let c = judge("http://127.0.0.1:9", &text, chrono::Utc::now()).await;
    assert_eq!(outcome_of(&c, "壊れた照会")[0].0, EvidenceStatus::Error, "{:?}", c.evidence);
    let ok = outcome_of(&c, "住民異動の受信");
    assert!(ok[0].0 == EvidenceStatus::Pass && ok[0].1.contains(&format!("returned {}", gcverify_demo::postgres::JUKI_ROWS)), "{ok:?}");
    let short = outcome_of(&c, "件数不足");
    assert!(short[0].0 == EvidenceStatus::Fail && short[0].1.contains("(< 1000)"), "{short:?}");
    assert_eq!(c.outcome, Outcome::Ng);
}
