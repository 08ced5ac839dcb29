//! Signing `SHA256SUMS` with a key the ASP holds, as an OpenSSH signature
//! (`ssh-keygen -Y sign -n gcverify`, format PROTOCOL.sshsig, Ed25519), and
//! checking a run folder (`report --verify DIR`): every file listed has its
//! digest, and `SHA256SUMS.sig` is a valid signature of the list by one of the
//! allowed keys. Interoperable both ways: `ssh-keygen -Y verify` accepts what
//! [`sign`] writes, and [`verify`] accepts what `ssh-keygen -Y sign` writes.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, UnparsedPublicKey, ED25519};

/// The signature's namespace: a signature made for another purpose does not pass.
pub const NAMESPACE: &str = "gcverify";
/// The signature file beside `SHA256SUMS`.
pub const SIG_FILE: &str = "SHA256SUMS.sig";
const MAGIC: &[u8] = b"SSHSIG";
const ED: &str = "ssh-ed25519";

fn put(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// An SSH wire-format reader (uint32-length-prefixed strings).
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> anyhow::Result<u32> {
        let (head, rest) = self.0.split_at_checked(4).ok_or_else(|| anyhow!("truncated"))?;
        self.0 = rest;
        Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
    }
    fn string(&mut self) -> anyhow::Result<&'a [u8]> {
        let n = self.u32()? as usize;
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(|| anyhow!("truncated"))?;
        self.0 = rest;
        Ok(head)
    }
}

/// The 32-byte Ed25519 key of a public key blob.
fn ed25519_of(blob: &[u8]) -> anyhow::Result<&[u8]> {
    let mut w = Wire(blob);
    let kind = w.string()?;
    if kind != ED.as_bytes() {
        bail!("only ssh-ed25519 keys are supported, not {}", String::from_utf8_lossy(kind));
    }
    let pk = w.string()?;
    if pk.len() != 32 {
        bail!("an ssh-ed25519 key has 32 bytes, not {}", pk.len());
    }
    Ok(pk)
}

/// What is signed: the preamble, the namespace and the message's SHA-512.
fn signed_data(message: &[u8], hash_alg: &str) -> anyhow::Result<Vec<u8>> {
    let digest = match hash_alg {
        "sha512" => ring::digest::digest(&ring::digest::SHA512, message),
        "sha256" => ring::digest::digest(&ring::digest::SHA256, message),
        other => bail!("unsupported hash algorithm {other}"),
    };
    let mut d = MAGIC.to_vec();
    put(&mut d, NAMESPACE.as_bytes());
    put(&mut d, b"");
    put(&mut d, hash_alg.as_bytes());
    put(&mut d, digest.as_ref());
    Ok(d)
}

fn armored_body(text: &str, begin: &str, end: &str) -> anyhow::Result<Vec<u8>> {
    let body = text.split_once(begin).and_then(|(_, rest)| rest.split_once(end)).map(|(b, _)| b).ok_or_else(|| anyhow!("no {begin} … {end} block"))?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).context("not base64")
}

/// Signs `message` with an unencrypted OpenSSH Ed25519 private key (the text of
/// `ssh-keygen -t ed25519 -N ''`'s file); returns the armored signature.
pub fn sign(message: &[u8], private_key: &str) -> anyhow::Result<String> {
    let raw = armored_body(private_key, "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----").context("the signing key")?;
    let mut w = Wire(raw.strip_prefix(b"openssh-key-v1\0".as_slice()).ok_or_else(|| anyhow!("the signing key is not an OpenSSH private key"))?);
    let (cipher, _kdf, _kdf_options, n) = (w.string()?, w.string()?, w.string()?, w.u32()?);
    if cipher != b"none" {
        bail!("the signing key is encrypted with a passphrase: sign with `ssh-keygen -Y sign -n {NAMESPACE} -f KEY SHA256SUMS` instead");
    }
    if n != 1 {
        bail!("the signing key file holds {n} keys, not one");
    }
    let public = w.string()?;
    let pk = ed25519_of(public)?;
    let mut private = Wire(w.string()?);
    if private.u32()? != private.u32()? {
        bail!("the signing key's check bytes differ (a damaged file?)");
    }
    if private.string()? != ED.as_bytes() {
        bail!("only ssh-ed25519 signing keys are supported");
    }
    let (_pub, secret) = (private.string()?, private.string()?);
    let seed = secret.get(..32).ok_or_else(|| anyhow!("the signing key is truncated"))?;
    let pair = Ed25519KeyPair::from_seed_and_public_key(seed, pk).map_err(|e| anyhow!("the signing key is not a valid Ed25519 key: {e}"))?;
    let sig = pair.sign(&signed_data(message, "sha512")?);
    let mut sig_blob = Vec::new();
    put(&mut sig_blob, ED.as_bytes());
    put(&mut sig_blob, sig.as_ref());
    let mut blob = MAGIC.to_vec();
    blob.extend_from_slice(&1u32.to_be_bytes());
    put(&mut blob, public);
    put(&mut blob, NAMESPACE.as_bytes());
    put(&mut blob, b"");
    put(&mut blob, b"sha512");
    put(&mut blob, &sig_blob);
    let b64 = base64::engine::general_purpose::STANDARD.encode(blob);
    let lines: Vec<&str> = b64.as_bytes().chunks(70).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    Ok(format!("-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n", lines.join("\n")))
}

