//! Which resources are the system's, and why. The rules, the same in the
//! primary and the DR region:
//!
//! 1. **tags** — it carries every `[scope] tags` tag (with no tags set: every
//!    resource of the account, "whole account");
//! 2. **named** — `[scope] resources` or `[backup] resources` names its ID or ARN;
//! 3. **belongs to an in-scope resource** —
//!    instances registered behind an in-scope load balancer;
//!    an Aurora cluster of an in-scope member, and the members of an in-scope cluster;
//!    the volumes attached to an in-scope instance (root volume included),
//!    its network interfaces and their security groups;
//!    the security groups of in-scope databases and load balancers;
//!    the VPCs and subnets that hold in-scope instances, interfaces, databases
//!    and load balancers.
//!
//! Snapshots and AMIs of in-scope resources are looked up on demand
//! ([`Inventory::scoped_snapshots`], [`Inventory::scoped_images`]).
//! Terminated instances are never in scope. A listing that failed makes
//! every kind whose membership depends on it incomplete: probes judging that
//! kind get the failure, so they turn ERROR rather than OK on a partial scope.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::cache::{Listing, ListingError};
use super::listings::{ec2_tags, rds_tags, Bucket, InstanceRecord, LoadBalancerRecord};
use super::Inventory;

/// Resource kinds the scope decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Instance,
    Volume,
    NetworkInterface,
    SecurityGroup,
    Vpc,
    Subnet,
    LoadBalancer,
    DbInstance,
    DbCluster,
    Bucket,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Instance,
        Kind::Volume,
        Kind::NetworkInterface,
        Kind::SecurityGroup,
        Kind::Vpc,
        Kind::Subnet,
        Kind::LoadBalancer,
        Kind::DbInstance,
        Kind::DbCluster,
        Kind::Bucket,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Instance => "EC2 instance",
            Kind::Volume => "EBS volume",
            Kind::NetworkInterface => "network interface",
            Kind::SecurityGroup => "security group",
            Kind::Vpc => "VPC",
            Kind::Subnet => "subnet",
            Kind::LoadBalancer => "load balancer",
            Kind::DbInstance => "RDS instance",
            Kind::DbCluster => "Aurora cluster",
            Kind::Bucket => "S3 bucket",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Kind::Instance => "EC2インスタンス",
            Kind::Volume => "EBSボリューム",
            Kind::NetworkInterface => "ネットワークインターフェース",
            Kind::SecurityGroup => "セキュリティグループ",
            Kind::Vpc => "VPC",
            Kind::Subnet => "サブネット",
            Kind::LoadBalancer => "ロードバランサー",
            Kind::DbInstance => "RDSインスタンス",
            Kind::DbCluster => "Auroraクラスター",
            Kind::Bucket => "S3バケット",
        }
    }

    /// The listings this kind's membership is decided from: if one failed,
    /// the kind's scope is incomplete.
    fn depends_on(self) -> &'static [Kind] {
        use Kind::*;
        match self {
            Instance => &[Instance, LoadBalancer],
            Volume => &[Volume, Instance, LoadBalancer],
            NetworkInterface => &[NetworkInterface, Instance, LoadBalancer],
            SecurityGroup => &[SecurityGroup, Instance, LoadBalancer, NetworkInterface, DbInstance, DbCluster],
            Vpc => &[Vpc, Instance, LoadBalancer, NetworkInterface, DbInstance, DbCluster],
            Subnet => &[Subnet, Instance, LoadBalancer, NetworkInterface, DbInstance, DbCluster],
            LoadBalancer => &[LoadBalancer],
            DbInstance | DbCluster => &[DbInstance, DbCluster],
            Bucket => &[Bucket],
        }
    }
}

/// Why a resource is in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule", content = "of")]
pub enum Why {
    /// Carries every `[scope] tags` tag.
    Tags,
    /// Named in the scenario.
    Named,
    /// No `[scope] tags`: the account is the system's.
    WholeAccount,
    /// Volume attached to this instance.
    AttachedTo(String),
    /// Network interface of this instance.
    InterfaceOf(String),
    /// Security group used by this resource.
    GroupOf(String),
    /// VPC or subnet holding this resource.
    Holds(String),
    /// DB instance that is a member of this cluster.
    MemberOf(String),
    /// Aurora cluster of this member instance.
    ClusterOf(String),
    /// Instance registered behind this load balancer.
    Behind(String),
    /// Snapshot of this volume / AMI of this instance or snapshot.
    CopyOf(String),
}

