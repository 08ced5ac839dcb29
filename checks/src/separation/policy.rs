//! Whether one municipality's application role may use another's KMS key
//! (`kms:Decrypt`) or read under its S3 prefix (`s3:GetObject`), decided from
//! the policy documents themselves: the key policy or bucket policy, and the
//! role's identity policies. moto serves no `iam:SimulatePrincipalPolicy`,
//! and the simulator cannot evaluate key policies anyway, so the evaluation is
//! done here, conservatively:
//!
//! - an explicit Deny that applies without a Condition wins;
//! - an Allow that applies without a Condition makes the access possible;
//! - a Condition, `NotPrincipal`, `NotResource` or a policy variable this
//!   code does not evaluate makes the answer *unclear* (要確認), never "separated".
//!
//! Action and resource wildcards (`*`, `?`) are honoured; actions match
//! case-insensitively. What is not read here (SCPs, permission boundaries,
//! session policies, grants) can only take access away, so "separated" stays
//! true; an "allowed" may be narrowed by them (documented in the README).

use serde_json::Value;

use crate::probes::policy_doc::{statements, strings};

/// The answer for one (role, resource, action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Some Allow applies without a Condition and no Deny does: the role can.
    Allowed(String),
    /// Nothing allows it, or an unconditional Deny forbids it.
    Denied(String),
    /// It depends on something not evaluated here (a Condition ...).
    Unclear(String),
}

/// How a statement applies to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    No,
    Yes,
    /// It would apply, but under a condition not evaluated here.
    Maybe,
}

/// Who a resource policy statement names, relative to the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    No,
    /// The role itself, or `*` (anyone).
    Direct,
    /// The role's account (`arn:aws:iam::ACCOUNT:root` / `ACCOUNT`): delegated to IAM policies.
    Account,
    /// `NotPrincipal`: not evaluated.
    Unknown,
}

/// The resource asked about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// One ARN (a KMS key).
    Exact(&'a str),
    /// Any ARN starting with this (the objects under an S3 prefix).
    Prefix(&'a str),
}

/// Glob states (indices into `pat`) reachable after `text`, `*` matching any run, `?` one character.
fn glob_states(pat: &[char], text: impl Iterator<Item = char>, fold_case: bool) -> Vec<usize> {
    let close = |states: &mut Vec<usize>| {
        let mut i = 0;
        while i < states.len() {
            let s = states[i];
            if pat.get(s) == Some(&'*') && !states.contains(&(s + 1)) {
                states.push(s + 1);
            }
            i += 1;
        }
    };
    let eq = |a: char, b: char| if fold_case { a.eq_ignore_ascii_case(&b) } else { a == b };
    let mut states = vec![0];
    close(&mut states);
    for c in text {
        let mut next = Vec::new();
        for &s in &states {
            match pat.get(s) {
                Some('*') => next.push(s),
                Some('?') => next.push(s + 1),
                Some(p) if eq(*p, c) => next.push(s + 1),
                _ => {}
            }
        }
        next.sort_unstable();
        next.dedup();
        close(&mut next);
        states = next;
        if states.is_empty() {
            break;
        }
    }
    states
}

/// `text` matches the whole of `pattern`.
pub fn glob(pattern: &str, text: &str, fold_case: bool) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    glob_states(&pat, text.chars(), fold_case).contains(&pat.len())
}

/// Some text starting with `prefix` matches `pattern` (every glob can be completed).
pub fn glob_meets_prefix(pattern: &str, prefix: &str) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    !glob_states(&pat, prefix.chars(), false).is_empty()
}

fn action_applies(st: &Value, action: &str) -> bool {
    if let Some(a) = st.get("Action") {
        strings(Some(a)).iter().any(|p| glob(p, action, true))
    } else if let Some(n) = st.get("NotAction") {
        !strings(Some(n)).iter().any(|p| glob(p, action, true))
    } else {
        false
    }
}

fn resource_applies(st: &Value, target: Target) -> Applies {
    let test = |p: &str| match target {
        Target::Exact(arn) => glob(p, arn, false),
        Target::Prefix(prefix) => glob_meets_prefix(p, prefix),
    };
    if let Some(r) = st.get("Resource") {
        let pats = strings(Some(r));
        if pats.iter().any(|p| p.contains("${")) {
            return if pats.iter().any(|p| !p.contains("${") && test(p)) { Applies::Yes } else { Applies::Maybe };
        }
        if pats.iter().any(|p| test(p)) {
            Applies::Yes
        } else {
            Applies::No
        }
    } else if let Some(n) = st.get("NotResource") {
        let pats = strings(Some(n));
        match target {
            Target::Exact(arn) if !pats.iter().any(|p| p.contains("${")) => {
                if pats.iter().any(|p| glob(p, arn, false)) {
                    Applies::No
                } else {
                    Applies::Yes
                }
            }
            // Whether NotResource covers every object under the prefix is not decided here.
            _ => Applies::Maybe,
        }
    } else {
        Applies::No
    }
}

