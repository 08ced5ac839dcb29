//! IAM policy documents as IAM returns them (URL-encoded JSON): decoding,
//! "is this an administrator policy", "does this trust policy require MFA".

use serde_json::Value;

/// The AWS managed administrator policy.
pub const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// IAM returns policy documents URL-encoded (RFC 3986); emulators sometimes
/// return them plain. Accept both.
pub fn decode(doc: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(doc) {
        return Ok(v);
    }
    let text = percent_decode(doc)?;
    serde_json::from_str(&text).map_err(|e| format!("policy document is not JSON: {e}"))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or("truncated %-escape in policy document")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad %-escape `%{hex}` in policy document"))?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "policy document is not UTF-8".to_string())
}

/// `"x"` or `["x", ...]` as a list.
pub(crate) fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A document's statements, whether `Statement` is one object or a list.
pub(crate) fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn allows(st: &Value) -> bool {
    st.get("Effect").and_then(Value::as_str) == Some("Allow")
}

/// A policy granting every action on every resource (what AdministratorAccess grants).
pub fn grants_full_admin(doc: &Value) -> bool {
    statements(doc)
        .into_iter()
        .any(|st| allows(st) && strings(st.get("Action")).contains(&"*") && strings(st.get("Resource")).contains(&"*") && st.get("Condition").is_none())
}

/// Whether every Allow statement of a trust policy that lets IAM principals
/// (`Principal.AWS`) assume the role requires `aws:MultiFactorAuthPresent`
/// = true (under `Bool`; `BoolIfExists` lets non-MFA sessions through).
/// `Err` names the statement that does not; `Ok(false)` means no statement
/// lets IAM principals in (service or federated roles only).
pub fn trust_requires_mfa(doc: &Value) -> Result<bool, String> {
    let mut human = 0;
    for (i, st) in statements(doc).into_iter().enumerate() {
        if !allows(st) || st.get("Principal").and_then(|p| p.get("AWS")).is_none() {
            continue;
        }
        human += 1;
        let mfa = st
            .get("Condition")
            .and_then(|c| c.get("Bool"))
            .and_then(|b| b.get("aws:MultiFactorAuthPresent"))
            .map(|v| match v {
                Value::Bool(b) => *b,
                other => strings(Some(other)).iter().any(|s| s.eq_ignore_ascii_case("true")),
            })
            .unwrap_or(false);
        if !mfa {
            let sid = st.get("Sid").and_then(Value::as_str).map(|s| format!(" `{s}`")).unwrap_or_default();
            return Err(format!("trust statement #{}{sid} lets IAM principals assume the role without aws:MultiFactorAuthPresent=true", i + 1));
        }
    }
    Ok(human > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_url_encoded_and_plain_documents() {
        let enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let v = decode(enc).expect("decodes");
        assert!(grants_full_admin(&v));
        assert!(decode(r#"{"Statement":[]}"#).is_ok());
        assert!(decode("%7").is_err());
    }

    #[test]
    fn full_admin_needs_star_action_and_resource_without_condition() {
        let admin: Value = serde_json::json!({"Statement": {"Effect": "Allow", "Action": ["*"], "Resource": "*"}});
        let ro: Value = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]});
        let deny: Value = serde_json::json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(grants_full_admin(&admin));
        assert!(!grants_full_admin(&ro));
        assert!(!grants_full_admin(&deny));
    }

    #[test]
    fn trust_policy_mfa_condition() {
        let with: Value = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let without: Value = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"}]});
        let if_exists: Value = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let service: Value = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(trust_requires_mfa(&with), Ok(true));
        assert!(trust_requires_mfa(&without).is_err());
        assert!(trust_requires_mfa(&if_exists).is_err());
        assert_eq!(trust_requires_mfa(&service), Ok(false));
    }
}