/// The `ssh-ed25519` keys of an allowed-signers or authorized_keys-style text
/// (one per line; `#` comments), as public key blobs.
pub fn allowed_keys(text: &str) -> Vec<Vec<u8>> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace().skip_while(|w| *w != ED);
            words.next()?;
            base64::engine::general_purpose::STANDARD.decode(words.next()?).ok()
        })
        .filter(|blob| ed25519_of(blob).is_ok())
        .collect()
}

/// SHA256 fingerprint of a public key blob, as ssh-keygen prints it.
pub fn fingerprint(blob: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, blob);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(d.as_ref()))
}

/// Checks an armored signature of `message` in the gcverify namespace; returns the
/// signing key's fingerprint when it is one of `allowed` (public key blobs).
pub fn verify(message: &[u8], armored: &str, allowed: &[Vec<u8>]) -> anyhow::Result<String> {
    let raw = armored_body(armored, "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----")?;
    let mut w = Wire(raw.strip_prefix(MAGIC).ok_or_else(|| anyhow!("not an SSH signature"))?);
    let version = w.u32()?;
    if version != 1 {
        bail!("SSH signature version {version} is not supported");
    }
    let (public, namespace, _reserved, hash_alg, sig_blob) = (w.string()?, w.string()?, w.string()?, w.string()?, w.string()?);
    if namespace != NAMESPACE.as_bytes() {
        bail!("the signature is for namespace {:?}, not {NAMESPACE:?}", String::from_utf8_lossy(namespace));
    }
    let pk = ed25519_of(public)?;
    if !allowed.iter().any(|a| a.as_slice() == public) {
        bail!("signed by {}, which is not an allowed key", fingerprint(public));
    }
    let mut s = Wire(sig_blob);
    if s.string()? != ED.as_bytes() {
        bail!("not an ssh-ed25519 signature");
    }
    let sig = s.string()?;
    let data = signed_data(message, std::str::from_utf8(hash_alg).context("hash algorithm")?)?;
    UnparsedPublicKey::new(&ED25519, pk)
        .verify(&data, sig)
        .map_err(|_| anyhow!("the signature does not match SHA256SUMS (edited after signing, or signed by another key)"))?;
    Ok(fingerprint(public))
}

/// What [`verify_dir`] found.
#[derive(Debug)]
pub struct DirCheck {
    /// Files listed and matching their digest.
    pub files: usize,
    /// The signing key's fingerprint, when SHA256SUMS.sig is there and valid.
    pub signed_by: Option<String>,
}