/// `arn:aws:iam::123456789012:role/path/name` → (account, name without path).
pub fn role_parts(role_arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[2] != "iam" {
        return None;
    }
    let name = parts[5].strip_prefix("role/")?.rsplit('/').next()?;
    Some((parts[4], name))
}

fn named(st: &Value, role_arn: &str) -> Named {
    if st.get("NotPrincipal").is_some() {
        return Named::Unknown;
    }
    let Some(p) = st.get("Principal") else { return Named::No };
    if p.as_str() == Some("*") {
        return Named::Direct;
    }
    let account = role_parts(role_arn).map(|(a, _)| a).unwrap_or_default();
    let mut best = Named::No;
    for who in strings(p.get("AWS")) {
        if who == "*" || who == role_arn {
            return Named::Direct;
        }
        if who == account || who == format!("arn:aws:iam::{account}:root") || who.ends_with(&format!(":iam::{account}:root")) {
            best = Named::Account;
        }
    }
    best
}

fn sid(st: &Value, i: usize, source: &str) -> String {
    match st.get("Sid").and_then(Value::as_str) {
        Some(s) => format!("{source} statement #{} `{s}`", i + 1),
        None => format!("{source} statement #{}", i + 1),
    }
}

/// What the statements of one policy say about the request.
#[derive(Debug, Default)]
struct Verdict {
    deny: Option<String>,
    deny_maybe: Option<String>,
    /// An Allow naming the role directly (or anyone), unconditional.
    allow: Option<String>,
    allow_maybe: Option<String>,
    /// An Allow for the role's account (resource policies): IAM policies decide.
    delegate: Option<String>,
    delegate_maybe: Option<String>,
}

/// `resource_policy`: statements need a Principal naming the role; else identity
/// policy statements (no Principal).
fn judge(doc: &Value, source: &str, action: &str, target: Target, principal: Option<&str>) -> Verdict {
    let mut v = Verdict::default();
    for (i, st) in statements(doc).into_iter().enumerate() {
        if !action_applies(st, action) {
            continue;
        }
        let res = resource_applies(st, target);
        if res == Applies::No {
            continue;
        }
        let who = match principal {
            Some(role) => named(st, role),
            None => Named::Direct,
        };
        if who == Named::No {
            continue;
        }
        let conditional = st.get("Condition").is_some_and(|c| c.as_object().is_none_or(|o| !o.is_empty()));
        let certain = res == Applies::Yes && !conditional && who != Named::Unknown;
        let mut why = sid(st, i, source);
        if conditional {
            why.push_str(" (Condition)");
        } else if who == Named::Unknown {
            why.push_str(" (NotPrincipal)");
        } else if res == Applies::Maybe {
            why.push_str(" (resource not evaluated: NotResource / policy variable)");
        }
        let deny = st.get("Effect").and_then(Value::as_str) == Some("Deny");
        let slot = match (deny, who, certain) {
            (true, Named::Direct | Named::Account, true) => &mut v.deny,
            (true, _, _) => &mut v.deny_maybe,
            (false, Named::Account, true) => &mut v.delegate,
            (false, Named::Account, false) => &mut v.delegate_maybe,
            (false, _, true) => &mut v.allow,
            (false, _, false) => &mut v.allow_maybe,
        };
        if slot.is_none() {
            *slot = Some(why);
        }
    }
    v
}

/// Combine a resource policy's verdict and the role's identity policies'.
/// `needs_resource_grant`: KMS (the key policy must allow, directly or by
/// delegating to the account); S3 in one account: either policy may allow.
fn decide(resource: &Verdict, identity: &Verdict, needs_resource_grant: bool, what: &str) -> Access {
    if let Some(d) = resource.deny.as_ref().or(identity.deny.as_ref()) {
        return Access::Denied(format!("explicitly denied by {d}"));
    }
    let iam_allows = identity.allow.clone();
    let iam_maybe = identity.allow_maybe.clone();
    let allowed: Option<String> = match (&resource.allow, &resource.delegate) {
        (Some(a), _) => Some(a.clone()),
        (None, Some(d)) => iam_allows.as_ref().map(|i| format!("{d} delegating to IAM, and {i}")),
        (None, None) if !needs_resource_grant => iam_allows.clone(),
        _ => None,
    };
    let maybe: Option<String> = resource
        .allow_maybe
        .clone()
        .or_else(|| resource.delegate.as_ref().and(iam_maybe.clone()))
        .or_else(|| resource.delegate_maybe.as_ref().and(iam_allows.clone().or(iam_maybe.clone())))
        .or_else(|| if needs_resource_grant { None } else { iam_maybe.clone() });
    match (allowed, maybe) {
        (Some(a), _) => match resource.deny_maybe.as_ref().or(identity.deny_maybe.as_ref()) {
            Some(d) => Access::Unclear(format!("{what} allowed by {a}, unless {d} applies (not evaluated)")),
            None => Access::Allowed(format!("{what} allowed by {a}")),
        },
        (None, Some(m)) => Access::Unclear(format!("{what} allowed only under {m}, not evaluated here")),
        (None, None) => Access::Denied(format!("no policy allows {what}")),
    }
}

