//! The SQL deep checks on MariaDB (MySQL's protocol; RDS offers both), against
//! throwaway servers from the Debian package: encrypted columns OK, a
//! plaintext column NG naming table.column without a value, a write refused by
//! the READ ONLY session, failures ERROR, and the replication lag of a real
//! replica as the measured RPO.

use std::time::Duration;

use gcverify_checks::probes::{integration, sql, Conclusion};
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::mariadb::{seed_juki, MariaDbServer};
use gcverify_demo::postgres::JUKI_ROWS;
use sqlx::Executor;

mod common;
use common::{assert_no_value, mariadb_available, no_aws, probe_input, shown};

const RO_PASSWORD: &str = "ro-maria-secret";

async fn server() -> MariaDbServer {
    let s = MariaDbServer::start(1).await.expect("MariaDB starts");
    seed_juki(&s, RO_PASSWORD, true).await.expect("seed");
    let mut db = s.admin().await.expect("admin");
    db.execute("CREATE VIEW juki.slow AS SELECT SLEEP(5) AS v; GRANT INSERT ON juki.residents TO 'gcverify_ro'@'%'").await.expect("test objects");
    s
}

fn scenario(port: u16, password_env: &str, extra: &str) -> gcverify_scenarios::Scenario {
    let text = format!(
        "[environment]\nname = \"maria\"\n[database]\nengine = \"mariadb\"\nhost = \"127.0.0.1\"\nport = {port}\ndatabase = \"juki\"\nuser = \"gcverify_ro\"\npassword_env = \"{password_env}\"\ntls = false\n{extra}"
    );
    gcverify_scenarios::parse(&text, std::path::Path::new("maria.toml")).expect("scenario")
}

const ENCRYPTED: &str = r#"
[[database.personal]]
table = "residents"
column = "name_enc"
kind = "name"
[[database.personal]]
table = "juki.residents"
column = "address_enc"
kind = "address"
ciphertext = "base64"
[[database.personal]]
table = "residents"
column = "my_number_enc"
kind = "my_number"
ciphertext = "prefix:ENC:"
"#;

const PLAINTEXT_KANA: &str = "[[database.personal]]\ntable = \"residents\"\ncolumn = \"kana_enc\"\nkind = \"kana\"\n";

async fn judge(s: gcverify_scenarios::Scenario) -> Conclusion {
    sql::column_encryption(probe_input("E.6.1.2", "2", s, no_aws(), chrono::Utc::now())).await.conclude("2")
}

fn no_value_in(text: &str) {
    assert_no_value(text, &[RO_PASSWORD]);
}

#[tokio::test]
async fn column_encryption_on_mariadb() {
    if !mariadb_available() {
        return;
    }
    let s = server().await;
    std::env::set_var("GCVERIFY_MARIA_PW", RO_PASSWORD);
    let ok = judge(scenario(s.port(), "GCVERIFY_MARIA_PW", ENCRYPTED)).await;
    assert_eq!(ok.outcome, Outcome::Ok, "{}", shown(&ok));
    let text = shown(&ok);
    assert!(text.contains(&format!("{JUKI_ROWS} values sampled (kind name, ciphertext form not declared): {JUKI_ROWS} encrypted")), "{text}");
    assert!(text.contains("no table encryption option"), "the engine's own report is recorded: {text}");
    assert!(text.contains("mariadb:127.0.0.1:"), "{text}");
    no_value_in(&text);

    let ng = judge(scenario(s.port(), "GCVERIFY_MARIA_PW", &format!("{ENCRYPTED}{PLAINTEXT_KANA}"))).await;
    assert_eq!(ng.outcome, Outcome::Ng, "{}", shown(&ng));
    let fails: Vec<&str> = ng.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["residents.kana_enc"]);
    assert!(shown(&ng).contains(&format!("{JUKI_ROWS} readable as kana")), "{}", shown(&ng));
    no_value_in(&shown(&ng));

    // The failures that must be 検証不能.
    std::env::set_var("GCVERIFY_MARIA_BAD", "wrong");
    let cases = [
        (scenario(s.port(), "GCVERIFY_MARIA_BAD", ENCRYPTED), "authentication failed"),
        (
            scenario(s.port(), "GCVERIFY_MARIA_PW", "statement_timeout_secs = 1\n[[database.personal]]\ntable = \"slow\"\ncolumn = \"v\"\nkind = \"text\"\n"),
            "statement timed out",
        ),
        (scenario(s.port(), "GCVERIFY_MARIA_PW", "[[database.personal]]\ntable = \"residents\"\ncolumn = \"nope\"\nkind = \"name\"\n"), "not found"),
        (scenario(s.port(), "GCVERIFY_MARIA_PW", "[[database.personal]]\ntable = \"residents\"\ncolumn = \"note\"\nkind = \"text\"\n"), "no non-null value"),
    ];
    for (sc, why) in cases {
        let c = judge(sc).await;
        assert_eq!(c.outcome, Outcome::Error, "{why}: {}", shown(&c));
        assert!(shown(&c).contains(why), "expected {why:?} in\n{}", shown(&c));
        no_value_in(&shown(&c));
    }
    let mut tls = scenario(s.port(), "GCVERIFY_MARIA_PW", ENCRYPTED);
    tls.database.as_mut().expect("db").tls = true;
    assert_eq!(judge(tls).await.outcome, Outcome::Error, "TLS is required unless the scenario says otherwise");

    // The session refuses a write the user is granted.
    let db = scenario(s.port(), "GCVERIFY_MARIA_PW", "");
    let mut session = sql::session::Session::open(db.database.as_ref().expect("db"), &no_aws()).await.expect("session");
    let err = session.execute("INSERT INTO residents (note) VALUES ('x')").await.expect_err("a write must fail");
    assert!(err.to_string().contains("READ ONLY"), "{err}");
    session.close().await;
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM juki.residents WHERE note = 'x'").fetch_one(&mut s.admin().await.expect("admin")).await.expect("count");
    assert_eq!(n, 0);

    // An integration process checked by a query on MariaDB.
    let procs = format!("{ENCRYPTED}\n[[integrations.process]]\nname = \"住民異動の取込\"\nsql = {{ query = \"SELECT COUNT(*) FROM residents\", min = {JUKI_ROWS} }}\n[[integrations.process]]\nname = \"多すぎる期待\"\nsql = {{ query = \"SELECT COUNT(*) FROM residents\", min = 1000 }}\n");
    let c =
        integration::processes(probe_input("C.4.5.1", "1", scenario(s.port(), "GCVERIFY_MARIA_PW", &procs), no_aws(), chrono::Utc::now())).await.conclude("1");
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    let by = |name: &str| c.evidence.iter().find(|e| e.subject == name).map(|e| e.status);
    assert_eq!((by("住民異動の取込"), by("多すぎる期待")), (Some(EvidenceStatus::Pass), Some(EvidenceStatus::Fail)));
}