impl Why {
    pub fn ja(&self) -> String {
        match self {
            Why::Tags => "タグ一致".into(),
            Why::Named => "シナリオで指定".into(),
            Why::WholeAccount => "アカウント全体（[scope] tags 未設定）".into(),
            Why::AttachedTo(i) => format!("{i} に接続"),
            Why::InterfaceOf(i) => format!("{i} のネットワークインターフェース"),
            Why::GroupOf(r) => format!("{r} のセキュリティグループ"),
            Why::Holds(r) => format!("{r} を収容"),
            Why::MemberOf(c) => format!("クラスター {c} のメンバー"),
            Why::ClusterOf(m) => format!("メンバー {m} のクラスター"),
            Why::Behind(lb) => format!("ロードバランサー {lb} のターゲット"),
            Why::CopyOf(r) => format!("{r} の複製"),
        }
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Tags => f.write_str("scope tags"),
            Why::Named => f.write_str("named in the scenario"),
            Why::WholeAccount => f.write_str("whole account (no [scope] tags)"),
            Why::AttachedTo(i) => write!(f, "attached to {i}"),
            Why::InterfaceOf(i) => write!(f, "network interface of {i}"),
            Why::GroupOf(r) => write!(f, "security group of {r}"),
            Why::Holds(r) => write!(f, "holds {r}"),
            Why::MemberOf(c) => write!(f, "member of cluster {c}"),
            Why::ClusterOf(m) => write!(f, "cluster of member {m}"),
            Why::Behind(lb) => write!(f, "target of load balancer {lb}"),
            Why::CopyOf(r) => write!(f, "copy of {r}"),
        }
    }
}

/// One in-scope resource.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub why: Why,
}

/// The scope of one region.
#[derive(Debug, Clone, Default)]
pub struct RegionScope {
    pub region: String,
    members: BTreeMap<(Kind, String), Member>,
    /// Failed listings, by the kind listed.
    failures: Vec<(Kind, ListingError)>,
    /// Listed resources not in scope, per kind.
    pub out_of_scope: BTreeMap<Kind, usize>,
}

impl RegionScope {
    fn new(region: &str) -> Self {
        Self { region: region.to_string(), ..Default::default() }
    }

    /// Add unless already in scope: the first (most direct) reason stays.
    fn add(&mut self, kind: Kind, id: &str, why: Why) -> bool {
        if id.is_empty() || self.members.contains_key(&(kind, id.to_string())) {
            return false;
        }
        self.members.insert((kind, id.to_string()), Member { kind, id: id.to_string(), region: self.region.clone(), why });
        true
    }

    fn has(&self, kind: Kind, id: &str) -> bool {
        self.members.contains_key(&(kind, id.to_string()))
    }

    fn failed<T>(&mut self, kind: Kind, listing: &Listing<T>) {
        if let Err(e) = listing {
            self.failures.push((kind, e.clone()));
        }
    }
}

/// Values seen for the `[scope] tags` keys, to tell a mistyped tag.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TagReport {
    pub wanted: BTreeMap<String, String>,
    /// Resources (of every kind, every scope region) carrying all wanted tags.
    pub matched: usize,
    /// Per wanted key: value → how many resources carry it.
    pub seen: BTreeMap<String, BTreeMap<String, usize>>,
}

impl TagReport {
    fn observe(&mut self, tags: &BTreeMap<String, String>) {
        for key in self.wanted.keys() {
            if let Some(v) = tags.get(key) {
                *self.seen.entry(key.clone()).or_default().entry(v.clone()).or_default() += 1;
            }
        }
    }