/// May `role_arn` call kms:Decrypt on `key_arn`? `identity`: the role's
/// identity policy documents with their names.
pub fn kms_decrypt(key_arn: &str, key_policy: &Value, role_arn: &str, identity: &[(String, Value)]) -> Access {
    let target = Target::Exact(key_arn);
    let mut resource = judge(key_policy, "key policy", "kms:Decrypt", target, Some(role_arn));
    // Delegation to IAM works only for principals of the key's own account.
    let key_account = crate::aws::account_of_arn(key_arn).unwrap_or_default();
    if role_parts(role_arn).is_some_and(|(a, _)| a != key_account) {
        resource.delegate = None;
        resource.delegate_maybe = None;
    }
    let id = identity_verdict(identity, "kms:Decrypt", target);
    decide(&resource, &id, true, "kms:Decrypt")
}

/// May `role_arn` call s3:GetObject on some object under `bucket/prefix`?
/// (Same-account rule: the bucket policy or an identity policy may grant.)
pub fn s3_get_object(bucket: &str, prefix: &str, bucket_policy: Option<&Value>, role_arn: &str, identity: &[(String, Value)]) -> Access {
    let arn = format!("arn:aws:s3:::{bucket}/{prefix}");
    let target = Target::Prefix(&arn);
    let resource = bucket_policy.map(|p| judge(p, "bucket policy", "s3:GetObject", target, Some(role_arn))).unwrap_or_default();
    let id = identity_verdict(identity, "s3:GetObject", target);
    decide(&resource, &id, false, "s3:GetObject")
}

