//! The preflight against a live emulator: `check` says the credential source,
//! the account and the caller, probes nothing, and names `[scope] resources`
//! that do not exist.

mod common;

use common::{moto_exe, text, write, xtask};
use gcverify_demo::fleet::{role_arn, seed_municipality};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_account_the_caller_and_missing_scope_resources() {
    let moto = gcverify_demo::MotoServer::start(&moto_exe()).await.expect("moto starts");
    let ep = moto.endpoint();
    let account = "222222222222";
    seed_municipality(&ep, account, &[("System", "juki")], false).await.expect("seed");
    let dir = tempfile::tempdir().expect("tmp");
    let scenario = write(
        dir.path(),
        "city.toml",
        &format!(
            "[environment]\nname = \"city\"\n\n[aws]\nendpoint_url = \"{ep}\"\nrole_arn = \"{}\"\n\n[scope]\ntags = {{ System = \"juki\" }}\nresources = [\"i-0000000000dead000\"]\n",
            role_arn(account)
        ),
    );
    let out = dir.path().join("out");
    let o = xtask(&["check", "--scenario", scenario.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(all.contains("認証情報: 環境変数 AWS_ACCESS_KEY_ID、ロール") && all.contains(&role_arn(account)), "the source, by name: {all}");
    assert!(all.contains(&format!("検証対象アカウント: {account}")), "the account the role resolves to: {all}");
    assert!(all.contains("[scope] resources に指定したが見つからないリソース: i-0000000000dead000"), "{all}");
    assert!(all.contains("事前確認 OK"), "{all}");
    assert!(!out.exists(), "check writes nothing");
}