    /// The warning to show before the table when the tags match nothing.
    pub fn warning(&self) -> Option<crate::model::Msg> {
        if self.wanted.is_empty() || self.matched > 0 {
            return None;
        }
        let wanted = self.wanted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        let mut ja = format!("[scope] tags {wanted} に一致するリソースなし。");
        let mut en = format!("no resource matches the [scope] tags {wanted}.");
        for key in self.wanted.keys() {
            match self.seen.get(key).filter(|m| !m.is_empty()) {
                Some(values) => {
                    let list = values.iter().map(|(v, n)| format!("{v}（{n}件）")).collect::<Vec<_>>().join("、");
                    let list_en = values.iter().map(|(v, n)| format!("{v} ({n})")).collect::<Vec<_>>().join(", ");
                    ja.push_str(&format!(" {key} の値: {list}"));
                    en.push_str(&format!(" Values of {key}: {list_en}"));
                }
                None => {
                    ja.push_str(&format!(" タグキー {key} を持つリソースなし"));
                    en.push_str(&format!(" No resource has the tag key {key}"));
                }
            }
        }
        Some(crate::model::Msg::new(ja, en))
    }
}

/// The run's scope.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub regions: Vec<RegionScope>,
    buckets: BTreeMap<String, Member>,
    bucket_failures: Vec<ListingError>,
    pub buckets_out_of_scope: usize,
    pub tags: TagReport,
}

impl Scope {
    fn region(&self, region: &str) -> Option<&RegionScope> {
        self.regions.iter().find(|r| r.region == region)
    }

    /// Why `id` of `kind` is in scope in `region` (buckets: any region).
    pub fn why(&self, kind: Kind, region: &str, id: &str) -> Option<&Why> {
        if kind == Kind::Bucket {
            return self.buckets.get(id).map(|m| &m.why);
        }
        self.region(region)?.members.get(&(kind, id.to_string())).map(|m| &m.why)
    }

    /// In-scope members of a kind in a region, by ID.
    pub fn members(&self, kind: Kind, region: &str) -> Vec<&Member> {
        if kind == Kind::Bucket {
            return self.buckets.values().filter(|m| m.region == region).collect();
        }
        self.region(region).map(|r| r.members.values().filter(|m| m.kind == kind).collect()).unwrap_or_default()
    }

    /// Every in-scope member, all regions, buckets last.
    pub fn all(&self) -> impl Iterator<Item = &Member> {
        self.regions.iter().flat_map(|r| r.members.values()).chain(self.buckets.values())
    }

    /// The listing failures that make this kind's scope in `region` incomplete.
    pub fn failures(&self, kind: Kind, region: &str) -> Vec<&ListingError> {
        if kind == Kind::Bucket {
            return self.bucket_failures.iter().collect();
        }
        let deps = kind.depends_on();
        self.region(region).map(|r| r.failures.iter().filter(|(k, _)| deps.contains(k)).map(|(_, e)| e).collect()).unwrap_or_default()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.all().filter(|m| m.kind == kind).count()
    }
}

/// The scope as `cargo xtask scope` prints it (and as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ScopeReport {
    pub in_scope: Vec<Member>,
    /// region → kind → listed resources not in scope.
    pub out_of_scope: BTreeMap<String, BTreeMap<Kind, usize>>,
    pub buckets_out_of_scope: usize,
    /// Listings that failed: the scope may be incomplete.
    pub failures: Vec<crate::model::Msg>,
    pub tags: TagReport,
}

impl Scope {
    pub fn report(&self) -> ScopeReport {
        let mut failures: Vec<crate::model::Msg> = self.regions.iter().flat_map(|r| r.failures.iter().map(|(_, e)| e.reason.clone())).collect();
        failures.extend(self.bucket_failures.iter().map(|e| e.reason.clone()));
        failures.dedup();
        ScopeReport {
            in_scope: self.all().cloned().collect(),
            out_of_scope: self.regions.iter().map(|r| (r.region.clone(), r.out_of_scope.clone())).collect(),
            buckets_out_of_scope: self.buckets_out_of_scope,
            failures,
            tags: self.tags.clone(),
        }
    }
}

/// Items of one kind in scope, with why, plus the failures that make the
/// list possibly incomplete.
#[derive(Debug, Clone)]
pub struct Scoped<T> {
    pub items: Vec<(T, Why)>,
    pub errors: Vec<ListingError>,
}

impl<T> Scoped<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Scenario names: IDs and ARNs, matched against both.
struct Names(BTreeSet<String>);

impl Names {
    fn has(&self, id: &str, arn: Option<&str>) -> bool {
        self.0.contains(id) || arn.is_some_and(|a| self.0.contains(a))
    }
}

