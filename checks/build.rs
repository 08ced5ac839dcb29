//! Records the git commit gcverify is built from (`GCVERIFY_GIT_COMMIT`), so
//! every report can say which code produced it (the commit checked out when
//! built; uncommitted changes are not marked). Outside git it stays empty.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=GCVERIFY_GIT_COMMIT={commit}");
    // Rerun when HEAD moves (a commit, a checkout). A path that does not exist
    // (packed refs) would rerun every build, so only existing ones are watched.
    let mut watched = vec!["HEAD".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for p in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &p]).filter(|path| std::path::Path::new(path).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
