//! 団体間のデータ分離 (共同利用): the fleet's supplementary row — not one of
//! the 50 items of the standard's table — for environments that share one
//! system (`shared = "group"` in the fleet file). The pilot required data
//! stored per municipality to be logically separated
//! (「市町村ごとにデータを論理的に分離すること」); this verifies it by its
//! effect, for every ordered pair of municipalities (X reads Y's):
//!
//! - **SQL**: with X's own database credential (`[database]`, or
//!   `[separation] user/password_env/secret_arn`), in a READ ONLY session,
//!   first X's own `schema.table` must be readable (else the credential
//!   proves nothing → 検証不能), and Y's own read must work too (else a
//!   refusal cannot be told from a wrong name); then
//!   `SELECT 1 FROM Y.schema.table LIMIT 1` must be refused for lack of
//!   privilege (PostgreSQL 42501; MySQL/MariaDB 1142/1143/1044). The read
//!   served → NG 「X → Y: 読めた」; any other failure → 検証不能.
//! - **KMS / S3**: whether Y's `role_arn` may `kms:Decrypt` X's keys and
//!   `s3:GetObject` under X's prefixes, from the key policy / bucket policy
//!   and the role's identity policies ([`policy`]): an unconditional Allow →
//!   NG naming the pair, a Condition → 要確認, a policy that cannot be read → 検証不能.
//!
//! The row is NG if any pair is, else 検証不能 if any pair could not be
//! verified, else 要確認, and OK only when every pair of every configured
//! path was observed separated. A group none of whose members has
//! `[separation]` is 検証不能 「分離の確認対象が未設定」.

pub mod policy;

use std::collections::BTreeMap;
use std::sync::Arc;

use gcverify_scenarios::{Database, Scenario, Separation};
use serde_json::Value;

use crate::aws::{failure_reason, AwsContext};
use crate::model::{combine, Lang, Msg, Outcome};
use crate::probes::policy_doc;
use crate::probes::sql::session::{self, Session};
use policy::Access;

/// The AWS calls the separation row makes (read-only; part of `iam-policy`).
pub const ACTIONS: &[&str] = &[
    "kms:GetKeyPolicy",
    "s3:GetBucketPolicy",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "secretsmanager:GetSecretValue",
];

/// One municipality of a 共同利用 group.
#[derive(Clone)]
pub struct Party {
    /// The fleet environment's name.
    pub name: String,
    pub municipality: String,
    pub scenario: Arc<Scenario>,
    /// The environment's own AWS access (its role's account).
    pub aws: Arc<AwsContext>,
}

impl Party {
    /// How observations name it: the municipality, else the environment.
    pub fn label(&self) -> &str {
        if self.municipality.is_empty() {
            &self.name
        } else {
            &self.municipality
        }
    }

    fn separation(&self) -> Option<&Separation> {
        self.scenario.separation.as_ref()
    }
}

/// Which way data was tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Path {
    Sql,
    Kms,
    S3,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Sql => "SQL",
            Path::Kms => "KMS",
            Path::S3 => "S3",
        }
    }
}

/// One pair (or one member, when a member lacks a path's settings) on one path.
#[derive(Debug, Clone, PartialEq)]
pub struct PairResult {
    /// Whose credential or role reads.
    pub from: String,
    /// Whose data.
    pub to: String,
    pub path: Path,
    /// What was read (`b_town.residents`, a key ARN, `s3://…`).
    pub subject: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl PairResult {
    /// `A市 → B町: 読めた / could read — SQL b_town.residents: …`
    pub fn line(&self) -> String {
        let verdict = match (self.outcome, self.path) {
            (Outcome::Ng, Path::Sql) => "読めた / could read",
            (Outcome::Ng, Path::Kms) => "復号できる / may decrypt",
            (Outcome::Ng, Path::S3) => "読める / may read",
            (Outcome::Ok, _) => "分離 / separated",
            (Outcome::Pending, _) => "要確認 / to be confirmed",
            _ => "検証不能 / could not verify",
        };
        format!("{} → {}: {verdict} — {} {}: {}", self.from, self.to, self.path.name(), self.subject, self.detail)
    }
}

/// The group's row.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResult {
    pub group: String,
    pub outcome: Outcome,
    pub summary: Msg,
    pub pairs: Vec<PairResult>,
}

impl GroupResult {
    /// One line per pair and path, then the lines without a pair.
    pub fn observations(&self) -> Vec<String> {
        self.pairs.iter().map(PairResult::line).collect()
    }
}

