//! IAM users with their console-password and MFA state, from one credential
//! report (GenerateCredentialReport + GetCredentialReport) instead of two
//! calls per user; per-user calls (ListUsers, GetLoginProfile,
//! ListMFADevices) when the report cannot be had.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_iam::types::ReportStateType;

use super::cache::{Listing, ListingError};
use crate::aws::{error_code, AwsContext};

/// How the user's state was read, for the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSource {
    /// The credential report, generated at this time (RFC 3339).
    CredentialReport {
        generated: String,
    },
    PerUserCalls,
}

#[derive(Debug, Clone)]
pub struct IamUser {
    pub name: String,
    pub password_enabled: bool,
    pub mfa_active: bool,
    /// MFA device serials (per-user calls only; the report has none).
    pub mfa_devices: Vec<String>,
    pub source: UserSource,
}

impl IamUser {
    /// "credential report 2026-11-24T01:00:00Z" / "iam:ListMFADevices", for evidence.
    pub fn source_text(&self) -> String {
        match &self.source {
            UserSource::CredentialReport { generated } => format!("credential report generated {generated}"),
            UserSource::PerUserCalls => "iam:GetLoginProfile + iam:ListMFADevices".to_string(),
        }
    }
    pub fn source_call(&self) -> &'static str {
        match self.source {
            UserSource::CredentialReport { .. } => "iam:GetCredentialReport",
            UserSource::PerUserCalls => "iam:ListMFADevices",
        }
    }
}

/// Polls while AWS builds the report (usually seconds): 0.25 s doubling to
/// 2 s, about 20 s in all before the per-user fallback.
const REPORT_POLLS: u32 = 13;
const REPORT_FIRST_WAIT: Duration = Duration::from_millis(250);
const REPORT_MAX_WAIT: Duration = Duration::from_secs(2);

pub async fn users(aws: &AwsContext, home: &str) -> Listing<IamUser> {
    let iam = aws.iam(home);
    match credential_report(&iam).await {
        Ok(users) => Ok(Arc::new(users)),
        Err(why) => {
            tracing::info!(%why, "credential report unavailable; reading IAM users one by one");
            per_user(&iam).await
        }
    }
}

async fn credential_report(iam: &aws_sdk_iam::Client) -> Result<Vec<IamUser>, String> {
    let mut polls = 0;
    let mut wait = REPORT_FIRST_WAIT;
    loop {
        let out = iam.generate_credential_report().send().await.map_err(|e| crate::aws::failure_reason("iam:GenerateCredentialReport", &e))?;
        if out.state() == Some(&ReportStateType::Complete) {
            break;
        }
        polls += 1;
        if polls >= REPORT_POLLS {
            return Err("iam:GenerateCredentialReport: report not ready after polling".into());
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(REPORT_MAX_WAIT);
    }
    let out = iam.get_credential_report().send().await.map_err(|e| crate::aws::failure_reason("iam:GetCredentialReport", &e))?;
    let generated = out.generated_time().map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    let content = out.content().ok_or("iam:GetCredentialReport: answer had no Content")?;
    let text = std::str::from_utf8(content.as_ref()).map_err(|_| "iam:GetCredentialReport: report is not UTF-8".to_string())?;
    parse_report(text, &generated)
}

/// Parse the report's CSV. User names may contain commas (IAM allows `,`);
/// the name and the ARN (which ends with the name) then split into more
/// fields, which are joined back from the left.
pub fn parse_report(text: &str, generated: &str) -> Result<Vec<IamUser>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("credential report is empty")?.split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("credential report has no column {name}"));
    let (password, mfa) = (col("password_enabled")?, col("mfa_active")?);
    if col("user")? != 0 || col("arn")? != 1 {
        return Err("credential report columns are not user, arn, ...".into());
    }
    let mut users = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let extra =
            fields.len().checked_sub(header.len()).ok_or_else(|| format!("credential report line has {} fields, expected {}", fields.len(), header.len()))?;
        if extra % 2 != 0 {
            return Err("credential report line cannot be split into user and arn".into());
        }
        let commas = extra / 2;
        let name = fields[..=commas].join(",");
        if name == "<root_account>" {
            continue;
        }
        let rest = &fields[extra..];
        users.push(IamUser {
            name,
            password_enabled: rest[password] == "true",
            mfa_active: rest[mfa] == "true",
            mfa_devices: Vec::new(),
            source: UserSource::CredentialReport { generated: generated.to_string() },
        });
    }
    Ok(users)
}

