//! Credentials the deep checks use (a database password, a test account's
//! password and TOTP secret): from an environment variable the scenario names,
//! or from a Secrets Manager secret. A [`Secret`] never prints its value, so a
//! credential cannot reach evidence, a report or a log by a stray `{:?}`.

use crate::aws::{failure_reason, AwsContext};

/// IAM action a secret read needs.
pub const ACTIONS: &[&str] = &["secretsmanager:GetSecretValue"];

/// A credential's value; `Debug`/`Display` say only that it is hidden.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    #[cfg(test)]
    pub fn for_test(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Read the environment variable `var` (`what` says which setting named it).
pub fn from_env(var: &str, what: &str) -> Result<Secret, String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Secret(v)),
        Ok(_) => Err(format!("環境変数 {var} が空（{what}） / environment variable {var} ({what}) is empty")),
        Err(_) => Err(format!("環境変数 {var} がない（{what}） / environment variable {var} ({what}) is not set")),
    }
}

/// The secret `arn` (in the region its ARN names): the JSON key `key` when the
/// secret is a JSON object, else the whole string. `Ok(None)` when the
/// object has no such key (an optional credential such as a TOTP secret).
pub async fn from_secrets_manager(aws: &AwsContext, arn: &str, key: &str) -> Result<Option<Secret>, String> {
    let Some(region) = arn_region(arn) else {
        return Err(format!("secret_arn `{arn}` is not a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"));
    };
    let call = "secretsmanager:GetSecretValue";
    let out = aws.secretsmanager(region).get_secret_value().secret_id(arn).send().await.map_err(|e| failure_reason(call, &e))?;
    let Some(text) = out.secret_string() else {
        return Err(format!("{call}: the secret {arn} has no SecretString (binary secrets are not read)"));
    };
    Ok(pick(text, key))
}

/// A credential from the environment variable `env` (`what` names the
/// setting) or else the Secrets Manager secret `arn` (its key `key`); `Ok(None)`
/// when neither is given or the secret has no such key.
pub async fn resolve(aws: &AwsContext, env: Option<&str>, arn: Option<&str>, key: &str, what: &str) -> Result<Option<Secret>, String> {
    match (env, arn) {
        (Some(var), _) => from_env(var, what).map(Some),
        (None, Some(arn)) => from_secrets_manager(aws, arn, key).await,
        (None, None) => Ok(None),
    }
}

/// A JSON object's string `key`, or the whole text when it is not a JSON object.
fn pick(text: &str, key: &str) -> Option<Secret> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => map.get(key).and_then(|v| v.as_str()).filter(|v| !v.is_empty()).map(|v| Secret(v.to_string())),
        _ => Some(Secret(text.to_string())).filter(|s| !s.0.is_empty()),
    }
}

/// `arn:aws:secretsmanager:<region>:...` → the region.
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_partition), Some("secretsmanager"), Some(region)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }

    #[test]
    fn json_secrets_give_their_key_and_plain_ones_the_whole_text() {
        assert_eq!(pick(r#"{"username":"ro","password":"pw"}"#, "password").map(|s| s.0), Some("pw".into()));
        assert_eq!(pick(r#"{"username":"ro","password":"pw"}"#, "totp_secret"), None);
        assert_eq!(pick("plain-text", "password").map(|s| s.0), Some("plain-text".into()));
        assert_eq!(pick("", "password"), None);
    }

    #[test]
    fn the_region_comes_from_the_arn() {
        assert_eq!(arn_region("arn:aws:secretsmanager:ap-northeast-3:111122223333:secret:db-AbCdEf"), Some("ap-northeast-3"));
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_region("db-password"), None);
    }
}