/// Verify the separation between the municipalities of one 共同利用 group.
pub async fn check_group(group: &str, parties: &[Party]) -> GroupResult {
    let mut parties: Vec<Party> = parties.to_vec();
    parties.sort_by(|a, b| a.name.cmp(&b.name));
    let configured = parties.iter().filter(|p| p.separation().is_some()).count();
    if configured == 0 {
        let names: Vec<&str> = parties.iter().map(Party::label).collect();
        return GroupResult {
            group: group.to_string(),
            outcome: Outcome::Error,
            summary: Msg::new(
                format!("検証不能: 分離の確認対象が未設定（{} のいずれにも [separation] がない）", names.join("、")),
                format!("could not verify: nothing to verify the separation by is configured (none of {} has [separation])", names.join(", ")),
            ),
            pairs: Vec::new(),
        };
    }
    let mut pairs = Vec::new();
    if parties.iter().any(|p| p.separation().is_some_and(|s| s.schema.is_some())) {
        pairs.extend(sql_path(&parties).await);
    }
    let roles = RoleCache::default();
    if parties.iter().any(|p| p.separation().is_some_and(|s| !s.kms_key_arns.is_empty())) {
        pairs.extend(cloud_path(&parties, Path::Kms, &roles).await);
    }
    if parties.iter().any(|p| p.separation().is_some_and(|s| !s.s3_prefixes.is_empty())) {
        pairs.extend(cloud_path(&parties, Path::S3, &roles).await);
    }
    if pairs.is_empty() {
        pairs.push(PairResult {
            from: "—".into(),
            to: "—".into(),
            path: Path::Sql,
            subject: String::new(),
            outcome: Outcome::Error,
            detail: "[separation] sets no schema, KMS key or S3 prefix: nothing was read (分離の確認対象が未設定)".into(),
        });
    }
    let outcome = combine(pairs.iter().map(|p| p.outcome));
    let summary = summarise(&pairs, outcome);
    tracing::info!(group, outcome = outcome.label(Lang::En), pairs = pairs.len(), "separation checked");
    GroupResult { group: group.to_string(), outcome, summary, pairs }
}

fn summarise(pairs: &[PairResult], outcome: Outcome) -> Msg {
    let of = |o: Outcome| pairs.iter().filter(|p| p.outcome == o).collect::<Vec<_>>();
    let names = |ps: &[&PairResult]| {
        let mut v: Vec<String> = ps.iter().map(|p| format!("{} → {} ({})", p.from, p.to, p.path.name())).collect();
        v.dedup();
        v.join(", ")
    };
    let mut paths: Vec<&str> = pairs.iter().map(|p| p.path.name()).collect();
    paths.sort_unstable();
    paths.dedup();
    let paths = paths.join("/");
    match outcome {
        Outcome::Ng => {
            let ng = of(Outcome::Ng);
            Msg::new(format!("他団体のデータを読めた: {}", names(&ng)), format!("another municipality's data could be read: {}", names(&ng)))
        }
        Outcome::Error => {
            let e = of(Outcome::Error);
            let first = e.first().map(|p| p.detail.clone()).unwrap_or_default();
            Msg::new(
                format!("検証不能: {}件の組で分離を確認できない（{}）: {first}", e.len(), names(&e)),
                format!("could not verify: the separation of {} pair(s) could not be observed ({}): {first}", e.len(), names(&e)),
            )
        }
        Outcome::Pending => {
            let p = of(Outcome::Pending);
            Msg::new(
                format!("要確認: 条件付きの許可があり、評価できない組がある: {}", names(&p)),
                format!("to be confirmed: conditional grants not evaluated here: {}", names(&p)),
            )
        }
        _ => Msg::new(
            format!("{}件の組すべてで他団体のデータを読めないことを確認（{paths}）", pairs.len()),
            format!("every one of {} pair(s) observed unable to read the other municipality's data ({paths})", pairs.len()),
        ),
    }
}

/// The member's SQL settings: its connection with its own credential, schema, table.
fn sql_target(p: &Party) -> Option<(Database, String, String)> {
    let sep = p.separation()?;
    let (schema, table) = (sep.schema.as_ref()?, sep.table.as_ref()?);
    let db = p.scenario.database.as_ref()?;
    Some((sep.database(db), schema.get_ref().clone(), table.get_ref().clone()))
}

/// The same server (and, on PostgreSQL, the same database): only then can X's
/// session name Y's schema.
fn same_place(a: &Database, b: &Database) -> bool {
    let engine = |d: &Database| if d.engine.get_ref() == "mariadb" { "mysql".to_string() } else { d.engine.get_ref().clone() };
    engine(a) == engine(b)
        && a.host == b.host
        && a.port.unwrap_or_else(|| session::default_port(a)) == b.port.unwrap_or_else(|| session::default_port(b))
        && (engine(a) != "postgres" || a.database == b.database)
}

