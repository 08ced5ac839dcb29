//! Every operation this project's moto extension adds, called through the
//! official Rust SDK (the client gcverify's probes use) against the launcher
//! `MotoServer` starts: Backup selections, jobs, recovery points (with a second
//! page), restores creating the resource; SSM instances, patches, compliance,
//! associations; CloudWatch over CBOR; root MFA.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_backup::types::{BackupSelection, Condition, ConditionType, Lifecycle};
use gcverify_demo::moto::admin;
use gcverify_demo::seed::emulator_config;
use gcverify_demo::MotoServer;
use serde_json::json;

const PRIMARY: &str = "ap-northeast-1";
const DR: &str = "ap-northeast-3";
const ROLE: &str = "arn:aws:iam::123456789012:role/backup";

async fn server() -> MotoServer {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).expect("repo root");
    let exe = gcverify_demo::find_moto_server(&root).unwrap_or_else(|| gcverify_demo::ensure_venv(&root).expect("moto is required and could not be installed"));
    MotoServer::start(&exe).await.expect("the emulator starts")
}

async fn volume(endpoint: &str) -> String {
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(endpoint, PRIMARY));
    let v = ec2.create_volume().availability_zone(format!("{PRIMARY}a")).size(8).encrypted(true).send().await.expect("volume");
    format!("arn:aws:ec2:{PRIMARY}:123456789012:volume/{}", v.volume_id().expect("volume id"))
}

