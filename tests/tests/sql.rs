//! E.6.1.2 application-level encryption against a real PostgreSQL (the Debian
//! package, started here in a temporary folder): personal data stored with
//! pgcrypto is OK, a plaintext column is NG naming table.column and the count
//! without any value in the result, and every way of not getting the data is
//! ERROR. Where PostgreSQL is not installed the tests say NOT RUN, unless
//! GCVERIFY_REQUIRE_POSTGRES is set (as `.ci/run` does), when they fail.

use gcverify_checks::probes::sql;
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::postgres::PgServer;
use sqlx::Executor;

mod common;
use common::{assert_no_value, emulator, no_aws, postgres_available, probe_input, shown};

const ROWS: i32 = gcverify_demo::postgres::JUKI_ROWS;

/// The demo's 住民記録 database (pgcrypto columns, plaintext kana), plus for these
/// tests a NULL-only column, a slow view and an INSERT grant the session must not use.
async fn cluster() -> PgServer {
    let server = PgServer::start("super-secret-test").await.expect("PostgreSQL starts");
    gcverify_demo::postgres::seed_juki(&server, "ro-secret", true).await.expect("seed");
    let mut db = server.admin("juki").await.expect("juki");
    db.execute(
        "CREATE VIEW slow AS SELECT pg_sleep(5)::text AS v;
         GRANT INSERT ON residents TO gcverify_ro;
         GRANT SELECT ON slow TO gcverify_ro;",
    )
    .await
    .expect("test objects");
    server
}

fn scenario(port: u16, password_env: &str, extra: &str, personal: &str) -> gcverify_scenarios::Scenario {
    let text = format!(
        "[environment]\nname = \"sql-test\"\n[database]\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {port}\ndatabase = \"juki\"\nuser = \"gcverify_ro\"\npassword_env = \"{password_env}\"\ntls = false\n{extra}\n{personal}"
    );
    gcverify_scenarios::parse(&text, std::path::Path::new("sql-test.toml")).expect("scenario")
}

const ENCRYPTED: &str = r#"
[[database.personal]]
table = "residents"
column = "name_enc"
kind = "name"
ciphertext = "pgcrypto"
[[database.personal]]
table = "public.residents"
column = "address_enc"
kind = "address"
ciphertext = "pgcrypto"
[[database.personal]]
table = "residents"
column = "my_number_enc"
kind = "my_number"
ciphertext = "prefix:ENC:"
"#;

const PLAINTEXT_KANA: &str = r#"
[[database.personal]]
table = "residents"
column = "kana_enc"
kind = "kana"
ciphertext = "pgcrypto"
"#;

async fn judge(s: gcverify_scenarios::Scenario) -> gcverify_checks::probes::Conclusion {
    sql::column_encryption(probe_input("E.6.1.2", "2", s, no_aws(), chrono::Utc::now())).await.conclude("2")
}

fn no_value_in(text: &str) {
    assert_no_value(text, &["ro-secret", "super-secret"]);
}

#[tokio::test]
async fn encrypted_columns_are_ok_and_plaintext_is_ng_without_showing_a_value() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    std::env::set_var("GCVERIFY_TEST_PW_OK", "ro-secret");
    let ok = judge(scenario(server.port(), "GCVERIFY_TEST_PW_OK", "", ENCRYPTED)).await;
    assert_eq!(ok.outcome, Outcome::Ok, "{}", shown(&ok));
    let text = shown(&ok);
    assert!(text.contains(&format!("{ROWS} values sampled (kind name, ciphertext form pgcrypto): {ROWS} encrypted")), "{text}");
    assert!(text.contains("public.residents.address_enc") && text.contains("residents.my_number_enc"), "{text}");
    assert!(text.contains("pgcrypto 1."), "the engine's own report is recorded: {text}");
    no_value_in(&text);

    let ng = judge(scenario(server.port(), "GCVERIFY_TEST_PW_OK", "", &format!("{ENCRYPTED}{PLAINTEXT_KANA}"))).await;
    assert_eq!(ng.outcome, Outcome::Ng, "{}", shown(&ng));
    let fails: Vec<&str> = ng.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["residents.kana_enc"]);
    let text = shown(&ng);
    assert!(text.contains(&format!("0 encrypted, {ROWS} readable as kana")), "{text}");
    no_value_in(&text);

    // The sample size is the scenario's.
    let few = judge(scenario(server.port(), "GCVERIFY_TEST_PW_OK", "sample_rows = 5", PLAINTEXT_KANA)).await;
    assert!(shown(&few).contains("5 values sampled"), "{}", shown(&few));
}

