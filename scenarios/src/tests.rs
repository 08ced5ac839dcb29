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
fn sampling_schemas_and_exclusions_are_checked_with_lines() {
    // Lines: 7 engine, 11 sample, 12 schemas, 14 [[database.exclude]], 15 table, 16 column, 17 reason.
    let text = format!(
        "{MINIMAL}\n[database]\nengine = \"postgres\"\nhost = \"db\"\ndatabase = \"juki\"\nuser = \"ro\"\nsample = \"everything\"\nschemas = [\"juki x\"]\n\n[[database.exclude]]\ntable = \"residents;\"\ncolumn = \"code\"\nreason = \" \"\n"
    );
    let s = parse(&text, p()).expect("parses");
    let db = s.database.as_ref().expect("db");
    assert_eq!(db.sample_rows, 400, "the default sample finds a 5 % share of clear rows");
    assert!(!db.reads_all());
    let err = s.validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:11:") && err.contains("the only value is \"all\""), "{err}");
    assert!(err.contains("x.toml:12:") && err.contains("not a plain schema name"), "{err}");
    assert!(err.contains("x.toml:15:") && err.contains("not a plain table name"), "{err}");
    assert!(err.contains("x.toml:17:") && err.contains("needs a reason"), "{err}");
    let ok = parse(
        &format!("{MINIMAL}\n[database]\nengine = \"postgres\"\nhost = \"db\"\ndatabase = \"juki\"\nuser = \"ro\"\nsample = \"all\"\n[[database.exclude]]\ntable = \"residents\"\ncolumn = \"code\"\nreason = \"窓口の受付番号（個人情報なし）\"\n"),
        p(),
    )
    .expect("parses");
    assert!(ok.database.as_ref().is_some_and(|d| d.reads_all()));
    ok.validate(&known, &level).expect("valid");
}

