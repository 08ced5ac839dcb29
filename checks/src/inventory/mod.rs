//! One resource inventory per run. Every (service, region) listing is made
//! once — paginated, cached, its failure recorded once — and shared by every
//! probe that needs it; probes never call a listing API themselves (a test in
//! `probes::permissions` fails if one does). On top of the listings,
//! [`scope`] decides which resources are the system's and why.
//!
//! A failed listing is kept as a [`ListingError`] in the cache: every probe
//! that depends on it sees the same reason and turns ERROR, none sees an
//! empty list it could mistake for "nothing to judge".

mod cache;
pub mod iam;
mod listings;
pub mod scope;

use std::sync::Arc;

use gcverify_scenarios::Scenario;
use tokio::sync::OnceCell;

use cache::{Cached, Keyed};
pub use cache::{Listing, ListingError};
pub use listings::{ec2_tags, rds_tags, Bucket, InstanceRecord, LoadBalancerRecord};
pub use scope::{Kind, Member, Scope, ScopeReport, Scoped, TagReport, Why};

use crate::aws::AwsContext;

/// IAM actions the inventory calls (see `probes::permissions`).
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeImages",
    "ec2:DescribeSnapshots",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusters",
    "s3:ListBuckets",
    "s3:GetBucketLocation",
    "s3:GetBucketTagging",
    "cloudtrail:DescribeTrails",
    "logs:DescribeLogGroups",
    "backup:ListBackupPlans",
    "backup:ListBackupSelections",
    "backup:ListBackupVaults",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:GetAccountAuthorizationDetails",
    "iam:ListUsers",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListRoles",
];

/// SDK methods of the listings above: only the inventory may call them
/// (a test scans the probe sources).
pub const LISTING_METHODS: &[&str] = &[
    "describe_instances",
    "describe_volumes",
    "describe_security_groups",
    "describe_network_interfaces",
    "describe_vpcs",
    "describe_subnets",
    "describe_images",
    "describe_snapshots",
    "describe_load_balancers",
    "describe_listeners",
    "describe_target_groups",
    "describe_target_health",
    "describe_db_instances",
    "describe_db_clusters",
    "list_buckets",
    "describe_trails",
    "list_trails",
    "describe_log_groups",
    "list_backup_plans",
    "list_backup_selections",
    "list_backup_vaults",
    "list_users",
    "list_roles",
    "generate_credential_report",
    "get_credential_report",
    "get_account_authorization_details",
];

/// The run's inventory: listings on demand, each made at most once.
pub struct Inventory {
    aws: Arc<AwsContext>,
    scenario: Arc<Scenario>,
    instances: Keyed<InstanceRecord>,
    volumes: Keyed<aws_sdk_ec2::types::Volume>,
    security_groups: Keyed<aws_sdk_ec2::types::SecurityGroup>,
    network_interfaces: Keyed<aws_sdk_ec2::types::NetworkInterface>,
    vpcs: Keyed<aws_sdk_ec2::types::Vpc>,
    subnets: Keyed<aws_sdk_ec2::types::Subnet>,
    images: Keyed<aws_sdk_ec2::types::Image>,
    snapshots: Keyed<aws_sdk_ec2::types::Snapshot>,
    load_balancers: Keyed<LoadBalancerRecord>,
    /// Keyed by load balancer ARN.
    listeners: Keyed<aws_sdk_elasticloadbalancingv2::types::Listener>,
    target_groups: Keyed<aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    /// Keyed by target group ARN.
    target_health: Keyed<aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription>,
    db_instances: Keyed<aws_sdk_rds::types::DbInstance>,
    db_clusters: Keyed<aws_sdk_rds::types::DbCluster>,
    buckets: Cached<Bucket>,
    trails: Keyed<aws_sdk_cloudtrail::types::Trail>,
    log_groups: Keyed<aws_sdk_cloudwatchlogs::types::LogGroup>,
    backup_plans: Keyed<aws_sdk_backup::types::BackupPlansListMember>,
    /// Keyed by "region/plan-id".
    backup_selections: Keyed<aws_sdk_backup::types::BackupSelectionsListMember>,
    backup_vaults: Keyed<aws_sdk_backup::types::BackupVaultListMember>,
    iam_users: Cached<iam::IamUser>,
    iam_roles: Cached<aws_sdk_iam::types::Role>,
    iam_authorization: Cached<iam::Authorization>,
    scope: OnceCell<Arc<Scope>>,
}