struct Seeder<'a> {
    wanted: &'a BTreeMap<String, String>,
    names: Names,
    report: TagReport,
}

impl Seeder<'_> {
    /// Rules 1 and 2 for one listed resource.
    fn seed(&mut self, id: &str, arn: Option<&str>, tags: &BTreeMap<String, String>) -> Option<Why> {
        self.report.observe(tags);
        let tagged = !self.wanted.is_empty() && self.wanted.iter().all(|(k, v)| tags.get(k) == Some(v));
        if tagged {
            self.report.matched += 1;
        }
        if self.names.has(id, arn) {
            Some(Why::Named)
        } else if tagged {
            Some(Why::Tags)
        } else if self.wanted.is_empty() {
            Some(Why::WholeAccount)
        } else {
            None
        }
    }
}

pub(super) async fn compute(inv: &Inventory) -> Scope {
    let s = inv.scenario();
    let names = Names(s.scope.resources.iter().chain(s.backup.resources.iter()).cloned().collect());
    let mut seeder = Seeder { wanted: &s.scope.tags, names, report: TagReport { wanted: s.scope.tags.clone(), ..Default::default() } };
    let regions = s.aws.used_regions();
    let listed = futures::future::join_all(regions.iter().map(|r| Listed::fetch(inv, r))).await;
    let mut scope = Scope::default();
    for (region, listed) in regions.iter().zip(listed) {
        let mut rs = RegionScope::new(region);
        listed.build(inv, &mut seeder, &mut rs).await;
        scope.regions.push(rs);
    }
    match inv.buckets().await {
        Ok(buckets) => buckets_scope(&buckets, &mut seeder, &mut scope),
        Err(e) => scope.bucket_failures.push(e),
    }
    scope.tags = seeder.report;
    scope
}

fn buckets_scope(buckets: &[Bucket], seeder: &mut Seeder<'_>, scope: &mut Scope) {
    for b in buckets {
        if let Some(problem) = &b.problem {
            let reason = problem.wrap((&format!("バケット {}: ", b.name), ""), (&format!("bucket {}: ", b.name), ""));
            scope.bucket_failures.push(ListingError::new("s3:GetBucketTagging", b.region.as_deref(), reason));
            continue;
        }
        let arn = format!("arn:aws:s3:::{}", b.name);
        match seeder.seed(&b.name, Some(&arn), &b.tags) {
            Some(why) => {
                let region = b.region.clone().unwrap_or_default();
                scope.buckets.insert(b.name.clone(), Member { kind: Kind::Bucket, id: b.name.clone(), region, why });
            }
            None => scope.buckets_out_of_scope += 1,
        }
    }
}

/// Every listing one region's scope is built from.
struct Listed {
    instances: Listing<InstanceRecord>,
    volumes: Listing<aws_sdk_ec2::types::Volume>,
    interfaces: Listing<aws_sdk_ec2::types::NetworkInterface>,
    groups: Listing<aws_sdk_ec2::types::SecurityGroup>,
    vpcs: Listing<aws_sdk_ec2::types::Vpc>,
    subnets: Listing<aws_sdk_ec2::types::Subnet>,
    lbs: Listing<LoadBalancerRecord>,
    dbs: Listing<aws_sdk_rds::types::DbInstance>,
    clusters: Listing<aws_sdk_rds::types::DbCluster>,
}

fn items<T>(l: &Listing<T>) -> &[T] {
    l.as_ref().map(|v| v.as_slice()).unwrap_or(&[])
}

impl Listed {
    async fn fetch(inv: &Inventory, region: &str) -> Self {
        let (instances, volumes, interfaces, groups, vpcs, subnets, lbs, dbs, clusters) = tokio::join!(
            inv.instances(region),
            inv.volumes(region),
            inv.network_interfaces(region),
            inv.security_groups(region),
            inv.vpcs(region),
            inv.subnets(region),
            inv.load_balancers(region),
            inv.db_instances(region),
            inv.db_clusters(region),
        );
        Self { instances, volumes, interfaces, groups, vpcs, subnets, lbs, dbs, clusters }
    }

