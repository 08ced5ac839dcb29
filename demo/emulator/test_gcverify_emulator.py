"""boto3 against the launched extension: every operation it adds, paging, a
restore that creates its resource, the CBOR bridge, and reset clearing it all.

Run with moto's venv: ``.venv/bin/python -m unittest discover -s demo/emulator``.
"""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import boto3
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

HERE = os.path.dirname(os.path.abspath(__file__))
PRIMARY, DR = "ap-northeast-1", "ap-northeast-3"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/backup"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false")
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "gcverify_emulator.py"), "-H", "127.0.0.1", "-p", str(cls.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{cls.endpoint}/moto-api/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        cls.proc.kill()
        raise RuntimeError("the emulator did not start")

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()
        cls.proc.wait()

    def setUp(self):
        self.post("/moto-api/reset", {})

    def post(self, path, body):
        req = urllib.request.Request(self.endpoint + path, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw.strip().startswith(b"{") else raw

    def admin(self, what, body):
        return self.post(f"/gcverify-api/{what}", body)

    def client(self, service, region=PRIMARY):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")

    # -- helpers

    def vaults(self):
        self.client("backup").create_backup_vault(BackupVaultName="v")
        dr = self.client("backup", DR).create_backup_vault(BackupVaultName="dr")
        return dr["BackupVaultArn"]

    def volume(self):
        vol = self.client("ec2").create_volume(AvailabilityZone=f"{PRIMARY}a", Size=8, Encrypted=True)["VolumeId"]
        return f"arn:aws:ec2:{PRIMARY}:{ACCOUNT}:volume/{vol}"

    def wait_restore(self, backup, job_id):
        for _ in range(100):
            j = backup.describe_restore_job(RestoreJobId=job_id)
            if j["Status"] != "RUNNING":
                return j
            time.sleep(0.1)
        self.fail("restore job still RUNNING")

    # -- AWS Backup

    def test_selections(self):
        b = self.client("backup")
        self.vaults()
        plan = b.create_backup_plan(BackupPlan={"BackupPlanName": "p", "Rules": [{"RuleName": "r", "TargetBackupVaultName": "v"}]})["BackupPlanId"]
        sel = {"SelectionName": "s", "IamRoleArn": ROLE, "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "System", "ConditionValue": "juki"}]}
        sid = b.create_backup_selection(BackupPlanId=plan, BackupSelection=sel)["SelectionId"]
        listed = b.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"]
        self.assertEqual([(s["SelectionId"], s["SelectionName"]) for s in listed], [(sid, "s")])
        got = b.get_backup_selection(BackupPlanId=plan, SelectionId=sid)["BackupSelection"]
        self.assertEqual(got["ListOfTags"][0]["ConditionValue"], "juki")
        b.delete_backup_selection(BackupPlanId=plan, SelectionId=sid)
        self.assertEqual(b.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"], [])
        with self.assertRaises(b.exceptions.ResourceNotFoundException):
            b.get_backup_selection(BackupPlanId=plan, SelectionId=sid)

    def test_backup_and_copy_jobs_make_points(self):
        b, bdr = self.client("backup"), self.client("backup", DR)
        dr_arn = self.vaults()
        arn = self.volume()
        job = b.start_backup_job(BackupVaultName="v", ResourceArn=arn, IamRoleArn=ROLE, Lifecycle={"DeleteAfterDays": 7})
        d = b.describe_backup_job(BackupJobId=job["BackupJobId"])
        self.assertEqual((d["State"], d["ResourceArn"], d["ResourceType"], d["RecoveryPointArn"]), ("COMPLETED", arn, "EBS", job["RecoveryPointArn"]))
        self.assertEqual([j["BackupJobId"] for j in b.list_backup_jobs(ByResourceArn=arn)["BackupJobs"]], [job["BackupJobId"]])
        p = b.describe_recovery_point(BackupVaultName="v", RecoveryPointArn=job["RecoveryPointArn"])
        self.assertEqual((p["Status"], p["ResourceArn"], p["IsEncrypted"], p["Lifecycle"]["DeleteAfterDays"]), ("COMPLETED", arn, True, 7))
        self.assertTrue(p["EncryptionKeyArn"].startswith("arn:aws:kms:"))
        self.assertIn("DeleteAt", p["CalculatedLifecycle"])
        self.assertLessEqual(p["CreationDate"], p["CompletionDate"])
        self.assertEqual(b.describe_backup_vault(BackupVaultName="v")["NumberOfRecoveryPoints"], 1)

        copy = b.start_copy_job(RecoveryPointArn=job["RecoveryPointArn"], SourceBackupVaultName="v", DestinationBackupVaultArn=dr_arn, IamRoleArn=ROLE)
        jobs = b.list_copy_jobs()["CopyJobs"]
        self.assertEqual([(j["CopyJobId"], j["State"], j["DestinationBackupVaultArn"]) for j in jobs], [(copy["CopyJobId"], "COMPLETED", dr_arn)])
        self.assertEqual(b.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["ResourceArn"], arn)
        in_dr = bdr.list_recovery_points_by_backup_vault(BackupVaultName="dr")["RecoveryPoints"]
        self.assertEqual([(x["ResourceArn"], x["SourceBackupVaultArn"]) for x in in_dr], [(arn, p["BackupVaultArn"])])
        self.assertEqual(len(bdr.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]), 1)

    def test_seeded_history_pages_and_metadata(self):
        b = self.client("backup")
        self.vaults()
        arn = self.volume()
        days = [(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=n)).isoformat() for n in range(5)]
        seeded = self.admin("recovery-points", {"region": PRIMARY, "vault": "v", "resource_arn": arn, "created": days, "copy_to": {"region": DR, "vault": "dr"}})
        self.assertEqual(len(seeded["RecoveryPointArns"]), 5)
        first = b.list_recovery_points_by_resource(ResourceArn=arn, MaxResults=2)
        self.assertEqual(len(first["RecoveryPoints"]), 2)
        second = b.list_recovery_points_by_resource(ResourceArn=arn, MaxResults=2, NextToken=first["NextToken"])
        third = b.list_recovery_points_by_resource(ResourceArn=arn, MaxResults=2, NextToken=second["NextToken"])
        self.assertNotIn("NextToken", third)
        all_dates = [x["CreationDate"] for x in first["RecoveryPoints"] + second["RecoveryPoints"] + third["RecoveryPoints"]]
        self.assertEqual(len(all_dates), 5)
        self.assertEqual(all_dates, sorted(all_dates, reverse=True), "newest first")
        vault_pages = list(b.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName="v", PaginationConfig={"PageSize": 3}))
        self.assertEqual([len(p["RecoveryPoints"]) for p in vault_pages], [3, 2])
        self.assertEqual(len(self.client("backup", DR).list_recovery_points_by_backup_vault(BackupVaultName="dr", ByResourceArn=arn)["RecoveryPoints"]), 5)
        md = b.get_recovery_point_restore_metadata(BackupVaultName="v", RecoveryPointArn=seeded["RecoveryPointArns"][0])
        self.assertEqual(md["RestoreMetadata"]["availabilityZone"], f"{PRIMARY}a")
        self.assertEqual(md["ResourceType"], "EBS")
        past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2, hours=1)).isoformat()
        rid = self.admin("restore-jobs", {"region": PRIMARY, "resource_arn": arn, "created": past, "minutes": 95})["RestoreJobId"]
        j = b.describe_restore_job(RestoreJobId=rid)
        self.assertEqual((j["Status"], j["SourceResourceArn"]), ("COMPLETED", arn))
        self.assertEqual((j["CompletionDate"] - j["CreationDate"]).total_seconds(), 95 * 60)
        self.assertLessEqual(j["RecoveryPointCreationDate"], j["CreationDate"], "restored from a point older than the job")
        b.delete_recovery_point(BackupVaultName="v", RecoveryPointArn=seeded["RecoveryPointArns"][0])
        self.assertEqual(len(b.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"]), 4)

    def test_restore_creates_an_rds_instance_after_the_duration(self):
        b, rds = self.client("backup"), self.client("rds")
        self.vaults()
        db = rds.create_db_instance(DBInstanceIdentifier="juki-db", DBInstanceClass="db.r6g.large", Engine="postgres", AllocatedStorage=20,
                                    MasterUsername="u", MasterUserPassword="password-1234")["DBInstance"]["DBInstanceArn"]
        point = b.start_backup_job(BackupVaultName="v", ResourceArn=db, IamRoleArn=ROLE)["RecoveryPointArn"]
        md = b.get_recovery_point_restore_metadata(BackupVaultName="v", RecoveryPointArn=point)["RestoreMetadata"]
        self.assertEqual((md["Engine"], md["DBInstanceClass"]), ("postgres", "db.r6g.large"))
        self.admin("restore-duration", {"seconds": 1.0})
        md["DBInstanceIdentifier"] = "drill-copy-1"
        job = b.start_restore_job(RecoveryPointArn=point, Metadata=md, IamRoleArn=ROLE, ResourceType="RDS")["RestoreJobId"]
        self.assertEqual(b.describe_restore_job(RestoreJobId=job)["Status"], "RUNNING")
        ids = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
        self.assertNotIn("drill-copy-1", ids, "not before the duration")
        done = self.wait_restore(b, job)
        self.assertEqual(done["Status"], "COMPLETED", done.get("StatusMessage"))
        self.assertGreaterEqual((done["CompletionDate"] - done["CreationDate"]).total_seconds(), 0.9)
        self.assertTrue(done["CreatedResourceArn"].endswith(":db:drill-copy-1"))
        self.assertEqual(done["SourceResourceArn"], db)
        self.assertIn("drill-copy-1", [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]])
        listed = b.list_restore_jobs(ByStatus="COMPLETED")["RestoreJobs"]
        self.assertEqual([(j["RestoreJobId"], j["CreatedResourceArn"]) for j in listed], [(job, done["CreatedResourceArn"])])

    def test_a_restore_hook_stands_a_real_database_behind_the_restored_endpoint(self):
        import http.server
        import threading

        seen = []

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                fail = seen[-1]["CreatedResourceArn"].endswith("broken")
                body = b"{}" if fail else json.dumps({"Address": "127.0.0.1", "Port": 6543}).encode()
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        b, rds = self.client("backup"), self.client("rds")
        self.vaults()
        db = rds.create_db_instance(DBInstanceIdentifier="juki-db", DBInstanceClass="db.r6g.large", Engine="postgres", AllocatedStorage=20,
                                    MasterUsername="u", MasterUserPassword="password-1234")["DBInstance"]["DBInstanceArn"]
        point = b.start_backup_job(BackupVaultName="v", ResourceArn=db, IamRoleArn=ROLE)["RecoveryPointArn"]
        md = b.get_recovery_point_restore_metadata(BackupVaultName="v", RecoveryPointArn=point)["RestoreMetadata"]
        self.admin("restore-hook", {"url": f"http://127.0.0.1:{server.server_port}/restored"})
        done = self.wait_restore(b, b.start_restore_job(RecoveryPointArn=point, Metadata=dict(md, DBInstanceIdentifier="copy-1"), IamRoleArn=ROLE)["RestoreJobId"])
        self.assertEqual(done["Status"], "COMPLETED", done.get("StatusMessage"))
        self.assertEqual((seen[0]["SourceResourceArn"], seen[0]["CreatedResourceArn"]), (db, done["CreatedResourceArn"]))
        self.assertTrue(seen[0]["RecoveryPointCreationDate"].startswith(str(done["RecoveryPointCreationDate"].date())))
        ep = rds.describe_db_instances(DBInstanceIdentifier="copy-1")["DBInstances"][0]["Endpoint"]
        self.assertEqual((ep["Address"], ep["Port"]), ("127.0.0.1", 6543))
        other = rds.describe_db_instances(DBInstanceIdentifier="juki-db")["DBInstances"][0]["Endpoint"]
        self.assertNotEqual(other["Address"], "127.0.0.1", "only the restored copy's endpoint is replaced")
        # A hook that fails fails the restore, and names the instance it had created (to be deleted).
        failed = self.wait_restore(b, b.start_restore_job(RecoveryPointArn=point, Metadata=dict(md, DBInstanceIdentifier="broken"), IamRoleArn=ROLE)["RestoreJobId"])
        self.assertEqual(failed["Status"], "FAILED")
        self.assertIn("restore hook", failed["StatusMessage"])
        self.assertTrue(failed["CreatedResourceArn"].endswith(":db:broken"))

    def test_restore_creates_cluster_volume_and_instance(self):
        b, rds, ec2 = self.client("backup"), self.client("rds"), self.client("ec2")
        self.vaults()
        cluster = rds.create_db_cluster(DBClusterIdentifier="juki-aurora", Engine="aurora-postgresql", MasterUsername="u",
                                        MasterUserPassword="password-1234")["DBCluster"]["DBClusterArn"]
        inst = ec2.run_instances(ImageId="ami-0abcdef1234567890", InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        sources = {
            "Aurora": (cluster, {"DBClusterIdentifier": "drill-aurora"}),
            "EBS": (self.volume(), {"availabilityZone": f"{PRIMARY}a"}),
            "EC2": (f"arn:aws:ec2:{PRIMARY}:{ACCOUNT}:instance/{inst}", {}),
        }
        for kind, (arn, extra) in sources.items():
            point = b.start_backup_job(BackupVaultName="v", ResourceArn=arn, IamRoleArn=ROLE)["RecoveryPointArn"]
            md = dict(b.get_recovery_point_restore_metadata(BackupVaultName="v", RecoveryPointArn=point)["RestoreMetadata"], **extra)
            done = self.wait_restore(b, b.start_restore_job(RecoveryPointArn=point, Metadata=md, IamRoleArn=ROLE)["RestoreJobId"])
            self.assertEqual((kind, done["Status"]), (kind, "COMPLETED"), done.get("StatusMessage"))
            created = done["CreatedResourceArn"]
            if kind == "Aurora":
                self.assertIn("drill-aurora", [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]])
            elif kind == "EBS":
                self.assertEqual(len(ec2.describe_volumes(VolumeIds=[created.split("/")[-1]])["Volumes"]), 1)
            else:
                self.assertEqual(len(ec2.describe_instances(InstanceIds=[created.split("/")[-1]])["Reservations"]), 1)

    # -- SSM

    def test_ssm_instances_patches_associations(self):
        ssm = self.client("ssm")
        old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3)).isoformat()
        self.admin("ssm-instances", {"region": PRIMARY, "instances": [
            {"InstanceId": f"i-{n:02}", "Patch": {"InstalledCount": 10}} for n in range(5)
        ] + [{"InstanceId": "i-bad", "PingStatus": "ConnectionLost", "Patch": {"MissingCount": 2, "SecurityNonCompliantCount": 1}}]})
        pages = list(ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 5}))
        self.assertEqual([len(p["InstanceInformationList"]) for p in pages], [5, 1])
        bad = [i for p in pages for i in p["InstanceInformationList"] if i["InstanceId"] == "i-bad"]
        self.assertEqual(bad[0]["PingStatus"], "ConnectionLost")
        states = {s["InstanceId"]: s for s in ssm.describe_instance_patch_states(InstanceIds=["i-00", "i-bad", "i-none"])["InstancePatchStates"]}
        self.assertEqual(set(states), {"i-00", "i-bad"})
        self.assertEqual((states["i-bad"]["SecurityNonCompliantCount"], states["i-00"]["InstalledCount"]), (1, 10))

        made = ssm.create_association(Name="AWS-RunShellScript", AssociationName="made", Targets=[{"Key": "InstanceIds", "Values": ["i-00"]}])
        self.assertEqual(made["AssociationDescription"]["Overview"]["Status"], "Pending")
        aid = self.admin("ssm-association", {"region": PRIMARY, "Name": "AWS-UpdateSSMAgent", "AssociationName": "av",
                                             "Targets": [{"Key": "InstanceIds", "Values": ["i-00", "i-bad"]}],
                                             "executions": [{"status": "Success", "at": old}, {"status": "Failed", "at": dt.datetime.now(dt.timezone.utc).isoformat()}]})["AssociationId"]
        listed = ssm.list_associations(AssociationFilterList=[{"key": "AssociationName", "value": "av"}])["Associations"]
        self.assertEqual([(a["AssociationId"], a["Overview"]["Status"]) for a in listed], [(aid, "Failed")])
        d = ssm.describe_association(AssociationId=aid)["AssociationDescription"]
        self.assertEqual(d["LastSuccessfulExecutionDate"].isoformat()[:16], old[:16])
        self.assertGreater(d["LastExecutionDate"], d["LastSuccessfulExecutionDate"])
        execs = ssm.describe_association_executions(AssociationId=aid)["AssociationExecutions"]
        self.assertEqual([e["Status"] for e in execs], ["Failed", "Success"])
        items = ssm.list_compliance_items(ResourceIds=["i-bad"], ResourceTypes=["ManagedInstance"])["ComplianceItems"]
        self.assertEqual(sorted((i["ComplianceType"], i["Status"]) for i in items), [("Association", "NON_COMPLIANT"), ("Patch", "NON_COMPLIANT")])
        summaries = ssm.list_resource_compliance_summaries(Filters=[{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}])
        self.assertEqual(sorted((s["ResourceId"], s["Status"]) for s in summaries["ResourceComplianceSummaryItems"]),
                         [(f"i-{n:02}", "COMPLIANT") for n in range(5)] + [("i-bad", "NON_COMPLIANT")])
        with self.assertRaises(ssm.exceptions.AssociationDoesNotExist):
            ssm.describe_association(AssociationId="00000000-0000-0000-0000-000000000000")

    # -- IAM, CloudWatch

    def test_root_mfa_settable(self):
        iam = self.client("iam")
        self.assertEqual(iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"], 0)
        self.admin("root-mfa", {"enabled": True})
        self.assertEqual(iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"], 1)

    def test_cloudwatch_over_cbor(self):
        cw = self.client("cloudwatch")
        # boto3 with this botocore already speaks CBOR to CloudWatch; say so, or the test proves nothing.
        self.assertEqual(cw.meta.service_model.protocol, "smithy-rpc-v2-cbor")
        cw.put_metric_alarm(AlarmName="cpu", MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average", Period=60, EvaluationPeriods=1,
                            Threshold=80, ComparisonOperator="GreaterThanThreshold", Dimensions=[{"Name": "InstanceId", "Value": "i-1"}],
                            AlarmActions=[f"arn:aws:sns:{PRIMARY}:{ACCOUNT}:ops"])
        alarms = cw.describe_alarms()["MetricAlarms"]
        self.assertEqual([(a["AlarmName"], a["Dimensions"][0]["Value"], a["ActionsEnabled"]) for a in alarms], [("cpu", "i-1", True)])
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "CPUUtilization", "Value": 42.0, "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]}])
        now = dt.datetime.now(dt.timezone.utc)
        data = cw.get_metric_data(
            MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                                                                     "Dimensions": [{"Name": "InstanceId", "Value": "i-1"}]}, "Period": 60, "Stat": "Average"}}],
            StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
        )
        self.assertEqual(data["MetricDataResults"][0]["Values"], [42.0])
        # The wire format itself, as the Rust SDK sends it (no trailing slash).
        om = cw.meta.service_model.operation_model("DescribeAlarms")
        req = RpcV2CBORSerializer().serialize_to_request({"AlarmNames": ["cpu"]}, om)
        headers = dict(req["headers"], Authorization=f"AWS4-HMAC-SHA256 Credential=testing/20260101/{PRIMARY}/monitoring/aws4_request, SignedHeaders=host, Signature=x")
        self.assertEqual(req["url_path"], "/service/GraniteServiceVersion20100801/operation/DescribeAlarms")
        with urllib.request.urlopen(urllib.request.Request(self.endpoint + req["url_path"], data=req["body"], headers=headers, method="POST")) as r:
            self.assertEqual(r.headers["smithy-protocol"], "rpc-v2-cbor")
            out = RpcV2CBORParser().parse({"body": r.read(), "headers": {}, "status_code": 200}, om.output_shape)
        self.assertEqual([a["AlarmName"] for a in out["MetricAlarms"]], ["cpu"])
        # moto's errors come back as CBOR errors with their code.
        with self.assertRaises(cw.exceptions.ResourceNotFound):
            cw.get_dashboard(DashboardName="none")

    # -- reset

    def test_reset_clears_extension_state(self):
        b, ssm = self.client("backup"), self.client("ssm")
        self.vaults()
        arn = self.volume()
        self.admin("recovery-points", {"region": PRIMARY, "vault": "v", "resource_arn": arn, "created": [dt.datetime.now(dt.timezone.utc).isoformat()]})
        self.admin("ssm-instances", {"region": PRIMARY, "instances": [{"InstanceId": "i-1"}]})
        self.admin("root-mfa", {"enabled": True})
        self.admin("restore-duration", {"seconds": 30})
        self.post("/moto-api/reset", {})
        self.vaults()
        self.assertEqual(b.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"], [])
        self.assertEqual(ssm.describe_instance_information()["InstanceInformationList"], [])
        self.assertEqual(self.client("iam").get_account_summary()["SummaryMap"]["AccountMFAEnabled"], 0)
        # The duration is back to 0: a restore completes at once.
        point = b.start_backup_job(BackupVaultName="v", ResourceArn=self.volume(), IamRoleArn=ROLE)["RecoveryPointArn"]
        md = b.get_recovery_point_restore_metadata(BackupVaultName="v", RecoveryPointArn=point)["RestoreMetadata"]
        self.assertEqual(self.wait_restore(b, b.start_restore_job(RecoveryPointArn=point, Metadata=md, IamRoleArn=ROLE)["RestoreJobId"])["Status"], "COMPLETED")


if __name__ == "__main__":
    unittest.main()