impl Inventory {
    pub fn new(aws: Arc<AwsContext>, scenario: Arc<Scenario>) -> Self {
        Self {
            aws,
            scenario,
            instances: Keyed::default(),
            volumes: Keyed::default(),
            security_groups: Keyed::default(),
            network_interfaces: Keyed::default(),
            vpcs: Keyed::default(),
            subnets: Keyed::default(),
            images: Keyed::default(),
            snapshots: Keyed::default(),
            load_balancers: Keyed::default(),
            listeners: Keyed::default(),
            target_groups: Keyed::default(),
            target_health: Keyed::default(),
            db_instances: Keyed::default(),
            db_clusters: Keyed::default(),
            buckets: Cached::default(),
            trails: Keyed::default(),
            log_groups: Keyed::default(),
            backup_plans: Keyed::default(),
            backup_selections: Keyed::default(),
            backup_vaults: Keyed::default(),
            iam_users: Cached::default(),
            iam_roles: Cached::default(),
            iam_authorization: Cached::default(),
            scope: OnceCell::new(),
        }
    }

    /// Shared handle, as probes receive it.
    pub fn shared(aws: Arc<AwsContext>, scenario: Arc<Scenario>) -> Arc<Self> {
        Arc::new(Self::new(aws, scenario))
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// IAM and S3's bucket listing are global; their calls go to the primary region.
    fn home(&self) -> &str {
        &self.scenario.aws.primary_region
    }

    // ---------------------------------------------------------------- EC2

    /// Every EC2 instance of the region (terminated ones included: scope drops them).
    pub async fn instances(&self, region: &str) -> Listing<InstanceRecord> {
        self.instances.get(region, || listings::instances(&self.aws, region)).await
    }
    pub async fn volumes(&self, region: &str) -> Listing<aws_sdk_ec2::types::Volume> {
        self.volumes.get(region, || listings::volumes(&self.aws, region)).await
    }
    pub async fn security_groups(&self, region: &str) -> Listing<aws_sdk_ec2::types::SecurityGroup> {
        self.security_groups.get(region, || listings::security_groups(&self.aws, region)).await
    }
    pub async fn network_interfaces(&self, region: &str) -> Listing<aws_sdk_ec2::types::NetworkInterface> {
        self.network_interfaces.get(region, || listings::network_interfaces(&self.aws, region)).await
    }
    pub async fn vpcs(&self, region: &str) -> Listing<aws_sdk_ec2::types::Vpc> {
        self.vpcs.get(region, || listings::vpcs(&self.aws, region)).await
    }
    pub async fn subnets(&self, region: &str) -> Listing<aws_sdk_ec2::types::Subnet> {
        self.subnets.get(region, || listings::subnets(&self.aws, region)).await
    }
    /// AMIs owned by the account.
    pub async fn images(&self, region: &str) -> Listing<aws_sdk_ec2::types::Image> {
        self.images.get(region, || listings::images(&self.aws, region)).await
    }
    /// EBS snapshots owned by the account.
    pub async fn snapshots(&self, region: &str) -> Listing<aws_sdk_ec2::types::Snapshot> {
        self.snapshots.get(region, || listings::snapshots(&self.aws, region)).await
    }

    // ---------------------------------------------------------------- ELBv2

    /// Load balancers, with their tags when `[scope]` has tags.
    pub async fn load_balancers(&self, region: &str) -> Listing<LoadBalancerRecord> {
        let with_tags = !self.scenario.scope.tags.is_empty();
        self.load_balancers.get(region, || listings::load_balancers(&self.aws, region, with_tags)).await
    }
    pub async fn listeners(&self, region: &str, lb_arn: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::Listener> {
        self.listeners.get(lb_arn, || listings::listeners(&self.aws, region, lb_arn)).await
    }
    pub async fn target_groups(&self, region: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::TargetGroup> {
        self.target_groups.get(region, || listings::target_groups(&self.aws, region)).await
    }
    pub async fn target_health(&self, region: &str, tg_arn: &str) -> Listing<aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription> {
        self.target_health.get(tg_arn, || listings::target_health(&self.aws, region, tg_arn)).await
    }

    // ---------------------------------------------------------------- RDS

    pub async fn db_instances(&self, region: &str) -> Listing<aws_sdk_rds::types::DbInstance> {
        self.db_instances.get(region, || listings::db_instances(&self.aws, region)).await
    }
    pub async fn db_clusters(&self, region: &str) -> Listing<aws_sdk_rds::types::DbCluster> {
        self.db_clusters.get(region, || listings::db_clusters(&self.aws, region)).await
    }

    // ---------------------------------------------------------------- S3

    /// Every bucket with its region (and tags when `[scope]` has tags).
    pub async fn buckets(&self) -> Listing<Bucket> {
        let with_tags = !self.scenario.scope.tags.is_empty();
        self.buckets.get(|| listings::buckets(&self.aws, self.home(), with_tags)).await
    }

    // ---------------------------------------------------------------- logging

    /// Trails visible from the region, shadow trails included.
    pub async fn trails(&self, region: &str) -> Listing<aws_sdk_cloudtrail::types::Trail> {
        self.trails.get(region, || listings::trails(&self.aws, region)).await
    }
    pub async fn log_groups(&self, region: &str) -> Listing<aws_sdk_cloudwatchlogs::types::LogGroup> {
        self.log_groups.get(region, || listings::log_groups(&self.aws, region)).await
    }

    // ---------------------------------------------------------------- AWS Backup

    pub async fn backup_plans(&self, region: &str) -> Listing<aws_sdk_backup::types::BackupPlansListMember> {
        self.backup_plans.get(region, || listings::backup_plans(&self.aws, region)).await
    }
    pub async fn backup_selections(&self, region: &str, plan_id: &str) -> Listing<aws_sdk_backup::types::BackupSelectionsListMember> {
        let key = format!("{region}/{plan_id}");
        self.backup_selections.get(&key, || listings::backup_selections(&self.aws, region, plan_id)).await
    }
    pub async fn backup_vaults(&self, region: &str) -> Listing<aws_sdk_backup::types::BackupVaultListMember> {
        self.backup_vaults.get(region, || listings::backup_vaults(&self.aws, region)).await
    }

    // ---------------------------------------------------------------- IAM

    /// IAM users with console-password and MFA state: from the credential
    /// report, or per-user calls when the report cannot be had.
    pub async fn iam_users(&self) -> Listing<iam::IamUser> {
        self.iam_users.get(|| iam::users(&self.aws, self.home())).await
    }
    /// Managed policies attached to each user, and customer-managed policy
    /// documents, from one GetAccountAuthorizationDetails listing (one element).
    pub async fn iam_authorization(&self) -> Listing<iam::Authorization> {
        self.iam_authorization.get(|| iam::authorization(&self.aws, self.home())).await
    }
    pub async fn iam_roles(&self) -> Listing<aws_sdk_iam::types::Role> {
        self.iam_roles.get(|| listings::iam_roles(&self.aws, self.home())).await
    }

    // ---------------------------------------------------------------- scope

    /// The scope if a probe has computed it (nothing is listed for this).
    pub fn computed_scope(&self) -> Option<Arc<Scope>> {
        self.scope.get().cloned()
    }

    /// The system's resources in the primary and DR regions, computed once.
    pub async fn scope(&self) -> Arc<Scope> {
        // Boxed: the scope future is deep, and every probe's future would carry its layout.
        self.scope.get_or_init(|| async { Arc::new(Box::pin(scope::compute(self)).await) }).await.clone()
    }
}