async fn wait_restore(b: &aws_sdk_backup::Client, id: &str) -> aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput {
    for _ in 0..100 {
        let j = b.describe_restore_job().restore_job_id(id).send().await.expect("DescribeRestoreJob");
        if j.status().map(|s| s.as_str()) != Some("RUNNING") {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("restore job {id} still RUNNING");
}

#[tokio::test]
async fn backup_operations_through_the_rust_sdk() {
    let moto = server().await;
    let ep = moto.endpoint();
    let b = aws_sdk_backup::Client::new(&emulator_config(&ep, PRIMARY));
    let bdr = aws_sdk_backup::Client::new(&emulator_config(&ep, DR));
    b.create_backup_vault().backup_vault_name("v").send().await.expect("vault");
    let dr_arn = bdr.create_backup_vault().backup_vault_name("dr").send().await.expect("dr vault").backup_vault_arn().expect("arn").to_string();
    let plan = b
        .create_backup_plan()
        .backup_plan(
            aws_sdk_backup::types::BackupPlanInput::builder()
                .backup_plan_name("p")
                .rules(aws_sdk_backup::types::BackupRuleInput::builder().rule_name("r").target_backup_vault_name("v").build().expect("rule"))
                .build()
                .expect("plan"),
        )
        .send()
        .await
        .expect("plan")
        .backup_plan_id()
        .expect("plan id")
        .to_string();

    // Selections.
    let tag = Condition::builder().condition_type(ConditionType::Stringequals).condition_key("System").condition_value("juki").build().expect("tag");
    let sel = BackupSelection::builder().selection_name("s").iam_role_arn(ROLE).list_of_tags(tag).build().expect("selection");
    let sid = b
        .create_backup_selection()
        .backup_plan_id(&plan)
        .backup_selection(sel)
        .send()
        .await
        .expect("CreateBackupSelection")
        .selection_id()
        .expect("id")
        .to_string();
    let listed = b.list_backup_selections().backup_plan_id(&plan).send().await.expect("ListBackupSelections");
    assert_eq!(listed.backup_selections_list().iter().filter_map(|s| s.selection_id()).collect::<Vec<_>>(), vec![sid.as_str()]);
    let got = b.get_backup_selection().backup_plan_id(&plan).selection_id(&sid).send().await.expect("GetBackupSelection");
    assert_eq!(got.backup_selection().map(|s| s.list_of_tags()[0].condition_value()), Some("juki"));
    b.delete_backup_selection().backup_plan_id(&plan).selection_id(&sid).send().await.expect("DeleteBackupSelection");
    assert!(b.get_backup_selection().backup_plan_id(&plan).selection_id(&sid).send().await.is_err(), "deleted");

    // A backup job leaves a recovery point; a copy job puts one in the DR vault.
    let arn = volume(&ep).await;
    let job = b
        .start_backup_job()
        .backup_vault_name("v")
        .resource_arn(&arn)
        .iam_role_arn(ROLE)
        .lifecycle(Lifecycle::builder().delete_after_days(7).build())
        .send()
        .await
        .expect("StartBackupJob");
    let point = job.recovery_point_arn().expect("point").to_string();
    let d = b.describe_backup_job().backup_job_id(job.backup_job_id().expect("job id")).send().await.expect("DescribeBackupJob");
    assert_eq!((d.state().map(|s| s.as_str()), d.resource_arn(), d.resource_type()), (Some("COMPLETED"), Some(arn.as_str()), Some("EBS")));
    assert_eq!(b.list_backup_jobs().by_resource_arn(&arn).send().await.expect("ListBackupJobs").backup_jobs().len(), 1);
    let p = b.describe_recovery_point().backup_vault_name("v").recovery_point_arn(&point).send().await.expect("DescribeRecoveryPoint");
    assert_eq!((p.status().map(|s| s.as_str()), p.is_encrypted(), p.resource_arn()), (Some("COMPLETED"), true, Some(arn.as_str())));
    assert!(p.encryption_key_arn().is_some_and(|k| k.starts_with("arn:aws:kms:")));
    assert!(p.calculated_lifecycle().and_then(|l| l.delete_at()).is_some());
    assert_eq!(b.describe_backup_vault().backup_vault_name("v").send().await.expect("vault").number_of_recovery_points(), 1);
    let copy = b
        .start_copy_job()
        .recovery_point_arn(&point)
        .source_backup_vault_name("v")
        .destination_backup_vault_arn(&dr_arn)
        .iam_role_arn(ROLE)
        .send()
        .await
        .expect("StartCopyJob");
    let copy_id = copy.copy_job_id().expect("copy id");
    assert_eq!(b.list_copy_jobs().send().await.expect("ListCopyJobs").copy_jobs().iter().filter_map(|j| j.copy_job_id()).collect::<Vec<_>>(), vec![copy_id]);
    let cj = b.describe_copy_job().copy_job_id(copy_id).send().await.expect("DescribeCopyJob");
    assert_eq!(cj.copy_job().and_then(|j| j.destination_backup_vault_arn()), Some(dr_arn.as_str()));
    let in_dr = bdr.list_recovery_points_by_backup_vault().backup_vault_name("dr").send().await.expect("ListRecoveryPointsByBackupVault");
    assert_eq!(in_dr.recovery_points().iter().filter_map(|r| r.resource_arn()).collect::<Vec<_>>(), vec![arn.as_str()]);

    // Seeded history, listed two at a time: the paginator follows NextToken.
    let days: Vec<String> = (1..=4).map(|n| (chrono::Utc::now() - chrono::Duration::days(n)).to_rfc3339()).collect();
    admin(&ep, "recovery-points", &json!({"region": PRIMARY, "vault": "v", "resource_arn": arn, "created": days})).expect("seed points");
    let first = b.list_recovery_points_by_resource().resource_arn(&arn).max_results(2).send().await.expect("ListRecoveryPointsByResource");
    assert_eq!(first.recovery_points().len(), 2);
    let token = first.next_token().expect("a second page").to_string();
    let second = b.list_recovery_points_by_resource().resource_arn(&arn).max_results(2).next_token(token).send().await.expect("second page");
    assert_eq!(second.recovery_points().len(), 2);
    let mut pages = b.list_recovery_points_by_resource().resource_arn(&arn).max_results(2).into_paginator().send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        all.extend(page.expect("page").recovery_points().iter().filter_map(|r| r.creation_date().map(|d| d.secs())));
    }
    assert_eq!(all.len(), 5, "1 from the job and 4 seeded");
    assert!(all.windows(2).all(|w| w[0] >= w[1]), "newest first: {all:?}");
    let by_vault = b.list_recovery_points_by_backup_vault().backup_vault_name("v").by_resource_arn(&arn).max_results(3).send().await.expect("by vault");
    assert_eq!((by_vault.recovery_points().len(), by_vault.next_token().is_some()), (3, true));

    // Restore: RUNNING for the configured duration, then COMPLETED with the volume created.
    let md = b.get_recovery_point_restore_metadata().backup_vault_name("v").recovery_point_arn(&point).send().await.expect("GetRecoveryPointRestoreMetadata");
    let meta = md.restore_metadata().cloned().unwrap_or_default();
    assert_eq!(meta.get("availabilityZone").map(String::as_str), Some("ap-northeast-1a"));
    admin(&ep, "restore-duration", &json!({"seconds": 1})).expect("duration");
    let rid = b
        .start_restore_job()
        .recovery_point_arn(&point)
        .set_metadata(Some(meta))
        .iam_role_arn(ROLE)
        .resource_type("EBS")
        .send()
        .await
        .expect("StartRestoreJob")
        .restore_job_id()
        .expect("restore id")
        .to_string();
    let running = b.describe_restore_job().restore_job_id(&rid).send().await.expect("DescribeRestoreJob");
    assert_eq!(running.status().map(|s| s.as_str()), Some("RUNNING"));
    let done = wait_restore(&b, &rid).await;
    assert_eq!(done.status().map(|s| s.as_str()), Some("COMPLETED"), "{:?}", done.status_message());
    let created = done.created_resource_arn().expect("CreatedResourceArn").to_string();
    let vol_id = created.rsplit('/').next().expect("volume id");
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(&ep, PRIMARY));
    assert_eq!(ec2.describe_volumes().volume_ids(vol_id).send().await.expect("restored volume").volumes().len(), 1);
    let jobs = b.list_restore_jobs().send().await.expect("ListRestoreJobs");
    assert_eq!(jobs.restore_jobs().iter().filter_map(|j| j.created_resource_arn()).collect::<Vec<_>>(), vec![created.as_str()]);
    b.delete_recovery_point().backup_vault_name("v").recovery_point_arn(&point).send().await.expect("DeleteRecoveryPoint");
    assert!(b.describe_recovery_point().backup_vault_name("v").recovery_point_arn(&point).send().await.is_err(), "deleted");
}

