//! The least-privilege, read-only IAM policy that covers every probe
//! (`cargo xtask iam-policy`).
//!
//! Each probe module declares the IAM actions it calls next to its code as
//! `pub const ACTIONS: &[&str]`, which its registry values carry
//! (`registry::ProbeDef::actions`). The policy is the sorted union of the
//! registered probes' actions and the inventory's.
//! A test scans the probe sources for call names (`"ec2:DescribeVolumes"`)
//! and fails if one is missing from the policy, so a new call cannot ship
//! without its permission.

use std::collections::BTreeSet;

/// The IAM action that authorises an API call, where the two differ
/// (S3 names its permissions after the resource, not the operation).
pub fn iam_action(call: &str) -> &str {
    match call {
        "s3:ListBuckets" => "s3:ListAllMyBuckets",
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "s3:ListObjectsV2" => "s3:ListBucket",
        other => other,
    }
}

/// Every action of every registered probe, the inventory's and the fleet's
/// separation row's (`crate::separation`), mapped to IAM actions, sorted and deduplicated.
pub fn actions() -> Vec<String> {
    let probes = super::registry::all().flat_map(|p| p.actions.iter());
    let set: BTreeSet<String> = crate::inventory::ACTIONS.iter().chain(probes).chain(crate::separation::ACTIONS).map(|a| iam_action(a).to_string()).collect();
    set.into_iter().collect()
}

/// The policy document as pretty JSON. Read-only by construction: the test
/// below rejects any action whose verb is not Describe/List/Get/Generate.
pub fn policy_json() -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GcverifyReadOnly",
            "Effect": "Allow",
            "Action": actions(),
            "Resource": "*",
        }],
    });
    // Serialising a json! value cannot fail; fall back to compact form anyway.
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
}

/// The restore drill's policy (`cargo xtask iam-policy --restore-drill`): it
/// writes (starts restores, tags, deletes), so it is a separate document.
/// `iam:PassRole` is limited to handing a role to AWS Backup.
pub fn drill_policy_json() -> String {
    let (pass, rest): (Vec<&str>, Vec<&str>) = crate::drill::ACTIONS.iter().partition(|a| **a == "iam:PassRole");
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "GcverifyRestoreDrill", "Effect": "Allow", "Action": rest, "Resource": "*" },
            { "Sid": "GcverifyRestoreDrillPassRole", "Effect": "Allow", "Action": pass, "Resource": "*",
              "Condition": { "StringEquals": { "iam:PassedToService": "backup.amazonaws.com" } } }
        ],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string())
}

/// Verbs a read-only probe may use. GenerateCredentialReport only asks IAM
/// to build the report it then reads (no configuration changes).
pub const READ_ONLY_VERBS: &[&str] = &["Describe", "List", "Get", "Generate", "Lookup", "Filter", "Search"];

#[cfg(test)]
mod tests {
    use super::*;

    /// `"svc:Action"` literals in a source text: a lowercase service prefix,
    /// a colon, then a CamelCase operation name.
    pub(crate) fn call_literals(src: &str) -> Vec<String> {
        let mut out = Vec::new();
        for piece in src.split('"').skip(1).step_by(2) {
            let Some((svc, op)) = piece.split_once(':') else { continue };
            // `aws:` is the global condition-key namespace (aws:MultiFactorAuthPresent), not a service.
            let svc_ok = svc != "aws" && !svc.is_empty() && svc.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            let op_ok = op.chars().next().is_some_and(|c| c.is_ascii_uppercase()) && op.chars().all(|c| c.is_ascii_alphanumeric());
            if svc_ok && op_ok {
                out.push(piece.to_string());
            }
        }
        out
    }

    #[test]
    fn policy_parses_and_is_read_only() {
        let v: serde_json::Value = serde_json::from_str(&policy_json()).expect("policy is JSON");
        let list = v["Statement"][0]["Action"].as_array().expect("Action array");
        assert!(!list.is_empty());
        for a in list {
            let a = a.as_str().expect("string action");
            let (_, op) = a.split_once(':').expect("svc:Action");
            assert!(READ_ONLY_VERBS.iter().any(|verb| op.starts_with(verb)), "{a} is not a read-only action");
        }
    }

