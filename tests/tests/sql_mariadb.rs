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
    seed_juki(&s, RO_PASSWORD, false).await.expect("seed");
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
    assert!(text.contains(&format!("of {JUKI_ROWS} rows (exact count), 100.000 % of the table, by ORDER BY RAND()")), "{text}");
    assert!(text.contains("none holds readable personal data"), "the undeclared kana_enc (encrypted) is scanned: {text}");
    no_value_in(&text);

    // A faulty release wrote kana in the clear.
    s.admin()
        .await
        .expect("admin")
        .execute("UPDATE juki.residents SET kana_enc = CAST(CONCAT('ジュウキ ハナコ', id) AS BINARY)")
        .await
        .expect("plaintext kana");
    let ng = judge(scenario(s.port(), "GCVERIFY_MARIA_PW", &format!("{ENCRYPTED}{PLAINTEXT_KANA}"))).await;
    assert_eq!(ng.outcome, Outcome::Ng, "{}", shown(&ng));
    let fails: Vec<&str> = ng.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["residents.kana_enc"]);
    assert!(shown(&ng).contains(&format!("{JUKI_ROWS} readable as kana")), "{}", shown(&ng));
    no_value_in(&shown(&ng));
    s.admin()
        .await
        .expect("admin")
        .execute("UPDATE juki.residents SET kana_enc = AES_ENCRYPT(CONCAT('ジュウキ ハナコ', id), 'demo-key')")
        .await
        .expect("encrypted again");

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
    assert!(shown(&c).contains("IO thread Yes, SQL thread Yes, follows [database] (same server id); replication lag"), "{}", shown(&c));

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

fn kana_of(table: &str) -> String {
    format!("[[database.personal]]\ntable = \"{table}\"\ncolumn = \"kana_enc\"\nkind = \"kana\"\n")
}

/// Partial observation on MariaDB: 19,000 AES-encrypted rows first, 1,000
/// clear kana last. The default random sample of 400 misses every clear row
/// with probability ≈ 0.95^400 ≈ 1.2 × 10⁻⁹; `sample = "all"` counts them exactly.
#[tokio::test]
async fn mariadb_early_rows_encrypted_later_rows_clear_is_ng() {
    if !mariadb_available() {
        return;
    }
    let s = server().await;
    s.admin()
        .await
        .expect("admin")
        .execute(
            "CREATE TABLE juki.juki_early (id INT AUTO_INCREMENT PRIMARY KEY, kana_enc VARBINARY(256));
             INSERT INTO juki.juki_early (kana_enc) SELECT AES_ENCRYPT(CONCAT('ジュウキ ハナコ', seq), 'demo-key') FROM juki.seq_1_to_19000;
             INSERT INTO juki.juki_early (kana_enc) SELECT CAST(CONCAT('ジュウキ ハナコ', seq) AS BINARY) FROM juki.seq_1_to_1000;",
        )
        .await
        .expect("early encrypted, late clear");
    std::env::set_var("GCVERIFY_MARIA_EARLY", RO_PASSWORD);
    let c = judge(scenario(s.port(), "GCVERIFY_MARIA_EARLY", &kana_of("juki_early"))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    let text = shown(&c);
    assert!(text.contains("400 values sampled") && text.contains("400 of 20000 rows (exact count), 2.000 % of the table, by ORDER BY RAND()"), "{text}");
    no_value_in(&text);
    let all = judge(scenario(s.port(), "GCVERIFY_MARIA_EARLY", &format!("sample = \"all\"\n{}", kana_of("juki_early")))).await;
    assert_eq!(all.outcome, Outcome::Ng, "{}", shown(&all));
    let text = shown(&all);
    assert!(text.contains("19000 encrypted, 1000 readable as kana, 0 unrecognised") && text.contains("every row (primary-key ranges of 10000)"), "{text}");
}

/// Unlisted data on MariaDB: a clear address column the scenario did not list
/// is NG naming it; a status flag, a code and base64 ciphertext are not.
#[tokio::test]
async fn mariadb_undeclared_clear_address_column_is_ng() {
    if !mariadb_available() {
        return;
    }
    let s = server().await;
    s.admin()
        .await
        .expect("admin")
        .execute(
            "ALTER TABLE juki.residents ADD COLUMN address_copy VARCHAR(200), ADD COLUMN status VARCHAR(8), ADD COLUMN code CHAR(6), ADD COLUMN token TEXT;
             UPDATE juki.residents SET address_copy = CONCAT('東京都千代田区霞が関', id, '-1-1'), status = IF(id % 2 = 0, '転入', '転出'),
                                       code = CONCAT('A-', LPAD(id, 4, '0')), token = TO_BASE64(RANDOM_BYTES(24));",
        )
        .await
        .expect("undeclared columns");
    std::env::set_var("GCVERIFY_MARIA_UNDECL", RO_PASSWORD);
    let c = judge(scenario(s.port(), "GCVERIFY_MARIA_UNDECL", &format!("{ENCRYPTED}{}", kana_of("residents")))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    let fails: Vec<&str> = c.evidence.iter().filter(|e| e.status == EvidenceStatus::Fail).map(|e| e.subject.as_str()).collect();
    assert_eq!(fails, ["residents.address_copy"]);
    assert!(shown(&c).contains(&format!("{JUKI_ROWS} of {JUKI_ROWS} values read as address")), "{}", shown(&c));
    no_value_in(&shown(&c));
}

/// Nearest on MariaDB: a running replica of another primary (server id 3),
/// while [database] names server 1 → NG.
#[tokio::test]
async fn a_mariadb_replica_of_another_primary_is_ng() {
    if !mariadb_available() {
        return;
    }
    let primary = MariaDbServer::start(1).await.expect("primary");
    let other = MariaDbServer::start(3).await.expect("other primary");
    let replica_of_other = other.start_replica().await.expect("replica");
    seed_juki(&primary, RO_PASSWORD, false).await.expect("seed");
    seed_juki(&other, RO_PASSWORD, false).await.expect("seed other");
    std::env::set_var("GCVERIFY_MARIA_OTHER", RO_PASSWORD);
    let with = |port: u16| {
        scenario(
            port,
            "GCVERIFY_MARIA_OTHER",
            &format!("[[database.replica]]\nname = \"旧オンプレの複製\"\nhost = \"127.0.0.1\"\nport = {}\n", replica_of_other.port()),
        )
    };
    let lag = |s| async move { sql::replica_lag(probe_input("A.1.3.1", "3", s, no_aws(), chrono::Utc::now())).await.conclude("3") };
    // Once the replica has replayed the seeded user, it is OK with its own primary ...
    let mut c = lag(with(other.port())).await;
    for _ in 0..50 {
        if c.outcome == Outcome::Ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        c = lag(with(other.port())).await;
    }
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    // ... and NG with another primary as [database].
    let c = lag(with(primary.port())).await;
    assert!(c.outcome == Outcome::Ng && shown(&c).contains("replicates another primary: server id 3, [database] (the primary) is 1"), "{}", shown(&c));
}