#[test]
fn separation_section_is_checked_with_lines() {
    // Lines: 6 [separation], 7 schema, 8 kms, 9 s3; the missing role is reported at the first key.
    let text = format!(
        "{MINIMAL}\n[separation]\nschema = \"a city\"\nkms_key_arns = [\"arn:aws:kms:ap-northeast-1:444444444444:alias/x\"]\ns3_prefixes = [\"bucket/a/\"]\n"
    );
    let err = parse(&text, p()).expect("parses").validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:7:") && err.contains("schema and table go together"), "{err}");
    assert!(err.contains("x.toml:8:") && err.contains("not a KMS key ARN"), "{err}");
    assert!(err.contains("x.toml:9:") && err.contains("not an S3 prefix"), "{err}");
    assert!(err.contains("need role_arn"), "{err}");
    let text = format!("{MINIMAL}\n[separation]\nschema = \"a_city\"\ntable = \"residents; --\"\nrole_arn = \"arn:aws:iam::444:role/a\"\n");
    let err = parse(&text, p()).expect("parses").validate(&known, &level).unwrap_err().to_string();
    assert!(err.contains("x.toml:8:") && err.contains("not a plain identifier"), "{err}");
    assert!(err.contains("x.toml:7:") && err.contains("needs [database]"), "{err}");
    assert!(err.contains("x.toml:9:") && err.contains("not an IAM role ARN"), "{err}");
    let ok = format!(
        "{MINIMAL}\n[database]\nengine = \"postgres\"\nhost = \"db\"\ndatabase = \"juki\"\nuser = \"ro\"\n[separation]\nschema = \"a_city\"\ntable = \"residents\"\nuser = \"a_city_app\"\npassword_env = \"A_PW\"\nkms_key_arns = [\"arn:aws:kms:ap-northeast-1:444444444444:key/1234\"]\ns3_prefixes = [\"s3://juki-data/a-city/\"]\nrole_arn = \"arn:aws:iam::444444444444:role/a-city-app\"\n"
    );
    let s = parse(&ok, p()).expect("parses");
    s.validate(&known, &level).expect("a full [separation] is valid");
    let sep = s.separation.as_ref().expect("separation");
    let db = sep.database(s.database.as_ref().expect("db"));
    assert_eq!((db.user.as_str(), db.password_env.as_deref()), ("a_city_app", Some("A_PW")));
    assert_eq!(Separation::split_s3("s3://juki-data/a-city/"), Some(("juki-data", "a-city/")));
    let empty = format!("{MINIMAL}\n[separation]\n");
    assert!(parse(&empty, p()).expect("parses").validate(&known, &level).unwrap_err().to_string().contains("names nothing"));
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

mod layered {
    use super::*;
    use std::fs;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write");
        p
    }

    const BASE: &str = "[environment]\nname = \"base\"\nmunicipality = \"基本市\"\n\n[aws]\nprimary_region = \"ap-northeast-1\"\n\n[scope]\ntags = { System = \"juki\" }\n\n[levels]\n\"A.1.5.1\" = \"3\"\n\n[backup]\nplans = [\"daily\", \"weekly\"]\n";

    #[test]
    fn extends_merges_tables_and_replaces_values_and_arrays() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "base.toml", BASE);
        let prod = write(
            dir.path(),
            "prod.toml",
            "extends = \"base.toml\"\n\n[environment]\nname = \"prod\"\n\n[scope]\ntags = { Municipality = \"A市\" }\n\n[levels]\n\"E.6.1.2\" = \"1\"\n\n[backup]\nplans = [\"prod-daily\"]\n",
        );
        let s = load(&prod).expect("loads");
        assert_eq!(s.environment.name, "prod");
        assert_eq!(s.environment.municipality, "基本市", "kept from the base");
        let tags: Vec<(String, String)> = s.scope.tags.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
        assert_eq!(tags.len(), 2, "inline tables merge: {tags:?}");
        assert_eq!(s.levels.len(), 2, "tables merge");
        assert_eq!(s.backup.plans, vec!["prod-daily"], "arrays replace");
        assert_eq!(s.path(), Some(prod.as_path()));
        assert_eq!(s.layers().len(), 2);
    }

    #[test]
    fn chains_of_extends_apply_nearest_last() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "common/base.toml", BASE);
        write(dir.path(), "common/mid.toml", "extends = \"base.toml\"\n[environment]\nname = \"mid\"\nmunicipality = \"中間市\"\n");
        let leaf = write(dir.path(), "leaf.toml", "extends = \"common/mid.toml\"\n[environment]\nname = \"leaf\"\n");
        let s = load(&leaf).expect("loads");
        assert_eq!((s.environment.name.as_str(), s.environment.municipality.as_str()), ("leaf", "中間市"));
    }

    #[test]
    fn a_cycle_in_extends_is_an_error_at_the_extends_line() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "a.toml", "# a\nextends = \"b.toml\"\n[environment]\nname = \"a\"\n");
        write(dir.path(), "b.toml", "# b\n\n\n\nextends = \"a.toml\"\n[environment]\nname = \"b\"\n");
        let err = load(&dir.path().join("a.toml")).unwrap_err().to_string();
        assert!(err.contains("b.toml:5:"), "the extends that closes the cycle: {err}");
        assert!(err.contains("cycle"), "{err}");
        let self_cycle = write(dir.path(), "self.toml", "extends = \"./self.toml\"\n");
        assert!(load(&self_cycle).unwrap_err().to_string().contains("self.toml:1:"));
    }

    #[test]
    fn errors_name_the_file_and_line_the_value_came_from() {
        let dir = tempfile::tempdir().expect("tmp");
        // A wrong type in the base, a child that is fine: the base's line.
        write(dir.path(), "base.toml", "[environment]\nname = \"base\"\n\n[engine]\nprobe_timeout_secs = \"slow\"\n");
        let child = write(dir.path(), "child.toml", "extends = \"base.toml\"\n[environment]\nname = \"child\"\n");
        let err = load(&child).unwrap_err().to_string();
        assert!(err.contains("base.toml:5:"), "{err}");
        // An unknown key in the child: the child's line, though the base is read first.
        write(dir.path(), "base2.toml", BASE);
        let child = write(dir.path(), "child2.toml", "extends = \"base2.toml\"\n\n[aws]\nregion = \"us-east-1\"\n");
        let err = load(&child).unwrap_err().to_string();
        assert!(err.contains("child2.toml:4:"), "{err}");
        // Validation spans too: an unknown item in the base's [levels].
        let s = load(&child_with_levels(dir.path())).expect("parses");
        let err = s.validate(&|id| id != "Z.9.9.9", &|_, _| Ok(())).unwrap_err().to_string();
        assert!(err.contains("base3.toml:4:"), "{err}");
        // A missing base file: at the extends line.
        let orphan = write(dir.path(), "orphan.toml", "\nextends = \"nope.toml\"\n");
        assert!(load(&orphan).unwrap_err().to_string().contains("orphan.toml:2:"));
    }

    fn child_with_levels(dir: &Path) -> PathBuf {
        write(dir, "base3.toml", "[environment]\nname = \"b\"\n[levels]\n\"Z.9.9.9\" = \"1\"\n");
        write(dir, "child3.toml", "extends = \"base3.toml\"\n[environment]\nname = \"c\"\n")
    }

    const FLEET: &str = r#"[fleet]
name = "asp"
base = "../base.toml"

[[environment]]
name = "b-town"
municipality = "B町"
role_arn = "arn:aws:iam::222222222222:role/gcverify"
external_id = "ext-b"