    async fn build(self, inv: &Inventory, seeder: &mut Seeder<'_>, rs: &mut RegionScope) {
        rs.failed(Kind::Instance, &self.instances);
        rs.failed(Kind::Volume, &self.volumes);
        rs.failed(Kind::NetworkInterface, &self.interfaces);
        rs.failed(Kind::SecurityGroup, &self.groups);
        rs.failed(Kind::Vpc, &self.vpcs);
        rs.failed(Kind::Subnet, &self.subnets);
        rs.failed(Kind::LoadBalancer, &self.lbs);
        rs.failed(Kind::DbInstance, &self.dbs);
        rs.failed(Kind::DbCluster, &self.clusters);
        let region = rs.region.clone();

        // Rules 1 and 2.
        for i in items(&self.instances).iter().filter(|i| !i.is_gone()) {
            if let Some(why) = seeder.seed(i.id(), Some(&i.arn(&region)), &ec2_tags(i.instance.tags())) {
                rs.add(Kind::Instance, i.id(), why);
            }
        }
        for v in items(&self.volumes) {
            let id = v.volume_id().unwrap_or("");
            if let Some(why) = seeder.seed(id, None, &ec2_tags(v.tags())) {
                rs.add(Kind::Volume, id, why);
            }
        }
        for n in items(&self.interfaces) {
            let id = n.network_interface_id().unwrap_or("");
            if let Some(why) = seeder.seed(id, None, &ec2_tags(n.tag_set())) {
                rs.add(Kind::NetworkInterface, id, why);
            }
        }
        for g in items(&self.groups) {
            let id = g.group_id().unwrap_or("");
            if let Some(why) = seeder.seed(id, g.security_group_arn(), &ec2_tags(g.tags())) {
                rs.add(Kind::SecurityGroup, id, why);
            }
        }
        for v in items(&self.vpcs) {
            let id = v.vpc_id().unwrap_or("");
            if let Some(why) = seeder.seed(id, None, &ec2_tags(v.tags())) {
                rs.add(Kind::Vpc, id, why);
            }
        }
        for n in items(&self.subnets) {
            let id = n.subnet_id().unwrap_or("");
            if let Some(why) = seeder.seed(id, n.subnet_arn(), &ec2_tags(n.tags())) {
                rs.add(Kind::Subnet, id, why);
            }
        }
        for lb in items(&self.lbs) {
            let name = lb.lb.load_balancer_name().unwrap_or("");
            if let Some(why) = seeder.seed(name, lb.lb.load_balancer_arn(), &lb.tags) {
                rs.add(Kind::LoadBalancer, name, why);
            }
        }
        for db in items(&self.dbs) {
            let id = db.db_instance_identifier().unwrap_or("");
            if let Some(why) = seeder.seed(id, db.db_instance_arn(), &rds_tags(db.tag_list())) {
                rs.add(Kind::DbInstance, id, why);
            }
        }
        for c in items(&self.clusters) {
            let id = c.db_cluster_identifier().unwrap_or("");
            if let Some(why) = seeder.seed(id, c.db_cluster_arn(), &rds_tags(c.tag_list())) {
                rs.add(Kind::DbCluster, id, why);
            }
        }

        // Rule 3, in an order that reaches the fixpoint in one pass:
        // load balancers → instances; DB members ⇄ clusters; then what
        // instances, interfaces, databases and load balancers hold.
        self.behind_load_balancers(inv, rs).await;
        self.clusters_and_members(rs);
        self.attached_to_instances(rs);
        self.network_of_databases_and_balancers(rs);
        for (kind, listed) in [
            (Kind::Instance, items(&self.instances).iter().filter(|i| !i.is_gone()).map(|i| i.id().to_string()).collect::<Vec<_>>()),
            (Kind::Volume, items(&self.volumes).iter().filter_map(|v| v.volume_id().map(str::to_string)).collect()),
            (Kind::NetworkInterface, items(&self.interfaces).iter().filter_map(|n| n.network_interface_id().map(str::to_string)).collect()),
            (Kind::SecurityGroup, items(&self.groups).iter().filter_map(|g| g.group_id().map(str::to_string)).collect()),
            (Kind::Vpc, items(&self.vpcs).iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect()),
            (Kind::Subnet, items(&self.subnets).iter().filter_map(|s| s.subnet_id().map(str::to_string)).collect()),
            (Kind::LoadBalancer, items(&self.lbs).iter().filter_map(|l| l.lb.load_balancer_name().map(str::to_string)).collect()),
            (Kind::DbInstance, items(&self.dbs).iter().filter_map(|d| d.db_instance_identifier().map(str::to_string)).collect()),
            (Kind::DbCluster, items(&self.clusters).iter().filter_map(|c| c.db_cluster_identifier().map(str::to_string)).collect()),
        ] {
            let outside = listed.iter().filter(|id| !rs.has(kind, id)).count();
            rs.out_of_scope.insert(kind, outside);
        }
    }

