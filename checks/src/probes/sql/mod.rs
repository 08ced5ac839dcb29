//! Deep checks that read the system's database (issue #13). Read-only
//! sessions (`session`), and judgements that keep counts, never values
//! (`judge`): no stored value reaches evidence, a report or a log.
//!
//! - `sql.column_encryption` (E.6.1.2 ミドルウェア/アプリケーションによる暗号化):
//!   every personal-data column the scenario declares is sampled at random
//!   across the whole table (or read in full) and each value judged readable,
//!   in its ciphertext form, or unrecognised; the undeclared text-like columns
//!   beside them are read too, for personal data nobody listed.
//! - `sql.replica_lag` (A.1.3.1 / A.3.x 同期サイトでの業務継続): each declared
//!   replica follows `[database]`'s primary, and its replication lag, read on
//!   the replica, is the measured RPO.
//!
//! PostgreSQL and MySQL/MariaDB; what differs lives in `postgres` / `mysql`.

pub mod judge;
pub mod mysql;
pub mod postgres;
pub mod restore;
pub mod session;

use std::sync::Arc;

use super::{Findings, ProbeInput};
use crate::model::Msg;
use judge::{classify, Stored};
use session::{Mode, Session};

/// The database is reached over the network with its own credentials; the
/// only AWS call reads them when `secret_arn` names a Secrets Manager secret.
pub const ACTIONS: &[&str] = super::secret::ACTIONS;

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
super::registry::ProbeDef {
    name: "sql.column_encryption",
    ja: "個人情報の列を標本抽出し、保存値が暗号化されている（平文の氏名・住所・個人番号がない）ことをDB上で直接確認",
    en: "Samples every declared personal-data column and checks in the database itself that the stored values are encrypted",
    detail: "For each `[[database.personal]]` column, in a READ ONLY transaction with a statement timeout: a random sample of up to `sample_rows` (default 400) non-null values drawn across the whole table — `ORDER BY random()` over a counted table of up to 100,000 rows, else the engine's sampling (PostgreSQL `TABLESAMPLE BERNOULLI`, above 2,000,000 rows `SYSTEM` over at least 400 pages; MySQL/MariaDB `RAND() < p`) followed by a random pick — so the judgement does not depend on physical row order; or, with `sample = \"all\"`, every row in batches of 10,000 (a PostgreSQL cursor; MySQL/MariaDB primary-key ranges) with progress logged. Each value judged readable as its kind (kana/kanji names, addresses, 12-digit 個人番号, dates, phone numbers), in the declared ciphertext form (pgcrypto, base64, hex, prefix:…), or unrecognised; any readable or unrecognised value → NG naming table.column. Then every other text-like column (text, varchar, char, bytea, json/jsonb; MySQL char/varchar/text/binary/blob/json) of the base tables in the schemas holding the declared tables (or `[database] schemas`) is read the same way and each value judged as the kind it reads as (a 個人番号 with a valid check digit, a phone number from 0, an address with a place mark and a number, kana, a name or Japanese text); at least 5 distinct readable values → NG naming table.column and the kind (fewer count as codes or flags); `[[database.exclude]]` leaves a column out only with a reason the evidence states. Evidence holds counts, the table's row count (exact or the engine's estimate, saying which) and the share read, never a value; what the engine reports is recorded (pgcrypto installed; MySQL/MariaDB table encryption options). Connection, TLS, authentication or timeout failures → ERROR; no column declared → ERROR.",
    section: "[database]",
    actions: ACTIONS,
    emulator: "real PostgreSQL and MariaDB (Debian packages) started by the tests; SQL Server/Oracle not supported yet (ERROR saying so)",
    claims: &[crate::probes::registry::claim("columns-unreadable", "個人情報の列の値が読める形で保管されていない（値を直接読んで判定）", "Personal-data column values, read directly, are not stored readable", crate::probes::registry::Basis::Effect)],
    counterfeits: &[crate::probes::registry::counterfeit("encrypted_columns_are_ok_and_plaintext_is_ng_without_showing_a_value", crate::probes::registry::Class::Nearest, "a personal column stored in clear", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("every_way_of_not_reading_the_data_is_error", crate::probes::registry::Class::HappyPathOnly, "a column that cannot be read", crate::model::Outcome::Error), crate::probes::registry::counterfeit("early_rows_encrypted_later_rows_clear_is_ng", crate::probes::registry::Class::PartialObservation, "the first 19,000 rows encrypted, the last 1,000 (after a faulty release) clear kana (PostgreSQL)", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("mariadb_early_rows_encrypted_later_rows_clear_is_ng", crate::probes::registry::Class::PartialObservation, "the first 19,000 rows encrypted, the last 1,000 clear kana (MariaDB)", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("undeclared_clear_address_column_is_ng", crate::probes::registry::Class::UnlistedData, "the declared columns encrypted, a column the scenario did not list holds clear addresses (PostgreSQL)", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("mariadb_undeclared_clear_address_column_is_ng", crate::probes::registry::Class::UnlistedData, "the declared columns encrypted, an unlisted column holds clear addresses (MariaDB)", crate::model::Outcome::Ng)],
    unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::Nearest, "Encryption is judged by how the stored values read (not readable text of a personal kind); a weak cipher that produces unreadable bytes is not told apart from a strong one.")],
    run: |i| Box::pin(column_encryption(i)),
},
super::registry::ProbeDef {
    name: "sql.replica_lag",
    ja: "同期サイト（縮退運転サーバ・DRレプリカ）のレプリケーション遅延を実測RPOとして確認",
    en: "Replication lag read on each synchronised site (degraded-operation server, DR replica) as the measured RPO",
    detail: "For each `[[database.replica]]`: a READ ONLY session on the replica reads, on PostgreSQL (the role needs pg_monitor), `pg_is_in_recovery()`, the WAL receiver's status, the lag (0 when every received WAL record is replayed, else now − `pg_last_xact_replay_timestamp()`) and the system identifier (`pg_control_system()`), which must equal the one read on `[database]` (the primary); on MySQL/MariaDB (REPLICATION CLIENT / SLAVE MONITOR) `SHOW REPLICA STATUS`: both threads running, `Seconds_Behind_Master`, and `Master_Server_Id`, which must equal the primary's `@@server_id`. Not a standby, not streaming, a replica of another primary (e.g. the old on-premise server), or a lag above `max_lag_secs` → NG; the primary or the replica unreachable, the primary's identity unreadable, or nothing replayed yet → ERROR; no replica declared → ERROR.",
    section: "[[database.replica]]",
    actions: ACTIONS,
    emulator: "a real PostgreSQL streaming replica (pg_basebackup -R) and a real MariaDB replica (binary log) started by the tests",
    claims: &[crate::probes::registry::claim("replica-current", "レプリカが稼働し遅延が上限内（実測）", "The replica is replicating and its measured lag is within the limit", crate::probes::registry::Basis::Effect)],
    counterfeits: &[crate::probes::registry::counterfeit("replication_lag_of_a_real_streaming_replica_is_the_measured_rpo", crate::probes::registry::Class::Nearest, "a replica that is not replaying", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("replication_lag_of_a_real_mariadb_replica", crate::probes::registry::Class::Nearest, "a MariaDB replica with a stopped thread", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_replica_of_another_primary_is_ng", crate::probes::registry::Class::Nearest, "a streaming, current replica of another primary than [database] (PostgreSQL system identifier)", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_mariadb_replica_of_another_primary_is_ng", crate::probes::registry::Class::Nearest, "a running MariaDB replica of another primary (Master_Server_Id)", crate::model::Outcome::Ng)],
    unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Lag is read once per run; a replica that falls behind between runs is not seen."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the replicas the scenario lists; another replica of the primary is not checked."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "A failover to the replica is not tried.")],
    run: |i| Box::pin(replica_lag(i)),
},
super::registry::ProbeDef {
    name: "sql.restore_validation",
    ja: "リストア訓練で復元したDBを照会し、件数が本番と許容差内、最新レコードが復旧ポイント時点まであることを確認",
    en: "Reads the databases the restore drill restored: row counts within a tolerance of the source, the newest record up to the recovery point",
    detail: "With `verify --restore-drill`, after a restored RDS/Aurora copy is healthy, each `[[continuity.drill.validation]]` runs in a READ ONLY session on the copy with `[database]`'s user: `count` compares one integer with the same query on the source database (|difference| ≤ `tolerance_percent`, never 0 rows for a non-empty source); `newest` takes one timestamp, the newest business record, which must be at most `max_lag_minutes` before the recovery point (the RPO measured from the data). A difference or a missing record → NG; a copy the host cannot reach, a copy that never became healthy, a run without the drill → ERROR.",
    section: "[[continuity.drill.validation]]",
    actions: ACTIONS,
    emulator: "the demo's drill restores through the emulator extension, whose restored database's endpoint is a real PostgreSQL copy of the demo database as of the recovery point (`restore-hook`); the queries run on it for real",
    claims: &[crate::probes::registry::claim("restored-data-valid", "復元した複製のデータが件数・最新時刻で元と整合（実測）", "The restored copy's data matches the source by counts and newest record", crate::probes::registry::Basis::Effect)],
    counterfeits: &[crate::probes::registry::counterfeit("restored_database_is_validated_by_queries_before_it_is_deleted", crate::probes::registry::Class::HappyPathOnly, "a restored copy with missing rows", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("restore_testing_plan_results_count_and_a_failed_validation_is_ng", crate::probes::registry::Class::Nearest, "a failed restore validation", crate::model::Outcome::Ng)],
    unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "Compares what the scenario's validations query (counts, the newest record); rows they do not cover are not compared."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Tables no validation names are not compared.")],
    run: |i| Box::pin(restore::restore_validation(i)),
}];

/// E.6.1.2: personal data is stored encrypted, read in the database directly.
pub async fn column_encryption(input: Arc<ProbeInput>) -> Findings {
    let Some(db) = input.scenario.database.as_ref() else {
        return Findings::cannot(
            "シナリオに [database] がなく、DB上のデータを直接確認できない",
            "the scenario has no [database] section, so the stored data cannot be read",
        );
    };
    if db.personal.is_empty() {
        return Findings::cannot(
            "[[database.personal]] に個人情報の列が宣言されていない（対象なし）",
            "no personal-data column declared in [[database.personal]] (nothing to judge)",
        );
    }
    let mut session = match Session::open(db, &input.aws).await {
        Ok(s) => s,
        Err(e) => return Findings::cannot(&e, &e),
    };
    let mut f = Findings::new();
    let source = session.source();
    let tables: Vec<&str> = db.personal.iter().map(|c| c.table.get_ref().as_str()).collect();
    for (subject, report) in session.encryption_report(&tables).await {
        match report {
            Ok(text) => f.info(&subject, None, crate::msg!("DB の暗号化設定: {text}", "{text}"), &source),
            Err(why) => f.error(&subject, None, read_failed(why), &source),
        }
    }
    let mode = if db.reads_all() { Mode::All } else { Mode::Sample(db.sample_rows) };
    let verb = if db.reads_all() { "read" } else { "sampled" };
    let mut judged = 0usize;
    for col in &db.personal {
        let subject = format!("{}.{}", col.table.get_ref(), col.column.get_ref());
        let (kind, form) = (col.kind.get_ref().as_str(), col.ciphertext.as_ref().map(|c| c.get_ref().as_str()));
        let (mut readable, mut cipher, mut unknown) = (0u64, 0u64, 0u64);
        let mut tally = |v: &[u8]| match classify(v, kind, form) {
            Stored::Readable => readable += 1,
            Stored::Ciphertext => cipher += 1,
            Stored::Unrecognised => unknown += 1,
        };
        let read = session.read(col.table.get_ref(), col.column.get_ref(), mode, &mut tally).await;
        let info = match read {
            Ok(i) => i,
            Err(why) => {
                f.error(&subject, None, read_failed(why), &source);
                continue;
            }
        };
        if info.read == 0 {
            f.error(
                &subject,
                None,
                crate::msg!("値のある行がない（判定対象なし、{ja}）", "no non-null value to judge ({en})"; ja = info.describe_ja(), en = info.describe()),
                &source,
            );
            continue;
        }
        judged += 1;
        let form_text = form.unwrap_or("not declared");
        let detail = crate::msg!(
            "{n} 値を{verb_ja}（種別 {kind}、暗号文の形式 {form_ja}）: 暗号化 {cipher}、{kind} として読める {readable}、判別不能 {unknown}。{ja}",
            "{n} values {verb} (kind {kind}, ciphertext form {form_text}): {cipher} encrypted, {readable} readable as {kind}, {unknown} unrecognised; {en}";
            n = info.read,
            verb_ja = if db.reads_all() { "全件読み取り" } else { "標本抽出" },
            form_ja = form.unwrap_or("未宣言"),
            ja = info.describe_ja(),
            en = info.describe()
        );
        if readable > 0 || unknown > 0 {
            f.fail(&subject, None, detail, &source);
        } else {
            f.pass(&subject, None, detail, &source);
        }
    }
    let scanned = undeclared(&mut session, db, mode, &mut f, &source).await;
    session.close().await;
    if judged > 0 {
        f.ok_summary(Msg::new(
            format!(
                "個人情報の列 {judged}件の{}がすべて暗号化されて保存、未宣言の文字列列 {scanned}件に読める個人情報なし（DB上で直接確認、値は記録しない）",
                if db.reads_all() { "全行" } else { "無作為標本（表全体から抽出）" }
            ),
            format!(
                "every {} value of {judged} personal-data column(s) is stored encrypted and none of {scanned} undeclared text column(s) reads as personal data (read in the database; no value recorded)",
                if db.reads_all() { "" } else { "randomly sampled" }
            ),
        ));
    }
    f
}

/// A read the database refused or failed, said in Japanese before the server's (or driver's) own words.
fn read_failed(why: impl std::fmt::Display) -> Msg {
    crate::msg!("データベースを読めない: {why}", "{why}")
}

/// Personal data where the scenario did not declare it: every text-like
/// column of the schemas holding the declared tables (or `[database]
/// schemas`) that is neither declared nor excluded is read the same way and
/// each value judged by [`judge::reads_as`]. Returns how many were read clean.
async fn undeclared(session: &mut Session, db: &gcverify_scenarios::Database, mode: Mode, f: &mut Findings, source: &str) -> usize {
    const SUBJECT: &str = "undeclared-columns";
    let default_schema = match session.default_schema().await {
        Ok(s) => s,
        Err(why) => {
            f.error(SUBJECT, None, read_failed(why), source);
            return 0;
        }
    };
    let resolve = |table: &str| -> (String, String) {
        let (schema, name) = session::schema_and_table(table);
        (schema.unwrap_or(&default_schema).to_string(), name.to_string())
    };
    let declared: Vec<(String, String, &str)> = db
        .personal
        .iter()
        .map(|c| {
            let (s, t) = resolve(c.table.get_ref());
            (s, t, c.column.get_ref().as_str())
        })
        .collect();
    let excluded: Vec<(String, String, &str, &str)> = db
        .exclude
        .iter()
        .map(|x| {
            let (s, t) = resolve(x.table.get_ref());
            (s, t, x.column.get_ref().as_str(), x.reason.get_ref().as_str())
        })
        .collect();
    let mut schemas: Vec<String> = db.schemas.iter().map(|s| s.get_ref().clone()).collect();
    if schemas.is_empty() {
        for (s, _, _) in &declared {
            if !schemas.contains(s) {
                schemas.push(s.clone());
            }
        }
    }
    let columns = match session.text_columns(&schemas).await {
        Ok(c) => c,
        Err(why) => {
            f.error(SUBJECT, None, read_failed(why), source);
            return 0;
        }
    };
    let (mut clean, mut failed, mut found) = (0usize, false, false);
    for tc in columns {
        let is = |s: &String, t: &String, c: &str| *s == tc.schema && *t == tc.table && c == tc.column;
        if declared.iter().any(|(s, t, c)| is(s, t, c)) {
            continue;
        }
        let name = if tc.schema == default_schema { format!("{}.{}", tc.table, tc.column) } else { format!("{}.{}.{}", tc.schema, tc.table, tc.column) };
        if let Some((.., reason)) = excluded.iter().find(|(s, t, c, _)| is(s, t, c)) {
            f.info(&name, None, crate::msg!("シナリオが除外（理由: {reason}）、読まない", "excluded by the scenario (reason: {reason}); not read"), source);
            continue;
        }
        let mut tally = judge::Undeclared::default();
        let table = format!("{}.{}", tc.schema, tc.table);
        let info = match session.read(&table, &tc.column, mode, &mut |v: &[u8]| tally.add(v)).await {
            Ok(i) => i,
            Err(why) => {
                f.error(&name, None, read_failed(why), source);
                failed = true;
                continue;
            }
        };
        match tally.personal() {
            Some((kind, n)) => {
                found = true;
                f.fail(
                    &name,
                    None,
                    crate::msg!(
                        "[[database.personal]] にない列に読める個人情報（{kind}）: {values} 値中 {n} が {kind} として読める（読める値は計 {readable}）。{ja}",
                        "undeclared column holds readable personal data: {n} of {values} values read as {kind} ({readable} readable in all); {en}";
                        values = tally.values,
                        readable = tally.readable,
                        ja = info.describe_ja(),
                        en = info.describe()
                    ),
                    source,
                )
            }
            None => clean += 1,
        }
    }
    if !failed && !found {
        f.pass(
            SUBJECT,
            None,
            crate::msg!(
                "スキーマ {list} の [[database.personal]] にない文字列の列 {clean}件を読み、読める個人情報なし（異なる読める値が {min} 未満はコード・フラグとみなす）",
                "{clean} text-like column(s) of schema(s) {list} not declared in [[database.personal]] read: none holds readable personal data \
                 (fewer than {min} distinct readable values count as codes or flags)";
                list = schemas.join(", "),
                min = judge::DISTINCT_MIN
            ),
            source,
        );
    }
    clean
}

/// A.1.3.1 / A.3.x: each synchronised site is a streaming standby within its lag limit.
pub async fn replica_lag(input: Arc<ProbeInput>) -> Findings {
    let Some(db) = input.scenario.database.as_ref() else {
        return Findings::cannot(
            "シナリオに [database] がなく、同期サイトを確認できない",
            "the scenario has no [database] section, so no synchronised site can be read",
        );
    };
    if db.replicas.is_empty() {
        return Findings::cannot(
            "[[database.replica]] に同期サイト（縮退運転サーバ・レプリカ）が宣言されていない（対象なし）",
            "no synchronised site declared in [[database.replica]] (nothing to judge)",
        );
    }
    let mut f = Findings::new();
    // Which cluster [database] is: a replica must follow this one, not another (an old on-premise primary).
    let primary = match Session::open(db, &input.aws).await {
        Ok(mut s) => {
            let id = s.identity().await;
            s.close().await;
            id
        }
        Err(e) => Err(e.to_string()),
    };
    let id_name = if db.engine.get_ref() == "postgres" { "system identifier" } else { "server id" };
    let mut worst: Option<f64> = None;
    for r in &db.replicas {
        let mut at = db.clone();
        at.host = r.host.clone();
        at.port = r.port.or(db.port);
        let source = format!("{}:{}", db.engine.get_ref(), session::target(&at));
        let mut s = match Session::open(&at, &input.aws).await {
            Ok(s) => s,
            Err(e) => {
                f.error(&r.name, None, read_failed(e.to_string()), &source);
                continue;
            }
        };
        let state = s.replica_state().await;
        s.close().await;
        let state = match state {
            Ok(st) => st,
            Err(why) => {
                f.error(&r.name, None, read_failed(why), &source);
                continue;
            }
        };
        if !state.standby {
            f.fail(
                &r.name,
                None,
                Msg::new("スタンバイ（レプリカ）でない: 同期された複製ではなくプライマリ", "not a standby / replica: a primary, not a synchronised copy"),
                &source,
            );
            continue;
        }
        if state.hidden {
            f.error(
                &r.name,
                None,
                Msg::new(
                    "権限不足: WAL受信の状態を読むには pg_monitor（または pg_read_all_stats）が必要",
                    "permission: reading the WAL receiver's state needs pg_monitor (or pg_read_all_stats)",
                ),
                &source,
            );
            continue;
        }
        if !state.receiving_ok {
            f.fail(
                &r.name,
                None,
                crate::msg!(
                    "プライマリから複製していない（{0}）",
                    "not replicating from the primary ({0})",
                    state.receiving.as_deref().unwrap_or("receiver not running")
                ),
                &source,
            );
            continue;
        }
        match (&primary, &state.follows) {
            (Ok(p), Ok(follows)) if p == follows => {}
            (Ok(p), Ok(follows)) => {
                f.fail(
                    &r.name,
                    None,
                    crate::msg!(
                        "別のプライマリの複製: {id_name} {follows}、[database]（プライマリ）は {p}",
                        "replicates another primary: {id_name} {follows}, [database] (the primary) is {p}"
                    ),
                    &source,
                );
                continue;
            }
            (Err(why), _) => {
                f.error(
                    &r.name,
                    None,
                    crate::msg!(
                        "[database]（プライマリ）を読めず、このレプリカがそれに従うか検証不能: {why}",
                        "the primary could not be read, so whether this replica follows it cannot be told: {why}"
                    ),
                    &source,
                );
                continue;
            }
            (_, Err(why)) => {
                f.error(&r.name, None, crate::msg!("レプリカの複製元を読めない: {why}", "the replica's primary cannot be read: {why}"), &source);
                continue;
            }
        }
        let lag = state.lag_secs;
        let Some(lag) = lag else {
            f.error(
                &r.name,
                None,
                Msg::new("再生されたトランザクションがまだない: 遅延を測れない", "no transaction replayed yet: the lag cannot be measured"),
                &source,
            );
            continue;
        };
        worst = Some(worst.map_or(lag, |w: f64| w.max(lag)));
        let detail = crate::msg!(
            "{receiving}、[database] に従う（同じ {id_name}）。レプリケーション遅延 {lag:.1} 秒（上限 {max} 秒）",
            "{receiving}, follows [database] (same {id_name}); replication lag {lag:.1} s (limit {max} s)";
            receiving = state.receiving.as_deref().unwrap_or("replicating"),
            max = r.max_lag_secs
        );
        if lag <= r.max_lag_secs {
            f.pass(&r.name, None, detail, &source);
        } else {
            f.fail(&r.name, None, detail, &source);
        }
    }
    if let Some(w) = worst {
        f.ok_summary(Msg::new(
            format!("同期サイト {}件がストリーミング中、実測RPO（レプリケーション遅延）最大 {w:.1} 秒", db.replicas.len()),
            format!("{} synchronised site(s) streaming; measured RPO (replication lag) at most {w:.1} s", db.replicas.len()),
        ));
    }
    f
}
