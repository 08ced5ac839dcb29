"""gcverify's extension of the moto server (this project's code, not moto's).

Run exactly like moto_server: ``python gcverify_emulator.py -H 127.0.0.1 -p PORT``.
It patches moto in-process, then starts moto's own server, adding what moto
5.2.5 does not serve and a real account has (see the README, "The emulator
extension"):

* AWS Backup: selections, backup/copy/restore jobs, recovery points (listing,
  describe, restore metadata); a restore job creates the restored resource in
  moto after a configurable duration and reports its ARN (a restored
  database's endpoint can point at a real database: ``restore-hook``).
* SSM: managed instances, patch states, compliance, associations and their
  executions.
* CloudWatch over Smithy RPC v2 CBOR (what aws-sdk-cloudwatch for Rust sends),
  bridged to moto's JSON 1.0 handler with botocore's own CBOR parser/serialiser.
* IAM root MFA (GetAccountSummary AccountMFAEnabled) settable.
* ``POST /gcverify-api/<what>`` (JSON): seed state no AWS API can create
  (back-dated recovery points, SSM agent/patch/association state, root MFA,
  the restore duration, a hook that stands a real database behind a restored
  RDS/Aurora endpoint). ``POST /moto-api/reset`` clears all of it.

State lives on moto's per-region backend objects, so moto's reset drops it;
the few process-wide settings are cleared by a wrapped reset.
"""

import datetime as dt
import io
import json
import sys
import threading
import uuid
from typing import Any

try:
    from botocore.parsers import JSONParser, RpcV2CBORParser
    from botocore.serialize import RpcV2CBORSerializer
except ImportError:  # the CBOR bridge needs botocore's smithy-rpc-v2-cbor support
    sys.exit("gcverify emulator: this botocore has no smithy-rpc-v2-cbor support; upgrade it in moto's venv (tested with botocore 1.44.8)")

import moto.server
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model
from moto.moto_api._internal.models import MotoAPIBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# moto's Backup, SSM and IAM modules are imported when first needed: moto.ssm
# pulls in all of EC2 (~0.9 s), which would slow every server start.


def backup_backends():
    from moto.backup.models import backup_backends as b

    return b


def ssm_backends():
    from moto.ssm.models import ssm_backends as b

    return b


def iam_backends():
    from moto.iam.models import iam_backends as b

    return b

