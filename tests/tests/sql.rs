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

/// The demo's compliant 住民記録 database (every personal column encrypted), plus
/// for these tests a NULL-only column, a slow view and an INSERT grant the session must not use.
async fn cluster() -> PgServer {
    let server = PgServer::start("super-secret-test").await.expect("PostgreSQL starts");
    gcverify_demo::postgres::seed_juki(&server, "ro-secret", false).await.expect("seed");
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
    assert!(text.contains(&format!("of {ROWS} rows (exact count), 100.000 % of the table, by ORDER BY random()")), "{text}");
    assert!(text.contains("none holds readable personal data"), "the undeclared kana_enc (encrypted) is scanned: {text}");
    no_value_in(&text);

    // A faulty release wrote kana in the clear.
    let mut admin = server.admin("juki").await.expect("admin");
    admin.execute("UPDATE residents SET kana_enc = convert_to('ジュウキ ハナコ' || id, 'UTF8')").await.expect("plaintext kana");
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
    assert!(c.summary.ja.contains("実測RPO") && shown(&c).contains("streaming, follows [database] (same system identifier); replication lag"), "{}", shown(&c));

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

/// A table of `early` encrypted rows followed, in physical order, by `late`
/// rows of clear kana (written after a faulty release): `name`, readable by
/// gcverify_ro. The ciphertext stands for pgp_sym_encrypt's output (its
/// session-key packet tag, then random bytes) so that large tables fill fast.
async fn early_encrypted_late_clear(server: &PgServer, name: &str, early: i32, late: i32) {
    let mut admin = server.admin("juki").await.expect("admin");
    let sql = format!(
        "CREATE TABLE {name} (id serial PRIMARY KEY, kana_enc bytea);
         INSERT INTO {name} (kana_enc) SELECT '\\xc30d04070302'::bytea || gen_random_bytes(40) FROM generate_series(1, {early});
         INSERT INTO {name} (kana_enc) SELECT convert_to('ジュウキ ハナコ' || g, 'UTF8') FROM generate_series(1, {late}) g;
         GRANT SELECT ON {name} TO gcverify_ro;
         ANALYZE {name};"
    );
    admin.execute(sql.as_str()).await.expect("early encrypted, late clear");
}

fn kana_of(table: &str) -> String {
    format!("[[database.personal]]\ntable = \"{table}\"\ncolumn = \"kana_enc\"\nkind = \"kana\"\nciphertext = \"pgcrypto\"\n")
}

/// Partial observation: the first rows in physical order are encrypted, the
/// last 5 % are clear kana. The default random sample of 400 across the table
/// misses every clear row with probability ≈ 0.95^400 ≈ 1.2 × 10⁻⁹, so NG is
/// certain in practice; the first 400 rows alone would have said OK.
#[tokio::test]
async fn early_rows_encrypted_later_rows_clear_is_ng() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    std::env::set_var("GCVERIFY_TEST_PW_EARLY", "ro-secret");
    early_encrypted_late_clear(&server, "juki_early", 19_000, 1_000).await;
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_EARLY", "", &kana_of("juki_early"))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    let text = shown(&c);
    assert!(text.contains("400 values sampled") && text.contains("400 of 20000 rows (exact count), 2.000 % of the table, by ORDER BY random()"), "{text}");
    no_value_in(&text);
    // What the old first-rows read saw: only ciphertext.
    let mut admin = server.admin("juki").await.expect("admin");
    let first: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT kana_enc FROM juki_early WHERE kana_enc IS NOT NULL LIMIT 400").fetch_all(&mut admin).await.expect("first");
    assert!(first.iter().all(|v| sql::judge::classify(v, "kana", Some("pgcrypto")) == sql::judge::Stored::Ciphertext));

    // The audit: every row, in batches; the exact count of clear rows.
    let all = judge(scenario(server.port(), "GCVERIFY_TEST_PW_EARLY", "sample = \"all\"", &kana_of("juki_early"))).await;
    assert_eq!(all.outcome, Outcome::Ng, "{}", shown(&all));
    let text = shown(&all);
    assert!(text.contains("20000 values read (kind kana, ciphertext form pgcrypto): 19000 encrypted, 1000 readable as kana"), "{text}");
    assert!(text.contains("every row (cursor, batches of 10000)"), "{text}");

    // A table above 100,000 rows is sampled by the engine (TABLESAMPLE), still across the whole table.
    early_encrypted_late_clear(&server, "juki_early_large", 190_000, 10_000).await;
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_EARLY", "", &kana_of("juki_early_large"))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(shown(&c).contains("(engine's estimate)") && shown(&c).contains("TABLESAMPLE BERNOULLI"), "{}", shown(&c));
}

/// Columns beside the declared ones: a clear address copy (personal), and
/// what must not be flagged: a status flag, a code, a ciphertext.
async fn with_undeclared_columns(server: &PgServer) {
    let mut admin = server.admin("juki").await.expect("admin");
    admin
        .execute(
            "ALTER TABLE residents ADD COLUMN address_copy text, ADD COLUMN status varchar(8), ADD COLUMN code char(6), ADD COLUMN token text, ADD COLUMN extra jsonb;
             UPDATE residents SET address_copy = '東京都千代田区霞が関' || id || '-1-1',
                                  status = CASE WHEN id % 2 = 0 THEN '転入' ELSE '転出' END,
                                  code = 'A-' || lpad(id::text, 4, '0'),
                                  token = encode(gen_random_bytes(24), 'base64'),
                                  extra = jsonb_build_object('flag', true);
             CREATE TABLE offices (id serial PRIMARY KEY, office_address text);
             INSERT INTO offices (office_address) SELECT '神奈川県横浜市中区港町' || g || '-1' FROM generate_series(1, 8) g;
             GRANT SELECT ON offices TO gcverify_ro;",
        )
        .await
        .expect("undeclared columns");
}

/// Unlisted data: the declared columns are encrypted, a column the scenario
/// did not list holds clear addresses → NG naming table.column and the kind.
#[tokio::test]
async fn undeclared_clear_address_column_is_ng() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    with_undeclared_columns(&server).await;
    std::env::set_var("GCVERIFY_TEST_PW_UNDECL", "ro-secret");
    let declared = format!("{ENCRYPTED}{}", kana_of("residents"));
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_UNDECL", "", &declared)).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    let mut fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    fails.sort();
    assert_eq!(fails, ["offices.office_address", "residents.address_copy"], "status flags, codes, ciphertext and JSON flags are not personal data");
    let text = shown(&c);
    assert!(text.contains(&format!("{ROWS} of {ROWS} values read as address")), "{text}");
    no_value_in(&text);
    assert!(!text.contains("港町"), "{text}");
    // `[database] schemas` names where to look: an empty schema has nothing undeclared.
    let mut admin = server.admin("juki").await.expect("admin");
    admin.execute("CREATE SCHEMA empty_schema; GRANT USAGE ON SCHEMA empty_schema TO gcverify_ro").await.expect("schema");
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_UNDECL", "schemas = [\"empty_schema\"]", &declared)).await;
    assert!(c.outcome == Outcome::Ok && shown(&c).contains("0 text-like column(s) of schema(s) empty_schema"), "{}", shown(&c));
}