fn identity_verdict(identity: &[(String, Value)], action: &str, target: Target) -> Verdict {
    let mut all = Verdict::default();
    for (name, doc) in identity {
        let v = judge(doc, &format!("policy `{name}`"), action, target, None);
        for (slot, value) in [(&mut all.deny, v.deny), (&mut all.deny_maybe, v.deny_maybe), (&mut all.allow, v.allow), (&mut all.allow_maybe, v.allow_maybe)] {
            if slot.is_none() {
                *slot = value;
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "arn:aws:kms:ap-northeast-1:444444444444:key/aaaa";
    const ROLE_B: &str = "arn:aws:iam::444444444444:role/b-town-app";

    fn root_key_policy() -> Value {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "kms:*", "Resource": "*"}]})
    }

    #[test]
    fn globs_honour_wildcards_and_prefixes() {
        assert!(glob("kms:*", "kms:Decrypt", true));
        assert!(glob("KMS:decr?pt", "kms:Decrypt", true));
        assert!(!glob("kms:Encrypt", "kms:Decrypt", true));
        assert!(glob("*", "anything", false));
        assert!(glob("arn:aws:kms:*:444444444444:key/*", KEY, false));
        assert!(!glob("arn:aws:kms:*:444444444444:key/b*", KEY, false));
        assert!(glob_meets_prefix("arn:aws:s3:::juki/*", "arn:aws:s3:::juki/a-city/"));
        assert!(glob_meets_prefix("arn:aws:s3:::juki/a-*", "arn:aws:s3:::juki/a-city/"));
        assert!(glob_meets_prefix("arn:aws:s3:::juki/a-city/x.csv", "arn:aws:s3:::juki/a-city/"));
        assert!(!glob_meets_prefix("arn:aws:s3:::juki/b-town/*", "arn:aws:s3:::juki/a-city/"));
        assert!(!glob_meets_prefix("arn:aws:s3:::juki", "arn:aws:s3:::juki/a-city/"));
    }

    #[test]
    fn a_key_delegated_to_iam_is_decided_by_the_roles_policies() {
        let none: Vec<(String, Value)> = vec![];
        assert!(matches!(kms_decrypt(KEY, &root_key_policy(), ROLE_B, &none), Access::Denied(_)));
        let scoped = vec![(
            "own".to_string(),
            json!({"Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:ap-northeast-1:444444444444:key/bbbb"}}),
        )];
        assert!(matches!(kms_decrypt(KEY, &root_key_policy(), ROLE_B, &scoped), Access::Denied(_)));
        let wide = vec![("wide".to_string(), json!({"Statement": [{"Effect": "Allow", "Action": ["kms:*"], "Resource": "*"}]}))];
        let a = kms_decrypt(KEY, &root_key_policy(), ROLE_B, &wide);
        assert!(matches!(&a, Access::Allowed(w) if w.contains("policy `wide`")), "{a:?}");
        let denied = vec![wide[0].clone(), ("deny".to_string(), json!({"Statement": {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": KEY}}))];
        assert!(matches!(kms_decrypt(KEY, &root_key_policy(), ROLE_B, &denied), Access::Denied(w) if w.contains("explicitly denied")));
        let cond = vec![(
            "cond".to_string(),
            json!({"Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:Municipality": "B町"}}}}),
        )];
        assert!(matches!(kms_decrypt(KEY, &root_key_policy(), ROLE_B, &cond), Access::Unclear(w) if w.contains("Condition")));
    }

    #[test]
    fn a_key_policy_naming_the_role_allows_it_without_iam() {
        let none: Vec<(String, Value)> = vec![];
        let direct = json!({"Statement": [{"Sid": "B", "Effect": "Allow", "Principal": {"AWS": [ROLE_B]}, "Action": "kms:Decrypt", "Resource": "*"}]});
        assert!(matches!(kms_decrypt(KEY, &direct, ROLE_B, &none), Access::Allowed(w) if w.contains("`B`")));
        let other = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:role/a-city-app"}, "Action": "kms:Decrypt", "Resource": "*"}]});
        assert!(matches!(kms_decrypt(KEY, &other, ROLE_B, &none), Access::Denied(_)));
        // The key policy does not delegate: even a wide identity policy cannot use the key.
        let wide = vec![("wide".to_string(), json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))];
        assert!(matches!(kms_decrypt(KEY, &other, ROLE_B, &wide), Access::Denied(_)));
        let not_principal = json!({"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "kms:Decrypt", "Resource": "*"}]});
        assert!(matches!(kms_decrypt(KEY, &not_principal, ROLE_B, &none), Access::Unclear(_)));
        let cross = "arn:aws:iam::555555555555:role/b-town-app";
        assert!(matches!(kms_decrypt(KEY, &root_key_policy(), cross, &wide), Access::Denied(_)), "another account's root is not this account's");
    }

    #[test]
    fn s3_prefixes_are_judged_by_bucket_and_identity_policies() {
        let none: Vec<(String, Value)> = vec![];
        assert!(matches!(s3_get_object("juki", "a-city/", None, ROLE_B, &none), Access::Denied(_)));
        let own = vec![("own".to_string(), json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::juki/b-town/*"}}))];
        assert!(matches!(s3_get_object("juki", "a-city/", None, ROLE_B, &own), Access::Denied(_)));
        let bucket = vec![("bucket".to_string(), json!({"Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::juki/*"}}))];
        assert!(matches!(s3_get_object("juki", "a-city/", None, ROLE_B, &bucket), Access::Allowed(_)));
        let public = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::juki/*"}});
        assert!(matches!(s3_get_object("juki", "a-city/", Some(&public), ROLE_B, &own), Access::Allowed(w) if w.contains("bucket policy")));
        let deny = json!({"Statement": {"Effect": "Deny", "Principal": {"AWS": ROLE_B}, "Action": "s3:*", "Resource": "arn:aws:s3:::juki/a-city/*"}});
        assert!(matches!(s3_get_object("juki", "a-city/", Some(&deny), ROLE_B, &bucket), Access::Denied(_)));
        let cond_deny = json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::juki/a-city/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/Municipality": "A市"}}}});
        assert!(matches!(s3_get_object("juki", "a-city/", Some(&cond_deny), ROLE_B, &bucket), Access::Unclear(_)));
        let variable = vec![(
            "var".to_string(),
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::juki/${aws:PrincipalTag/Prefix}/*"}}),
        )];
        assert!(matches!(s3_get_object("juki", "a-city/", None, ROLE_B, &variable), Access::Unclear(_)));
    }

    #[test]
    fn role_arns_split_into_account_and_name() {
        assert_eq!(role_parts("arn:aws:iam::444444444444:role/app/b-town"), Some(("444444444444", "b-town")));
        assert_eq!(role_parts("arn:aws:iam::444444444444:user/x"), None);
    }
}