    #[test]
    fn every_call_in_the_probe_sources_is_in_the_policy() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probes");
        let policy = actions();
        let mut checked = 0;
        // Probe modules split into a folder (continuity/) are scanned too.
        let mut paths: Vec<std::path::PathBuf> = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("probes dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                paths.extend(std::fs::read_dir(&path).expect("probe module dir").map(|e| e.expect("dir entry").path()));
            } else {
                paths.push(path);
            }
        }
        for path in paths {
            // permissions.rs names calls only as examples and mappings; policy_doc.rs
            // reads actions inside IAM documents (sts:AssumeRole), it calls nothing.
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.extension().and_then(|e| e.to_str()) != Some("rs") || name == "permissions.rs" || name == "policy_doc.rs" {
                continue;
            }
            let src = std::fs::read_to_string(&path).expect("read probe source");
            for call in call_literals(&src) {
                let need = iam_action(&call);
                assert!(policy.iter().any(|a| a == need), "{} calls {call} but no probe ACTIONS lists {need}", path.display());
                checked += 1;
            }
        }
        assert!(checked > 10, "only {checked} call literals found: scanner broken?");
    }

    /// Every `.rs` file below `dir` (one level of subfolders).
    fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).expect("source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                paths.extend(sources(&path));
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                paths.push(path);
            }
        }
        paths
    }

    #[test]
    fn every_call_in_the_inventory_is_in_the_policy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inventory");
        let policy = actions();
        let mut checked = 0;
        for path in sources(&root) {
            let src = std::fs::read_to_string(&path).expect("read inventory source");
            for call in call_literals(&src) {
                let need = iam_action(&call);
                assert!(policy.iter().any(|a| a == need), "{} calls {call} but inventory::ACTIONS lacks {need}", path.display());
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} call literals found in src/inventory");
    }

    #[test]
    fn every_call_of_the_separation_row_is_in_the_policy() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/separation");
        let policy = actions();
        let mut checked = 0;
        for path in sources(&root) {
            let src = std::fs::read_to_string(&path).expect("read separation source");
            // policy.rs reads actions inside policy documents (kms:Decrypt), it calls nothing.
            if path.file_name().and_then(|n| n.to_str()) == Some("policy.rs") {
                continue;
            }
            for call in call_literals(&src) {
                // Actions judged inside documents, not called.
                if matches!(call.as_str(), "kms:Decrypt" | "s3:GetObject") {
                    continue;
                }
                let need = iam_action(&call);
                assert!(policy.iter().any(|a| a == need), "{} calls {call} but separation::ACTIONS lacks {need}", path.display());
                checked += 1;
            }
        }
        assert!(checked >= 7, "only {checked} call literals found in src/separation");
    }

    /// One inventory per run: a probe that lists resources itself would
    /// apply its own scope rules and list again.
    #[test]
    fn no_probe_calls_a_listing_api() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probes");
        let mut scanned = 0;
        for path in sources(&root) {
            let src = std::fs::read_to_string(&path).expect("read probe source");
            scanned += 1;
            for method in crate::inventory::LISTING_METHODS {
                assert!(!src.contains(&format!(".{method}()")), "{} calls {method} itself: use the run's inventory (checks/src/inventory)", path.display());
            }
        }
        assert!(scanned > 15, "only {scanned} probe sources scanned");
    }

    #[test]
    fn every_call_in_the_drill_sources_is_in_the_drill_policy_and_none_leaks_into_read_only() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/drill");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("drill dir") {
            let path = entry.expect("dir entry").path();
            let src = std::fs::read_to_string(&path).expect("read drill source");
            for call in call_literals(&src) {
                assert!(crate::drill::ACTIONS.contains(&call.as_str()), "{} calls {call} but drill::ACTIONS lacks it", path.display());
                checked += 1;
            }
        }
        assert!(checked >= 10, "only {checked} call literals found in src/drill");
        let read_only = actions();
        for a in crate::drill::ACTIONS {
            let (_, op) = a.split_once(':').expect("svc:Action");
            if !READ_ONLY_VERBS.iter().any(|v| op.starts_with(v)) {
                assert!(!read_only.iter().any(|r| r == a), "write action {a} is in the read-only policy");
            }
        }
        let v: serde_json::Value = serde_json::from_str(&drill_policy_json()).expect("drill policy is JSON");
        assert_eq!(v["Statement"][1]["Action"][0], "iam:PassRole");
    }

    #[test]
    fn scanner_finds_calls_and_ignores_prose() {
        let src = r#"const CALL: &str = "ec2:DescribeVolumes"; f.error("x", None, "arn:aws:iam::1:root", "s3:GetBucketLocation"); "note: Text here""#;
        assert_eq!(call_literals(src), vec!["ec2:DescribeVolumes".to_string(), "s3:GetBucketLocation".to_string()]);
    }
}
