//! Access probes.
//!
//! E.5.1.1 管理権限を持つ主体の認証 (`access.mfa`): root MFA, MFA devices of
//! IAM users with a console password, MFA in the trust policy of the roles
//! the scenario names (or of every administrator role). The customer-side
//! two-factor login is the `login.staff_2fa` point, tried for real.
//!
//! E.5.2.1 操作制限 (`access.restrictions`): admin/DB ports open to the
//! internet, administrator policies attached directly to IAM users, S3
//! public access block (bucket level), IMDSv2, public RDS instances.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_iam::types::SummaryKeyType;

use super::{policy_doc, Findings, ProbeInput};
use crate::aws::error_code;
use crate::inventory::{InstanceRecord, Kind, Scoped};
use crate::model::Msg;

/// IAM actions these probes call (see `permissions`).
pub const ACTIONS: &[&str] = &[
    "iam:GetAccountSummary",
    "iam:ListUsers",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListRoles",
    "iam:ListAttachedRolePolicies",
    "iam:ListAttachedUserPolicies",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeInstances",
    "rds:DescribeDBInstances",
    "s3:ListBuckets",
    "s3:GetBucketLocation",
    "s3:GetPublicAccessBlock",
    "sts:GetCallerIdentity",
    "s3:GetAccountPublicAccessBlock",
];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "access.mfa",
        ja: "管理者（コンソールパスワードを持つIAMユーザー・ルート）のMFA",
        en: "MFA of administrators: IAM users with a console password, and the root user",
        detail: "Root MFA (`AccountMFAEnabled`); every console user has an MFA device (from one IAM credential report, its generation time in the evidence; per-user calls when the report cannot be had); administrator roles (and roles the scenario names) require `aws:MultiFactorAuthPresent`.",
        section: "[access]",
        actions: ACTIONS,
        emulator: "moto: IAM users, credential report, virtual MFA; root MFA through the emulator extension (settable, and marked as served)",
        claims: &[super::registry::claim("admin-mfa", "ルート・コンソール利用者・管理者ロールに MFA", "MFA on root, console users and administrator roles", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("role_named_for_mfa_without_the_condition_is_ng", crate::probes::registry::Class::HappyPathOnly, "an administrator role assumable without aws:MultiFactorAuthPresent", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("root_without_mfa_on_real_aws_is_ng", crate::probes::registry::Class::Nearest, "root without MFA", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("noncompliant_seed_names_every_planted_violation", crate::probes::registry::Class::UnlistedData, "a console user with an administrator policy and no MFA device", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "The IAM credential report is one snapshot (its generation time is in the evidence); a user created after it is seen on the next run.")],
        run: |i| Box::pin(mfa(i)),
    },
    super::registry::ProbeDef {
        name: "access.restrictions",
        ja: "許可された者だけが利用できる: 管理者ポリシー・インターネットからの管理ポート・IMDSv2・公開RDS・S3の直接アクセス",
        en: "Only authorised people get in: admin policies, management ports open to the internet, IMDSv2, public RDS, direct S3 access",
        detail: "No in-scope security group opens 22/3389/1433/1521/3306/5432 (+ scenario extras) to 0.0.0.0/0 or ::/0; no user holds an administrator policy directly (break-glass users listed in the scenario excepted); every in-scope bucket blocks public access (its own block or the account-level one); in-scope instances require IMDSv2; no public in-scope DB instance. No group, instance, database or bucket in scope → ERROR (IAM users are account-wide and never stand in).",
        section: "[access]",
        actions: ACTIONS,
        emulator: "moto: IAM, EC2 security groups and instances, RDS, S3 public access block",
        claims: &[super::registry::claim("no-public-admin-path", "管理・DB ポートがインターネットに開いておらず、IMDSv2 必須、DB 非公開", "No admin/DB port open to the internet, IMDSv2 required, no public database", super::registry::Basis::Setting), super::registry::claim("no-direct-admin", "管理者ポリシーが IAM ユーザーに直接付いていない", "No administrator policy attached directly to an IAM user", super::registry::Basis::Setting), super::registry::claim("s3-public-blocked", "S3 バケットが公開アクセスをブロック", "S3 buckets block public access", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("each_restriction_rule_reports_its_resource", crate::probes::registry::Class::Nearest, "SSH open to the world, IMDSv1, a public database, an admin policy on a user", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("partial_account_level_block_leaves_the_bucket_ng", crate::probes::registry::Class::Nearest, "an account-level public access block with one setting off", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_open_admin_port_only_in_the_dr_region_is_ng", crate::probes::registry::Class::PartialObservation, "SSH open to the world in a tagged group in the DR region only", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("each_restriction_rule_reports_its_resource", crate::probes::registry::Class::UnlistedData, "an untagged security group in scope only through the tagged instance that uses it", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("an_inline_administrator_policy_on_a_user_is_ng", crate::probes::registry::Class::UnlistedData, "full admin written into a user as an inline policy, nothing attached", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_violation_of_one_claim_leaves_the_other_claims_points_alone", crate::probes::registry::Class::Nearest, "a violation of one claim spoiling another point", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "Reads the rules; no connection to an admin port is attempted from the internet (there is no outside vantage point here).")],
        run: |i| Box::pin(restrictions(i)),
    },
];

/// Administration and database ports that must never be open to the internet.
pub const ADMIN_PORTS: &[u16] = &[22, 3389, 1433, 1521, 3306, 5432];

/// IAM is global; its calls go to the primary region's endpoint.
fn iam_region(input: &ProbeInput) -> String {
    input.scenario.aws.primary_region.clone()
}

// ------------------------------------------------------------------ E.5.1.1

pub async fn mfa(input: Arc<ProbeInput>) -> Findings {
    // Level 0: no authentication required; 1: one factor; 2+: several (MFA).
    let need_mfa = match input.level.as_str() {
        "0" => return Findings::level_asks_nothing("0"),
        "1" => false,
        _ => true,
    };
    let region = iam_region(&input);
    let iam = input.aws.iam(&region);
    let mut f = Findings::new();
    root_mfa(&iam, input.aws.is_custom_endpoint(), need_mfa, &mut f).await;
    let console = console_users(&input, need_mfa, &mut f).await;
    let roles = role_mfa(&iam, &input, &mut f).await;
    f.ok_summary(Msg::new(
        format!("rootアカウントMFA有効、コンソール利用者{console}名すべてMFA登録済、MFA必須ロール{roles}件"),
        format!("root MFA enabled; all {console} console user(s) have an MFA device; {roles} role(s) require MFA"),
    ));
    f
}

/// The GetAccountSummary key by which demo/emulator says it serves root MFA.
const EMULATOR_SERVES_ROOT_MFA: &str = "GcverifyRootMfaServed";

async fn root_mfa(iam: &aws_sdk_iam::Client, custom_endpoint: bool, need_mfa: bool, f: &mut Findings) {
    const CALL: &str = "iam:GetAccountSummary";
    let out = match iam.get_account_summary().send().await {
        Ok(o) => o,
        Err(e) => return f.aws_error(CALL, None, &e),
    };
    let value = out.summary_map().and_then(|m| m.get(&SummaryKeyType::AccountMfaEnabled)).copied();
    // moto alone hard-codes 0; this project's emulator extension serves the
    // value and says so with its own key (real AWS never sends it).
    let served = out.summary_map().is_some_and(|m| m.keys().any(|k| k.as_str() == EMULATOR_SERVES_ROOT_MFA));
    match value {
        Some(1) => f.pass("root-account", None, Msg::new("rootアカウントのMFA有効（AccountMFAEnabled=1）", "AccountMFAEnabled=1"), CALL),
        Some(0) if custom_endpoint && !served => f.error(
            "root-account",
            None,
            crate::msg!(
                "{CALL}: カスタムエンドポイント（エミュレータ）が AccountMFAEnabled=0 を返した。rootアカウントのMFAを実装していないため観測できない",
                "{CALL}: AccountMFAEnabled=0 from a custom endpoint (emulator); the endpoint does not implement root-account MFA, so it cannot be observed"
            ),
            CALL,
        ),
        Some(0) if need_mfa => f.fail(
            "root-account",
            None,
            Msg::new("rootアカウントにMFAデバイスなし（AccountMFAEnabled=0）", "AccountMFAEnabled=0 (root account has no MFA device)"),
            CALL,
        ),
        Some(v) => f.info(
            "root-account",
            None,
            crate::msg!("AccountMFAEnabled={v}（このレベルではMFA不要）", "AccountMFAEnabled={v} (MFA not required at this level)"),
            CALL,
        ),
        None => f.error("root-account", None, super::no_field(CALL, "AccountMFAEnabled"), CALL),
    }
}

/// Console users (password enabled) and their MFA, from the inventory's
/// credential report (or per-user calls). Returns how many were judged.
async fn console_users(input: &ProbeInput, need_mfa: bool, f: &mut Findings) -> usize {
    let users = match input.inventory.iam_users().await {
        Ok(u) => u,
        Err(e) => {
            f.listing_error(&e);
            return 0;
        }
    };
    let mut n = 0;
    for u in users.iter() {
        let source = u.source_call();
        if !u.password_enabled {
            f.info(&u.name, None, crate::msg!("コンソールパスワードなし（{0}）", "no console password ({0})", u.source_text()), source);
            continue;
        }
        n += 1;
        let devices = if u.mfa_devices.is_empty() { String::new() } else { format!(" {}", u.mfa_devices.join(",")) };
        if u.mfa_active {
            f.pass(
                &u.name,
                None,
                crate::msg!("コンソールパスワード＋MFAデバイス{devices}（{0}）", "console password + MFA device{devices} ({0})", u.source_text()),
                source,
            );
        } else if need_mfa {
            f.fail(
                &u.name,
                None,
                crate::msg!("コンソールパスワードありでMFAデバイスなし（{0}）", "console password without an MFA device ({0})", u.source_text()),
                source,
            );
        } else {
            f.pass(
                &u.name,
                None,
                crate::msg!(
                    "コンソールパスワード（一要素。このレベルではMFA不要。{0}）",
                    "console password (one factor; MFA not required at this level; {0})",
                    u.source_text()
                ),
                source,
            );
        }
    }
    n
}

/// Roles that must require MFA: named in the scenario, or every role holding
/// an administrator policy when `admin_roles_require_mfa`. Returns how many were judged.
async fn role_mfa(iam: &aws_sdk_iam::Client, input: &ProbeInput, f: &mut Findings) -> usize {
    const LIST: &str = "iam:ListRoles";
    let access = &input.scenario.access;
    if access.mfa_required_roles.is_empty() && !access.admin_roles_require_mfa {
        return 0;
    }
    let roles: Vec<(String, String, Option<String>)> = match input.inventory.iam_roles().await {
        Ok(list) => list.iter().map(|r| (r.role_name().to_string(), r.path().to_string(), r.assume_role_policy_document().map(str::to_string))).collect(),
        Err(e) => {
            f.listing_error(&e);
            return 0;
        }
    };
    for wanted in &access.mfa_required_roles {
        if !roles.iter().any(|(n, ..)| n == wanted) {
            f.fail(
                wanted,
                None,
                Msg::new("[access] mfa_required_roles に指定されたロールが存在しない", "role named in [access] mfa_required_roles does not exist"),
                LIST,
            );
        }
    }
    let mut cache = HashMap::new();
    let mut n = 0;
    for (name, path, trust) in &roles {
        let named = access.mfa_required_roles.contains(name);
        // Service-linked roles are assumed by AWS services, never by people.
        if !named && (!access.admin_roles_require_mfa || path.starts_with("/aws-service-role/")) {
            continue;
        }
        if !named {
            match role_is_admin(iam, name, &mut cache, f).await {
                Some(true) => {}
                Some(false) | None => continue,
            }
        }
        let doc = match trust.as_deref().map(policy_doc::decode) {
            Some(Ok(d)) => d,
            Some(Err(why)) => {
                f.error(name, None, crate::msg!("{LIST}: 信頼ポリシーを読めない: {why}", "{LIST}: trust policy unreadable: {why}"), LIST);
                continue;
            }
            None => {
                f.error(name, None, super::no_field(LIST, "AssumeRolePolicyDocument"), LIST);
                continue;
            }
        };
        let why = if named {
            Msg::new("[access] mfa_required_roles で指定", "named in [access] mfa_required_roles")
        } else {
            Msg::new("管理者ポリシーを保持", "holds an administrator policy")
        };
        match policy_doc::trust_requires_mfa(&doc) {
            Ok(true) => {
                n += 1;
                f.pass(
                    name,
                    None,
                    why.wrap(("", "。信頼ポリシーが aws:MultiFactorAuthPresent=true を要求"), ("", "; trust policy requires aws:MultiFactorAuthPresent=true")),
                    LIST,
                );
            }
            // Only services or federation may assume it: MFA is enforced elsewhere (IdP).
            Ok(false) => f.info(
                name,
                None,
                why.wrap(
                    ("", "。IAMプリンシパルは引き受け不可（サービス・フェデレーションの信頼のみ）"),
                    ("", "; no IAM principal may assume it (service/federated trust only)"),
                ),
                LIST,
            ),
            Err(detail) => {
                n += 1;
                f.fail(name, None, why.wrap(("", &format!("。信頼ポリシーがMFAを要求しない: {detail}")), ("", &format!("; {detail}"))), LIST);
            }
        }
    }
    n
}

async fn role_is_admin(iam: &aws_sdk_iam::Client, role: &str, cache: &mut HashMap<String, Option<bool>>, f: &mut Findings) -> Option<bool> {
    const CALL: &str = "iam:ListAttachedRolePolicies";
    let arns = match iam.list_attached_role_policies().role_name(role).send().await {
        Ok(out) => out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect::<Vec<_>>(),
        Err(e) => {
            f.aws_error(CALL, None, &e);
            return None;
        }
    };
    for arn in arns {
        if policy_is_admin(iam, &arn, None, cache, f).await == Some(true) {
            return Some(true);
        }
    }
    Some(false)
}

/// AdministratorAccess, or a customer-managed policy whose default version
/// allows `*` on `*`. Other AWS managed policies are not full admin.
/// `documents`: customer-managed policy documents already listed (GetAccountAuthorizationDetails);
/// a policy not among them is read with GetPolicy/GetPolicyVersion.
async fn policy_is_admin(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    documents: Option<&BTreeMap<String, String>>,
    cache: &mut HashMap<String, Option<bool>>,
    f: &mut Findings,
) -> Option<bool> {
    const DETAILS: &str = "iam:GetAccountAuthorizationDetails";
    if arn == policy_doc::ADMINISTRATOR_ACCESS {
        return Some(true);
    }
    if arn.starts_with("arn:aws:iam::aws:policy/") {
        return Some(false);
    }
    if let Some(known) = cache.get(arn) {
        return *known;
    }
    if let Some(doc) = documents.and_then(|d| d.get(arn)) {
        let verdict = match policy_doc::decode(doc) {
            Ok(d) => Some(policy_doc::grants_full_admin(&d)),
            Err(why) => {
                f.error(arn, None, crate::msg!("{DETAILS}: ポリシー文書を読めない: {why}", "{DETAILS}: policy document unreadable: {why}"), DETAILS);
                None
            }
        };
        cache.insert(arn.to_string(), verdict);
        return verdict;
    }
    let verdict = async {
        let version = match iam.get_policy().policy_arn(arn).send().await {
            Ok(out) => out.policy().and_then(|p| p.default_version_id()).map(str::to_string),
            Err(e) => {
                f.aws_error("iam:GetPolicy", None, &e);
                return None;
            }
        };
        let Some(version) = version else {
            f.error(arn, None, super::no_field("iam:GetPolicy", "DefaultVersionId"), "iam:GetPolicy");
            return None;
        };
        let doc = match iam.get_policy_version().policy_arn(arn).version_id(&version).send().await {
            Ok(out) => out.policy_version().and_then(|v| v.document()).map(policy_doc::decode),
            Err(e) => {
                f.aws_error("iam:GetPolicyVersion", None, &e);
                return None;
            }
        };
        match doc {
            Some(Ok(d)) => Some(policy_doc::grants_full_admin(&d)),
            Some(Err(why)) => {
                f.error(arn, None, crate::msg!("iam:GetPolicyVersion: ポリシー文書を読めない: {why}", "iam:GetPolicyVersion: {why}"), "iam:GetPolicyVersion");
                None
            }
            None => {
                f.error(arn, None, super::no_field("iam:GetPolicyVersion", "Document"), "iam:GetPolicyVersion");
                None
            }
        }
    }
    .await;
    cache.insert(arn.to_string(), verdict);
    verdict
}

// ------------------------------------------------------------------ E.5.2.1

#[derive(Default)]
struct Counts {
    groups: usize,
    users: usize,
    buckets: usize,
    instances: usize,
    databases: usize,
}

pub async fn restrictions(input: Arc<ProbeInput>) -> Findings {
    let mut f = Findings::new();
    let mut n = Counts::default();
    let access = &input.scenario.access;
    let mut ports: Vec<u16> = ADMIN_PORTS.iter().chain(access.extra_admin_ports.iter()).copied().collect();
    ports.sort_unstable();
    ports.dedup();
    let inv = &input.inventory;
    f.claim("no-public-admin-path");
    for region in input.scenario.aws.used_regions() {
        security_groups(&inv.scoped_security_groups(&region).await, &region, &ports, &mut f, &mut n);
        imdsv2(&inv.scoped_instances(&region).await, &region, &mut f, &mut n);
        public_databases(&inv.scoped_db_instances(&region).await, &region, &mut f, &mut n);
    }
    f.claim("no-direct-admin");
    admin_users(&input, &mut f, &mut n).await;
    f.claim("s3-public-blocked");
    public_access_block(&input, &mut f, &mut n).await;
    // IAM users are account-wide: they never stand in for the system's resources.
    f.require_resources(n.groups + n.instances + n.databases + n.buckets, &[Kind::SecurityGroup, Kind::Instance, Kind::DbInstance, Kind::Bucket]);
    f.ok_summary(Msg::new(
        format!(
            "管理/DBポートの全開放なし（SG {}件）、管理者権限の直接付与なし（IAMユーザー{}名）、S3パブリックアクセスブロック有効（{}件）、IMDSv2必須（{}台）、公開RDSなし（{}件）",
            n.groups, n.users, n.buckets, n.instances, n.databases
        ),
        format!(
            "no admin/DB port open to the internet ({} security groups); no administrator policy attached directly ({} IAM users); S3 public access blocked ({} buckets); IMDSv2 required ({} instances); no public RDS ({} DBs)",
            n.groups, n.users, n.buckets, n.instances, n.databases
        ),
    ));
    f
}

/// Which of `ports` a rule opens: protocol `-1` opens all of them.
pub fn opened_ports(protocol: &str, from: Option<i32>, to: Option<i32>, ports: &[u16]) -> Vec<u16> {
    let p = protocol.to_ascii_lowercase();
    if p == "-1" || p == "all" {
        return ports.to_vec();
    }
    if !matches!(p.as_str(), "tcp" | "6" | "udp" | "17") {
        return Vec::new();
    }
    let (from, to) = (from.unwrap_or(0), to.unwrap_or(65535));
    ports.iter().copied().filter(|&port| i32::from(port) >= from && i32::from(port) <= to).collect()
}

fn security_groups(groups: &Scoped<aws_sdk_ec2::types::SecurityGroup>, region: &str, ports: &[u16], f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:DescribeSecurityGroups";
    f.scoped_complete(groups);
    for (sg, why) in &groups.items {
        let id = sg.group_id().unwrap_or("(no id)");
        let subject = format!("{id} ({})", sg.group_name().unwrap_or("-"));
        n.groups += 1;
        let mut open = Vec::new();
        for perm in sg.ip_permissions() {
            let opened = opened_ports(perm.ip_protocol().unwrap_or(""), perm.from_port(), perm.to_port(), ports);
            if opened.is_empty() {
                continue;
            }
            let world = perm
                .ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip())
                .chain(perm.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
                .filter(|c| *c == "0.0.0.0/0" || *c == "::/0");
            for cidr in world {
                let list = opened.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
                open.push((format!("ポート {list} が {cidr} に開放"), format!("port {list} open to {cidr}")));
            }
        }
        if open.is_empty() {
            f.pass(
                &subject,
                Some(region),
                super::scoped(Msg::new("管理/DBポートの 0.0.0.0/0・::/0 への開放なし", "no admin/DB port open to 0.0.0.0/0 or ::/0"), why),
                CALL,
            );
        } else {
            let ja = open.iter().map(|(j, _)| j.as_str()).collect::<Vec<_>>().join("、");
            let en = open.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join("; ");
            f.fail(&subject, Some(region), super::scoped(Msg::new(ja, en), why), CALL);
        }
    }
}

fn imdsv2(instances: &Scoped<InstanceRecord>, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "ec2:DescribeInstances";
    f.scoped_complete(instances);
    for (rec, why) in &instances.items {
        let id = rec.id();
        n.instances += 1;
        match rec.instance.metadata_options().and_then(|m| m.http_tokens()).map(|t| t.as_str()) {
            Some("required") => f.pass(
                id,
                Some(region),
                super::scoped(Msg::new("IMDSv2必須（MetadataOptions.HttpTokens=required）", "MetadataOptions.HttpTokens=required (IMDSv2)"), why),
                CALL,
            ),
            Some(other) => f.fail(
                id,
                Some(region),
                super::scoped(crate::msg!("IMDSv1を許可（MetadataOptions.HttpTokens={other}）", "MetadataOptions.HttpTokens={other} (IMDSv1 allowed)"), why),
                CALL,
            ),
            None => f.error(id, Some(region), super::no_field(CALL, "MetadataOptions.HttpTokens"), CALL),
        }
    }
}

fn public_databases(dbs: &Scoped<aws_sdk_rds::types::DbInstance>, region: &str, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "rds:DescribeDBInstances";
    f.scoped_complete(dbs);
    for (db, why) in &dbs.items {
        let id = db.db_instance_identifier().unwrap_or("(no id)");
        n.databases += 1;
        match db.publicly_accessible() {
            Some(false) => {
                f.pass(id, Some(region), super::scoped(Msg::new("パブリックアクセス不可（PubliclyAccessible=false）", "PubliclyAccessible=false"), why), CALL)
            }
            Some(true) => {
                f.fail(id, Some(region), super::scoped(Msg::new("パブリックアクセス可（PubliclyAccessible=true）", "PubliclyAccessible=true"), why), CALL)
            }
            None => f.error(id, Some(region), super::no_field(CALL, "PubliclyAccessible"), CALL),
        }
    }
}

const INLINE: &str = "iam:GetUserPolicy";

/// The user's inline policies (name, document), every page; `None` when a call
/// failed (recorded as 検証不能).
async fn inline_policies(iam: &aws_sdk_iam::Client, user: &str, f: &mut Findings) -> Option<Vec<(String, String)>> {
    const LIST: &str = "iam:ListUserPolicies";
    let mut names = Vec::new();
    let mut pages = iam.list_user_policies().user_name(user).into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(out) => names.extend(out.policy_names().iter().cloned()),
            Err(e) => {
                f.aws_error(LIST, None, &e);
                return None;
            }
        }
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        match iam.get_user_policy().user_name(user).policy_name(&name).send().await {
            Ok(p) => out.push((name, p.policy_document().to_string())),
            Err(e) => {
                f.aws_error(INLINE, None, &e);
                return None;
            }
        }
    }
    Some(out)
}

async fn admin_users(input: &ProbeInput, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "iam:ListAttachedUserPolicies";
    const DETAILS: &str = "iam:GetAccountAuthorizationDetails";
    let break_glass = &input.scenario.access.break_glass_users;
    let iam = input.aws.iam(&iam_region(input));
    let users = match input.inventory.iam_users().await {
        Ok(u) => u,
        Err(e) => return f.listing_error(&e),
    };
    // One listing for every user when it can be had; per-user calls otherwise.
    let listing = input.inventory.iam_authorization().await;
    if let Err(e) = &listing {
        tracing::info!(reason = %e.reason, "account authorization details unavailable; reading attached policies user by user");
    }
    let details = listing.as_ref().ok().and_then(|l| l.first());
    let mut cache = HashMap::new();
    for user in users.iter().map(|u| u.name.clone()) {
        let (attached, source) = match details.and_then(|d| d.user_policies.get(&user)) {
            Some(arns) => (arns.clone(), DETAILS),
            None => match iam.list_attached_user_policies().user_name(&user).send().await {
                Ok(out) => (out.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect::<Vec<_>>(), CALL),
                Err(e) => {
                    f.aws_error(CALL, None, &e);
                    continue;
                }
            },
        };
        let mut admin: Vec<String> = Vec::new();
        let mut unknown = false;
        for arn in &attached {
            match policy_is_admin(&iam, arn, details.map(|d| &d.policy_documents), &mut cache, f).await {
                Some(true) => admin.push(arn.clone()),
                Some(false) => {}
                None => unknown = true,
            }
        }
        // A policy written into the user is as direct as an attached one.
        let inline = match details.and_then(|d| d.user_inline.get(&user)) {
            Some(list) => Some(list.clone()),
            None => inline_policies(&iam, &user, f).await,
        };
        match inline {
            Some(list) => {
                for (name, doc) in list {
                    match policy_doc::decode(&doc) {
                        Ok(d) if policy_doc::grants_full_admin(&d) => admin.push(format!("inline:{name}")),
                        Ok(_) => {}
                        Err(why) => {
                            f.error(
                                &user,
                                None,
                                crate::msg!("インラインポリシー {name}: 文書を読めない: {why}", "inline policy {name}: document unreadable: {why}"),
                                INLINE,
                            );
                            unknown = true;
                        }
                    }
                }
            }
            None => unknown = true,
        }
        if unknown {
            continue; // the failed call is already recorded as ERROR
        }
        n.users += 1;
        if admin.is_empty() {
            f.pass(
                &user,
                None,
                crate::msg!("管理者ポリシーの直接付与なし（付与 {0}件）", "no administrator policy attached directly ({0} attached)", attached.len()),
                source,
            );
        } else if break_glass.contains(&user) {
            f.pass(
                &user,
                None,
                crate::msg!(
                    "[access] break_glass_users の緊急用ユーザーが {0} を保持",
                    "break-glass user listed in [access] break_glass_users holds {0}",
                    admin.join(",")
                ),
                source,
            );
        } else {
            f.fail(&user, None, crate::msg!("管理者ポリシーを直接付与: {0}", "administrator policy attached directly: {0}", admin.join(",")), source);
        }
    }
}

/// The four public-access-block flags that are not on (empty: all on).
fn flags_off(block: [(&'static str, Option<bool>); 4]) -> Vec<&'static str> {
    block.iter().filter(|(_, v)| *v != Some(true)).map(|(k, _)| *k).collect()
}

/// The account-level block (S3 Control), read once: `Ok(off flags)` or the reason it could not be read.
async fn account_block(input: &ProbeInput) -> Result<Vec<&'static str>, Msg> {
    const WHO: &str = "sts:GetCallerIdentity";
    const CALL: &str = "s3:GetAccountPublicAccessBlock";
    let region = &input.scenario.aws.primary_region;
    let account = match input.aws.sts(region).get_caller_identity().send().await {
        Ok(out) => out.account().unwrap_or_default().to_string(),
        Err(e) => return Err(crate::aws::failure(WHO, &e)),
    };
    match input.aws.s3control(region).get_public_access_block().account_id(&account).send().await {
        Ok(out) => {
            let c = out.public_access_block_configuration();
            Ok(flags_off([
                ("BlockPublicAcls", c.and_then(|c| c.block_public_acls())),
                ("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls())),
                ("BlockPublicPolicy", c.and_then(|c| c.block_public_policy())),
                ("RestrictPublicBuckets", c.and_then(|c| c.restrict_public_buckets())),
            ]))
        }
        // No account-level configuration: nothing is blocked at that level.
        Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => {
            Ok(vec!["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"])
        }
        Err(e) => Err(crate::aws::failure(CALL, &e)),
    }
}

/// A bucket is blocked when its own public access block, or the account's, has
/// all four settings on. The account-level setting is read only when a bucket
/// needs it; if it cannot be read, that bucket is ERROR (could not verify), not NG.
async fn public_access_block(input: &ProbeInput, f: &mut Findings, n: &mut Counts) {
    const CALL: &str = "s3:GetPublicAccessBlock";
    const ACCOUNT: &str = "s3:GetAccountPublicAccessBlock";
    let scoped = input.inventory.scoped_buckets().await;
    f.scoped_complete(&scoped);
    let account = tokio::sync::OnceCell::new();
    for (b, _) in &scoped.items {
        let Some(region) = b.region.clone() else { continue };
        let bucket = b.name.clone();
        // None: the bucket has no public access block configuration at all.
        let bucket_off = match input.aws.s3(&region).get_public_access_block().bucket(&bucket).send().await {
            Ok(out) => {
                let c = out.public_access_block_configuration();
                Some(flags_off([
                    ("BlockPublicAcls", c.and_then(|c| c.block_public_acls())),
                    ("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls())),
                    ("BlockPublicPolicy", c.and_then(|c| c.block_public_policy())),
                    ("RestrictPublicBuckets", c.and_then(|c| c.restrict_public_buckets())),
                ]))
            }
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => None,
            Err(e) => {
                f.aws_error(CALL, Some(&region), &e);
                continue;
            }
        };
        n.buckets += 1;
        let bucket_state = match &bucket_off {
            Some(off) if off.is_empty() => {
                f.pass(&bucket, Some(&region), Msg::new("パブリックアクセスブロック: 4設定すべて true", "public access block: all four settings true"), CALL);
                continue;
            }
            Some(off) => crate::msg!(
                "バケットのパブリックアクセスブロックが一部無効（{0}=false）",
                "bucket-level public access block not fully on ({0}=false)",
                off.join("=false,")
            ),
            None => Msg::new(
                "バケットのパブリックアクセスブロックなし（NoSuchPublicAccessBlockConfiguration）",
                "no bucket-level public access block (NoSuchPublicAccessBlockConfiguration)",
            ),
        };
        match account.get_or_init(|| account_block(input)).await {
            Ok(off) if off.is_empty() => f.pass(
                &bucket,
                Some(&region),
                bucket_state.wrap(
                    ("", "。ただしアカウントのパブリックアクセスブロックは4設定すべて true"),
                    ("", ", but the account-level public access block has all four settings true"),
                ),
                ACCOUNT,
            ),
            Ok(off) => f.fail(
                &bucket,
                Some(&region),
                bucket_state.wrap(
                    ("", &format!("。アカウントのブロックも覆わない（{}=false）", off.join("=false,"))),
                    ("", &format!(", and the account-level block does not cover it ({}=false)", off.join("=false,"))),
                ),
                ACCOUNT,
            ),
            Err(why) => f.error(
                &bucket,
                Some(&region),
                Msg::new(
                    format!("{}。アカウントのブロックを読めない: {}", bucket_state.ja, why.ja),
                    format!("{}; the account-level block could not be read: {}", bucket_state.en, why.en),
                ),
                ACCOUNT,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::opened_ports;

    #[test]
    fn port_ranges_and_protocols() {
        let ports = [22, 3389, 5432];
        assert_eq!(opened_ports("-1", None, None, &ports), vec![22, 3389, 5432]);
        assert_eq!(opened_ports("tcp", Some(22), Some(22), &ports), vec![22]);
        assert_eq!(opened_ports("tcp", Some(0), Some(4000), &ports), vec![22, 3389]);
        assert_eq!(opened_ports("6", Some(443), Some(443), &ports), Vec::<u16>::new());
        assert!(opened_ports("icmp", Some(-1), Some(-1), &ports).is_empty());
    }
}