/// Checks a run folder: every file SHA256SUMS lists exists with its digest, and, when
/// `allowed` keys are given, SHA256SUMS.sig is a valid signature by one of them.
pub fn verify_dir(dir: &Path, allowed: Option<&[Vec<u8>]>) -> anyhow::Result<DirCheck> {
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read(&sums_path).with_context(|| format!("reading {}", sums_path.display()))?;
    let text = std::str::from_utf8(&sums).with_context(|| format!("{}: not UTF-8", sums_path.display()))?;
    let mut bad: Vec<String> = Vec::new();
    let mut files = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
        let Some((digest, name)) = line.split_once("  ") else {
            bad.push(format!("line {}: not `DIGEST  PATH`", n + 1));
            continue;
        };
        let path: PathBuf = dir.join(name.trim_start_matches('*'));
        match std::fs::read(&path) {
            Ok(bytes) if gcverify_checks::sha256_hex(&bytes) == digest => files += 1,
            Ok(_) => bad.push(format!("{name}: changed since SHA256SUMS was written")),
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    if !bad.is_empty() {
        bail!("{}: {}", sums_path.display(), bad.join("; "));
    }
    let signed_by = match allowed {
        None => None,
        Some(keys) => {
            let sig_path = dir.join(SIG_FILE);
            let sig = std::fs::read_to_string(&sig_path)
                .with_context(|| format!("reading {} (sign with `ssh-keygen -Y sign -n {NAMESPACE} -f KEY SHA256SUMS`)", sig_path.display()))?;
            Some(verify(&sums, &sig, keys).with_context(|| sig_path.display().to_string())?)
        }
    };
    Ok(DirCheck { files, signed_by })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A fresh Ed25519 key pair made by ssh-keygen: (private key path, public key line).
    fn keygen(dir: &Path, name: &str) -> Option<(PathBuf, String)> {
        let key = dir.join(name);
        let out = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"]).arg(&key).output().ok()?;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        Some((key, public))
    }

    fn ssh_sign(key: &Path, file: &Path, namespace: &str) -> String {
        let out = Command::new("ssh-keygen").args(["-Y", "sign", "-n", namespace, "-f"]).arg(key).arg(file).output().expect("ssh-keygen -Y sign");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let sig = file.with_file_name(format!("{}.sig", file.file_name().and_then(|n| n.to_str()).unwrap_or_default()));
        let text = std::fs::read_to_string(&sig).expect("signature");
        std::fs::remove_file(sig).expect("remove");
        text
    }

    #[test]
    fn openssh_signatures_both_ways_and_every_failure_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // ssh-keygen (openssh-client) is the reference; without it there is nothing to compare with.
        let Some((key, public)) = keygen(tmp.path(), "asp") else {
            eprintln!("skipped: no ssh-keygen");
            return;
        };
        let (other_key, other_public) = keygen(tmp.path(), "other").expect("second key");
        let file = tmp.path().join("SHA256SUMS");
        std::fs::write(&file, "ab  result.json\n").expect("write");
        let message = std::fs::read(&file).expect("read");
        let allowed = allowed_keys(&format!("# the ASP's key\nasp@example.jp {public}"));
        assert_eq!(allowed.len(), 1);

        // ssh-keygen signs, gcverify verifies (and names the key as ssh-keygen -l does).
        let by_ssh = ssh_sign(&key, &file, NAMESPACE);
        let fp = verify(&message, &by_ssh, &allowed).expect("valid");
        let listed = Command::new("ssh-keygen").arg("-lf").arg(key.with_extension("pub")).output().expect("ssh-keygen -l");
        assert!(String::from_utf8_lossy(&listed.stdout).contains(&fp), "{fp}");

        // gcverify signs, ssh-keygen verifies against an allowed_signers file.
        let ours = sign(&message, &std::fs::read_to_string(&key).expect("key")).expect("signs");
        let sig_path = tmp.path().join("ours.sig");
        std::fs::write(&sig_path, &ours).expect("write sig");
        std::fs::write(tmp.path().join("allowed_signers"), format!("asp@example.jp {public}")).expect("allowed");
        let out = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-I", "asp@example.jp", "-n", NAMESPACE, "-f"])
            .arg(tmp.path().join("allowed_signers"))
            .arg("-s")
            .arg(&sig_path)
            .stdin(std::fs::File::open(&file).expect("open"))
            .output()
            .expect("ssh-keygen -Y verify");
        assert!(out.status.success(), "ssh-keygen accepts ours: {}", String::from_utf8_lossy(&out.stderr));
        verify(&message, &ours, &allowed).expect("and so do we");

        // An edited list, another key, another namespace: each refused, saying why.
        let err = verify(b"ab  result.json\nff  extra\n", &ours, &allowed).expect_err("edited").to_string();
        assert!(err.contains("does not match"), "{err}");
        let err = verify(&message, &ssh_sign(&other_key, &file, NAMESPACE), &allowed).expect_err("other key").to_string();
        assert!(err.contains("not an allowed key"), "{err}");
        verify(&message, &ssh_sign(&other_key, &file, NAMESPACE), &allowed_keys(&other_public)).expect("allowed when listed");
        let err = verify(&message, &ssh_sign(&key, &file, "file"), &allowed).expect_err("namespace").to_string();
        assert!(err.contains("namespace"), "{err}");
        assert!(verify(&message, "garbage", &allowed).is_err());
    }

    #[test]
    fn a_run_folder_is_checked_file_by_file_then_by_its_signature() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let Some((key, public)) = keygen(tmp.path(), "asp") else {
            eprintln!("skipped: no ssh-keygen");
            return;
        };
        let run = tmp.path().join("run");
        let report = crate::testutil::sample_report();
        crate::write_files(&report, &gcverify_checks::catalog::Catalog::builtin(), &[crate::Format::Json, crate::Format::Markdown], &run, crate::Lang::Ja)
            .expect("write");
        let allowed = allowed_keys(&public);
        // Unsigned: the digests are checked; asking for a signature names the missing file.
        assert_eq!(verify_dir(&run, None).expect("digests").files, 2);
        let err = format!("{:#}", verify_dir(&run, Some(&allowed)).expect_err("no signature"));
        assert!(err.contains(SIG_FILE) && err.contains("ssh-keygen -Y sign"), "{err}");
        let sums = std::fs::read(run.join("SHA256SUMS")).expect("sums");
        std::fs::write(run.join(SIG_FILE), sign(&sums, &std::fs::read_to_string(&key).expect("key")).expect("sign")).expect("sig");
        let ok = verify_dir(&run, Some(&allowed)).expect("signed");
        assert!(ok.signed_by.is_some_and(|f| f.starts_with("SHA256:")));
        // A report edited after the run: named, whatever the signature says.
        std::fs::write(run.join("検証結果.md"), "edited").expect("edit");
        let err = format!("{:#}", verify_dir(&run, Some(&allowed)).expect_err("edited"));
        assert!(err.contains("検証結果.md: changed since SHA256SUMS was written"), "{err}");
    }
}