/// A column left out of the scan with its reason is not NG, and the evidence states the reason.
#[tokio::test]
async fn an_excluded_column_is_not_ng_and_its_reason_is_in_the_evidence() {
    if !postgres_available() {
        return;
    }
    let server = cluster().await;
    with_undeclared_columns(&server).await;
    let mut admin = server.admin("juki").await.expect("admin");
    admin.execute("ALTER TABLE residents DROP COLUMN address_copy").await.expect("drop");
    std::env::set_var("GCVERIFY_TEST_PW_EXCL", "ro-secret");
    let declared = format!("{ENCRYPTED}{}", kana_of("residents"));
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_EXCL", "", &declared)).await;
    assert_eq!(c.outcome, Outcome::Ng, "without the exclusion the offices' addresses read as personal data: {}", shown(&c));
    let excluded =
        format!("{declared}[[database.exclude]]\ntable = \"public.offices\"\ncolumn = \"office_address\"\nreason = \"庁舎の所在地（住民の情報ではない）\"\n");
    let c = judge(scenario(server.port(), "GCVERIFY_TEST_PW_EXCL", "", &excluded)).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    let e = c.evidence.iter().find(|e| e.subject == "offices.office_address").expect("the excluded column is in the evidence");
    assert!(e.status == EvidenceStatus::Info && e.detail.contains("reason: 庁舎の所在地（住民の情報ではない）"), "{e:?}");
}

/// Nearest: a streaming, current replica — of another primary (the old
/// on-premise server): its system identifier differs from [database]'s → NG.
/// Where [database] (the primary) cannot be reached, that part is 検証不能.
#[tokio::test]
async fn a_replica_of_another_primary_is_ng() {
    if !postgres_available() {
        return;
    }
    let primary = cluster().await;
    let other = cluster().await;
    let replica_of_other = other.start_replica().await.expect("replica starts");
    std::env::set_var("GCVERIFY_TEST_PW_REPLICA", "ro-secret");
    let mut o = other.admin("juki").await.expect("other");
    o.execute("UPDATE residents SET note = 'v1' WHERE id = 1").await.expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let c = lag(replica_scenario(&primary, &[("旧オンプレの複製", replica_of_other.port(), 60.0)])).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(shown(&c).contains("replicates another primary: system identifier"), "{}", shown(&c));
    // The same replica with its own primary as [database] is OK.
    let c = lag(replica_scenario(&other, &[("複製", replica_of_other.port(), 60.0)])).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    // The primary unreachable: whether the replica follows it is 検証不能, never OK.
    let mut s = replica_scenario(&other, &[("複製", replica_of_other.port(), 60.0)]);
    s.database.as_mut().expect("db").port = Some(free_port());
    let c = lag(s).await;
    assert!(c.outcome == Outcome::Error && shown(&c).contains("the primary could not be read"), "{}", shown(&c));
}