    async fn behind_load_balancers(&self, inv: &Inventory, rs: &mut RegionScope) {
        let in_scope: Vec<(&str, &str)> = items(&self.lbs)
            .iter()
            .filter_map(|l| Some((l.lb.load_balancer_arn()?, l.lb.load_balancer_name()?)))
            .filter(|(_, name)| rs.has(Kind::LoadBalancer, name))
            .collect();
        if in_scope.is_empty() {
            return;
        }
        let region = rs.region.clone();
        let groups = inv.target_groups(&region).await;
        rs.failed(Kind::LoadBalancer, &groups);
        for tg in items(&groups) {
            let Some(lb_name) = in_scope.iter().find(|(arn, _)| tg.load_balancer_arns().iter().any(|a| a == arn)).map(|(_, n)| *n) else { continue };
            let Some(tg_arn) = tg.target_group_arn() else { continue };
            let health = inv.target_health(&region, tg_arn).await;
            rs.failed(Kind::LoadBalancer, &health);
            for t in items(&health).iter().filter_map(|h| h.target()).filter_map(|t| t.id()) {
                if t.starts_with("i-") {
                    rs.add(Kind::Instance, t, Why::Behind(lb_name.to_string()));
                }
            }
        }
    }

    fn clusters_and_members(&self, rs: &mut RegionScope) {
        for db in items(&self.dbs) {
            let id = db.db_instance_identifier().unwrap_or("");
            if let (true, Some(cluster)) = (rs.has(Kind::DbInstance, id), db.db_cluster_identifier()) {
                rs.add(Kind::DbCluster, cluster, Why::ClusterOf(id.to_string()));
            }
        }
        for c in items(&self.clusters) {
            let id = c.db_cluster_identifier().unwrap_or("");
            if rs.has(Kind::DbCluster, id) {
                for m in c.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier()) {
                    rs.add(Kind::DbInstance, m, Why::MemberOf(id.to_string()));
                }
            }
        }
    }

    fn attached_to_instances(&self, rs: &mut RegionScope) {
        let in_scope: Vec<&InstanceRecord> = items(&self.instances).iter().filter(|i| !i.is_gone() && rs.has(Kind::Instance, i.id())).collect();
        for rec in in_scope {
            let i = &rec.instance;
            let id = rec.id().to_string();
            for v in i.block_device_mappings().iter().filter_map(|b| b.ebs()).filter_map(|e| e.volume_id()) {
                rs.add(Kind::Volume, v, Why::AttachedTo(id.clone()));
            }
            for n in i.network_interfaces() {
                if let Some(eni) = n.network_interface_id() {
                    rs.add(Kind::NetworkInterface, eni, Why::InterfaceOf(id.clone()));
                }
            }
            for g in i.security_groups().iter().filter_map(|g| g.group_id()) {
                rs.add(Kind::SecurityGroup, g, Why::GroupOf(id.clone()));
            }
            for place in [i.subnet_id().map(|s| (Kind::Subnet, s)), i.vpc_id().map(|v| (Kind::Vpc, v))].into_iter().flatten() {
                rs.add(place.0, place.1, Why::Holds(id.clone()));
            }
        }
        // The volume side too: an attachment made after launch may not be in the instance's mappings yet.
        for v in items(&self.volumes) {
            let Some(vid) = v.volume_id() else { continue };
            if let Some(owner) = v.attachments().iter().filter_map(|a| a.instance_id()).find(|i| rs.has(Kind::Instance, i)) {
                rs.add(Kind::Volume, vid, Why::AttachedTo(owner.to_string()));
            }
        }
        for n in items(&self.interfaces) {
            let Some(eni) = n.network_interface_id() else { continue };
            if let Some(owner) = n.attachment().and_then(|a| a.instance_id()).filter(|i| rs.has(Kind::Instance, i)) {
                rs.add(Kind::NetworkInterface, eni, Why::InterfaceOf(owner.to_string()));
            }
            if rs.has(Kind::NetworkInterface, eni) {
                for g in n.groups().iter().filter_map(|g| g.group_id()) {
                    rs.add(Kind::SecurityGroup, g, Why::GroupOf(eni.to_string()));
                }
                for place in [n.subnet_id().map(|s| (Kind::Subnet, s)), n.vpc_id().map(|v| (Kind::Vpc, v))].into_iter().flatten() {
                    rs.add(place.0, place.1, Why::Holds(eni.to_string()));
                }
            }
        }
    }

    fn network_of_databases_and_balancers(&self, rs: &mut RegionScope) {
        for db in items(&self.dbs) {
            let id = db.db_instance_identifier().unwrap_or("");
            if !rs.has(Kind::DbInstance, id) {
                continue;
            }
            for g in db.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()) {
                rs.add(Kind::SecurityGroup, g, Why::GroupOf(id.to_string()));
            }
            if let Some(group) = db.db_subnet_group() {
                if let Some(vpc) = group.vpc_id() {
                    rs.add(Kind::Vpc, vpc, Why::Holds(id.to_string()));
                }
                for s in group.subnets().iter().filter_map(|s| s.subnet_identifier()) {
                    rs.add(Kind::Subnet, s, Why::Holds(id.to_string()));
                }
            }
        }
        for c in items(&self.clusters) {
            let id = c.db_cluster_identifier().unwrap_or("");
            if rs.has(Kind::DbCluster, id) {
                for g in c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()) {
                    rs.add(Kind::SecurityGroup, g, Why::GroupOf(id.to_string()));
                }
            }
        }
        for lb in items(&self.lbs) {
            let name = lb.lb.load_balancer_name().unwrap_or("");
            if !rs.has(Kind::LoadBalancer, name) {
                continue;
            }
            for g in lb.lb.security_groups() {
                rs.add(Kind::SecurityGroup, g, Why::GroupOf(name.to_string()));
            }
            if let Some(vpc) = lb.lb.vpc_id() {
                rs.add(Kind::Vpc, vpc, Why::Holds(name.to_string()));
            }
            for s in lb.lb.availability_zones().iter().filter_map(|z| z.subnet_id()) {
                rs.add(Kind::Subnet, s, Why::Holds(name.to_string()));
            }
        }
    }
}

