use super::*;
use std::path::Path;

const MINIMAL: &str = r#"
[environment]
name = "prod"
municipality = "〇〇市"
"#;

fn p() -> &'static Path {
    Path::new("scenarios/x.toml")
}

#[test]
fn minimal_scenario_gets_japanese_region_defaults() {
    let s = parse(MINIMAL, p()).expect("parses");
    assert_eq!(s.environment.name, "prod");
    assert_eq!(s.aws.primary_region, "ap-northeast-1");
    assert_eq!(s.aws.dr_region, "ap-northeast-3");
    assert_eq!(s.aws.used_regions(), vec!["ap-northeast-1", "ap-northeast-3"]);
    assert_eq!(s.engine.probe_timeout_secs, 120);
    assert!(s.attestation.is_empty());
}

#[test]
fn syntax_error_names_file_and_line() {
    let text = "[environment]\nname = \"prod\"\nmunicipality = \n";
    let err = parse(text, p()).unwrap_err().to_string();
    assert!(err.starts_with("scenarios/x.toml:3:"), "{err}");
}

#[test]
fn unknown_key_names_its_line() {
    let text = "[environment]\nname = \"prod\"\n\n[aws]\nregion = \"us-east-1\"\n";
    let err = parse(text, p()).unwrap_err().to_string();
    assert!(err.starts_with("scenarios/x.toml:5:"), "{err}");
    assert!(err.contains("region"), "{err}");
}

#[test]
fn bad_attestation_date_is_reported_with_line() {
    let text = format!("{MINIMAL}\n[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"OK\"\nevidence = \"doc.pdf\"\nreviewer = \"山田\"\ndate = \"2026-13-01\"\n");
    let err = parse(&text, p()).unwrap_err().to_string();
    assert!(err.contains("x.toml:"), "{err}");
    assert!(err.contains("2026-13-01"), "{err}");
}

#[test]
fn attestation_accepts_toml_date_literals() {
    let text = format!(
        "{MINIMAL}\n[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"N/A\"\nevidence = \"doc.pdf\"\nreviewer = \"山田\"\ndate = 2026-10-01\nexpires = \"2027-03-31\"\n"
    );
    let s = parse(&text, p()).expect("parses");
    let a = &s.attestation[0];
    assert_eq!(a.result, AttestedResult::NotApplicable);
    assert_eq!(a.date.to_string(), "2026-10-01");
    assert_eq!(a.expires.as_ref().map(|e| e.get_ref().to_string()).as_deref(), Some("2027-03-31"));
}

fn known(id: &str) -> bool {
    id == "E.6.1.2" || id == "E.1.1.1"
}
fn level(_: &str, l: &str) -> Result<(), String> {
    if matches!(l, "0" | "1" | "2" | "3" | "4" | "5") {
        Ok(())
    } else {
        Err(format!("level `{l}` is not 0..5"))
    }
}

#[test]
fn validation_reports_every_unknown_id_and_bad_level_with_lines() {
    let text = format!("{MINIMAL}\n[levels]\n\"E.6.1.2\" = \"9\"\n\"Z.9.9.9\" = \"1\"\n");
    let s = parse(&text, p()).expect("parses");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(err.contains("x.toml:7:") && err.contains("level `9`"), "{err}");
    assert!(err.contains("x.toml:8:") && err.contains("Z.9.9.9"), "{err}");
}

