//! What the drill does per resource type: the restore metadata that puts the
//! copy into the isolated target, tagging, "is it up", and deletion. Only
//! types listed in [`Kind`] are restored: the drill restores nothing it
//! cannot delete again.

use std::collections::HashMap;

use aws_sdk_ec2::types::{AttributeBooleanValue, EbsInstanceBlockDeviceSpecification, Filter, InstanceBlockDeviceMappingSpecification};
use gcverify_scenarios::Drill;

use crate::aws::{error_code, failure_reason, AwsContext};

/// Tag put on everything the drill creates; its value is the drill ID.
pub const TAG: &str = "gcverify:restore-drill";
/// Prefix of the identifiers the drill gives RDS/Aurora copies (found even untagged).
pub const NAME_PREFIX: &str = "gcverify-drill-";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ec2,
    Ebs,
    Rds,
    Aurora,
}

impl Kind {
    /// From AWS Backup's resource type name.
    pub fn from_backup_type(t: &str) -> Option<Self> {
        Some(match t {
            "EC2" => Kind::Ec2,
            "EBS" => Kind::Ebs,
            "RDS" => Kind::Rds,
            "Aurora" => Kind::Aurora,
            _ => return None,
        })
    }

    pub fn backup_type(self) -> &'static str {
        match self {
            Kind::Ec2 => "EC2",
            Kind::Ebs => "EBS",
            Kind::Rds => "RDS",
            Kind::Aurora => "Aurora",
        }
    }

    pub fn from_arn(arn: &str) -> Option<Self> {
        Self::from_backup_type(&crate::probes::continuity::resource_type(arn))
    }
}

pub const SUPPORTED: &str = "EC2, EBS, RDS, Aurora";

/// The part of an ARN after `instance/`, `volume/`, `db:` or `cluster:`.
pub fn short_id(arn: &str) -> &str {
    let rest = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    rest.rsplit(['/', ':']).next().unwrap_or(rest)
}

/// Region of an ARN (the drill deletes in the region the copy was made in).
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The original restore metadata with the isolated target put in. An error
/// says what the scenario must configure (nothing is started then).
pub fn restore_metadata(kind: Kind, original: &HashMap<String, String>, cfg: &Drill, name: &str) -> Result<HashMap<String, String>, String> {
    let mut md = original.clone();
    let need = |what: &str| format!("no isolated target for {}: set [continuity.drill] {what}", kind.backup_type());
    match kind {
        Kind::Ec2 => {
            let subnet = cfg.subnet_id.as_ref().ok_or_else(|| need("subnet_id and security_group_ids"))?;
            if cfg.security_group_ids.is_empty() {
                return Err(need("security_group_ids"));
            }
            // The original's network interfaces would put the copy next to production.
            md.remove("NetworkInterfaces");
            md.remove("SecurityGroups");
            md.insert("SubnetId".into(), subnet.clone());
            md.insert("SecurityGroupIds".into(), json_list(&cfg.security_group_ids));
            md.insert("DisableApiTermination".into(), "false".into());
            if let Some(t) = &cfg.instance_type {
                md.insert("InstanceType".into(), t.clone());
            }
        }
        Kind::Ebs => {
            let az = cfg.availability_zone.as_ref().ok_or_else(|| need("availability_zone"))?;
            md.insert("availabilityZone".into(), az.clone());
        }
        Kind::Rds | Kind::Aurora => {
            let group = cfg.db_subnet_group.as_ref().ok_or_else(|| need("db_subnet_group and security_group_ids"))?;
            if cfg.security_group_ids.is_empty() {
                return Err(need("security_group_ids"));
            }
            let key = if kind == Kind::Rds { "DBInstanceIdentifier" } else { "DBClusterIdentifier" };
            md.insert(key.into(), name.to_string());
            md.insert("DBSubnetGroupName".into(), group.clone());
            md.insert("VpcSecurityGroupIds".into(), json_list(&cfg.security_group_ids));
            md.insert("DeletionProtection".into(), "false".into());
            md.insert("PubliclyAccessible".into(), "false".into());
            if kind == Kind::Rds {
                md.insert("MultiAZ".into(), "false".into());
            }
        }
    }
    Ok(md)
}