// ------------------------------------------------------------------ typed views for probes

impl Inventory {
    /// In-scope items of a listing, with why; errors when the listing or the
    /// scope it depends on is incomplete.
    async fn pick<T: Clone>(&self, kind: Kind, region: &str, listing: Listing<T>, id: impl Fn(&T) -> Option<&str>) -> Scoped<T> {
        let scope = self.scope().await;
        let mut errors: Vec<ListingError> = scope.failures(kind, region).into_iter().cloned().collect();
        let items = match listing {
            Ok(list) => list.iter().filter_map(|t| Some((t.clone(), scope.why(kind, region, id(t)?)?.clone()))).collect(),
            Err(e) => {
                if !errors.contains(&e) {
                    errors.push(e);
                }
                Vec::new()
            }
        };
        Scoped { items, errors }
    }

    pub async fn scoped_instances(&self, region: &str) -> Scoped<InstanceRecord> {
        let l = self.instances(region).await;
        self.pick(Kind::Instance, region, l, |i| Some(i.id()).filter(|_| !i.is_gone())).await
    }
    pub async fn scoped_volumes(&self, region: &str) -> Scoped<aws_sdk_ec2::types::Volume> {
        let l = self.volumes(region).await;
        self.pick(Kind::Volume, region, l, |v| v.volume_id()).await
    }
    pub async fn scoped_security_groups(&self, region: &str) -> Scoped<aws_sdk_ec2::types::SecurityGroup> {
        let l = self.security_groups(region).await;
        self.pick(Kind::SecurityGroup, region, l, |g| g.group_id()).await
    }
    pub async fn scoped_vpcs(&self, region: &str) -> Scoped<aws_sdk_ec2::types::Vpc> {
        let l = self.vpcs(region).await;
        self.pick(Kind::Vpc, region, l, |v| v.vpc_id()).await
    }
    pub async fn scoped_load_balancers(&self, region: &str) -> Scoped<LoadBalancerRecord> {
        let l = self.load_balancers(region).await;
        self.pick(Kind::LoadBalancer, region, l, |l| l.lb.load_balancer_name()).await
    }
    pub async fn scoped_db_instances(&self, region: &str) -> Scoped<aws_sdk_rds::types::DbInstance> {
        let l = self.db_instances(region).await;
        self.pick(Kind::DbInstance, region, l, |d| d.db_instance_identifier()).await
    }
    pub async fn scoped_db_clusters(&self, region: &str) -> Scoped<aws_sdk_rds::types::DbCluster> {
        let l = self.db_clusters(region).await;
        self.pick(Kind::DbCluster, region, l, |c| c.db_cluster_identifier()).await
    }
    /// In-scope buckets (every region).
    pub async fn scoped_buckets(&self) -> Scoped<Bucket> {
        let scope = self.scope().await;
        let mut errors: Vec<ListingError> = scope.failures(Kind::Bucket, "").into_iter().cloned().collect();
        let items = match self.buckets().await {
            Ok(list) => list.iter().filter_map(|b| Some((b.clone(), scope.why(Kind::Bucket, "", &b.name)?.clone()))).collect(),
            Err(e) => {
                if !errors.contains(&e) {
                    errors.push(e);
                }
                Vec::new()
            }
        };
        Scoped { items, errors }
    }