#[tokio::test]
async fn restores_create_rds_and_aurora_and_ec2() {
    let moto = server().await;
    let ep = moto.endpoint();
    let b = aws_sdk_backup::Client::new(&emulator_config(&ep, PRIMARY));
    let rds = aws_sdk_rds::Client::new(&emulator_config(&ep, PRIMARY));
    let ec2 = aws_sdk_ec2::Client::new(&emulator_config(&ep, PRIMARY));
    b.create_backup_vault().backup_vault_name("v").send().await.expect("vault");
    let db = rds
        .create_db_instance()
        .db_instance_identifier("juki-db")
        .db_instance_class("db.r6g.large")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("u")
        .master_user_password("password-1234")
        .send()
        .await
        .expect("db");
    let cluster = rds
        .create_db_cluster()
        .db_cluster_identifier("juki-aurora")
        .engine("aurora-postgresql")
        .master_username("u")
        .master_user_password("password-1234")
        .send()
        .await
        .expect("cluster");
    let run = ec2.run_instances().image_id("ami-0abcdef1234567890").min_count(1).max_count(1).send().await.expect("instance");
    let inst = run.instances()[0].instance_id().expect("instance id");
    let cases = [
        (db.db_instance().and_then(|d| d.db_instance_arn()).expect("db arn").to_string(), "RDS", Some(("DBInstanceIdentifier", "drill-db"))),
        (cluster.db_cluster().and_then(|c| c.db_cluster_arn()).expect("cluster arn").to_string(), "Aurora", Some(("DBClusterIdentifier", "drill-aurora"))),
        (format!("arn:aws:ec2:{PRIMARY}:123456789012:instance/{inst}"), "EC2", None),
    ];
    for (arn, kind, rename) in cases {
        let point = b
            .start_backup_job()
            .backup_vault_name("v")
            .resource_arn(&arn)
            .iam_role_arn(ROLE)
            .send()
            .await
            .expect("backup")
            .recovery_point_arn()
            .expect("p")
            .to_string();
        let mut md = b
            .get_recovery_point_restore_metadata()
            .backup_vault_name("v")
            .recovery_point_arn(&point)
            .send()
            .await
            .expect("md")
            .restore_metadata()
            .cloned()
            .unwrap_or_default();
        if let Some((k, v)) = rename {
            md.insert(k.into(), v.into());
        }
        let id = b
            .start_restore_job()
            .recovery_point_arn(&point)
            .set_metadata(Some(md))
            .iam_role_arn(ROLE)
            .send()
            .await
            .expect("restore")
            .restore_job_id()
            .expect("id")
            .to_string();
        let done = wait_restore(&b, &id).await;
        assert_eq!(done.status().map(|s| s.as_str()), Some("COMPLETED"), "{kind}: {:?}", done.status_message());
        let created = done.created_resource_arn().expect("created").to_string();
        match kind {
            "RDS" => assert!(rds.describe_db_instances().db_instance_identifier("drill-db").send().await.is_ok(), "{created}"),
            "Aurora" => assert!(rds.describe_db_clusters().db_cluster_identifier("drill-aurora").send().await.is_ok(), "{created}"),
            _ => {
                let id = created.rsplit('/').next().expect("id");
                assert_eq!(ec2.describe_instances().instance_ids(id).send().await.expect("restored").reservations().len(), 1);
            }
        }
    }
}