/// Tag the copy so `drill cleanup` finds it even if this process dies.
pub async fn tag(aws: &AwsContext, kind: Kind, arn: &str, drill_id: &str) -> Result<(), String> {
    let region = region_of(arn).unwrap_or("ap-northeast-1");
    match kind {
        Kind::Ec2 | Kind::Ebs => {
            let tag = aws_sdk_ec2::types::Tag::builder().key(TAG).value(drill_id).build();
            aws.ec2(region).create_tags().resources(short_id(arn)).tags(tag).send().await.map(|_| ()).map_err(|e| failure_reason("ec2:CreateTags", &e))
        }
        Kind::Rds | Kind::Aurora => {
            let tag = aws_sdk_rds::types::Tag::builder().key(TAG).value(drill_id).build();
            aws.rds(region)
                .add_tags_to_resource()
                .resource_name(arn)
                .tags(tag)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failure_reason("rds:AddTagsToResource", &e))
        }
    }
}

/// Whether AWS reports the copy usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// Up; values for the health-check placeholders.
    Yes(HashMap<&'static str, String>),
    /// Not yet (the state seen).
    NotYet(String),
}

pub async fn ready(aws: &AwsContext, kind: Kind, arn: &str) -> Result<Ready, String> {
    let region = region_of(arn).unwrap_or("ap-northeast-1");
    let id = short_id(arn);
    match kind {
        Kind::Ec2 => {
            const CALL: &str = "ec2:DescribeInstanceStatus";
            let out =
                aws.ec2(region).describe_instance_status().instance_ids(id).include_all_instances(true).send().await.map_err(|e| failure_reason(CALL, &e))?;
            let Some(s) = out.instance_statuses().first() else { return Ok(Ready::NotYet("no status yet".into())) };
            let state = s.instance_state().and_then(|x| x.name()).map(|n| n.as_str().to_string()).unwrap_or_default();
            let inst = s.instance_status().and_then(|x| x.status()).map(|n| n.as_str().to_string()).unwrap_or_default();
            let sys = s.system_status().and_then(|x| x.status()).map(|n| n.as_str().to_string()).unwrap_or_default();
            if state != "running" || inst != "ok" || sys != "ok" {
                return Ok(Ready::NotYet(format!("state {state}, instance status {inst}, system status {sys}")));
            }
            const DESCRIBE: &str = "ec2:DescribeInstances";
            let out = aws.ec2(region).describe_instances().instance_ids(id).send().await.map_err(|e| failure_reason(DESCRIBE, &e))?;
            let ip = out.reservations().iter().flat_map(|r| r.instances()).find_map(|i| i.private_ip_address()).unwrap_or("").to_string();
            Ok(Ready::Yes(HashMap::from([("private_ip", ip)])))
        }
        Kind::Ebs => {
            const CALL: &str = "ec2:DescribeVolumes";
            let out = aws.ec2(region).describe_volumes().volume_ids(id).send().await.map_err(|e| failure_reason(CALL, &e))?;
            let state = out.volumes().first().and_then(|v| v.state()).map(|s| s.as_str().to_string()).unwrap_or_default();
            Ok(if state == "available" { Ready::Yes(HashMap::new()) } else { Ready::NotYet(format!("volume {state}")) })
        }
        Kind::Rds => {
            const CALL: &str = "rds:DescribeDBInstances";
            let out = aws.rds(region).describe_db_instances().db_instance_identifier(id).send().await.map_err(|e| failure_reason(CALL, &e))?;
            let Some(db) = out.db_instances().first() else { return Ok(Ready::NotYet("not listed yet".into())) };
            let status = db.db_instance_status().unwrap_or("").to_string();
            if status != "available" {
                return Ok(Ready::NotYet(format!("DB instance {status}")));
            }
            let ep = db.endpoint();
            Ok(Ready::Yes(HashMap::from([
                ("endpoint", ep.and_then(|e| e.address()).unwrap_or("").to_string()),
                ("port", ep.and_then(|e| e.port()).map(|p| p.to_string()).unwrap_or_default()),
            ])))
        }
        Kind::Aurora => {
            const CALL: &str = "rds:DescribeDBClusters";
            let out = aws.rds(region).describe_db_clusters().db_cluster_identifier(id).send().await.map_err(|e| failure_reason(CALL, &e))?;
            let Some(c) = out.db_clusters().first() else { return Ok(Ready::NotYet("not listed yet".into())) };
            let status = c.status().unwrap_or("").to_string();
            if status != "available" {
                return Ok(Ready::NotYet(format!("DB cluster {status}")));
            }
            Ok(Ready::Yes(HashMap::from([("endpoint", c.endpoint().unwrap_or("").to_string()), ("port", c.port().map(|p| p.to_string()).unwrap_or_default())])))
        }
    }
}