    /// Snapshots of in-scope volumes (and tagged/named ones).
    pub async fn scoped_snapshots(&self, region: &str) -> Scoped<aws_sdk_ec2::types::Snapshot> {
        let scope = self.scope().await;
        let mut errors: Vec<ListingError> = scope.failures(Kind::Volume, region).into_iter().cloned().collect();
        let items = match self.snapshots(region).await {
            Ok(list) => list
                .iter()
                .filter_map(|s| {
                    let vol = s.volume_id()?;
                    scope.why(Kind::Volume, region, vol).map(|_| (s.clone(), Why::CopyOf(vol.to_string())))
                })
                .collect(),
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        Scoped { items, errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_tag_names_the_values_seen() {
        let mut r = TagReport { wanted: [("System".to_string(), "jyuk1".to_string())].into(), ..Default::default() };
        for _ in 0..12 {
            r.observe(&[("System".to_string(), "jyuki".to_string())].into());
        }
        let w = r.warning().expect("warns");
        assert!(w.ja.contains("System=jyuk1 に一致するリソースなし"), "{}", w.ja);
        assert!(w.ja.contains("jyuki（12件）"), "{}", w.ja);
        assert!(w.en.contains("jyuki (12)"), "{}", w.en);
    }

    #[test]
    fn no_warning_when_something_matched_or_no_tags() {
        let mut r = TagReport { wanted: [("System".to_string(), "juki".to_string())].into(), matched: 1, ..Default::default() };
        assert!(r.warning().is_none());
        r.wanted.clear();
        r.matched = 0;
        assert!(r.warning().is_none());
    }

    #[test]
    fn a_failed_instance_listing_makes_volumes_incomplete_but_not_buckets() {
        let mut rs = RegionScope::new("ap-northeast-1");
        let failed: Listing<u8> = Err(ListingError::new("ec2:DescribeInstances", Some("ap-northeast-1"), "denied"));
        rs.failed(Kind::Instance, &failed);
        let scope = Scope { regions: vec![rs], ..Default::default() };
        assert_eq!(scope.failures(Kind::Volume, "ap-northeast-1").len(), 1);
        assert_eq!(scope.failures(Kind::SecurityGroup, "ap-northeast-1").len(), 1);
        assert!(scope.failures(Kind::DbInstance, "ap-northeast-1").is_empty());
        assert!(scope.failures(Kind::Bucket, "").is_empty());
    }

    #[test]
    fn the_first_reason_stays() {
        let mut rs = RegionScope::new("r");
        assert!(rs.add(Kind::Volume, "vol-1", Why::Tags));
        assert!(!rs.add(Kind::Volume, "vol-1", Why::AttachedTo("i-1".into())));
        let scope = Scope { regions: vec![rs], ..Default::default() };
        assert_eq!(scope.why(Kind::Volume, "r", "vol-1"), Some(&Why::Tags));
    }
}