async fn sql_path(parties: &[Party]) -> Vec<PairResult> {
    let mut out = Vec::new();
    // Members without SQL settings leave their data unverified: one line each.
    let mut members: Vec<(&Party, Database, String, String)> = Vec::new();
    for p in parties {
        match sql_target(p) {
            Some((db, schema, table)) => members.push((p, db, schema, table)),
            None => out.push(PairResult {
                from: "—".into(),
                to: p.label().to_string(),
                path: Path::Sql,
                subject: String::new(),
                outcome: Outcome::Error,
                detail: "[separation] schema/table が未設定で、この団体のデータは他団体から読めないことを確認できない / no [separation] schema and table: whether the others can read this municipality's data was not tried".into(),
            }),
        }
    }
    // Each member's session, and its control read of its own data.
    let mut sessions: Vec<Result<Session, String>> = Vec::new();
    let mut control: Vec<Result<(), String>> = Vec::new();
    for (p, db, schema, table) in &members {
        match Session::open(db, &p.aws).await {
            Ok(mut s) => {
                control.push(s.try_read(schema, table).await.map_err(|r| r.reason));
                sessions.push(Ok(s));
            }
            Err(e) => {
                control.push(Err(e.0.clone()));
                sessions.push(Err(e.0));
            }
        }
    }
    for (i, (x, xdb, xschema, xtable)) in members.iter().enumerate() {
        for (j, (y, ydb, yschema, ytable)) in members.iter().enumerate() {
            if i == j {
                continue;
            }
            let subject = format!("{yschema}.{ytable}");
            let mut pair = |outcome: Outcome, detail: String| {
                out.push(PairResult { from: x.label().to_string(), to: y.label().to_string(), path: Path::Sql, subject: subject.clone(), outcome, detail })
            };
            if !same_place(xdb, ydb) {
                pair(
                    Outcome::Error,
                    format!(
                        "{} のデータは別のデータベース（{}）にあり、{} の資格情報での読み取りはこの経路では試せない / on another database ({}) than {}'s session ({})",
                        y.label(),
                        session::target(ydb),
                        x.label(),
                        session::target(ydb),
                        x.label(),
                        session::target(xdb)
                    ),
                );
                continue;
            }
            let session = match &mut sessions[i] {
                Ok(s) => s,
                Err(why) => {
                    pair(Outcome::Error, format!("{} の資格情報で接続できない / {}'s credential cannot connect: {why}", x.label(), x.label()));
                    continue;
                }
            };
            if let Err(why) = &control[i] {
                pair(
                    Outcome::Error,
                    format!(
                        "{} の資格情報で自団体の {xschema}.{xtable} も読めず、拒否は分離の証拠にならない / {}'s credential cannot read its own {xschema}.{xtable}, so a refusal proves nothing: {why}",
                        x.label(),
                        x.label()
                    ),
                );
                continue;
            }
            let user = &xdb.user;
            match session.try_read(yschema, ytable).await {
                Ok(()) => pair(
                    Outcome::Ng,
                    if xdb.user == ydb.user {
                        format!("SELECT served to `{user}` (both municipalities use this database user)")
                    } else {
                        format!("SELECT served to `{user}`: {} の資格情報で {} のデータを読めた", x.label(), y.label())
                    },
                ),
                Err(r) if r.permission => match &control[j] {
                    Ok(()) => pair(Outcome::Ok, format!("refused for `{user}` ({}): {}", r.code.as_deref().unwrap_or("permission"), r.reason)),
                    Err(why) => pair(
                        Outcome::Error,
                        format!(
                            "refused for `{user}`, but {} の自団体の読み取りも失敗しており対象の実在を確認できない / {}'s own read failed too, so the refusal cannot be told from a wrong name: {why}",
                            y.label(),
                            y.label()
                        ),
                    ),
                },
                Err(r) => pair(Outcome::Error, format!("権限エラー以外で失敗 / failed otherwise than by a permission error: {}", r.reason)),
            }
        }
    }
    for s in sessions.into_iter().flatten() {
        s.close().await;
    }
    out
}

/// A role's identity policy documents, with their names.
type Policies = Vec<(String, Value)>;

/// The identity policies of each role, read once (by the role's own member).
#[derive(Default)]
struct RoleCache {
    roles: tokio::sync::Mutex<BTreeMap<String, Result<Policies, String>>>,
}

