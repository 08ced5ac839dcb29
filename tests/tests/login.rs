//! E.5.1.1 ① staff two-factor login, against the real Django + django-otp site
//! of `demo/login_site` (two-step ID/password then TOTP; or one of the
//! noncompliant variants: password-only, any-code, portal-after-password,
//! replay). The password alone reaching the portal is NG; the TOTP step
//! completing the login while the URL after the password alone, a replayed
//! code and a wrong code are refused is OK; a wrong code logging in or the
//! portal opening after the password alone is NG; a code logging in twice is
//! 要確認 (RFC 6238 §5.2); without the account's TOTP secret the
//! second factor is 要確認; wrong credentials, a bad marker, an unreachable
//! site are ERROR. No password, secret or code appears in what the check keeps.

use gcverify_checks::probes::{login, Conclusion};
use gcverify_checks::{EvidenceStatus, Outcome};
use gcverify_demo::login_site::{LoginSite, Mode, STAFF_TOTP_SECRET, STAFF_USER};

mod common;
use common::{emulator, login_python, moto, probe_input, shown};

const PASSWORD: &str = "Kyoutsuu-Test-Pw-7731";

async fn site(mode: Mode, totp: Option<&str>) -> LoginSite {
    LoginSite::start(&login_python(), mode, PASSWORD, totp).await.expect("the login site starts")
}

/// `[login]` for `site` with extra lines; the password and secret come from
/// environment variables named per test (tests run in parallel).
fn section(site: &LoginSite, extra: &str) -> String {
    format!("[login]\nurl = \"{}\"\nusername = \"{STAFF_USER}\"\notp_field = \"otp_token\"\nlogged_in_marker = \"ログアウト\"\n{extra}\n", site.url("/login/"))
}

async fn judge(endpoint: &str, login: &str) -> Conclusion {
    let s = gcverify_scenarios::parse(&format!("[environment]\nname = \"login\"\n{login}"), std::path::Path::new("login.toml")).expect("scenario");
    login::staff_2fa(probe_input("E.5.1.1", "3", s, emulator(endpoint), chrono::Utc::now())).await.conclude("3")
}

/// Nothing secret in the conclusion: the password, the TOTP secret, any code near now.
fn assert_nothing_secret(c: &Conclusion) {
    let text = shown(c);
    assert!(!text.contains(PASSWORD) && !text.contains(STAFF_TOTP_SECRET), "a credential leaked: {text}");
    let totp = totp_rs::Builder::new().with_secret(totp_rs::Secret::try_from_base32(STAFF_TOTP_SECRET).expect("b32")).build_noncompliant();
    let now = chrono::Utc::now().timestamp() as u64;
    for t in [now - 30, now, now + 30] {
        let code = totp.generate(t).to_string();
        assert!(!text.contains(&code), "a TOTP code leaked: {text}");
    }
}

fn statuses(c: &Conclusion) -> Vec<(String, EvidenceStatus)> {
    c.evidence.iter().map(|e| (e.subject.clone(), e.status)).collect()
}

