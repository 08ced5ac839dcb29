//! `cargo xtask scope`: the run's in-scope inventory — type, ID, region and
//! why each resource is the system's — and what was left out, so a user can
//! check `[scope]` before a verify.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use gcverify_checks::inventory::{Inventory, Kind, ScopeReport};
use gcverify_checks::model::{exit_code, Lang};
use gcverify_checks::Catalog;

use crate::cli::repo_root;
use crate::verify::{config_err, connect, scenario_path};

#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Environment name: reads scenarios/NAME.toml.
    #[arg(long, conflicts_with_all = ["scenario", "fleet"], required_unless_present_any = ["scenario", "fleet"])]
    pub env: Option<String>,
    /// Path of a scenario file (instead of --env).
    #[arg(long, conflicts_with = "fleet")]
    pub scenario: Option<PathBuf>,
    /// Every environment of a fleet: one line each with its scope's size
    /// (and why it could not be listed).
    #[arg(long)]
    pub fleet: Option<String>,
    /// table (default) or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    #[arg(long, value_enum, default_value_t = crate::cli::Lang::Ja)]
    pub lang: crate::cli::Lang,
}

/// Exit code: 0 something in scope and every listing read; 2 nothing in
/// scope or a listing failed (the scope may be incomplete).
pub async fn scope(args: ScopeArgs) -> Result<i32> {
    let json = match args.format.as_str() {
        "table" => false,
        "json" => true,
        other => return Err(config_err(format!("--format: unknown format {other} (table or json)"))),
    };
    let lang: Lang = args.lang.into();
    let catalog = Catalog::builtin();
    if let Some(fleet) = &args.fleet {
        return fleet_scope(fleet, json, lang, &catalog).await;
    }
    let path = scenario_path(args.env.as_deref(), args.scenario.as_ref())?;
    let mut scenario = gcverify_checks::load_scenario(&path, &catalog).map_err(|e| config_err(e.to_string()))?;
    let (aws, _moto) = connect(&mut scenario, &repo_root()).await?;
    let inventory = Inventory::new(Arc::new(aws), Arc::new(scenario));
    let report = inventory.scope().await.report();
    if json {
        println!("{}", serde_json::to_string_pretty(&report).context("serialising the scope")?);
    } else {
        print!("{}", render(&report, lang));
    }
    Ok(if report.in_scope.is_empty() || !report.failures.is_empty() { exit_code::INCOMPLETE } else { exit_code::ALL_OK })
}

/// `scope --fleet`: each environment's scope size, listed one at a time per
/// account limit like a fleet verify. Exit 2 when any scope is empty or incomplete.
async fn fleet_scope(name: &str, json: bool, lang: Lang, catalog: &Catalog) -> Result<i32> {
    let run = crate::fleet::FleetRun { fleet: name.to_string(), jobs: 8, account_calls: 16, shard: None };
    let (_, members) = crate::fleet::load(&run, catalog)?;
    let mut rows = Vec::new();
    for m in members {
        let aws = Arc::new(gcverify_checks::aws::AwsContext::load(&m.scenario.aws).await);
        let identity = crate::verify::identify(&aws, &m.scenario.aws.primary_region).await;
        let report = match &identity {
            Ok(_) => Some(Inventory::new(aws, Arc::new(m.scenario)).scope().await.report()),
            Err(_) => None,
        };
        let (in_scope, failures) = report.as_ref().map(|r| (r.in_scope.len(), r.failures.clone())).unwrap_or_default();
        let problem = identity.err().or_else(|| failures.first().map(|f| f.get(lang).to_string()));
        if !json {
            let ja = lang == Lang::Ja;
            println!(
                "{:<20} {}{}",
                m.name,
                if ja { format!("対象 {in_scope}件") } else { format!("{in_scope} in scope") },
                problem.as_ref().map(|p| if ja { format!("  一覧取得失敗: {p}") } else { format!("  listing failed: {p}") }).unwrap_or_default()
            );
        }
        rows.push(serde_json::json!({"environment": m.name, "in_scope": in_scope, "problem": problem}));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).context("serialising the scopes")?);
    }
    let bad = rows.iter().any(|r| r["in_scope"] == 0 || !r["problem"].is_null());
    Ok(if bad { exit_code::INCOMPLETE } else { exit_code::ALL_OK })
}

fn label(kind: Kind, lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => kind.label_ja(),
        Lang::En => kind.label(),
    }
}

/// Plain text, one resource a line, grouped by region in the scope's order.
pub fn render(r: &ScopeReport, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let mut out = String::new();
    let header = if ja { ["種別", "ID", "リージョン", "対象とした理由"] } else { ["type", "ID", "region", "why in scope"] };
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY).set_header(header);
    for m in &r.in_scope {
        table.add_row([label(m.kind, lang).to_string(), m.id.clone(), m.region.clone(), if ja { m.why.ja() } else { m.why.to_string() }]);
    }
    let rows = &r.in_scope;
    out.push_str(&format!("{table}\n"));
    out.push_str(&if ja { format!("\n対象 {}件\n", rows.len()) } else { format!("\n{} in scope\n", rows.len()) });
    out.push_str(if ja { "対象外（種別ごとの件数）:\n" } else { "Out of scope (count per type):\n" });
    for (region, kinds) in &r.out_of_scope {
        let list: Vec<String> = kinds.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{} {n}", label(*k, lang))).collect();
        out.push_str(&format!("  {region}: {}\n", if list.is_empty() { "-".to_string() } else { list.join(", ") }));
    }
    out.push_str(&format!("  S3: {}\n", r.buckets_out_of_scope));
    for f in &r.failures {
        out.push_str(&if ja {
            format!("一覧取得失敗（対象が不完全な可能性）: {}\n", f.ja)
        } else {
            format!("listing failed (scope may be incomplete): {}\n", f.en)
        });
    }
    if let Some(w) = r.tags.warning() {
        out.push_str(&format!("{}: {}\n", if ja { "警告" } else { "warning" }, w.get(lang)));
    }
    out
}