/// Codes that mean "already gone": deleting is then done.
fn gone(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "InvalidInstanceID.NotFound"
                | "InvalidVolume.NotFound"
                | "DBInstanceNotFound"
                | "DBInstanceNotFoundFault"
                | "DBClusterNotFoundFault"
                | "DBClusterNotFound"
        )
    )
}

/// Delete the copy (and, for EC2, every volume it has). `Ok(text)` says what was done.
pub async fn delete(aws: &AwsContext, kind: Kind, arn: &str) -> Result<String, String> {
    let region = region_of(arn).unwrap_or("ap-northeast-1");
    let id = short_id(arn);
    match kind {
        Kind::Ec2 => {
            let ec2 = aws.ec2(region);
            // Volumes restored with DeleteOnTermination=false would outlive the instance.
            match ec2.describe_instances().instance_ids(id).send().await {
                Ok(out) => {
                    let devices: Vec<String> = out
                        .reservations()
                        .iter()
                        .flat_map(|r| r.instances())
                        .flat_map(|i| i.block_device_mappings())
                        .filter_map(|m| m.device_name().map(str::to_string))
                        .collect();
                    if !devices.is_empty() {
                        let specs = devices
                            .iter()
                            .map(|d| {
                                InstanceBlockDeviceMappingSpecification::builder()
                                    .device_name(d)
                                    .ebs(EbsInstanceBlockDeviceSpecification::builder().delete_on_termination(true).build())
                                    .build()
                            })
                            .collect();
                        if let Err(e) = ec2.modify_instance_attribute().instance_id(id).set_block_device_mappings(Some(specs)).send().await {
                            tracing::warn!(reason = %failure_reason("ec2:ModifyInstanceAttribute", &e), "could not set DeleteOnTermination");
                        }
                    }
                }
                Err(e) if gone(error_code(&e)) => return Ok(format!("instance {id} already gone")),
                Err(e) => tracing::warn!(reason = %failure_reason("ec2:DescribeInstances", &e), "could not list the copy's volumes"),
            }
            if let Err(e) =
                ec2.modify_instance_attribute().instance_id(id).disable_api_termination(AttributeBooleanValue::builder().value(false).build()).send().await
            {
                tracing::warn!(reason = %failure_reason("ec2:ModifyInstanceAttribute", &e), "could not lift termination protection");
            }
            match ec2.terminate_instances().instance_ids(id).send().await {
                Ok(_) => Ok(format!("instance {id} terminated (volumes deleted with it)")),
                Err(e) if gone(error_code(&e)) => Ok(format!("instance {id} already gone")),
                Err(e) => Err(failure_reason("ec2:TerminateInstances", &e)),
            }
        }
        Kind::Ebs => match aws.ec2(region).delete_volume().volume_id(id).send().await {
            Ok(_) => Ok(format!("volume {id} deleted")),
            Err(e) if gone(error_code(&e)) => Ok(format!("volume {id} already gone")),
            Err(e) => Err(failure_reason("ec2:DeleteVolume", &e)),
        },
        Kind::Rds => {
            match aws.rds(region).delete_db_instance().db_instance_identifier(id).skip_final_snapshot(true).delete_automated_backups(true).send().await {
                Ok(_) => Ok(format!("DB instance {id} deleting (no final snapshot)")),
                Err(e) if gone(error_code(&e)) => Ok(format!("DB instance {id} already gone")),
                Err(e) => Err(failure_reason("rds:DeleteDBInstance", &e)),
            }
        }
        Kind::Aurora => match aws.rds(region).delete_db_cluster().db_cluster_identifier(id).skip_final_snapshot(true).send().await {
            Ok(_) => Ok(format!("DB cluster {id} deleting (no final snapshot)")),
            Err(e) if gone(error_code(&e)) => Ok(format!("DB cluster {id} already gone")),
            Err(e) => Err(failure_reason("rds:DeleteDBCluster", &e)),
        },
    }
}