#[tokio::test]
async fn two_step_login_with_the_totp_secret_is_ok() {
    let site = site(Mode::Totp, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T1_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T1_TOTP", STAFF_TOTP_SECRET);
    let extra = format!(
        "password_env = \"GCVERIFY_T1_PW\"\ntotp_secret_env = \"GCVERIFY_T1_TOTP\"\nchallenge_marker = \"認証コード\"\nlogged_in_url = \"{}\"",
        site.url("/portal/")
    );
    let c = judge("http://127.0.0.1:9", &section(&site, &extra)).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    let s = statuses(&c);
    for (subject, status) in [("password-only", EvidenceStatus::Pass), ("second-factor", EvidenceStatus::Pass)] {
        assert!(s.contains(&(subject.into(), status)), "{subject}: {s:?}");
    }
    // The second factor was also shown to refuse: the URL after the password alone, the code again, a wrong code.
    for subject in ["logged-in-url", "replay", "wrong-code"] {
        assert!(s.contains(&(subject.into(), EvidenceStatus::Pass)), "{subject}: {s:?}");
    }
    assert!(c.evidence.iter().any(|e| e.detail.contains("127.0.0.1/login/otp/")), "the challenge page is named: {:?}", c.evidence);
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn a_code_form_accepting_any_six_digits_is_ng() {
    let site = site(Mode::AnyCode, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T6_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T6_TOTP", STAFF_TOTP_SECRET);
    let c = judge("http://127.0.0.1:9", &section(&site, "password_env = \"GCVERIFY_T6_PW\"\ntotp_secret_env = \"GCVERIFY_T6_TOTP\"")).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(c.summary.ja.contains("誤った認証コードでログイン後の画面") && c.summary.ja.contains("127.0.0.1/portal/"), "{}", c.summary.ja);
    let s = statuses(&c);
    // The happy path alone would have said OK: the password alone was refused and the right code logged in.
    for (subject, status) in [("password-only", EvidenceStatus::Pass), ("second-factor", EvidenceStatus::Pass), ("wrong-code", EvidenceStatus::Fail)] {
        assert!(s.contains(&(subject.into(), status)), "{subject}: {s:?}");
    }
    assert_eq!(s.iter().filter(|(subject, _)| subject == "wrong-code").count(), 1, "one wrong code per run: {s:?}");
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn the_portal_opening_after_the_password_alone_is_ng() {
    let site = site(Mode::PortalAfterPassword, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T7_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T7_TOTP", STAFF_TOTP_SECRET);
    let credentials = "password_env = \"GCVERIFY_T7_PW\"\ntotp_secret_env = \"GCVERIFY_T7_TOTP\"";
    // Without logged_in_url: the page the login reached, opened in a second session after the password alone.
    let c = judge("http://127.0.0.1:9", &section(&site, credentials)).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(c.summary.ja.contains("ログイン後のURL（127.0.0.1/portal/）が直接開いた"), "{}", c.summary.ja);
    let s = statuses(&c);
    for (subject, status) in [("password-only", EvidenceStatus::Pass), ("second-factor", EvidenceStatus::Pass), ("logged-in-url", EvidenceStatus::Fail)] {
        assert!(s.contains(&(subject.into(), status)), "{subject}: {s:?}");
    }
    assert_nothing_secret(&c);

    // With logged_in_url: opened right after the password alone, before any code.
    let c = judge("http://127.0.0.1:9", &section(&site, &format!("{credentials}\nlogged_in_url = \"{}\"", site.url("/portal/")))).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(c.summary.ja.contains("ログイン後のURL（127.0.0.1/portal/）が直接開いた"), "{}", c.summary.ja);
    assert!(!statuses(&c).iter().any(|(subject, _)| subject == "second-factor"), "no code was sent: {:?}", statuses(&c));
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn a_code_accepted_twice_is_pending_citing_rfc_6238() {
    let site = site(Mode::Replay, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T8_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T8_TOTP", STAFF_TOTP_SECRET);
    let c = judge("http://127.0.0.1:9", &section(&site, "password_env = \"GCVERIFY_T8_PW\"\ntotp_secret_env = \"GCVERIFY_T8_TOTP\"")).await;
    // Not NG (the login works and refuses a wrong code), not silently OK.
    assert_eq!(c.outcome, Outcome::Pending, "{}", shown(&c));
    assert!(c.summary.ja.contains("同じTOTPコードで2回ログインできた") && c.summary.ja.contains("RFC 6238 §5.2"), "{}", c.summary.ja);
    assert!(c.summary.en.contains("RFC 6238 §5.2"), "{}", c.summary.en);
    let s = statuses(&c);
    for (subject, status) in [
        ("second-factor", EvidenceStatus::Pass),
        ("replay", EvidenceStatus::Info),
        ("wrong-code", EvidenceStatus::Pass),
        ("logged-in-url", EvidenceStatus::Pass),
    ] {
        assert!(s.contains(&(subject.into(), status)), "{subject}: {s:?}");
    }
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn without_the_totp_secret_the_second_factor_is_pending() {
    let site = site(Mode::Totp, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T2_PW", PASSWORD);
    let c = judge("http://127.0.0.1:9", &section(&site, "password_env = \"GCVERIFY_T2_PW\"")).await;
    assert_eq!(c.outcome, Outcome::Pending, "{}", shown(&c));
    assert!(c.summary.ja.contains("二要素目の完了は未確認") && c.summary.ja.contains("パスワードだけでは"), "{}", c.summary.ja);
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn the_password_alone_reaching_the_portal_is_ng() {
    let site = site(Mode::PasswordOnly, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T3_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T3_TOTP", STAFF_TOTP_SECRET);
    let c = judge("http://127.0.0.1:9", &section(&site, "password_env = \"GCVERIFY_T3_PW\"\ntotp_secret_env = \"GCVERIFY_T3_TOTP\"")).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(c.summary.ja.contains("パスワードだけでログイン後の画面") && c.summary.ja.contains("127.0.0.1/portal/"), "{}", c.summary.ja);
    assert_nothing_secret(&c);
}

#[tokio::test]
async fn a_wrong_totp_secret_does_not_log_in_and_is_ng() {
    let site = site(Mode::Totp, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T4_PW", PASSWORD);
    std::env::set_var("GCVERIFY_T4_TOTP", "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA");
    let c = judge("http://127.0.0.1:9", &section(&site, "password_env = \"GCVERIFY_T4_PW\"\ntotp_secret_env = \"GCVERIFY_T4_TOTP\"")).await;
    assert_eq!(c.outcome, Outcome::Ng, "{}", shown(&c));
    assert!(c.summary.ja.contains("正しいTOTPコードでもログイン後の画面に到達しなかった"), "{}", c.summary.ja);
    assert!(statuses(&c).contains(&("password-only".into(), EvidenceStatus::Pass)));
}

#[tokio::test]
async fn what_cannot_be_tried_is_error_never_ok() {
    let site = site(Mode::Totp, Some(STAFF_TOTP_SECRET)).await;
    std::env::set_var("GCVERIFY_T5_PW", "not-the-password");
    std::env::set_var("GCVERIFY_T5_GOOD", PASSWORD);
    std::env::set_var("GCVERIFY_T5_TOTP", STAFF_TOTP_SECRET);
    let cases = [
        // Wrong test credentials: neither the challenge nor the portal.
        (section(&site, "password_env = \"GCVERIFY_T5_PW\"\ntotp_secret_env = \"GCVERIFY_T5_TOTP\""), "テスト用アカウントのID/パスワードを確認"),
        // A marker the login page already shows proves nothing.
        (
            section(&site, "password_env = \"GCVERIFY_T5_GOOD\"").replace("logged_in_marker = \"ログアウト\"", "logged_in_marker = \"ログイン\""),
            "logged_in_marker がログイン前の画面",
        ),
        // The second-factor page does not say what the scenario expects.
        (section(&site, "password_env = \"GCVERIFY_T5_GOOD\"\nchallenge_marker = \"ワンタイムパスワード\""), "challenge_marker がない"),
        // A form field the page does not have.
        (section(&site, "password_env = \"GCVERIFY_T5_GOOD\"\npassword_field = \"passwd\""), "passwd 欄のあるフォームがない"),
        // The variable is not set.
        (section(&site, "password_env = \"GCVERIFY_T5_UNSET\""), "環境変数 GCVERIFY_T5_UNSET がない"),
        // The TOTP secret is not base32.
        (section(&site, "password_env = \"GCVERIFY_T5_GOOD\"\ntotp_secret_env = \"GCVERIFY_T5_PW\""), "base32 でない"),
    ];
    for (text, why) in cases {
        let c = judge("http://127.0.0.1:9", &text).await;
        assert_eq!(c.outcome, Outcome::Error, "{why}: {}", shown(&c));
        assert!(c.summary.ja.contains(why), "expected {why:?} in {}", c.summary.ja);
        assert!(!shown(&c).contains(PASSWORD), "the password leaked: {}", shown(&c));
    }
    drop(site);
    // Nothing listens any more.
    let text = format!(
        "[login]\nurl = \"http://127.0.0.1:9/login/\"\nusername = \"{STAFF_USER}\"\npassword_env = \"GCVERIFY_T5_GOOD\"\notp_field = \"otp_token\"\nlogged_in_marker = \"ログアウト\"\ntimeout_secs = 2\n"
    );
    let c = judge("http://127.0.0.1:9", &text).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", shown(&c));
    assert!(c.summary.ja.contains("127.0.0.1/login/"), "{}", c.summary.ja);
    // No [login] at all.
    let c = judge("http://127.0.0.1:9", "").await;
    assert_eq!(c.outcome, Outcome::Error);
    assert!(c.summary.ja.contains("[login]"), "{}", c.summary.ja);
}

#[tokio::test]
async fn credentials_from_secrets_manager() {
    let moto = moto().await;
    let site = site(Mode::Totp, Some(STAFF_TOTP_SECRET)).await;
    let sm = emulator(&moto.endpoint()).secretsmanager("ap-northeast-1");
    let value = serde_json::json!({ "username": STAFF_USER, "password": PASSWORD, "totp_secret": STAFF_TOTP_SECRET }).to_string();
    let arn = sm.create_secret().name("juki/login-test").secret_string(value).send().await.expect("secret").arn.expect("arn");
    let c = judge(&moto.endpoint(), &section(&site, &format!("secret_arn = \"{arn}\""))).await;
    assert_eq!(c.outcome, Outcome::Ok, "{}", shown(&c));
    assert_nothing_secret(&c);

    // A secret that does not exist is ERROR naming the call, not a login attempt.
    let missing = arn.replace("juki/login-test", "juki/absent");
    let c = judge(&moto.endpoint(), &section(&site, &format!("secret_arn = \"{missing}\""))).await;
    assert_eq!(c.outcome, Outcome::Error, "{}", shown(&c));
    assert!(c.summary.en.contains("secretsmanager:GetSecretValue"), "{}", c.summary.en);
}
