//! The deploy files work as written: every Kubernetes manifest passes an
//! offline schema check (kubernetes-validate from PyPI, strict: unknown fields
//! are errors), the image's build context leaves out target/ and .venv/, one
//! image serves every form, the fleet's name is a parameter, and the systemd
//! steps create the user and let the unit read its credentials.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn read(p: &str) -> String {
    std::fs::read_to_string(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn manifests() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(root().join("deploy/k8s")).expect("deploy/k8s").flatten().map(|e| e.path()).collect();
    all.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    all.sort();
    all
}

/// kubernetes-validate: $GCVERIFY_KUBERNETES_VALIDATE, .venv/bin or PATH.
fn kubernetes_validate() -> Option<PathBuf> {
    let candidates = [std::env::var_os("GCVERIFY_KUBERNETES_VALIDATE").map(PathBuf::from), Some(root().join(".venv/bin/kubernetes-validate"))];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .or_else(|| std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).map(|d| d.join("kubernetes-validate")).find(|p| p.is_file())))
}

#[test]
fn every_manifest_passes_the_offline_schema_check() {
    let Some(exe) = kubernetes_validate() else {
        assert!(
            std::env::var_os("GCVERIFY_REQUIRE_KUBERNETES_VALIDATE").is_none_or(|v| v != "1"),
            "GCVERIFY_REQUIRE_KUBERNETES_VALIDATE=1 but kubernetes-validate is not installed (.venv/bin/pip install kubernetes-validate)"
        );
        eprintln!("NOT RUN: kubernetes-validate is not installed (.venv/bin/pip install kubernetes-validate)");
        return;
    };
    let files = manifests();
    assert!(files.len() >= 3, "{files:?}");
    let o = Command::new(&exe).arg("--strict").args(&files).output().expect("kubernetes-validate runs");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    // Every resource of every file was checked, none skipped for an unknown kind.
    for f in &files {
        let name = f.file_name().expect("name").to_string_lossy().into_owned();
        assert!(out.lines().any(|l| l.contains(&name) && l.contains("passed")), "{name} not validated:\n{out}");
    }
}

#[test]
fn one_image_without_the_build_output_serves_every_form() {
    let file = read("deploy/Containerfile");
    assert!(file.contains("cargo build --release --locked -p gcverify"), "{file}");
    assert!(file.contains("COPY --from=build /src/target/release/gcverify /usr/local/bin/gcverify"), "{file}");
    // The build context: podman/buildah read /.containerignore, BuildKit the file beside the Containerfile.
    for ignore in [".containerignore", "deploy/Containerfile.dockerignore"] {
        let lines: Vec<String> = read(ignore).lines().map(|l| l.trim().trim_end_matches('/').to_string()).collect();
        for must in ["target", ".venv", ".git"] {
            assert!(lines.iter().any(|l| l == must), "{ignore} leaves {must} in the build context");
        }
    }
    // Every workload runs the one image the Containerfile builds.
    for m in manifests() {
        let text = std::fs::read_to_string(&m).expect("read");
        for image in text.lines().filter_map(|l| l.trim().strip_prefix("image: ")) {
            assert!(image.starts_with("registry.example.lg.jp/gcverify:"), "{}: {image}", m.display());
        }
    }
    let availability = read("deploy/k8s/availability-cronjob.yaml");
    assert!(availability.contains(r#"args: ["probe", "availability", "#), "{availability}");
}

#[test]
fn the_fleet_name_is_a_parameter_of_the_job() {
    let job = read("deploy/k8s/fleet-job.yaml");
    let code: Vec<&str> = job.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let literal: Vec<&&str> = code.iter().filter(|l| l.contains("asp") && !l.contains("value: asp")).collect();
    assert!(literal.is_empty(), "the fleet named outside FLEET: {literal:?}");
    assert_eq!(code.iter().filter(|l| l.contains("- name: FLEET")).count(), 2, "FLEET in the shards' Job and the merge Job");
    assert!(job.contains(r#"--fleet "/etc/gcverify/fleets/$FLEET.toml""#) && job.contains(r#"--out "/out/$FLEET""#), "{job}");
}

#[test]
fn the_systemd_steps_create_the_user_and_reach_the_credentials() {
    for unit in ["deploy/systemd/gcverify-verify.service", "deploy/systemd/gcverify-availability.service"] {
        let text = read(unit);
        assert!(text.contains("useradd --system --home-dir /var/lib/gcverify"), "{unit}: the steps create the user");
        assert!(text.contains("User=gcverify"), "{unit}");
        // ProtectHome=true hides ~/.aws of /home and /root: the SDK is pointed at /etc/gcverify/aws.
        if text.contains("ProtectHome=true") {
            assert!(text.contains("AWS_CONFIG_FILE=/etc/gcverify/aws/config"), "{unit}");
            assert!(text.contains("HOME=/var/lib/gcverify"), "{unit}");
        }
    }
    let verify = read("deploy/systemd/gcverify-verify.service");
    assert!(verify.contains("target/release/gcverify /usr/local/bin/gcverify") && !verify.contains("release/xtask"), "{verify}");
}