#[tokio::test]
async fn every_way_of_not_reading_the_data_is_error() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    std::env::set_var("GCVERIFY_TEST_PW_GOOD", "ro-secret");
    std::env::set_var("GCVERIFY_TEST_PW_BAD", "wrong-password");
    let cases: Vec<(&str, gcverify_scenarios::Scenario, &str)> = vec![
        ("wrong password", scenario(server.port(), "GCVERIFY_TEST_PW_BAD", "", ENCRYPTED), "authentication failed"),
        ("password variable unset", scenario(server.port(), "GCVERIFY_TEST_PW_UNSET", "", ENCRYPTED), "GCVERIFY_TEST_PW_UNSET"),
        ("nothing listening", scenario(free_port(), "GCVERIFY_TEST_PW_GOOD", "", ENCRYPTED), "cannot connect"),
        (
            "missing column",
            scenario(server.port(), "GCVERIFY_TEST_PW_GOOD", "", "[[database.personal]]\ntable = \"residents\"\ncolumn = \"nope\"\nkind = \"name\"\n"),
            "not found",
        ),
        (
            "only NULLs",
            scenario(server.port(), "GCVERIFY_TEST_PW_GOOD", "", "[[database.personal]]\ntable = \"residents\"\ncolumn = \"note\"\nkind = \"text\"\n"),
            "no non-null value",
        ),
        (
            "statement timeout",
            scenario(
                server.port(),
                "GCVERIFY_TEST_PW_GOOD",
                "statement_timeout_secs = 1",
                "[[database.personal]]\ntable = \"slow\"\ncolumn = \"v\"\nkind = \"text\"\n",
            ),
            "statement timed out",
        ),
        ("no column declared", scenario(server.port(), "GCVERIFY_TEST_PW_GOOD", "", ""), "nothing to judge"),
    ];
    for (case, s, reason) in cases {
        let c = judge(s).await;
        assert_eq!(c.outcome, Outcome::Error, "{case}: {}", shown(&c));
        assert!(shown(&c).contains(reason), "{case}: expected {reason:?} in\n{}", shown(&c));
        no_value_in(&shown(&c));
    }
    // TLS is required unless the scenario says otherwise: this server has none.
    let mut s = scenario(server.port(), "GCVERIFY_TEST_PW_GOOD", "", ENCRYPTED);
    s.database.as_mut().expect("db").tls = true;
    let c = judge(s).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", shown(&c));
    // An engine that is not supported yet says so instead of guessing.
    let mut s = scenario(server.port(), "GCVERIFY_TEST_PW_GOOD", "", ENCRYPTED);
    s.database.as_mut().expect("db").engine = toml::Spanned::new(0..0, "sqlserver".to_string());
    let c = judge(s).await;
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("engine sqlserver not supported yet"), "{}", shown(&c));
}

#[tokio::test]
async fn the_session_refuses_to_write() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    std::env::set_var("GCVERIFY_TEST_PW_RO", "ro-secret");
    let s = scenario(server.port(), "GCVERIFY_TEST_PW_RO", "", ENCRYPTED);
    let mut session = sql::session::Session::open(s.database.as_ref().expect("db"), &no_aws()).await.expect("session");
    // gcverify_ro may INSERT, but not inside the check's READ ONLY transaction.
    let err = session.execute("INSERT INTO residents (note) VALUES ('x')").await.expect_err("a write must fail");
    let code = err.as_database_error().and_then(|d| d.code()).map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("25006"), "read_only_sql_transaction: {err}");
    session.close().await;
    let mut admin = server.admin("juki").await.expect("admin");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM residents WHERE note = 'x'").fetch_one(&mut admin).await.expect("count");
    assert_eq!(n, 0);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn replica_scenario(primary: &PgServer, replicas: &[(&str, u16, f64)]) -> gcverify_scenarios::Scenario {
    let mut extra = String::new();
    for (name, port, max) in replicas {
        extra.push_str(&format!("[[database.replica]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\nmax_lag_secs = {max}\n"));
    }
    scenario(primary.port(), "GCVERIFY_TEST_PW_REPLICA", "", &extra)
}

