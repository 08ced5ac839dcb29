//! 団体間のデータ分離 (the fleet's supplementary row) against real services:
//! a throwaway PostgreSQL and MariaDB holding two municipalities' schemas
//! with their own roles, and moto's KMS, S3 and IAM for the keys and prefixes.
//! Separated → OK; a GRANT across → NG naming the pair; a credential that
//! cannot read even its own data, or a table that is not there → 検証不能,
//! never OK; a Condition → 要確認.

use std::sync::Arc;

use gcverify_checks::aws::AwsContext;
use gcverify_checks::separation::{check_group, GroupResult, Party, Path};
use gcverify_checks::Outcome;
use gcverify_demo::postgres::PgServer;

mod common;
use common::{emulator, mariadb_available, moto, no_aws, postgres_available};

fn party(name: &str, municipality: &str, body: &str, aws: Arc<AwsContext>) -> Party {
    let text = format!("[environment]\nname = \"{name}\"\nmunicipality = \"{municipality}\"\n{body}");
    let s = gcverify_scenarios::parse(&text, std::path::Path::new("sep.toml")).expect("scenario parses");
    s.validate(&|_| true, &|_, _| Ok(())).expect("scenario validates");
    Party { name: name.into(), municipality: municipality.into(), scenario: Arc::new(s), aws }
}

/// `cred`: (user, password variable); `data`: (schema, table).
fn sql_party(name: &str, municipality: &str, engine: &str, port: u16, database: &str, cred: (&str, &str), data: (&str, &str)) -> Party {
    let ((user, pw_env), (schema, table)) = (cred, data);
    let body = format!(
        "[database]\nengine = \"{engine}\"\nhost = \"127.0.0.1\"\nport = {port}\ndatabase = \"{database}\"\nuser = \"gcverify_ro\"\ntls = false\n\
         [separation]\nschema = \"{schema}\"\ntable = \"{table}\"\nuser = \"{user}\"\npassword_env = \"{pw_env}\"\n"
    );
    party(name, municipality, &body, no_aws())
}

fn lines(r: &GroupResult) -> String {
    format!("{:?} {}\n{}", r.outcome, r.summary.ja, r.observations().join("\n"))
}

fn pair<'a>(r: &'a GroupResult, from: &str, to: &str) -> &'a gcverify_checks::separation::PairResult {
    r.pairs.iter().find(|p| p.from == from && p.to == to).unwrap_or_else(|| panic!("{from} → {to} missing: {}", lines(r)))
}