#[tokio::test]
async fn ssm_iam_and_cloudwatch_through_the_rust_sdk() {
    let moto = server().await;
    let ep = moto.endpoint();
    let conf = emulator_config(&ep, PRIMARY);

    let ssm = aws_sdk_ssm::Client::new(&conf);
    let stale = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let mut instances: Vec<serde_json::Value> = (0..5).map(|n| json!({"InstanceId": format!("i-0{n}"), "Patch": {"InstalledCount": 12}})).collect();
    instances.push(json!({"InstanceId": "i-bad", "Patch": {"MissingCount": 1, "CriticalNonCompliantCount": 1}}));
    admin(&ep, "ssm-instances", &json!({"region": PRIMARY, "instances": instances})).expect("register");
    let mut pages = ssm.describe_instance_information().max_results(5).into_paginator().send();
    let mut sizes = Vec::new();
    while let Some(p) = pages.next().await {
        sizes.push(p.expect("DescribeInstanceInformation").instance_information_list().len());
    }
    assert_eq!(sizes, vec![5, 1]);
    let states = ssm.describe_instance_patch_states().instance_ids("i-00").instance_ids("i-bad").send().await.expect("DescribeInstancePatchStates");
    let bad = states.instance_patch_states().iter().find(|s| s.instance_id() == "i-bad").expect("i-bad state");
    assert_eq!(bad.critical_non_compliant_count(), Some(1));
    let items = ssm.list_compliance_items().resource_ids("i-bad").resource_types("ManagedInstance").send().await.expect("ListComplianceItems");
    assert_eq!(items.compliance_items().iter().filter_map(|i| i.status()).map(|s| s.as_str()).collect::<Vec<_>>(), vec!["NON_COMPLIANT"]);
    let sums = ssm.list_resource_compliance_summaries().send().await.expect("ListResourceComplianceSummaries");
    assert_eq!(sums.resource_compliance_summary_items().len(), 6);

    let target = aws_sdk_ssm::types::Target::builder().key("InstanceIds").values("i-00").build();
    let made = ssm.create_association().name("AWS-RunShellScript").association_name("made").targets(target).send().await.expect("CreateAssociation");
    assert!(made.association_description().and_then(|d| d.association_id()).is_some());
    let aid = admin(
        &ep,
        "ssm-association",
        &json!({"region": PRIMARY, "Name": "AWS-UpdateSSMAgent", "AssociationName": "juki-av-definitions",
                "Targets": [{"Key": "InstanceIds", "Values": ["*"]}], "executions": [{"status": "Success", "at": stale}]}),
    )
    .expect("association");
    let aid = aid["AssociationId"].as_str().expect("id").to_string();
    let filter = aws_sdk_ssm::types::AssociationFilter::builder()
        .key(aws_sdk_ssm::types::AssociationFilterKey::AssociationName)
        .value("juki-av-definitions")
        .build()
        .expect("filter");
    let listed = ssm.list_associations().association_filter_list(filter).send().await.expect("ListAssociations");
    assert_eq!(listed.associations().iter().filter_map(|a| a.association_id()).collect::<Vec<_>>(), vec![aid.as_str()]);
    let d = ssm.describe_association().association_id(&aid).send().await.expect("DescribeAssociation");
    let last = d.association_description().and_then(|d| d.last_successful_execution_date()).expect("last success").secs();
    assert!((chrono::Utc::now().timestamp() - last - 3 * 86_400).abs() < 60, "three days ago");
    let ex = ssm.describe_association_executions().association_id(&aid).send().await.expect("DescribeAssociationExecutions");
    assert_eq!(ex.association_executions().iter().filter_map(|e| e.status()).collect::<Vec<_>>(), vec!["Success"]);

    let iam = aws_sdk_iam::Client::new(&conf);
    let mfa = |o: aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput| {
        o.summary_map().and_then(|m| m.get(&aws_sdk_iam::types::SummaryKeyType::AccountMfaEnabled)).copied()
    };
    assert_eq!(mfa(iam.get_account_summary().send().await.expect("summary")), Some(0));
    admin(&ep, "root-mfa", &json!({"enabled": true})).expect("root mfa");
    assert_eq!(mfa(iam.get_account_summary().send().await.expect("summary")), Some(1));

    // CloudWatch: the Rust SDK speaks Smithy RPC v2 CBOR.
    let cw = aws_sdk_cloudwatch::Client::new(&conf);
    let dim = aws_sdk_cloudwatch::types::Dimension::builder().name("InstanceId").value("i-00").build();
    cw.put_metric_alarm()
        .alarm_name("cpu")
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .dimensions(dim.clone())
        .alarm_actions(format!("arn:aws:sns:{PRIMARY}:123456789012:ops"))
        .send()
        .await
        .expect("PutMetricAlarm over CBOR");
    let alarms = cw.describe_alarms().send().await.expect("DescribeAlarms over CBOR");
    let a = &alarms.metric_alarms()[0];
    assert_eq!((a.alarm_name(), a.actions_enabled(), a.dimensions()[0].value()), (Some("cpu"), Some(true), Some("i-00")));
    cw.put_metric_data()
        .namespace("AWS/EC2")
        .metric_data(aws_sdk_cloudwatch::types::MetricDatum::builder().metric_name("CPUUtilization").value(42.0).dimensions(dim.clone()).build())
        .send()
        .await
        .expect("PutMetricData over CBOR");
    let metric = aws_sdk_cloudwatch::types::Metric::builder().namespace("AWS/EC2").metric_name("CPUUtilization").dimensions(dim).build();
    let q = aws_sdk_cloudwatch::types::MetricDataQuery::builder()
        .id("q")
        .metric_stat(aws_sdk_cloudwatch::types::MetricStat::builder().metric(metric).period(60).stat("Average").build())
        .build();
    let now = std::time::SystemTime::now();
    let data = cw
        .get_metric_data()
        .metric_data_queries(q)
        .start_time(aws_smithy_types::DateTime::from(now - Duration::from_secs(600)))
        .end_time(aws_smithy_types::DateTime::from(now + Duration::from_secs(60)))
        .send()
        .await
        .expect("GetMetricData over CBOR");
    assert_eq!(data.metric_data_results()[0].values(), &[42.0]);
    let err = cw.get_dashboard().dashboard_name("none").send().await.expect_err("no such dashboard");
    assert!(err.into_service_error().is_dashboard_not_found_error(), "moto's error arrives as a typed CBOR error");

    // Reset drops the extension's state too.
    moto.reset().expect("reset");
    assert!(ssm.describe_instance_information().send().await.expect("after reset").instance_information_list().is_empty());
    assert_eq!(mfa(iam.get_account_summary().send().await.expect("summary")), Some(0));
}