#[test]
fn attestation_expiring_before_its_date_is_rejected() {
    let text = format!(
        "{MINIMAL}\n[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"OK\"\nevidence = \"doc.pdf\"\nreviewer = \"山田\"\ndate = 2026-10-01\nexpires = 2026-01-01\n"
    );
    let s = parse(&text, p()).expect("parses");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:12:") && err.contains("expires"), "{err}");
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let err = load(Path::new("/nonexistent/gcverify.toml")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/gcverify.toml"), "{err}");
}

#[test]
fn database_section_rejects_what_could_reach_a_statement_with_lines() {
    let text = format!(
        "{MINIMAL}\n[database]\nengine = \"postgress\"\nhost = \"db\"\ndatabase = \"juki\"\nuser = \"ro\"\n\n[[database.personal]]\ntable = \"residents; DROP TABLE x\"\ncolumn = \"name\"\nkind = \"name\"\n\n[[database.personal]]\ntable = \"juki.residents\"\ncolumn = \"addr ess\"\nkind = \"adress\"\nciphertext = \"rot13\"\n"
    );
    let s = parse(&text, p()).expect("parses");
    assert!(s.database.as_ref().is_some_and(|d| d.tls), "TLS is required unless the scenario says otherwise");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:7:") && err.contains("unknown database engine `postgress`"), "{err}");
    assert!(err.contains("x.toml:13:") && err.contains("not a plain table name"), "{err}");
    assert!(err.contains("x.toml:19:") && err.contains("not a plain column name"), "{err}");
    assert!(err.contains("x.toml:20:") && err.contains("unknown personal-data kind `adress`"), "{err}");
    assert!(err.contains("x.toml:21:") && err.contains("unknown ciphertext form `rot13`"), "{err}");
}

#[test]
fn observation_minimum_needs_a_reason_and_a_value() {
    let text = format!("{MINIMAL}\n[observation.\"E.6.1.2\"]\ndays = 1\nreason = \"\"\n[observation.\"E.1.1.1\"]\nreason = \"x\"\n[observation.\"Z.9.9.9\"]\nsamples = 1\nreason = \"x\"\n");
    let s = parse(&text, p()).expect("parses");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:6:") && err.contains("E.6.1.2\"] needs a reason"), "{err}");
    assert!(err.contains("x.toml:9:") && err.contains("E.1.1.1\"] sets neither days nor samples"), "{err}");
    assert!(err.contains("unknown item ID `Z.9.9.9`"), "{err}");
}

#[test]
fn an_integration_process_needs_exactly_one_check() {
    let text = format!(
        "{MINIMAL}\n[[integrations.process]]\nname = \"両方\"\nhttp = {{ url = \"http://x/\" }}\nfile = {{ bucket = \"b\", max_age_hours = 1 }}\n[[integrations.process]]\nname = \"なし\"\n[[integrations.process]]\nname = \"DBなし\"\nsql = {{ query = \"SELECT 1\" }}\n"
    );
    let s = parse(&text, p()).expect("parses");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:7:") && err.contains("`両方` needs exactly one of http, file or sql (2 given)"), "{err}");
    assert!(err.contains("x.toml:11:") && err.contains("(0 given)"), "{err}");
    assert!(err.contains("x.toml:13:") && err.contains("no [database]"), "{err}");
}

#[test]
fn login_section_needs_one_password_source_and_a_known_totp_algorithm() {
    let text = format!(
        "{MINIMAL}\n[login]\nurl = \"ftp://app/login\"\nusername = \"staff01\"\npassword_env = \"P\"\nsecret_arn = \"arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:x\"\notp_field = \"otp_token\"\nlogged_in_marker = \"ログアウト\"\ntotp_algorithm = \"MD5\"\n"
    );
    let s = parse(&text, p()).expect("parses");
    let l = s.login.as_ref().expect("login");
    assert_eq!((l.username_field.as_str(), l.password_field.as_str(), l.totp_digits, l.totp_step_secs), ("username", "password", 6, 30));
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:7:") && err.contains("must start with https://"), "{err}");
    assert!(err.contains("exactly one of password_env or secret_arn"), "{err}");
    assert!(err.contains("x.toml:13:") && err.contains("unknown totp_algorithm `MD5`"), "{err}");
    let ok = format!("{MINIMAL}\n[login]\nurl = \"https://app/login\"\nusername = \"staff01\"\npassword_env = \"P\"\notp_field = \"otp_token\"\nlogged_in_marker = \"ログアウト\"\n");
    parse(&ok, p()).expect("parses").validate(&known, &level).expect("a minimal [login] is valid");
}

#[test]
fn restore_validations_need_a_database_and_newest_needs_a_limit() {
    let text = format!(
        "{MINIMAL}\n[continuity.drill]\niam_role_arn = \"arn:aws:iam::1:role/r\"\n[[continuity.drill.validation]]\nname = \"住民数\"\nquery = \"SELECT count(*) FROM residents\"\n[[continuity.drill.validation]]\nname = \"最終更新\"\nquery = \"SELECT max(updated_at) FROM residents\"\nkind = \"newest\"\n"
    );
    let s = parse(&text, p()).expect("parses");
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:9:") && err.contains("`住民数` needs [database]"), "{err}");
    assert!(err.contains("x.toml:12:") && err.contains("needs max_lag_minutes"), "{err}");
}