#[tokio::test]
async fn postgres_roles_separated_by_schema_are_ok_and_a_grant_across_is_ng() {
    if !postgres_available() {
        return;
    }
    let server = PgServer::start("super-secret-sep").await.expect("PostgreSQL starts");
    gcverify_demo::postgres::seed_shared(
        &server,
        &[("a_city", "a_city_app", "a-secret"), ("b_town", "b_town_app", "b-secret"), ("c_vil", "c_vil_app", "c-secret")],
    )
    .await
    .expect("seed");
    std::env::set_var("GCVERIFY_SEP_PG_A", "a-secret");
    std::env::set_var("GCVERIFY_SEP_PG_B", "b-secret");
    std::env::set_var("GCVERIFY_SEP_PG_C", "c-secret");
    let db = gcverify_demo::postgres::SHARED_DATABASE;
    let a = sql_party("a-city", "A市", "postgres", server.port(), db, ("a_city_app", "GCVERIFY_SEP_PG_A"), ("a_city", "residents"));
    let b = sql_party("b-town", "B町", "postgres", server.port(), db, ("b_town_app", "GCVERIFY_SEP_PG_B"), ("b_town", "residents"));

    // Separated: each role is refused on the other's schema with 42501.
    let r = check_group("kyodo", &[b.clone(), a.clone()]).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", lines(&r));
    assert_eq!(r.pairs.len(), 2, "{}", lines(&r));
    assert!(pair(&r, "A市", "B町").detail.contains("42501"), "{}", lines(&r));
    assert!(r.summary.ja.contains("2件の組すべて"), "{}", lines(&r));
    let text = lines(&r);
    assert!(!text.contains("a-secret") && !text.contains("b-secret"), "no credential in the row: {text}");

    // A GRANT across: A市's credential reads B町's rows → NG naming the pair, B町 → A市 still separated.
    gcverify_demo::postgres::shared_admin(&server, "GRANT USAGE ON SCHEMA b_town TO a_city_app; GRANT SELECT ON b_town.residents TO a_city_app")
        .await
        .expect("grant");
    let r = check_group("kyodo", &[a.clone(), b.clone()]).await;
    assert_eq!(r.outcome, Outcome::Ng, "{}", lines(&r));
    assert_eq!(pair(&r, "A市", "B町").outcome, Outcome::Ng);
    assert!(r.observations().iter().any(|l| l.starts_with("A市 → B町: 読めた")), "{}", lines(&r));
    assert_eq!(pair(&r, "B町", "A市").outcome, Outcome::Ok);
    assert!(r.summary.ja.contains("A市 → B町 (SQL)") && !r.summary.ja.contains("B町 → A市"), "{}", lines(&r));
    gcverify_demo::postgres::shared_admin(&server, "REVOKE SELECT ON b_town.residents FROM a_city_app; REVOKE USAGE ON SCHEMA b_town FROM a_city_app")
        .await
        .expect("revoke");

    // A role that cannot read even its own schema proves nothing: ERROR, not OK.
    gcverify_demo::postgres::shared_admin(&server, "REVOKE SELECT ON c_vil.residents FROM c_vil_app").await.expect("revoke own");
    let c = sql_party("c-vil", "C村", "postgres", server.port(), db, ("c_vil_app", "GCVERIFY_SEP_PG_C"), ("c_vil", "residents"));
    let r = check_group("kyodo", &[a.clone(), c.clone()]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    let from_c = pair(&r, "C村", "A市");
    assert_eq!(from_c.outcome, Outcome::Error);
    assert!(from_c.detail.contains("自団体の c_vil.residents も読めず"), "{}", lines(&r));
    assert_eq!(pair(&r, "A市", "C村").outcome, Outcome::Error, "C村's own read failed: A市's refusal proves nothing: {}", lines(&r));

    // A table that is not there: 42P01 is not a permission error → ERROR.
    let missing = sql_party("b-town", "B町", "postgres", server.port(), db, ("b_town_app", "GCVERIFY_SEP_PG_B"), ("b_town", "nope"));
    let r = check_group("kyodo", &[a.clone(), missing]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(pair(&r, "A市", "B町").detail.contains("42P01"), "{}", lines(&r));

    // A wrong password and a server that is down: ERROR with the reason.
    std::env::set_var("GCVERIFY_SEP_PG_WRONG", "wrong");
    let wrong = sql_party("b-town", "B町", "postgres", server.port(), db, ("b_town_app", "GCVERIFY_SEP_PG_WRONG"), ("b_town", "residents"));
    let r = check_group("kyodo", &[a.clone(), wrong]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(pair(&r, "B町", "A市").detail.contains("authentication failed"), "{}", lines(&r));
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let down_a = sql_party("a-city", "A市", "postgres", dead, db, ("a_city_app", "GCVERIFY_SEP_PG_A"), ("a_city", "residents"));
    let down_b = sql_party("b-town", "B町", "postgres", dead, db, ("b_town_app", "GCVERIFY_SEP_PG_B"), ("b_town", "residents"));
    let r = check_group("kyodo", &[down_a, down_b]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(r.pairs.iter().all(|p| p.outcome == Outcome::Error && p.detail.contains("cannot connect")), "{}", lines(&r));

    // A member without [separation] leaves its data unverified: ERROR, not a silent OK.
    let bare = party("d-vil", "D村", "", no_aws());
    let r = check_group("kyodo", &[a.clone(), b.clone(), bare]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(r.pairs.iter().any(|p| p.to == "D村" && p.outcome == Outcome::Error), "{}", lines(&r));
}

#[tokio::test]
async fn mariadb_users_separated_by_database_are_ok_and_a_grant_across_is_ng() {
    if !mariadb_available() {
        return;
    }
    let server = gcverify_demo::mariadb::MariaDbServer::start(1).await.expect("MariaDB starts");
    gcverify_demo::mariadb::seed_shared(&server, &[("a_city", "a_city_app", "a-secret"), ("b_town", "b_town_app", "b-secret")]).await.expect("seed");
    std::env::set_var("GCVERIFY_SEP_MY_A", "a-secret");
    std::env::set_var("GCVERIFY_SEP_MY_B", "b-secret");
    let a = sql_party("a-city", "A市", "mariadb", server.port(), "a_city", ("a_city_app", "GCVERIFY_SEP_MY_A"), ("a_city", "residents"));
    let b = sql_party("b-town", "B町", "mariadb", server.port(), "b_town", ("b_town_app", "GCVERIFY_SEP_MY_B"), ("b_town", "residents"));
    let r = check_group("kyodo", &[a.clone(), b.clone()]).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", lines(&r));
    assert!(pair(&r, "A市", "B町").detail.contains("1142"), "{}", lines(&r));

    gcverify_demo::mariadb::admin_execute(&server, "GRANT SELECT ON b_town.residents TO 'a_city_app'@'%'").await.expect("grant");
    let r = check_group("kyodo", &[a.clone(), b.clone()]).await;
    assert_eq!(r.outcome, Outcome::Ng, "{}", lines(&r));
    assert_eq!(pair(&r, "A市", "B町").outcome, Outcome::Ng);
    assert_eq!(pair(&r, "B町", "A市").outcome, Outcome::Ok);

    // MariaDB answers 1142 for a table that does not exist where the user has no
    // privilege: B町's own read (1146) shows the name is wrong → ERROR, not OK.
    gcverify_demo::mariadb::admin_execute(&server, "REVOKE SELECT ON b_town.residents FROM 'a_city_app'@'%'").await.expect("revoke");
    let missing = sql_party("b-town", "B町", "mariadb", server.port(), "b_town", ("b_town_app", "GCVERIFY_SEP_MY_B"), ("b_town", "nope"));
    let r = check_group("kyodo", &[a, missing]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    let d = &pair(&r, "A市", "B町").detail;
    assert!(d.contains("own read failed") || d.contains("1146"), "{}", lines(&r));
}

const ACCOUNT: &str = "123456789012";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// A role with one inline policy (moto needs the role to exist to list its policies).
async fn create_role(iam: &aws_sdk_iam::Client, name: &str, inline: Option<serde_json::Value>) {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role().role_name(name).assume_role_policy_document(trust.to_string()).send().await.expect("iam:CreateRole");
    if let Some(mut doc) = inline {
        doc["Version"] = serde_json::json!("2012-10-17");
        iam.put_role_policy().role_name(name).policy_name("app").policy_document(doc.to_string()).send().await.expect("iam:PutRolePolicy");
    }
}

async fn create_key(kms: &aws_sdk_kms::Client, policy: serde_json::Value) -> String {
    let out = kms.create_key().policy(policy.to_string()).send().await.expect("kms:CreateKey");
    out.key_metadata().map(|m| m.arn().unwrap_or_default().to_string()).expect("key ARN")
}

fn cloud_party(name: &str, municipality: &str, keys: &[&str], prefixes: &[&str], role_arn: &str, aws: Arc<AwsContext>) -> Party {
    let q = |v: &[&str]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    party(name, municipality, &format!("[separation]\nkms_key_arns = [{}]\ns3_prefixes = [{}]\nrole_arn = \"{role_arn}\"\n", q(keys), q(prefixes)), aws)
}

#[tokio::test]
async fn kms_keys_and_s3_prefixes_on_moto_are_judged_by_their_policies() {
    let moto = moto().await;
    let ep = moto.endpoint();
    let conf = gcverify_demo::seed::emulator_config(&ep, "ap-northeast-1");
    let iam = aws_sdk_iam::Client::new(&conf);
    let kms = aws_sdk_kms::Client::new(&conf);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    let root = format!("arn:aws:iam::{ACCOUNT}:root");
    let key_policy = |extra: Option<serde_json::Value>| {
        let mut st = vec![serde_json::json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"})];
        st.extend(extra);
        serde_json::json!({"Version": "2012-10-17", "Statement": st})
    };
    let key_a = create_key(&kms, key_policy(None)).await;
    let key_b = create_key(&kms, key_policy(None)).await;
    // Properly scoped roles: each its own key and prefix.
    let scoped = |key: &str, prefix: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::juki-data/{prefix}*")}]})
    };
    create_role(&iam, "a-city-app", Some(scoped(&key_a, "a-city/"))).await;
    create_role(&iam, "b-town-app", Some(scoped(&key_b, "b-town/"))).await;
    s3.create_bucket()
        .bucket("juki-data")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(aws_sdk_s3::types::BucketLocationConstraint::ApNortheast1).build(),
        )
        .send()
        .await
        .expect("s3:CreateBucket");
    let aws = emulator(&ep);
    let a = cloud_party("a-city", "A市", &[&key_a], &["s3://juki-data/a-city/"], &role("a-city-app"), aws.clone());
    let b = cloud_party("b-town", "B町", &[&key_b], &["s3://juki-data/b-town/"], &role("b-town-app"), aws.clone());
    let r = check_group("kyodo", &[a.clone(), b.clone()]).await;
    assert_eq!(r.outcome, Outcome::Ok, "{}", lines(&r));
    assert_eq!(r.pairs.iter().filter(|p| p.path == Path::Kms).count(), 2, "{}", lines(&r));
    assert_eq!(r.pairs.iter().filter(|p| p.path == Path::S3).count(), 2, "{}", lines(&r));

    // B町's key policy grants A市's role: A市 → B町 may decrypt → NG naming the pair.
    let key_b_open = create_key(
        &kms,
        key_policy(Some(
            serde_json::json!({"Sid": "ACityToo", "Effect": "Allow", "Principal": {"AWS": role("a-city-app")}, "Action": "kms:Decrypt", "Resource": "*"}),
        )),
    )
    .await;
    let b_open = cloud_party("b-town", "B町", &[&key_b_open], &["s3://juki-data/b-town/"], &role("b-town-app"), aws.clone());
    let r = check_group("kyodo", &[a.clone(), b_open]).await;
    assert_eq!(r.outcome, Outcome::Ng, "{}", lines(&r));
    let ng: Vec<String> = r.pairs.iter().filter(|p| p.outcome == Outcome::Ng).map(|p| format!("{} → {} {:?}", p.from, p.to, p.path)).collect();
    assert_eq!(ng, ["A市 → B町 Kms"], "{}", lines(&r));
    assert!(r.observations().iter().any(|l| l.starts_with("A市 → B町: 復号できる") && l.contains("ACityToo")), "{}", lines(&r));

    // An identity policy reaching the other prefix (a bucket-wide grant) → NG on S3.
    create_role(
        &iam,
        "b-town-wide",
        Some(serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::juki-data/*"}]})),
    )
    .await;
    let b_wide = cloud_party("b-town", "B町", &[&key_b], &["s3://juki-data/b-town/"], &role("b-town-wide"), aws.clone());
    let r = check_group("kyodo", &[a.clone(), b_wide]).await;
    assert_eq!(r.outcome, Outcome::Ng, "{}", lines(&r));
    assert!(r.observations().iter().any(|l| l.starts_with("B町 → A市: 読める") && l.contains("s3://juki-data/a-city/")), "{}", lines(&r));

    // A bucket policy granting under a Condition → 要確認, not OK.
    let cond = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "Tagged", "Effect": "Allow", "Principal": {"AWS": role("b-town-app")},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::juki-data/*", "Condition": {"StringEquals": {"aws:PrincipalTag/Municipality": "A市"}}}]});
    s3.put_bucket_policy().bucket("juki-data").policy(cond.to_string()).send().await.expect("s3:PutBucketPolicy");
    let r = check_group("kyodo", &[a.clone(), b.clone()]).await;
    assert_eq!(r.outcome, Outcome::Pending, "{}", lines(&r));
    let s3_pair = r.pairs.iter().find(|p| p.path == Path::S3 && p.from == "B町").expect("B町 → A市 on S3");
    assert_eq!(s3_pair.outcome, Outcome::Pending, "{}", lines(&r));
    assert!(s3_pair.detail.contains("`Tagged` (Condition)"), "{}", lines(&r));
    s3.delete_bucket_policy().bucket("juki-data").send().await.expect("s3:DeleteBucketPolicy");

    // A role that is not there / a key that is not there → ERROR with the call named.
    let ghost = cloud_party("b-town", "B町", &[&key_b], &["s3://juki-data/b-town/"], &role("no-such-role"), aws.clone());
    let r = check_group("kyodo", &[a.clone(), ghost]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(r.pairs.iter().filter(|p| p.from == "B町").all(|p| p.outcome == Outcome::Error && p.detail.contains("iam:ListRolePolicies")), "{}", lines(&r));
    let no_key = cloud_party(
        "b-town",
        "B町",
        &["arn:aws:kms:ap-northeast-1:123456789012:key/00000000-0000-0000-0000-000000000000"],
        &["s3://juki-data/b-town/"],
        &role("b-town-app"),
        aws.clone(),
    );
    let r = check_group("kyodo", &[a, no_key]).await;
    assert_eq!(r.outcome, Outcome::Error, "{}", lines(&r));
    assert!(r.pairs.iter().any(|p| p.path == Path::Kms && p.outcome == Outcome::Error && p.detail.contains("kms:GetKeyPolicy")), "{}", lines(&r));
    drop(moto);
}