impl RoleCache {
    async fn get(&self, aws: &AwsContext, region: &str, role_arn: &str) -> Result<Policies, String> {
        let mut roles = self.roles.lock().await;
        if let Some(r) = roles.get(role_arn) {
            return r.clone();
        }
        let r = role_policies(aws, region, role_arn).await;
        roles.insert(role_arn.to_string(), r.clone());
        r
    }
}

/// Inline and attached (default version) policies of a role, decoded.
async fn role_policies(aws: &AwsContext, region: &str, role_arn: &str) -> Result<Policies, String> {
    let Some((_, name)) = policy::role_parts(role_arn) else { return Err(format!("`{role_arn}` is not a role ARN")) };
    let iam = aws.iam(region);
    let mut docs = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = iam.list_role_policies().role_name(name).set_marker(marker.clone()).send().await.map_err(|e| failure_reason("iam:ListRolePolicies", &e))?;
        for policy in out.policy_names() {
            let got = iam.get_role_policy().role_name(name).policy_name(policy).send().await.map_err(|e| failure_reason("iam:GetRolePolicy", &e))?;
            let doc = policy_doc::decode(got.policy_document()).map_err(|why| format!("inline policy `{policy}` of {role_arn}: {why}"))?;
            docs.push((policy.to_string(), doc));
        }
        match out.marker().filter(|_| out.is_truncated()) {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    let mut marker: Option<String> = None;
    loop {
        let out = iam
            .list_attached_role_policies()
            .role_name(name)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| failure_reason("iam:ListAttachedRolePolicies", &e))?;
        for attached in out.attached_policies() {
            let Some(arn) = attached.policy_arn() else { continue };
            let p = iam.get_policy().policy_arn(arn).send().await.map_err(|e| failure_reason("iam:GetPolicy", &e))?;
            let version = p.policy().and_then(|p| p.default_version_id()).ok_or_else(|| format!("iam:GetPolicy {arn}: no DefaultVersionId"))?;
            let v = iam.get_policy_version().policy_arn(arn).version_id(version).send().await.map_err(|e| failure_reason("iam:GetPolicyVersion", &e))?;
            let text = v.policy_version().and_then(|v| v.document()).ok_or_else(|| format!("iam:GetPolicyVersion {arn}: no document"))?;
            let doc = policy_doc::decode(text).map_err(|why| format!("policy {arn}: {why}"))?;
            docs.push((attached.policy_name().unwrap_or(arn).to_string(), doc));
        }
        match out.marker().filter(|_| out.is_truncated()) {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
    }
    Ok(docs)
}

/// The key's policy (`default`), read with the key owner's access in the key's region.
async fn key_policy(aws: &AwsContext, key_arn: &str) -> Result<Value, String> {
    let region = key_arn.split(':').nth(3).unwrap_or_default();
    let out = aws.kms(region).get_key_policy().key_id(key_arn).policy_name("default").send().await.map_err(|e| failure_reason("kms:GetKeyPolicy", &e))?;
    let text = out.policy().ok_or("kms:GetKeyPolicy: the answer had no policy")?;
    serde_json::from_str(text).map_err(|e| format!("kms:GetKeyPolicy: the key policy is not JSON: {e}"))
}

/// The bucket's policy; `None`: the bucket has none (NoSuchBucketPolicy).
async fn bucket_policy(aws: &AwsContext, region: &str, bucket: &str) -> Result<Option<Value>, String> {
    match aws.s3(region).get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => {
            let text = out.policy().ok_or("s3:GetBucketPolicy: the answer had no policy")?;
            serde_json::from_str(text).map(Some).map_err(|e| format!("s3:GetBucketPolicy: the bucket policy is not JSON: {e}"))
        }
        Err(e) => {
            use aws_smithy_types::error::metadata::ProvideErrorMetadata;
            if e.code() == Some("NoSuchBucketPolicy") {
                Ok(None)
            } else {
                Err(failure_reason("s3:GetBucketPolicy", &e))
            }
        }
    }
}