/// Copies left in `region`: tagged with [`TAG`] (any value), or RDS/Aurora
/// named with [`NAME_PREFIX`]. Returns (ARN, drill ID or "-").
pub async fn leftovers(aws: &AwsContext, region: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let ec2 = aws.ec2(region);
    let tag_key = Filter::builder().name("tag-key").values(TAG).build();
    let live = Filter::builder().name("instance-state-name").set_values(Some(["pending", "running", "stopping", "stopped"].map(String::from).to_vec())).build();
    let mut pages = ec2.describe_instances().filters(tag_key.clone()).filters(live).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failure_reason("ec2:DescribeInstances", &e))?;
        for r in page.reservations() {
            let owner = r.owner_id().unwrap_or("");
            for i in r.instances() {
                let Some(id) = i.instance_id() else { continue };
                // Checked here too: an endpoint that ignores the filter must not get production deleted.
                let Some(drill) = i.tags().iter().find(|t| t.key() == Some(TAG)).and_then(|t| t.value()) else { continue };
                out.push((format!("arn:aws:ec2:{region}:{owner}:instance/{id}"), drill.to_string()));
            }
        }
    }
    let mut pages = ec2.describe_volumes().filters(tag_key).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failure_reason("ec2:DescribeVolumes", &e))?;
        for v in page.volumes() {
            let Some(id) = v.volume_id() else { continue };
            if v.state().map(|s| s.as_str()) == Some("deleting") {
                continue;
            }
            let Some(drill) = v.tags().iter().find(|t| t.key() == Some(TAG)).and_then(|t| t.value()) else { continue };
            // DescribeVolumes does not give the account; the ARN is only used for its type, region and ID.
            out.push((format!("arn:aws:ec2:{region}::volume/{id}"), drill.to_string()));
        }
    }
    let rds = aws.rds(region);
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failure_reason("rds:DescribeDBInstances", &e))?;
        for db in page.db_instances() {
            let (Some(arn), Some(id)) = (db.db_instance_arn(), db.db_instance_identifier()) else { continue };
            let tag = db.tag_list().iter().find(|t| t.key() == Some(TAG)).and_then(|t| t.value());
            if (tag.is_some() || id.starts_with(NAME_PREFIX)) && db.db_instance_status() != Some("deleting") {
                out.push((arn.to_string(), tag.unwrap_or("-").to_string()));
            }
        }
    }
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failure_reason("rds:DescribeDBClusters", &e))?;
        for c in page.db_clusters() {
            let (Some(arn), Some(id)) = (c.db_cluster_arn(), c.db_cluster_identifier()) else { continue };
            let tag = c.tag_list().iter().find(|t| t.key() == Some(TAG)).and_then(|t| t.value());
            if (tag.is_some() || id.starts_with(NAME_PREFIX)) && c.status() != Some("deleting") {
                out.push((arn.to_string(), tag.unwrap_or("-").to_string()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Drill {
        toml::from_str(r#"iam_role_arn = "arn:aws:iam::1:role/r""#).expect("drill")
    }

    #[test]
    fn ids_and_regions_from_arns() {
        assert_eq!(short_id("arn:aws:ec2:ap-northeast-1:1:instance/i-0abc"), "i-0abc");
        assert_eq!(short_id("arn:aws:rds:ap-northeast-1:1:db:juki-db"), "juki-db");
        assert_eq!(short_id("arn:aws:rds:ap-northeast-1:1:cluster:juki"), "juki");
        assert_eq!(region_of("arn:aws:ec2:ap-northeast-3:1:volume/vol-1"), Some("ap-northeast-3"));
        assert_eq!(Kind::from_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(Kind::from_arn("arn:aws:rds:r:1:cluster:c"), Some(Kind::Aurora));
    }

    #[test]
    fn metadata_requires_an_isolated_target_and_replaces_the_network() {
        let original = HashMap::from([("NetworkInterfaces".to_string(), "[{...}]".to_string()), ("InstanceType".to_string(), "m5.large".to_string())]);
        let err = restore_metadata(Kind::Ec2, &original, &cfg(), "x").expect_err("no subnet");
        assert!(err.contains("subnet_id"), "{err}");
        let mut c = cfg();
        c.subnet_id = Some("subnet-iso".into());
        c.security_group_ids = vec!["sg-iso".into()];
        let md = restore_metadata(Kind::Ec2, &original, &c, "x").expect("metadata");
        assert!(!md.contains_key("NetworkInterfaces"));
        assert_eq!(md["SubnetId"], "subnet-iso");
        assert_eq!(md["SecurityGroupIds"], r#"["sg-iso"]"#);
        assert_eq!(md["InstanceType"], "m5.large");
        assert!(restore_metadata(Kind::Rds, &original, &c, "x").expect_err("no db subnet group").contains("db_subnet_group"));
        c.db_subnet_group = Some("iso".into());
        let md = restore_metadata(Kind::Rds, &HashMap::new(), &c, "gcverify-drill-1").expect("rds");
        assert_eq!(md["DBInstanceIdentifier"], "gcverify-drill-1");
        assert_eq!(md["DeletionProtection"], "false");
        assert!(restore_metadata(Kind::Ebs, &HashMap::new(), &c, "x").expect_err("no az").contains("availability_zone"));
    }
}