[[environment]]
name = "a-city"
municipality = "A市"
role_arn = "arn:aws:iam::111111111111:role/gcverify"
shared = "kyodo"
attestations = "a-city.attest.toml"
[environment.scenario]
scope.tags = { Municipality = "A市" }
levels = { "E.6.1.2" = "1" }
"#;

    #[test]
    fn a_fleet_builds_each_environment_over_the_base() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "base.toml", BASE);
        write(
            dir.path(),
            "fleets/a-city.attest.toml",
            "[[attestation]]\nitem = \"E.1.1.1\"\nresult = \"OK\"\nevidence = \"a.pdf\"\nreviewer = \"A市 山田\"\ndate = 2026-10-01\n",
        );
        let path = write(dir.path(), "fleets/asp.toml", FLEET);
        let fleet = load_fleet(&path).expect("loads");
        assert_eq!(fleet.name, "asp");
        let names: Vec<&str> = fleet.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a-city", "b-town"], "name order");
        let a = &fleet.members[0].scenario;
        assert_eq!(a.environment.name, "a-city");
        assert_eq!(a.environment.municipality, "A市");
        assert_eq!(a.aws.role_arn.as_deref(), Some("arn:aws:iam::111111111111:role/gcverify"));
        assert_eq!(a.scope.tags.len(), 2, "System from the base, Municipality from the entry");
        assert_eq!(a.levels.len(), 2);
        assert_eq!(a.attestation.len(), 1);
        assert_eq!(fleet.members[0].shared.as_deref(), Some("kyodo"));
        let b = &fleet.members[1].scenario;
        assert_eq!(b.aws.external_id.as_deref(), Some("ext-b"));
        assert_eq!(b.scope.tags.len(), 1);
        assert!(b.attestation.is_empty(), "another entry's attestations do not leak");
        // Relative paths resolve against the base scenario's folder.
        assert_eq!(a.path(), Some(dir.path().join("fleets/../base.toml").as_path()));
    }

    #[test]
    fn fleet_errors_name_the_entry_line() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "base.toml", BASE);
        let no_attest = FLEET.replace("attestations = \"a-city.attest.toml\"\n", "");
        let bad = no_attest.replace("external_id = \"ext-b\"", "external_id = \"ext-b\"\nregion = \"x\"");
        let err = load_fleet(&write(dir.path(), "fleets/asp.toml", &bad)).unwrap_err().to_string();
        assert!(err.contains("asp.toml:10:") && err.contains("region"), "unknown key in an entry: {err}");
        let twice = no_attest.replace("name = \"a-city\"", "name = \"b-town\"");
        let err = load_fleet(&write(dir.path(), "fleets/twice.toml", &twice)).unwrap_err().to_string();
        assert!(err.contains("twice.toml:12:") && err.contains("twice"), "a duplicate name: {err}");
        let err = load_fleet(&write(dir.path(), "fleets/attest.toml", FLEET)).unwrap_err().to_string();
        assert!(err.contains("attest.toml:16:") && err.contains("a-city.attest.toml"), "a missing attestations file: {err}");
        // A wrong type inside an entry's scenario overrides: the fleet file's line.
        let typed = FLEET
            .replace("levels = { \"E.6.1.2\" = \"1\" }", "engine = { probe_timeout_secs = \"slow\" }")
            .replace("attestations = \"a-city.attest.toml\"\n", "");
        let path = write(dir.path(), "fleets/typed.toml", &typed);
        let err = load_fleet(&path).unwrap_err().to_string();
        assert!(err.contains("typed.toml:18:"), "{err}");
        let unnamed = write(dir.path(), "fleets/unnamed.toml", "[fleet]\nbase = \"../base.toml\"\n[[environment]]\nname = \"../x\"\n");
        assert!(load_fleet(&unnamed).unwrap_err().to_string().contains("unnamed.toml:4:"));
        let empty = write(dir.path(), "fleets/empty.toml", "[fleet]\nbase = \"../base.toml\"\n");
        assert!(load_fleet(&empty).unwrap_err().to_string().contains("no [[environment]]"));
        let no_base = write(dir.path(), "fleets/nobase.toml", "[fleet]\nbase = \"../missing.toml\"\n[[environment]]\nname = \"x\"\n");
        assert!(load_fleet(&no_base).unwrap_err().to_string().contains("nobase.toml:2:"));
    }

    #[test]
    fn shards_partition_the_fleet_deterministically() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "base.toml", BASE);
        let mut text = String::from("[fleet]\nbase = \"../base.toml\"\n");
        for i in 0..7 {
            text.push_str(&format!("[[environment]]\nname = \"env{i}\"\n"));
        }
        let fleet = load_fleet(&write(dir.path(), "fleets/f.toml", &text)).expect("loads");
        let mut seen: Vec<String> = Vec::new();
        for i in 1..=3 {
            let shard: Vec<String> = fleet.shard(i, 3).iter().map(|m| m.name.clone()).collect();
            assert!(shard.len() == 2 || shard.len() == 3, "{shard:?}");
            assert_eq!(shard, fleet.shard(i, 3).iter().map(|m| m.name.clone()).collect::<Vec<_>>());
            seen.extend(shard);
        }
        seen.sort();
        assert_eq!(seen, fleet.members.iter().map(|m| m.name.clone()).collect::<Vec<_>>(), "each member in exactly one shard");
        assert_eq!(crate::fleet::parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/2", "3/2", "1/0", "x/2", "2"] {
            assert!(crate::fleet::parse_shard(bad).is_err(), "{bad}");
        }
    }
}