/// KMS keys or S3 prefixes: each owner's resources against every other member's role.
async fn cloud_path(parties: &[Party], path: Path, roles: &RoleCache) -> Vec<PairResult> {
    let mut out = Vec::new();
    let resources = |p: &Party| -> Vec<String> {
        p.separation()
            .map(|s| match path {
                Path::Kms => s.kms_key_arns.iter().map(|k| k.get_ref().clone()).collect(),
                _ => s.s3_prefixes.iter().map(|k| k.get_ref().clone()).collect(),
            })
            .unwrap_or_default()
    };
    let setting = if path == Path::Kms { "kms_key_arns" } else { "s3_prefixes" };
    for owner in parties {
        let owned = resources(owner);
        if owned.is_empty() {
            out.push(PairResult {
                from: "—".into(),
                to: owner.label().to_string(),
                path,
                subject: String::new(),
                outcome: Outcome::Error,
                detail: format!(
                    "[separation] {setting} が未設定で、この団体の分を確認できない / no [separation] {setting}: this municipality's were not judged"
                ),
            });
            continue;
        }
        for resource in owned {
            // The owner's resource policy, read once with the owner's access.
            let doc: Result<Option<Value>, String> = match path {
                Path::Kms => key_policy(&owner.aws, &resource).await.map(Some),
                _ => match gcverify_scenarios::Separation::split_s3(&resource) {
                    Some((bucket, _)) => bucket_policy(&owner.aws, &owner.scenario.aws.primary_region, bucket).await,
                    None => Err(format!("`{resource}` is not s3://bucket/prefix")),
                },
            };
            for reader in parties.iter().filter(|r| r.name != owner.name) {
                let mut pair = |outcome: Outcome, detail: String| {
                    out.push(PairResult { from: reader.label().to_string(), to: owner.label().to_string(), path, subject: resource.clone(), outcome, detail })
                };
                let Some(role) = reader.separation().and_then(|s| s.role_arn.as_ref()).map(|r| r.get_ref().clone()) else {
                    pair(
                        Outcome::Error,
                        format!("{} に [separation] role_arn がなく判定できない / {} has no [separation] role_arn", reader.label(), reader.label()),
                    );
                    continue;
                };
                let doc = match &doc {
                    Ok(d) => d,
                    Err(why) => {
                        pair(Outcome::Error, why.clone());
                        continue;
                    }
                };
                let identity = match roles.get(&reader.aws, &reader.scenario.aws.primary_region, &role).await {
                    Ok(docs) => docs,
                    Err(why) => {
                        pair(Outcome::Error, format!("{role}: {why}"));
                        continue;
                    }
                };
                let access = match (path, doc) {
                    (Path::Kms, Some(d)) => policy::kms_decrypt(&resource, d, &role, &identity),
                    (Path::Kms, None) => Access::Unclear("no key policy".into()),
                    (_, d) => match gcverify_scenarios::Separation::split_s3(&resource) {
                        Some((bucket, prefix)) => policy::s3_get_object(bucket, prefix, d.as_ref(), &role, &identity),
                        None => Access::Unclear(format!("`{resource}` is not s3://bucket/prefix")),
                    },
                };
                match access {
                    Access::Allowed(why) => pair(Outcome::Ng, format!("{role}: {why}")),
                    Access::Denied(why) => pair(Outcome::Ok, format!("{role}: {why}")),
                    Access::Unclear(why) => pair(Outcome::Pending, format!("{role}: {why}")),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(outcome: Outcome, path: Path) -> PairResult {
        PairResult { from: "A市".into(), to: "B町".into(), path, subject: "b_town.residents".into(), outcome, detail: "d".into() }
    }

    #[test]
    fn the_row_is_the_worst_pair_and_ng_names_the_pair() {
        let ps = vec![pair(Outcome::Ok, Path::Sql), pair(Outcome::Ng, Path::Sql), pair(Outcome::Error, Path::Kms)];
        let o = combine(ps.iter().map(|p| p.outcome));
        assert_eq!(o, Outcome::Ng);
        assert!(summarise(&ps, o).ja.contains("A市 → B町 (SQL)"));
        assert!(ps[1].line().starts_with("A市 → B町: 読めた"), "{}", ps[1].line());
        let ps = [pair(Outcome::Ok, Path::Sql), pair(Outcome::Pending, Path::Kms)];
        assert_eq!(combine(ps.iter().map(|p| p.outcome)), Outcome::Pending);
        let ps = [pair(Outcome::Pending, Path::Kms), pair(Outcome::Error, Path::S3)];
        assert_eq!(combine(ps.iter().map(|p| p.outcome)), Outcome::Error);
    }

    #[tokio::test]
    async fn a_group_without_separation_settings_is_error_not_ok() {
        let s = gcverify_scenarios::parse("[environment]\nname = \"a\"\n", std::path::Path::new("a.toml")).expect("parses");
        let aws = Arc::new(AwsContext::from_config(aws_config::SdkConfig::builder().build(), false));
        let p = |n: &str, m: &str| Party { name: n.into(), municipality: m.into(), scenario: Arc::new(s.clone()), aws: aws.clone() };
        let r = check_group("kyodo", &[p("b", "B町"), p("a", "A市")]).await;
        assert_eq!(r.outcome, Outcome::Error);
        assert!(r.summary.ja.contains("分離の確認対象が未設定") && r.summary.ja.contains("A市、B町"), "{:?}", r.summary);
    }
}
