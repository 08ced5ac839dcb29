//! `gcverify` as an installed tool: its own name in help, `--env` read from
//! the working directory's `scenarios/` (or `$GCVERIFY_HOME`), reports in the
//! working directory's `gcverify-out/ENV/`, never in the source tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gcverify(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gcverify"))
        .args(args)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .env_remove("GCVERIFY_HOME")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .expect("gcverify runs")
}

fn text(o: &Output) -> String {
    format!("exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn source_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// A city's scenario in `dir/scenarios/`: the demo's, renamed, with the files it names.
fn plant_scenario(dir: &Path, env: &str) {
    let src = source_tree().join("scenarios");
    let body = std::fs::read_to_string(src.join("demo.toml")).expect("demo.toml").replacen("name = \"demo\"", &format!("name = \"{env}\""), 1);
    std::fs::create_dir_all(dir.join("scenarios/load")).expect("mkdir");
    std::fs::write(dir.join(format!("scenarios/{env}.toml")), body).expect("write");
    std::fs::copy(src.join("load/demo.toml"), dir.join("scenarios/load/demo.toml")).expect("copy the load profile");
}

#[test]
fn help_says_gcverify_and_documents_the_exit_codes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = gcverify(tmp.path(), &["--help"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("Usage: gcverify"), "{out}");
    assert!(out.contains("Exit codes") && out.contains("4 the run could not happen"), "{out}");
    assert!(!out.contains("cargo xtask"), "{out}");
    assert!(!out.contains("\n  bench") && !out.contains("\n  docs"), "no developer commands listed: {out}");
    let o = gcverify(tmp.path(), &["verify", "--help"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("gcverify verify --env demo") && out.contains("gcverify-out/ENV/"), "{out}");
    let o = gcverify(tmp.path(), &["bench", "load"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("cargo xtask"), "{}", text(&o));
}

#[test]
fn env_resolves_in_the_working_directory_and_reports_go_there() {
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path().join("city");
    plant_scenario(&work, "mycity");
    let moto = [("GCVERIFY_MOTO_SERVER", std::env::var("GCVERIFY_MOTO_SERVER").unwrap_or_default())];
    let env: Vec<(&str, &str)> = moto.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (*k, v.as_str())).collect();
    let o = gcverify(&work, &["verify", "--env", "mycity", "--only", "C.1.2.5", "--format", "json,md"], &env);
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", text(&o));
    let out = work.join("gcverify-out/mycity");
    assert!(out.join("result.json").is_file() && out.join("検証結果.md").is_file(), "{}", text(&o));
    assert!(!source_tree().join("target/gcverify/mycity").exists(), "nothing in the source tree");
    assert!(!source_tree().join("gcverify-out").exists(), "nothing in the source tree");

    // An environment the working directory does not have: exit 3 naming where it looked.
    let o = gcverify(&work, &["verify", "--env", "nosuch"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains(&work.join("scenarios/nosuch.toml").display().to_string()), "{}", text(&o));

    // GCVERIFY_HOME instead of the working directory (a service's home).
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let home = work.to_str().expect("utf8");
    let mut with_home = env.clone();
    with_home.push(("GCVERIFY_HOME", home));
    let o = Command::new(env!("CARGO_BIN_EXE_gcverify"))
        .args(["check", "--env", "mycity"])
        .current_dir(&elsewhere)
        .envs(with_home.iter().copied())
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&work.join("gcverify-out/mycity").display().to_string()), "{}", text(&o));
    assert_eq!(std::fs::read_dir(&elsewhere).expect("ls").count(), 0, "nothing written in the working directory");
}

#[test]
fn the_demo_runs_from_any_folder() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = gcverify(tmp.path(), &["demo", "--noncompliant", "--only", "C.1.2.5", "--format", "json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(tmp.path().join("gcverify-out/demo-noncompliant/result.json").is_file(), "{}", text(&o));
}