async fn per_user(iam: &aws_sdk_iam::Client) -> Listing<IamUser> {
    const LIST: &str = "iam:ListUsers";
    const LOGIN: &str = "iam:GetLoginProfile";
    const MFA: &str = "iam:ListMFADevices";
    let mut names = Vec::new();
    let mut pages = iam.list_users().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ListingError::from_sdk(LIST, None, &e))?;
        names.extend(page.users().iter().map(|u| u.user_name().to_string()));
    }
    let mut users = Vec::with_capacity(names.len());
    for name in names {
        let password_enabled = match iam.get_login_profile().user_name(&name).send().await {
            Ok(_) => true,
            Err(e) if error_code(&e) == Some("NoSuchEntity") => false,
            Err(e) => return Err(ListingError::from_sdk(LOGIN, None, &e)),
        };
        let out = iam.list_mfa_devices().user_name(&name).send().await.map_err(|e| ListingError::from_sdk(MFA, None, &e))?;
        let mfa_devices: Vec<String> = out.mfa_devices().iter().map(|d| d.serial_number().to_string()).collect();
        users.push(IamUser { name, password_enabled, mfa_active: !mfa_devices.is_empty(), mfa_devices, source: UserSource::PerUserCalls });
    }
    Ok(Arc::new(users))
}

/// Who holds which managed policy, from one paginated
/// GetAccountAuthorizationDetails (instead of ListAttachedUserPolicies per
/// user and GetPolicy/GetPolicyVersion per customer-managed policy).
#[derive(Debug, Clone, Default)]
pub struct Authorization {
    /// User name → ARNs of the managed policies attached to the user directly.
    pub user_policies: std::collections::BTreeMap<String, Vec<String>>,
    /// User name → (name, URL-encoded document) of each policy written into the user (inline).
    pub user_inline: std::collections::BTreeMap<String, Vec<(String, String)>>,
    /// Customer-managed policy ARN → its default version's document (URL-encoded JSON).
    pub policy_documents: std::collections::BTreeMap<String, String>,
}

pub async fn authorization(aws: &AwsContext, home: &str) -> Listing<Authorization> {
    use aws_sdk_iam::types::EntityType;
    const CALL: &str = "iam:GetAccountAuthorizationDetails";
    let mut out = Authorization::default();
    let mut pages = aws.iam(home).get_account_authorization_details().filter(EntityType::User).filter(EntityType::LocalManagedPolicy).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ListingError::from_sdk(CALL, None, &e))?;
        for u in page.user_detail_list() {
            let arns = u.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect();
            out.user_policies.insert(u.user_name().unwrap_or("").to_string(), arns);
            let inline = u.user_policy_list().iter().filter_map(|p| Some((p.policy_name()?.to_string(), p.policy_document()?.to_string()))).collect();
            out.user_inline.insert(u.user_name().unwrap_or("").to_string(), inline);
        }
        for p in page.policies() {
            let default = p.policy_version_list().iter().find(|v| v.is_default_version()).and_then(|v| v.document());
            if let (Some(arn), Some(doc)) = (p.arn(), default) {
                out.policy_documents.insert(arn.to_string(), doc.to_string());
            }
        }
    }
    Ok(Arc::new(vec![out]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active";

    #[test]
    fn report_rows_become_users_and_root_is_skipped() {
        let text = format!(
            "{HEADER}\n<root_account>,arn:aws:iam::1:root,2020,not_supported,N/A,N/A,N/A,true,false\n\
             alice,arn:aws:iam::1:user/alice,2020,true,N/A,N/A,N/A,false,false\n\
             bob,arn:aws:iam::1:user/bob,2020,false,N/A,N/A,N/A,true,false\n"
        );
        let users = parse_report(&text, "2026-11-24T00:00:00Z").expect("parses");
        assert_eq!(users.len(), 2);
        assert!(users[0].password_enabled && !users[0].mfa_active);
        assert!(!users[1].password_enabled && users[1].mfa_active);
    }

    #[test]
    fn a_user_name_with_commas_keeps_its_columns() {
        let text = format!("{HEADER}\na,b,arn:aws:iam::1:user/a,b,2020,true,N/A,N/A,N/A,true,false\n");
        let users = parse_report(&text, "t").expect("parses");
        assert_eq!(users[0].name, "a,b");
        assert!(users[0].password_enabled && users[0].mfa_active);
    }

    #[test]
    fn a_report_without_the_needed_columns_is_refused() {
        assert!(parse_report("user,arn,x\n", "t").is_err());
        assert!(parse_report("", "t").is_err());
        assert!(parse_report(&format!("{HEADER}\nshort,row\n"), "t").is_err());
    }
}