# Process-wide settings; cleared by /moto-api/reset.
DEFAULTS = {"restore_seconds": 0.0}
SETTINGS = dict(DEFAULTS)
# Bumped by reset: a restore timer from before a reset must not create anything.
EPOCH = [0]
LOCK = threading.RLock()
SERVER = {"host": "127.0.0.1", "port": 5000}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def parse_time(v: Any) -> dt.datetime:
    """ISO 8601 (a trailing Z allowed) or epoch seconds, as UTC."""
    if isinstance(v, (int, float)):
        return dt.datetime.fromtimestamp(v, dt.timezone.utc)
    t = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def fit(value: Any, shape: Any) -> Any:
    """Drop what the output shape does not have, so one record serves several shapes."""
    if shape is None or value is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: fit(v, shape.members[k]) for k, v in value.items() if k in shape.members and v is not None}
    if shape.type_name == "list" and isinstance(value, list):
        return [fit(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: fit(v, shape.value) for k, v in value.items()}
    return value


def result(service: str, op: str, out: dict[str, Any]) -> ActionResult:
    shape = get_service_model(service).operation_model(op).output_shape
    return ActionResult(fit(out, shape))


def page(items: list[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    """MaxResults/NextToken paging; the token is the next item's index."""
    try:
        start = int(params.get("NextToken") or 0)
    except ValueError:
        start = 0
    size = int(params.get("MaxResults") or 1000)
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def error_result(service: str, e: ApiError) -> tuple[int, dict[str, str], str]:
    body = {"__type": e.code, "message": e.message, "Message": e.message, "Code": e.code}
    headers = {"x-amzn-errortype": e.code, "Content-Type": "application/x-amz-json-1.1" if service == "ssm" else "application/json"}
    return e.status, headers, json.dumps(body)


def handled(service: str):
    """Turn ApiError into the protocol's error answer (moto's exceptions are left to moto)."""

    def wrap(fn):
        def inner(self):
            try:
                return fn(self)
            except ApiError as e:
                status, headers, body = error_result(service, e)
                headers["status"] = str(status)
                return body, headers

        inner.__name__ = fn.__name__
        return inner

    return wrap


# ---------------------------------------------------------------- AWS Backup


def bstate(region: str, account: str = DEFAULT_ACCOUNT_ID) -> dict[str, Any]:
    """This project's Backup state of one region, kept on moto's backend (reset drops it)."""
    backend = backup_backends()[account][region]
    st = getattr(backend, "gcverify", None)
    if st is None:
        st = {"selections": {}, "points": [], "backup_jobs": [], "copy_jobs": [], "restore_jobs": []}
        backend.gcverify = st
    return st


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or not parts[3]:
        raise ApiError("InvalidParameterValueException", f"not a regional ARN: {arn}")
    return parts[3]


def resource_type(arn: str) -> str:
    """AWS Backup's resource type of an ARN."""
    parts = arn.split(":")
    service = parts[2] if len(parts) > 2 else ""
    rest = ":".join(parts[5:])
    if service == "ec2":
        return "EBS" if rest.startswith("volume/") else "EC2"
    if service == "rds":
        return "Aurora" if rest.startswith("cluster:") else "RDS"
    return {"s3": "S3", "dynamodb": "DynamoDB", "elasticfilesystem": "EFS", "fsx": "FSx"}.get(service, service.upper())


def resource_name(arn: str) -> str:
    return arn.replace("/", ":").split(":")[-1]


def vault_of(region: str, name: str, account: str = DEFAULT_ACCOUNT_ID):
    vault = backup_backends()[account][region].vaults.get(name)
    if vault is None:
        raise ApiError("ResourceNotFoundException", f"Backup vault {name} does not exist in {region}", 400)
    return vault


def restore_metadata_of(region: str, arn: str, account: str = DEFAULT_ACCOUNT_ID) -> dict[str, str]:
    """What a restore needs, read from the source resource in moto when it exists."""
    kind, name = resource_type(arn), resource_name(arn)
    md: dict[str, str] = {}
    try:
        if kind == "RDS":
            from moto.rds.models import rds_backends

            db = rds_backends[account][region].databases.get(name)
            md = {"DBInstanceIdentifier": name, "Engine": getattr(db, "engine", None) or "postgres"}
            if db is not None:
                md["DBInstanceClass"] = db.db_instance_class
                md["AllocatedStorage"] = str(db.allocated_storage)
        elif kind == "Aurora":
            from moto.rds.models import rds_backends

            cl = rds_backends[account][region].clusters.get(name)
            md = {"DBClusterIdentifier": name, "Engine": getattr(cl, "engine", None) or "aurora-postgresql"}
        elif kind == "EC2":
            from moto.ec2.models import ec2_backends

            inst = ec2_backends[account][region].get_instance(name)
            md = {"InstanceType": inst.instance_type, "ImageId": inst.image_id, "SubnetId": inst.subnet_id or ""}
        elif kind == "EBS":
            from moto.ec2.models import ec2_backends

            vol = ec2_backends[account][region].get_volume(name)
            md = {"volumeId": name, "availabilityZone": vol.zone.name, "volumeSize": str(vol.size), "encrypted": str(bool(vol.encrypted)).lower()}
    except Exception:  # the source may be gone or never existed (seeded history): restore with defaults
        pass
    return {k: v for k, v in md.items() if v}


def add_point(region: str, vault_name: str, resource_arn: str, created: dt.datetime, *, status: str = "COMPLETED", encrypted: bool = True,
              key_arn: str | None = None, delete_after_days: int | None = 35, source_vault_arn: str | None = None, plan: dict | None = None,
              account: str = DEFAULT_ACCOUNT_ID, metadata: dict | None = None) -> dict[str, Any]:
    vault = vault_of(region, vault_name, account)
    kind = resource_type(resource_arn)
    key = key_arn or vault.encryption_key_arn or f"arn:aws:kms:{region}:{account}:key/{uuid.uuid5(uuid.NAMESPACE_URL, vault.backup_vault_arn)}"
    point = {
        "RecoveryPointArn": f"arn:aws:backup:{region}:{account}:recovery-point:{uuid.uuid4()}",
        "BackupVaultName": vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "SourceBackupVaultArn": source_vault_arn,
        "ResourceArn": resource_arn,
        "ResourceType": kind,
        "ResourceName": resource_name(resource_arn),
        "CreatedBy": plan or {},
        "IamRoleArn": f"arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole",
        "Status": status,
        "CreationDate": created,
        "CompletionDate": created + dt.timedelta(minutes=12),
        "BackupSizeInBytes": 10 * 1024**3,
        "BackupSizeBytes": 10 * 1024**3,
        "Lifecycle": {"DeleteAfterDays": delete_after_days} if delete_after_days else {},
        "CalculatedLifecycle": {"DeleteAt": created + dt.timedelta(days=delete_after_days)} if delete_after_days else {},
        "EncryptionKeyArn": key if encrypted else None,
        "IsEncrypted": bool(encrypted),
        "StorageClass": "WARM",
        "VaultType": "BACKUP_VAULT",
        "IsParent": False,
        "RestoreMetadata": metadata if metadata is not None else restore_metadata_of(arn_region(resource_arn), resource_arn, account),
    }
    with LOCK:
        bstate(region, account)["points"].append(point)
        vault.num_of_recovery_points = sum(1 for p in bstate(region, account)["points"] if p["BackupVaultName"] == vault_name)
    return point


def find_point(region: str, arn: str, vault: str | None = None) -> dict[str, Any]:
    for p in bstate(region)["points"]:
        if p["RecoveryPointArn"] == arn and (vault is None or p["BackupVaultName"] == vault):
            return p
    raise ApiError("ResourceNotFoundException", f"Recovery point {arn} not found", 400)


def finish_restore(region: str, job: dict[str, Any], epoch: int) -> None:
    """RUNNING → COMPLETED: create the restored resource through moto's own API."""
    import boto3

    with LOCK:
        if epoch != EPOCH[0] or job["Status"] != "RUNNING":
            return
    md = dict(job.get("Metadata") or {})
    kind = job["ResourceType"]
    conn = {
        "endpoint_url": f"http://{SERVER['host']}:{SERVER['port']}",
        "region_name": region,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }

    def flag(name: str, default: bool) -> bool:
        return str(md.get(name, str(default))).lower() == "true"

    def ids(name: str) -> list[str]:
        raw = md.get(name)
        if not raw:
            return []
        try:
            v = json.loads(raw)
            return v if isinstance(v, list) else [str(v)]
        except ValueError:
            return [s.strip() for s in raw.split(",") if s.strip()]

    made = None  # a database created before its endpoint hook failed: reported, so the caller deletes it
    try:
        if kind == "RDS":
            rds = boto3.client("rds", **conn)
            args = {
                "DBInstanceIdentifier": md.get("DBInstanceIdentifier") or f"restored-{job['RestoreJobId'][:8]}",
                "DBInstanceClass": md.get("DBInstanceClass", "db.t3.medium"),
                "Engine": md.get("Engine", "postgres"),
                "AllocatedStorage": int(md.get("AllocatedStorage", "20")),
                "MasterUsername": "restored",
                "MasterUserPassword": "restored-password-1",
                "StorageEncrypted": True,
                "PubliclyAccessible": flag("PubliclyAccessible", False),
                "MultiAZ": flag("MultiAZ", False),
                "DeletionProtection": flag("DeletionProtection", False),
            }
            if md.get("DBSubnetGroupName"):
                args["DBSubnetGroupName"] = md["DBSubnetGroupName"]
            if ids("VpcSecurityGroupIds"):
                args["VpcSecurityGroupIds"] = ids("VpcSecurityGroupIds")
            created = rds.create_db_instance(**args)["DBInstance"]["DBInstanceArn"]
            made = created
            restored_database(region, job, created)
        elif kind == "Aurora":
            rds = boto3.client("rds", **conn)
            args = {
                "DBClusterIdentifier": md.get("DBClusterIdentifier") or f"restored-{job['RestoreJobId'][:8]}",
                "Engine": md.get("Engine", "aurora-postgresql"),
                "MasterUsername": "restored",
                "MasterUserPassword": "restored-password-1",
                "StorageEncrypted": True,
                "DeletionProtection": flag("DeletionProtection", False),
            }
            if md.get("DBSubnetGroupName"):
                args["DBSubnetGroupName"] = md["DBSubnetGroupName"]
            if ids("VpcSecurityGroupIds"):
                args["VpcSecurityGroupIds"] = ids("VpcSecurityGroupIds")
            created = rds.create_db_cluster(**args)["DBCluster"]["DBClusterArn"]
            made = created
            restored_database(region, job, created)
        elif kind == "EBS":
            ec2 = boto3.client("ec2", **conn)
            vol = ec2.create_volume(
                AvailabilityZone=md.get("availabilityZone") or f"{region}a",
                Size=int(md.get("volumeSize", "8")),
                Encrypted=flag("encrypted", True),
            )
            created = f"arn:aws:ec2:{region}:{DEFAULT_ACCOUNT_ID}:volume/{vol['VolumeId']}"
        elif kind == "EC2":
            ec2 = boto3.client("ec2", **conn)
            args = {"ImageId": md.get("ImageId") or "ami-0abcdef1234567890", "InstanceType": md.get("InstanceType", "t3.micro"), "MinCount": 1, "MaxCount": 1}
            if md.get("SubnetId"):
                args["SubnetId"] = md["SubnetId"]
            if ids("SecurityGroupIds"):
                args["SecurityGroupIds"] = ids("SecurityGroupIds")
            inst = ec2.run_instances(**args)["Instances"][0]["InstanceId"]
            created = f"arn:aws:ec2:{region}:{DEFAULT_ACCOUNT_ID}:instance/{inst}"
        else:
            raise ApiError("InvalidParameterValueException", f"restoring {kind} is not supported by this emulator")
        with LOCK:
            if epoch != EPOCH[0]:
                return
            job.update(Status="COMPLETED", CreatedResourceArn=created, CompletionDate=now(), PercentDone="100.00%")
    except Exception as e:  # a restore that cannot create its resource fails, as in AWS
        with LOCK:
            job.update(Status="FAILED", StatusMessage=str(e)[:500], CompletionDate=now())
            if made:
                job["CreatedResourceArn"] = made


def restored_database(region: str, job: dict[str, Any], created_arn: str) -> None:
    """With a restore hook set (``/gcverify-api/restore-hook``), ask it for a
    real database standing for the restored one and report its address/port
    as the restored instance's or cluster's endpoint. The demo's hook makes a
    PostgreSQL copy as of the recovery point, so queries on the restored
    endpoint read real data. A hook that fails makes the restore fail."""
    url = SETTINGS.get("restore_hook")
    if not url:
        return
    import urllib.request

    payload = {
        "Region": region,
        "RestoreJobId": job["RestoreJobId"],
        "ResourceType": job["ResourceType"],
        "SourceResourceArn": job["SourceResourceArn"],
        "CreatedResourceArn": created_arn,
        "RecoveryPointCreationDate": parse_time(job["RecoveryPointCreationDate"]).isoformat(),
    }
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            answer = json.loads(r.read() or b"{}")
    except Exception as e:
        raise RuntimeError(f"restore hook {url}: {e}") from e
    install_rds_endpoints()
    from moto.rds.models import rds_backends

    backend = rds_backends[DEFAULT_ACCOUNT_ID][region]
    ident = created_arn.rsplit(":", 1)[-1]
    obj = backend.databases.get(ident) if job["ResourceType"] == "RDS" else backend.clusters.get(ident)
    if obj is None:
        raise RuntimeError(f"restored {job['ResourceType']} {ident} vanished before its endpoint was set")
    obj._gcverify_address = str(answer["Address"])
    obj.port = int(answer["Port"])


def install_rds_endpoints() -> None:
    """A restored instance's/cluster's endpoint may be set per object (moto derives it from the name)."""
    from moto.rds.models import DBCluster, DBInstance

    with LOCK:
        if getattr(DBInstance, "_gcverify_endpoints", False):
            return
        address = DBInstance.address.fget
        DBInstance.address = property(lambda s: s.__dict__.get("_gcverify_address") or address(s))
        endpoint = DBCluster.endpoint.fget
        DBCluster.endpoint = property(lambda s: s.__dict__.get("_gcverify_address") or endpoint(s))
        DBInstance._gcverify_endpoints = True


def bparams(self) -> dict[str, Any]:
    """The request's parameters by member name (URI labels, query string, body)."""
    self.parse_parameters(self.normalized_request)
    return dict(self.params)


def create_backup_selection(self):
    p = bparams(self)
    plan_id = p["BackupPlanId"]
    plans = self.backup_backend.plans
    if plan_id not in plans:
        raise ApiError("ResourceNotFoundException", f"Backup plan {plan_id} does not exist")
    sel = dict(p["BackupSelection"])
    sid = str(uuid.uuid4())
    created = now()
    with LOCK:
        bstate(self.region, self.current_account)["selections"][sid] = {
            "SelectionId": sid,
            "BackupPlanId": plan_id,
            "SelectionName": sel.get("SelectionName"),
            "IamRoleArn": sel.get("IamRoleArn"),
            "CreationDate": created,
            "CreatorRequestId": p.get("CreatorRequestId"),
            "BackupSelection": sel,
        }
    return result("backup", "CreateBackupSelection", {"SelectionId": sid, "BackupPlanId": plan_id, "CreationDate": created})


def _selection(self, p: dict[str, Any]) -> dict[str, Any]:
    sel = bstate(self.region, self.current_account)["selections"].get(p.get("SelectionId"))
    if sel is None or sel["BackupPlanId"] != p.get("BackupPlanId"):
        raise ApiError("ResourceNotFoundException", f"Backup selection {p.get('SelectionId')} does not exist")
    return sel


def get_backup_selection(self):
    sel = _selection(self, bparams(self))
    return result("backup", "GetBackupSelection", sel)


def delete_backup_selection(self):
    p = bparams(self)
    _selection(self, p)
    with LOCK:
        del bstate(self.region, self.current_account)["selections"][p["SelectionId"]]
    return "{}"


def list_backup_selections(self):
    p = bparams(self)
    items = [s for s in bstate(self.region, self.current_account)["selections"].values() if s["BackupPlanId"] == p["BackupPlanId"]]
    return result("backup", "ListBackupSelections", page(items, p, "BackupSelectionsList"))


def _plan_ref(self, plan_id: str | None) -> dict[str, Any]:
    plan = self.backup_backend.plans.get(plan_id) if plan_id else None
    if plan is None:
        return {}
    return {"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn, "BackupPlanVersion": plan.version_id}


def start_backup_job(self):
    """An on-demand backup: completes at once, leaving a recovery point in the vault."""
    p = bparams(self)
    arn = p["ResourceArn"]
    created = now()
    lifecycle = (p.get("Lifecycle") or {}).get("DeleteAfterDays")
    point = add_point(self.region, p["BackupVaultName"], arn, created, delete_after_days=lifecycle, account=self.current_account)
    job = {
        "AccountId": self.current_account,
        "BackupJobId": str(uuid.uuid4()).upper(),
        "BackupVaultName": point["BackupVaultName"],
        "BackupVaultArn": point["BackupVaultArn"],
        "RecoveryPointArn": point["RecoveryPointArn"],
        "ResourceArn": arn,
        "ResourceName": point["ResourceName"],
        "ResourceType": point["ResourceType"],
        "CreationDate": created,
        "CompletionDate": point["CompletionDate"],
        "StartBy": created + dt.timedelta(hours=8),
        "State": "COMPLETED",
        "PercentDone": "100.0",
        "BackupSizeInBytes": point["BackupSizeInBytes"],
        "IamRoleArn": p.get("IamRoleArn"),
        "CreatedBy": {},
        "BackupType": "",
        "IsParent": False,
    }
    with LOCK:
        bstate(self.region, self.current_account)["backup_jobs"].append(job)
    return result("backup", "StartBackupJob", {"BackupJobId": job["BackupJobId"], "RecoveryPointArn": point["RecoveryPointArn"], "CreationDate": created})


def describe_backup_job(self):
    p = bparams(self)
    for j in bstate(self.region, self.current_account)["backup_jobs"]:
        if j["BackupJobId"] == p["BackupJobId"]:
            return result("backup", "DescribeBackupJob", j)
    raise ApiError("ResourceNotFoundException", f"Backup job {p['BackupJobId']} does not exist")


def list_backup_jobs(self):
    p = bparams(self)
    items = [
        j
        for j in bstate(self.region, self.current_account)["backup_jobs"]
        if (not p.get("ByResourceArn") or j["ResourceArn"] == p["ByResourceArn"])
        and (not p.get("ByState") or j["State"] == p["ByState"])
        and (not p.get("ByBackupVaultName") or j["BackupVaultName"] == p["ByBackupVaultName"])
    ]
    return result("backup", "ListBackupJobs", page(items, p, "BackupJobs"))


def start_copy_job(self):
    """Copies a point into another (e.g. DR-region) vault; completes at once."""
    p = bparams(self)
    src = find_point(self.region, p["RecoveryPointArn"], p["SourceBackupVaultName"])
    dest_arn = p["DestinationBackupVaultArn"]
    dest_region = arn_region(dest_arn)
    dest_name = dest_arn.split(":")[-1]
    lifecycle = (p.get("Lifecycle") or {}).get("DeleteAfterDays") or (src.get("Lifecycle") or {}).get("DeleteAfterDays")
    copy = add_point(dest_region, dest_name, src["ResourceArn"], src["CreationDate"], delete_after_days=lifecycle, source_vault_arn=src["BackupVaultArn"],
                     account=self.current_account, metadata=src.get("RestoreMetadata"))
    created = now()
    job = {
        "AccountId": self.current_account,
        "CopyJobId": str(uuid.uuid4()).upper(),
        "SourceBackupVaultArn": src["BackupVaultArn"],
        "SourceRecoveryPointArn": src["RecoveryPointArn"],
        "DestinationBackupVaultArn": dest_arn,
        "DestinationRecoveryPointArn": copy["RecoveryPointArn"],
        "ResourceArn": src["ResourceArn"],
        "ResourceName": src["ResourceName"],
        "ResourceType": src["ResourceType"],
        "CreationDate": created,
        "CompletionDate": created,
        "State": "COMPLETED",
        "BackupSizeInBytes": src["BackupSizeInBytes"],
        "IamRoleArn": p.get("IamRoleArn"),
        "CreatedBy": {},
        "IsParent": False,
    }
    with LOCK:
        bstate(self.region, self.current_account)["copy_jobs"].append(job)
    return result("backup", "StartCopyJob", {"CopyJobId": job["CopyJobId"], "CreationDate": created, "IsParent": False})


def describe_copy_job(self):
    p = bparams(self)
    for j in bstate(self.region, self.current_account)["copy_jobs"]:
        if j["CopyJobId"] == p["CopyJobId"]:
            return result("backup", "DescribeCopyJob", {"CopyJob": j})
    raise ApiError("ResourceNotFoundException", f"Copy job {p['CopyJobId']} does not exist")


def list_copy_jobs(self):
    p = bparams(self)
    items = [
        j
        for j in bstate(self.region, self.current_account)["copy_jobs"]
        if (not p.get("ByResourceArn") or j["ResourceArn"] == p["ByResourceArn"])
        and (not p.get("ByDestinationVaultArn") or j["DestinationBackupVaultArn"] == p["ByDestinationVaultArn"])
        and (not p.get("ByState") or j["State"] == p["ByState"])
    ]
    return result("backup", "ListCopyJobs", page(items, p, "CopyJobs"))


def _newest_first(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(points, key=lambda x: x["CreationDate"], reverse=True)


def list_recovery_points_by_resource(self):
    p = bparams(self)
    items = _newest_first([x for x in bstate(self.region, self.current_account)["points"] if x["ResourceArn"] == p["ResourceArn"]])
    return result("backup", "ListRecoveryPointsByResource", page(items, p, "RecoveryPoints"))


def list_recovery_points_by_backup_vault(self):
    p = bparams(self)
    vault_of(self.region, p["BackupVaultName"], self.current_account)
    after, before = p.get("ByCreatedAfter"), p.get("ByCreatedBefore")
    items = _newest_first(
        [
            x
            for x in bstate(self.region, self.current_account)["points"]
            if x["BackupVaultName"] == p["BackupVaultName"]
            and (not p.get("ByResourceArn") or x["ResourceArn"] == p["ByResourceArn"])
            and (not p.get("ByResourceType") or x["ResourceType"] == p["ByResourceType"])
            and (after is None or x["CreationDate"] >= parse_time(after.timestamp() if hasattr(after, "timestamp") else after))
            and (before is None or x["CreationDate"] <= parse_time(before.timestamp() if hasattr(before, "timestamp") else before))
        ]
    )
    return result("backup", "ListRecoveryPointsByBackupVault", page(items, p, "RecoveryPoints"))


def describe_recovery_point(self):
    p = bparams(self)
    return result("backup", "DescribeRecoveryPoint", find_point(self.region, p["RecoveryPointArn"], p["BackupVaultName"]))


def delete_recovery_point(self):
    p = bparams(self)
    point = find_point(self.region, p["RecoveryPointArn"], p["BackupVaultName"])
    with LOCK:
        bstate(self.region, self.current_account)["points"].remove(point)
    return "{}"


def get_recovery_point_restore_metadata(self):
    p = bparams(self)
    point = find_point(self.region, p["RecoveryPointArn"], p["BackupVaultName"])
    return result(
        "backup",
        "GetRecoveryPointRestoreMetadata",
        {
            "BackupVaultArn": point["BackupVaultArn"],
            "RecoveryPointArn": point["RecoveryPointArn"],
            "RestoreMetadata": point["RestoreMetadata"],
            "ResourceType": point["ResourceType"],
        },
    )


def start_restore_job(self):
    """RUNNING now; COMPLETED after the configured duration, with the resource created."""
    p = bparams(self)
    point = find_point(self.region, p["RecoveryPointArn"])
    token = p.get("IdempotencyToken")
    st = bstate(self.region, self.current_account)
    if token:
        for j in st["restore_jobs"]:
            if j.get("IdempotencyToken") == token and j["RecoveryPointArn"] == point["RecoveryPointArn"]:
                return result("backup", "StartRestoreJob", {"RestoreJobId": j["RestoreJobId"]})
    job = {
        "AccountId": self.current_account,
        "RestoreJobId": str(uuid.uuid4()).upper(),
        "RecoveryPointArn": point["RecoveryPointArn"],
        "RecoveryPointCreationDate": point["CreationDate"],
        "SourceResourceArn": point["ResourceArn"],
        "BackupVaultArn": point["BackupVaultArn"],
        "CreationDate": now(),
        "Status": "RUNNING",
        "PercentDone": "0.00%",
        "BackupSizeInBytes": point["BackupSizeInBytes"],
        "IamRoleArn": p.get("IamRoleArn"),
        "ExpectedCompletionTimeMinutes": max(1, int(SETTINGS["restore_seconds"] // 60)),
        "ResourceType": p.get("ResourceType") or point["ResourceType"],
        "CreatedBy": {},
        "Metadata": p.get("Metadata") or {},
        "IdempotencyToken": token,
        "DeletionStatus": None,
    }
    with LOCK:
        st["restore_jobs"].append(job)
        epoch = EPOCH[0]
    timer = threading.Timer(float(SETTINGS["restore_seconds"]), finish_restore, args=(self.region, job, epoch))
    timer.daemon = True
    timer.start()
    return result("backup", "StartRestoreJob", {"RestoreJobId": job["RestoreJobId"]})


def describe_restore_job(self):
    p = bparams(self)
    for j in bstate(self.region, self.current_account)["restore_jobs"]:
        if j["RestoreJobId"] == p["RestoreJobId"]:
            return result("backup", "DescribeRestoreJob", dict(j))
    raise ApiError("ResourceNotFoundException", f"Restore job {p['RestoreJobId']} does not exist")


def list_restore_jobs(self):
    p = bparams(self)
    items = [
        dict(j)
        for j in bstate(self.region, self.current_account)["restore_jobs"]
        if (not p.get("ByStatus") or j["Status"] == p["ByStatus"]) and (not p.get("ByResourceType") or j["ResourceType"] == p["ByResourceType"])
    ]
    return result("backup", "ListRestoreJobs", page(items, p, "RestoreJobs"))


BACKUP_OPS = [
    create_backup_selection,
    get_backup_selection,
    delete_backup_selection,
    list_backup_selections,
    start_backup_job,
    describe_backup_job,
    list_backup_jobs,
    start_copy_job,
    describe_copy_job,
    list_copy_jobs,
    list_recovery_points_by_resource,
    list_recovery_points_by_backup_vault,
    describe_recovery_point,
    delete_recovery_point,
    get_recovery_point_restore_metadata,
    start_restore_job,
    describe_restore_job,
    list_restore_jobs,
]

# Named groups only; with or without a trailing slash (the Rust SDK omits it, botocore adds it).
BACKUP_PATHS = [
    # The whole tail is one group: moto turns "/?" at the end into a rule that rejects the
    # trailing slash botocore sends, and its rule converter cannot nest groups.
    "{0}/(?P<backupJobs>backup-jobs/?[^/]*/?)$",
    "{0}/(?P<copyJobs>copy-jobs/?[^/]*/?)$",
    "{0}/(?P<restoreJobs>restore-jobs/?[^/]*/?)$",
    "{0}/resources/(?P<resourceArn>.+/recovery-points/?)$",
    "{0}/backup-vaults/(?P<backupVaultName>[^/]+/recovery-points/?.*)$",
]


# ---------------------------------------------------------------- SSM


def sstate(region: str, account: str = DEFAULT_ACCOUNT_ID) -> dict[str, Any]:
    backend = ssm_backends()[account][region]
    st = getattr(backend, "gcverify", None)
    if st is None:
        st = {"instances": {}, "associations": {}}
        backend.gcverify = st
    return st


def sparams(self) -> dict[str, Any]:
    return json.loads(self.body) if self.body else {}


def register_instance(region: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An SSM-managed instance (agent registration), with an optional patch state."""
    iid = spec["InstanceId"]
    t = parse_time(spec["LastPingDateTime"]) if spec.get("LastPingDateTime") else now()
    info = {
        "InstanceId": iid,
        "PingStatus": spec.get("PingStatus", "Online"),
        "LastPingDateTime": t,
        "AgentVersion": spec.get("AgentVersion", "3.3.0.0"),
        "IsLatestVersion": True,
        "PlatformType": spec.get("PlatformType", "Linux"),
        "PlatformName": spec.get("PlatformName", "Amazon Linux"),
        "PlatformVersion": spec.get("PlatformVersion", "2023"),
        "ResourceType": "EC2Instance",
        "IPAddress": spec.get("IPAddress"),
        "ComputerName": spec.get("ComputerName", iid),
    }
    patch = spec.get("Patch")
    state = None
    if patch is not None:
        end = parse_time(patch["OperationEndTime"]) if patch.get("OperationEndTime") else now()
        state = {
            "InstanceId": iid,
            "PatchGroup": patch.get("PatchGroup", "default"),
            "BaselineId": patch.get("BaselineId", "pb-0123456789abcdef0"),
            "OperationStartTime": end - dt.timedelta(minutes=5),
            "OperationEndTime": end,
            "Operation": patch.get("Operation", "Install"),
        }
        for k in ["InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount", "InstalledRejectedCount", "MissingCount", "FailedCount",
                  "NotApplicableCount", "UnreportedNotApplicableCount", "CriticalNonCompliantCount", "SecurityNonCompliantCount", "OtherNonCompliantCount"]:
            state[k] = int(patch.get(k, 0))
    with LOCK:
        sstate(region)["instances"][iid] = {"info": info, "patch": state}
    return info


def create_association_in(region: str, spec: dict[str, Any]) -> dict[str, Any]:
    aid = str(uuid.uuid4())
    t = now()
    assoc = {
        "AssociationId": aid,
        "Name": spec["Name"],
        "AssociationName": spec.get("AssociationName"),
        "AssociationVersion": "1",
        "DocumentVersion": spec.get("DocumentVersion", "$DEFAULT"),
        "Targets": spec.get("Targets") or ([{"Key": "InstanceIds", "Values": [spec["InstanceId"]]}] if spec.get("InstanceId") else []),
        "ScheduleExpression": spec.get("ScheduleExpression"),
        "Date": t,
        "LastUpdateAssociationDate": t,
        "Executions": [],
    }
    with LOCK:
        sstate(region)["associations"][aid] = assoc
    return assoc


def add_execution(region: str, aid: str, status: str, when: dt.datetime) -> dict[str, Any]:
    assoc = sstate(region)["associations"].get(aid)
    if assoc is None:
        raise ApiError("AssociationDoesNotExist", f"association {aid} does not exist")
    ex = {
        "AssociationId": aid,
        "AssociationVersion": assoc["AssociationVersion"],
        "ExecutionId": str(uuid.uuid4()),
        "Status": status,
        "DetailedStatus": status,
        "CreatedTime": when,
        "LastExecutionDate": when,
        "ResourceCountByStatus": f"{{{status}={max(1, len(assoc['Targets']))}}}",
    }
    with LOCK:
        assoc["Executions"].append(ex)
    return ex


def _assoc_view(a: dict[str, Any], full: bool) -> dict[str, Any]:
    ex = sorted(a["Executions"], key=lambda e: e["CreatedTime"])
    last = ex[-1] if ex else None
    ok = [e for e in ex if e["Status"] == "Success"]
    status = last["Status"] if last else "Pending"
    v = {
        "Name": a["Name"],
        "AssociationId": a["AssociationId"],
        "AssociationName": a["AssociationName"],
        "AssociationVersion": a["AssociationVersion"],
        "DocumentVersion": a["DocumentVersion"],
        "Targets": a["Targets"],
        "ScheduleExpression": a["ScheduleExpression"],
        "LastExecutionDate": last["CreatedTime"] if last else None,
        "Overview": {"Status": status, "DetailedStatus": status, "AssociationStatusAggregatedCount": {status: max(1, len(a["Targets"]))}},
    }
    if full:
        v.update(
            Date=a["Date"],
            LastUpdateAssociationDate=a["LastUpdateAssociationDate"],
            LastSuccessfulExecutionDate=ok[-1]["CreatedTime"] if ok else None,
            Status={"Date": last["CreatedTime"] if last else a["Date"], "Name": "Success" if status == "Success" else ("Pending" if not last else "Failed"), "Message": status},
        )
    return v


@handled("ssm")
def describe_instance_information(self):
    p = sparams(self)
    wanted: set[str] | None = None
    for f in (p.get("InstanceInformationFilterList") or []) + (p.get("Filters") or []):
        if f.get("key", f.get("Key")) in ("InstanceIds", "InstanceIds".lower()):
            wanted = set(f.get("valueSet", f.get("Values", [])))
    items = [i["info"] for iid, i in sorted(sstate(self.region, self.current_account)["instances"].items()) if wanted is None or iid in wanted]
    return result("ssm", "DescribeInstanceInformation", page(items, p, "InstanceInformationList"))


@handled("ssm")
def describe_instance_patch_states(self):
    p = sparams(self)
    st = sstate(self.region, self.current_account)["instances"]
    items = [st[i]["patch"] for i in p.get("InstanceIds", []) if i in st and st[i]["patch"]]
    return result("ssm", "DescribeInstancePatchStates", page(items, p, "InstancePatchStates"))


def _compliance(region: str, account: str) -> list[dict[str, Any]]:
    """Patch and association compliance per managed instance, derived from their states."""
    out = []
    st = sstate(region, account)
    for iid, i in sorted(st["instances"].items()):
        patch = i["patch"]
        if patch:
            bad = patch["CriticalNonCompliantCount"] + patch["SecurityNonCompliantCount"] + patch["FailedCount"] + patch["MissingCount"]
            out.append({"ComplianceType": "Patch", "ResourceId": iid, "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                        "Severity": "CRITICAL" if patch["CriticalNonCompliantCount"] else ("HIGH" if bad else "UNSPECIFIED"),
                        "Time": patch["OperationEndTime"], "Count": bad})
        for a in st["associations"].values():
            targets = {v for t in a["Targets"] if t.get("Key") == "InstanceIds" for v in t.get("Values", [])}
            if targets and iid not in targets and "*" not in targets:
                continue
            ex = sorted(a["Executions"], key=lambda e: e["CreatedTime"])
            if ex:
                out.append({"ComplianceType": "Association", "ResourceId": iid, "Status": "COMPLIANT" if ex[-1]["Status"] == "Success" else "NON_COMPLIANT",
                            "Severity": "UNSPECIFIED", "Time": ex[-1]["CreatedTime"], "Count": 0 if ex[-1]["Status"] == "Success" else 1, "Id": a["AssociationId"]})
    return out


def _filters(p: dict[str, Any]) -> dict[str, list[str]]:
    return {f["Key"]: f.get("Values", []) for f in p.get("Filters") or []}


@handled("ssm")
def list_compliance_items(self):
    p = sparams(self)
    ids = set(p.get("ResourceIds") or [])
    flt = _filters(p)
    items = [
        {"ComplianceType": c["ComplianceType"], "ResourceType": "ManagedInstance", "ResourceId": c["ResourceId"], "Id": c.get("Id", c["ComplianceType"]),
         "Title": c["ComplianceType"], "Status": c["Status"], "Severity": c["Severity"],
         "ExecutionSummary": {"ExecutionTime": c["Time"], "ExecutionType": "Command"}}
        for c in _compliance(self.region, self.current_account)
        if (not ids or c["ResourceId"] in ids) and all(c.get(k) in v for k, v in flt.items() if k in ("ComplianceType", "Status"))
    ]
    return result("ssm", "ListComplianceItems", page(items, p, "ComplianceItems"))


@handled("ssm")
def list_resource_compliance_summaries(self):
    p = sparams(self)
    flt = _filters(p)
    items = []
    for c in _compliance(self.region, self.current_account):
        if not all(c.get(k) in v for k, v in flt.items() if k in ("ComplianceType", "Status")):
            continue
        ok = c["Status"] == "COMPLIANT"
        items.append({
            "ComplianceType": c["ComplianceType"], "ResourceType": "ManagedInstance", "ResourceId": c["ResourceId"], "Status": c["Status"],
            "OverallSeverity": c["Severity"], "ExecutionSummary": {"ExecutionTime": c["Time"], "ExecutionType": "Command"},
            "CompliantSummary": {"CompliantCount": 1 if ok else 0, "SeveritySummary": {}},
            "NonCompliantSummary": {"NonCompliantCount": 0 if ok else max(1, c["Count"]), "SeveritySummary": {}},
        })
    return result("ssm", "ListResourceComplianceSummaries", page(items, p, "ResourceComplianceSummaryItems"))


@handled("ssm")
def create_association(self):
    p = sparams(self)
    a = create_association_in(self.region, p)
    return result("ssm", "CreateAssociation", {"AssociationDescription": _assoc_view(a, True)})


@handled("ssm")
def list_associations(self):
    p = sparams(self)
    flt = {f["key"]: f["value"] for f in p.get("AssociationFilterList") or []}
    items = [
        _assoc_view(a, False)
        for a in sstate(self.region, self.current_account)["associations"].values()
        if ("AssociationName" not in flt or a["AssociationName"] == flt["AssociationName"]) and ("Name" not in flt or a["Name"] == flt["Name"])
        and ("AssociationId" not in flt or a["AssociationId"] == flt["AssociationId"])
    ]
    return result("ssm", "ListAssociations", page(items, p, "Associations"))


def _assoc(self, p: dict[str, Any]) -> dict[str, Any]:
    st = sstate(self.region, self.current_account)["associations"]
    if p.get("AssociationId") in st:
        return st[p["AssociationId"]]
    for a in st.values():
        if p.get("Name") and a["Name"] == p["Name"]:
            return a
    raise ApiError("AssociationDoesNotExist", "The specified association does not exist.")


@handled("ssm")
def describe_association(self):
    return result("ssm", "DescribeAssociation", {"AssociationDescription": _assoc_view(_assoc(self, sparams(self)), True)})


@handled("ssm")
def describe_association_executions(self):
    p = sparams(self)
    a = _assoc(self, p)
    items = sorted(a["Executions"], key=lambda e: e["CreatedTime"], reverse=True)
    return result("ssm", "DescribeAssociationExecutions", page(items, p, "AssociationExecutions"))


SSM_OPS = [
    describe_instance_information,
    describe_instance_patch_states,
    list_compliance_items,
    list_resource_compliance_summaries,
    create_association,
    list_associations,
    describe_association,
    describe_association_executions,
]


# ---------------------------------------------------------------- admin endpoint


def admin(what: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /gcverify-api/<what>``: state no AWS API can create."""
    if what == "restore-duration":
        SETTINGS["restore_seconds"] = float(body["seconds"])
        return {"seconds": SETTINGS["restore_seconds"]}
    if what == "restore-hook":
        # {"url"}: called when a restored RDS instance / Aurora cluster is created (see restored_database); "" clears it.
        SETTINGS["restore_hook"] = str(body.get("url") or "")
        return {"url": SETTINGS["restore_hook"]}
    if what == "root-mfa":
        account = body.get("account", DEFAULT_ACCOUNT_ID)
        iam_backends()[account]["global"].account_summary._account_mfa_enabled = 1 if body.get("enabled", True) else 0
        return {"enabled": bool(body.get("enabled", True))}
    if what == "recovery-points":
        # {"region", "vault", "resource_arn", "created": [ISO…], "status", "encrypted", "delete_after_days", "copy_to": {"region", "vault"}}
        region = body["region"]
        out = []
        for c in body["created"]:
            t = parse_time(c)
            point = add_point(region, body["vault"], body["resource_arn"], t, status=body.get("status", "COMPLETED"), encrypted=body.get("encrypted", True),
                              delete_after_days=body.get("delete_after_days", 35))
            out.append(point["RecoveryPointArn"])
            copy = body.get("copy_to")
            if copy:
                add_point(copy["region"], copy["vault"], body["resource_arn"], t, status=body.get("status", "COMPLETED"), encrypted=body.get("encrypted", True),
                          delete_after_days=body.get("delete_after_days", 35), source_vault_arn=point["BackupVaultArn"], metadata=point["RestoreMetadata"])
        return {"RecoveryPointArns": out}
    if what == "forget-restore-jobs":
        # {"region"}: an account that never restored (tests of "no restore evidence").
        with LOCK:
            n = len(bstate(body["region"])["restore_jobs"])
            bstate(body["region"])["restore_jobs"].clear()
        return {"forgotten": n}
    if what == "restore-jobs":
        # A past restore test: {"region", "resource_arn", "created", "minutes", "status", "created_resource_arn"}.
        # Its copy was deleted afterwards, so nothing is created now.
        region = body["region"]
        points = _newest_first([p for p in bstate(region)["points"] if p["ResourceArn"] == body["resource_arn"]])
        if not points:
            raise ApiError("ResourceNotFoundException", f"no recovery point of {body['resource_arn']} in {region} to have restored from")
        created = parse_time(body["created"])
        older = [p for p in points if p["CreationDate"] <= created] or points
        point = older[0]
        job = {
            "AccountId": DEFAULT_ACCOUNT_ID,
            "RestoreJobId": str(uuid.uuid4()).upper(),
            "RecoveryPointArn": point["RecoveryPointArn"],
            "RecoveryPointCreationDate": point["CreationDate"],
            "SourceResourceArn": point["ResourceArn"],
            "BackupVaultArn": point["BackupVaultArn"],
            "CreationDate": created,
            "CompletionDate": created + dt.timedelta(minutes=float(body.get("minutes", 30))),
            "Status": body.get("status", "COMPLETED"),
            "StatusMessage": body.get("status_message"),
            "PercentDone": "100.00%",
            "BackupSizeInBytes": point["BackupSizeInBytes"],
            "IamRoleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/service-role/AWSBackupDefaultServiceRole",
            "ResourceType": point["ResourceType"],
            "CreatedResourceArn": body.get("created_resource_arn"),
            "CreatedBy": {},
            "Metadata": {},
        }
        with LOCK:
            bstate(region)["restore_jobs"].append(job)
        return {"RestoreJobId": job["RestoreJobId"]}
    if what == "ssm-instances":
        return {"InstanceIds": [register_instance(body["region"], i)["InstanceId"] for i in body["instances"]]}
    if what == "ssm-association":
        # {"region", "Name", "AssociationName", "Targets", "executions": [{"status", "at"}]}
        a = create_association_in(body["region"], body)
        for e in body.get("executions", []):
            add_execution(body["region"], a["AssociationId"], e.get("status", "Success"), parse_time(e["at"]))
        return {"AssociationId": a["AssociationId"]}
    raise ApiError("NotFound", f"unknown admin endpoint {what}", 404)


# ---------------------------------------------------------------- CloudWatch CBOR bridge

CW_PREFIX = "/service/GraniteServiceVersion20100801/operation/"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.timestamp()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        import base64

        return base64.b64encode(v).decode()
    return v


def cbor_encode(value: dict[str, Any], shape: Any) -> bytes:
    body = bytearray()
    ser = RpcV2CBORSerializer()
    ser._serialize_data_item(body, value, shape)
    return bytes(body)


class Dispatcher(DomainDispatcherApplication):
    """moto's WSGI entry, with the admin endpoint and the CloudWatch CBOR bridge in front."""

    def __init__(self, create_app: Any):
        def create(service: Any) -> Any:
            # moto calls this under its lock, once per service.
            hook = INSTALLERS.pop(service, None)
            if hook is not None:
                hook()
            return create_app(service)

        super().__init__(create)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/gcverify-api/") and environ.get("REQUEST_METHOD") == "POST":
            return self._admin(path[len("/gcverify-api/") :].strip("/"), environ, start_response)
        if path.startswith(CW_PREFIX):
            return self._cloudwatch(path[len(CW_PREFIX) :].strip("/"), environ, start_response)
        return super().__call__(environ, start_response)

    @staticmethod
    def _body(environ: dict[str, Any]) -> bytes:
        n = int(environ.get("CONTENT_LENGTH") or 0)
        return environ["wsgi.input"].read(n) if n else b""

    def _admin(self, what: str, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            raw = self._body(environ)
            out = admin(what, json.loads(raw) if raw else {})
            status = "200 OK"
        except ApiError as e:
            out, status = {"error": e.message}, f"{e.status} ERROR"
        except (KeyError, ValueError, TypeError) as e:
            out, status = {"error": f"bad request: {e!r}"}, "400 Bad Request"
        data = json.dumps(out).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _cloudwatch(self, op: str, environ: dict[str, Any], start_response: Any) -> Any:
        """Smithy RPC v2 CBOR → moto's JSON 1.0 handler → CBOR."""
        model = get_service_model("cloudwatch")
        try:
            om = model.operation_model(op)
        except Exception:
            return self._cbor_error(start_response, 404, "UnknownOperationException", f"unknown operation {op}")
        raw = self._body(environ)
        params = {}
        if raw and om.input_shape is not None:
            params = RpcV2CBORParser().parse({"body": raw, "headers": {}, "status_code": 200}, om.input_shape)
            params.pop("ResponseMetadata", None)
        data = json.dumps(_jsonable(params)).encode()
        inner = dict(environ)
        inner.update(
            {
                "PATH_INFO": "/",
                "RAW_URI": "/",
                "REQUEST_URI": "/",
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": "application/x-amz-json-1.0",
                "CONTENT_LENGTH": str(len(data)),
                "HTTP_X_AMZ_TARGET": f"GraniteServiceVersion20100801.{op}",
                "wsgi.input": io.BytesIO(data),
            }
        )
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _: None

        chunks = super().__call__(inner, capture)
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        code = int(captured.get("status", "500").split()[0])
        if code >= 300:
            try:
                err = json.loads(body or b"{}")
            except ValueError:
                err = {}
            etype = str(err.get("__type", "InternalFailure")).split("#")[-1]
            return self._cbor_error(start_response, code, etype, str(err.get("message", err.get("Message", body[:200]))), model)
        out = {}
        if om.output_shape is not None:
            out = JSONParser().parse({"body": body or b"{}", "headers": {}, "status_code": 200}, om.output_shape)
            out.pop("ResponseMetadata", None)
        payload = cbor_encode(out, om.output_shape) if om.output_shape is not None else b""
        start_response("200 OK", [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), ("Content-Length", str(len(payload)))])
        return [payload]

    @staticmethod
    def _cbor_error(start_response: Any, code: int, etype: str, message: str, model: Any = None) -> Any:
        """CloudWatch is awsQueryCompatible: moto answers with the query code (ResourceNotFound);
        CBOR names the error shape (DashboardNotFoundError) and carries the code in x-amzn-query-error."""
        from botocore.model import StructureShape

        shape_name, query_code = etype, etype
        for s in getattr(model, "error_shapes", []) or []:
            if s.name == etype or s.metadata.get("error", {}).get("code") == etype:
                shape_name, query_code = s.name, s.metadata.get("error", {}).get("code", s.name)
                break
        shape = StructureShape("Error", {"type": "structure", "members": {"__type": {"shape": "S"}, "message": {"shape": "S"}}}, _FakeResolver())
        payload = cbor_encode({"__type": shape_name, "message": message}, shape)
        fault = "Sender" if code < 500 else "Receiver"
        start_response(
            f"{code} ERROR",
            [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-query-error", f"{query_code};{fault}"), ("Content-Length", str(len(payload)))],
        )
        return [payload]


class _FakeResolver:
    def resolve_shape_ref(self, ref: dict[str, Any]) -> Any:
        from botocore.model import Shape

        return Shape("S", {"type": "string"})


# ---------------------------------------------------------------- install and run


def reset_extension(original):
    def reset(self):
        with LOCK:
            EPOCH[0] += 1
            SETTINGS.clear()
            SETTINGS.update(DEFAULTS)
        original(self)

    return reset


def install_backup() -> None:
    import moto.backup.urls as backup_urls
    from moto.backup.models import Vault
    from moto.backup.responses import BackupResponse

    for fn in BACKUP_OPS:
        setattr(BackupResponse, fn.__name__, handled("backup")(fn))
    for p in BACKUP_PATHS:
        backup_urls.url_paths.setdefault(p, BackupResponse.dispatch)
    # DescribeBackupVault is serialised from attribute names; moto's counter is named differently.
    Vault.number_of_recovery_points = property(lambda v: v.num_of_recovery_points)


def install_ssm() -> None:
    from moto.ssm.responses import SimpleSystemManagerResponse

    for fn in SSM_OPS:
        setattr(SimpleSystemManagerResponse, fn.__name__, fn)


# The key by which GetAccountSummary says AccountMFAEnabled is served here:
# moto alone hard-codes 0, so a client cannot otherwise tell an observation
# from a placeholder (real AWS never sends this key).
ROOT_MFA_SERVED = "GcverifyRootMfaServed"


def install_iam() -> None:
    from moto.iam.models import AccountSummary

    plain = AccountSummary.summary_map.fget

    def summary_map(self):
        return {**plain(self), ROOT_MFA_SERVED: 1}

    AccountSummary.summary_map = property(summary_map)


# Patched just before moto builds the service's app (it reads routes and handlers then).
INSTALLERS = {"backup": install_backup, "ssm": install_ssm, "iam": install_iam}


def install() -> None:
    MotoAPIBackend.reset = reset_extension(MotoAPIBackend.reset)
    moto.server.DomainDispatcherApplication = Dispatcher


def main(argv: list[str]) -> None:
    for flag, key in (("-H", "host"), ("--host", "host"), ("-p", "port"), ("--port", "port")):
        if flag in argv[:-1]:
            SERVER[key] = argv[argv.index(flag) + 1]
    install()
    moto.server.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