#[tokio::test]
async fn replication_lag_of_a_real_mariadb_replica() {
    if !mariadb_available() {
        return;
    }
    let primary = MariaDbServer::start(1).await.expect("primary");
    let replica = primary.start_replica().await.expect("replica");
    seed_juki(&primary, RO_PASSWORD, false).await.expect("seed");
    std::env::set_var("GCVERIFY_MARIA_REPL", RO_PASSWORD);
    let with = |name: &str, port: u16, max: f64| {
        scenario(
            primary.port(),
            "GCVERIFY_MARIA_REPL",
            &format!("[[database.replica]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\nmax_lag_secs = {max}\n"),
        )
    };
    let lag = |s| async move { sql::replica_lag(probe_input("A.1.3.1", "3", s, no_aws(), chrono::Utc::now())).await.conclude("3") };
    // The replica has the seeded user once it replayed the primary's binary log.
    let mut c = lag(with("庁舎内縮退運転サーバ", replica.port(), 60.0)).await;
    for _ in 0..50 {
        if c.outcome == Outcome::Ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        c = lag(with("庁舎内縮退運転サーバ", replica.port(), 60.0)).await;
    }
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    assert!(shown(&c).contains("IO thread Yes, SQL thread Yes; replication lag"), "{}", shown(&c));

    // The SQL thread stopped: not replicating is NG, not a lag of 0.
    let mut r = replica.admin().await.expect("replica admin");
    r.execute("STOP SLAVE SQL_THREAD").await.expect("stop");
    let c = lag(with("庁舎内縮退運転サーバ", replica.port(), 60.0)).await;
    assert!(c.outcome == Outcome::Ng && shown(&c).contains("not replicating from the primary (IO thread Yes, SQL thread No)"), "{}", shown(&c));
    // The primary named as a replica.
    let c = lag(with("本番を誤指定", primary.port(), 60.0)).await;
    assert!(c.outcome == Outcome::Ng && shown(&c).contains("not a standby"), "{}", shown(&c));
    // Without the monitoring privilege: 検証不能 saying so.
    primary.admin().await.expect("admin").execute("REVOKE SLAVE MONITOR ON *.* FROM 'gcverify_ro'@'%'").await.expect("revoke");
    r.execute("START SLAVE SQL_THREAD").await.expect("start");
    let mut c = lag(with("庁舎内縮退運転サーバ", replica.port(), 60.0)).await;
    for _ in 0..50 {
        if c.outcome == Outcome::Error {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        c = lag(with("庁舎内縮退運転サーバ", replica.port(), 60.0)).await;
    }
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("permission denied"), "{}", shown(&c));
}
