//! `cargo xtask bench sql`: E.6.1.2's database read at a city's size. A
//! throwaway PostgreSQL holds a 住民記録 table of N rows (5,000,000 by default;
//! Yokohama has ~3.7 M residents) whose personal columns are ciphertext; each
//! run times the sampled judgement of all four personal columns and the
//! `sample = "all"` read of each column (rows/s), every run printed.

use std::time::Instant;

use anyhow::{Context, Result};
use gcverify_checks::aws::AwsContext;
use gcverify_checks::probes::sql::judge::{classify, Stored};
use gcverify_checks::probes::sql::session::{Mode, Session};
use sqlx::Executor;

#[derive(Debug, Clone, clap::Args)]
pub struct SqlBenchArgs {
    /// Rows of the 住民記録 table.
    #[arg(long, default_value_t = 5_000_000)]
    pub rows: u64,
    /// Runs of each measurement; every run is printed.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}

/// The personal columns, as the demo declares them: (column, kind, ciphertext form).
const COLUMNS: &[(&str, &str, &str)] = &[
    ("name_enc", "name", "pgcrypto"),
    ("address_enc", "address", "pgcrypto"),
    ("my_number_enc", "my_number", "prefix:ENC:"),
    ("kana_enc", "kana", "pgcrypto"),
];

pub async fn bench(args: SqlBenchArgs) -> Result<i32> {
    let admin_password = crate::database::random_hex(16)?;
    let ro_password = crate::database::random_hex(16)?;
    let server = gcverify_demo::postgres::PgServer::start(&admin_password).await.context("starting a throwaway PostgreSQL")?;
    gcverify_demo::postgres::seed_juki(&server, &ro_password, false).await.context("seeding")?;
    let started = Instant::now();
    let mut admin = server.admin("juki").await?;
    // Ciphertext stands for pgp_sym_encrypt's output (its packet tag, then random bytes): the same
    // size and judgement, filled in seconds instead of hours of key stretching.
    let fill = format!(
        "INSERT INTO residents (name_enc, address_enc, my_number_enc, kana_enc)
         SELECT '\\xc30d04070302'::bytea || gen_random_bytes(40), armor('\\xc30d04070302'::bytea || gen_random_bytes(60)),
                'ENC:' || encode(gen_random_bytes(24), 'hex'), '\\xc30d04070302'::bytea || gen_random_bytes(40)
         FROM generate_series(1, {})",
        args.rows
    );
    admin.execute(fill.as_str()).await.context("filling the table")?;
    admin.execute("VACUUM ANALYZE residents").await.context("ANALYZE")?;
    println!("filled {} rows in {:.1} s", args.rows, started.elapsed().as_secs_f64());
    std::env::set_var("GCVERIFY_BENCH_SQL_PW", &ro_password);
    let text = format!(
        "[environment]\nname = \"bench-sql\"\n[database]\nengine = \"postgres\"\nhost = \"127.0.0.1\"\nport = {}\ndatabase = \"juki\"\nuser = \"gcverify_ro\"\npassword_env = \"GCVERIFY_BENCH_SQL_PW\"\ntls = false\nstatement_timeout_secs = 60\n",
        server.port()
    );
    let scenario = gcverify_scenarios::parse(&text, std::path::Path::new("bench-sql.toml")).context("scenario")?;
    let db = scenario.database.context("[database]")?;
    // No AWS call is made: the password comes from the environment.
    let aws = AwsContext::from_config(gcverify_demo::seed::emulator_config("http://127.0.0.1:9", "ap-northeast-1"), false);
    for run in 1..=args.runs {
        let t = Instant::now();
        let mut s = Session::open(&db, &aws).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut judged = 0u64;
        for (column, kind, form) in COLUMNS {
            let mut bad = 0u64;
            let info = s
                .read("residents", column, Mode::Sample(db.sample_rows), &mut |v: &[u8]| {
                    if classify(v, kind, Some(form)) != Stored::Ciphertext {
                        bad += 1;
                    }
                })
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            judged += info.read;
            anyhow::ensure!(bad == 0, "{column}: {bad} values not judged ciphertext");
        }
        s.close().await;
        println!("run {run}: sampled judgement of {} columns ({judged} values): {:.3} s", COLUMNS.len(), t.elapsed().as_secs_f64());
    }
    for run in 1..=args.runs {
        for (column, kind, form) in COLUMNS {
            let mut s = Session::open(&db, &aws).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let t = Instant::now();
            let mut bad = 0u64;
            let info = s
                .read("residents", column, Mode::All, &mut |v: &[u8]| {
                    if classify(v, kind, Some(form)) != Stored::Ciphertext {
                        bad += 1;
                    }
                })
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            s.close().await;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "run {run}: sample = \"all\" {column}: {} rows in {secs:.2} s = {:.0} rows/s ({bad} not ciphertext), peak RSS {} MiB",
                info.read,
                info.read as f64 / secs,
                peak_rss_mib()
            );
        }
    }
    Ok(0)
}

/// This process's peak resident set (VmHWM), MiB: flat memory means it does not grow with the rows read.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}