async fn lag(s: gcverify_scenarios::Scenario) -> gcverify_checks::probes::Conclusion {
    sql::replica_lag(probe_input("A.1.3.1", "3", s, no_aws(), chrono::Utc::now())).await.conclude("3")
}

/// A real streaming replica: in sync it is OK with its measured lag; paused
/// behind new writes it is NG; the primary named as a replica is NG; an
/// unreachable one is ERROR.
#[tokio::test]
async fn replication_lag_of_a_real_streaming_replica_is_the_measured_rpo() {
    if !postgres_available() {
        return;
    }
    let primary = cluster().await;
    let replica = primary.start_replica().await.expect("replica starts");
    std::env::set_var("GCVERIFY_TEST_PW_REPLICA", "ro-secret");
    // Something replayed, then caught up.
    let mut p = primary.admin("juki").await.expect("primary");
    p.execute("UPDATE residents SET note = 'v1' WHERE id = 1").await.expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let c = lag(replica_scenario(&primary, &[("庁舎内縮退運転サーバ", replica.port(), 60.0)])).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    assert!(c.summary.ja.contains("実測RPO") && shown(&c).contains("streaming; replication lag"), "{}", shown(&c));

    // Replay paused while the primary goes on writing: the lag grows past 1 s.
    let mut r = replica.admin("juki").await.expect("replica admin");
    r.execute("SELECT pg_wal_replay_pause()").await.expect("pause");
    p.execute("UPDATE residents SET note = 'v2' WHERE id = 1").await.expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let c = lag(replica_scenario(&primary, &[("庁舎内縮退運転サーバ", replica.port(), 1.0)])).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(shown(&c).contains("(limit 1 s)"), "{}", shown(&c));
    r.execute("SELECT pg_wal_replay_resume()").await.expect("resume");

    // The cases that would fool a lag check: the primary itself, and nothing there.
    let c = lag(replica_scenario(&primary, &[("本番を誤指定", primary.port(), 60.0)])).await;
    assert!(c.outcome == Outcome::Ng && shown(&c).contains("not a standby"), "{}", shown(&c));
    let c = lag(replica_scenario(&primary, &[("停止中", free_port(), 60.0)])).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", shown(&c));
    let c = lag(replica_scenario(&primary, &[])).await;
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("nothing to judge"), "{}", shown(&c));

    // Without pg_monitor PostgreSQL hides the receiver's state: 検証不能, not "not streaming".
    p.execute("REVOKE pg_monitor FROM gcverify_ro").await.expect("revoke");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let c = lag(replica_scenario(&primary, &[("庁舎内縮退運転サーバ", replica.port(), 60.0)])).await;
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("needs pg_monitor"), "{}", shown(&c));
}

#[tokio::test]
async fn the_password_may_come_from_secrets_manager() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    let moto = common::moto().await;
    let aws = emulator(&moto.endpoint());
    // The form RDS-managed secrets take: JSON with username and password.
    let arn = aws
        .secretsmanager("ap-northeast-1")
        .create_secret()
        .name("juki/db-ro")
        .secret_string(r#"{"username":"gcverify_ro","password":"ro-secret"}"#)
        .send()
        .await
        .expect("secret")
        .arn
        .expect("arn");
    let with_arn = |arn: &str| {
        let mut s = scenario(server.port(), "UNUSED", "", ENCRYPTED);
        let db = s.database.as_mut().expect("db");
        db.password_env = None;
        db.secret_arn = Some(arn.to_string());
        s
    };
    let c = sql::column_encryption(probe_input("E.6.1.2", "2", with_arn(&arn), aws.clone(), chrono::Utc::now())).await.conclude("2");
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    no_value_in(&shown(&c));
    // A secret that is not there: ERROR naming the call, never a connection with no password.
    let c = sql::column_encryption(probe_input("E.6.1.2", "2", with_arn(&arn.replace("db-ro", "db-absent")), aws, chrono::Utc::now())).await.conclude("2");
    assert!(c.outcome == Outcome::Error && c.summary.en.contains("secretsmanager:GetSecretValue"), "{}", shown(&c));
}
