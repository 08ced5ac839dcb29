//! E.5.1.1 ① 顧客側の二要素認証: the staff login of a test account, observed
//! as a browser would do it. The login form is read from the page (hidden
//! fields such as CSRF tokens included, cookies kept), submitted with the
//! password alone — which must not reach the logged-in page — and, when the
//! account's TOTP secret is given, completed with an RFC 6238 code. The
//! second factor is then made to refuse, in fresh sessions: the logged-in URL
//! after the password alone, the same code again (RFC 6238 §5.2), and one
//! wrong code — never more, so the test account is not locked.
//!
//! Nothing of a page's content, the password, the secret or a code reaches
//! evidence or logs: only hosts and paths, status codes and what was decided.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gcverify_scenarios::Login;
use reqwest::Url;
use scraper::{ElementRef, Html, Selector};
use totp_rs::{Algorithm, Builder, Totp};

use super::secret::{self, Secret};
use super::{Findings, ProbeInput};
use crate::model::Msg;
use gcverify_availability::check::describe;

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[super::registry::ProbeDef {
    name: "login.staff_2fa",
    ja: "テスト用職員アカウントでログインし、パスワードだけではログイン後の画面に到達せず（そのURLも開かず）、TOTPで二要素目を完了でき、誤ったコードと同じコードの再利用が拒否されることを確認",
    en: "Logs in with a test staff account: the password alone must neither reach nor open the logged-in page, a TOTP code completes the second factor, and a wrong code and a replayed code are refused",
    detail: "Reads the login form at `[login] url` (hidden fields and cookies kept, as a browser does) and submits it with the password alone. Reaching the page that shows `logged_in_marker` (or opening `logged_in_url`) → NG. The answer must be a form with `otp_field` (and `challenge_marker`, if set); otherwise → ERROR (wrong test credentials?). With `totp_secret_env` (or `totp_secret` in the `secret_arn` secret) the second-factor form is submitted with an RFC 6238 code and must reach the logged-in page, else NG; without a secret the second factor is 要確認. Then the second factor is made to refuse, each in a fresh login session: after the password alone, the logged-in URL (`logged_in_url`, else the page the login reached) opened directly → NG if it opens; the code that has just logged in, submitted again within its time step → 要確認 if it logs in (RFC 6238 §5.2), refused is OK; one deliberately wrong code (the right code's digits shifted, valid for none of the two time steps either side) → NG if it logs in. Never more than one wrong code per run, after the run's one successful login, so the test account is not locked. A marker already on the login page, an unreachable site, a missing credential → ERROR. No page content, password, secret or code is kept.",
    section: "[login]",
    actions: secret::ACTIONS,
    emulator: "a real Django + django-otp login site (demo/login_site) started by the tests, in its compliant two-step mode and the noncompliant password-only, any-code, portal-after-password and replay modes",
    claims: &[super::registry::claim("two-factor-login", "パスワードだけではログインできず、TOTP で完了し、誤ったコードを拒否する（実際のログイン）", "A real login is refused with the password alone, completes with TOTP and refuses a wrong code", super::registry::Basis::Effect)],
    counterfeits: &[
        crate::probes::registry::counterfeit("the_password_alone_reaching_the_portal_is_ng", crate::probes::registry::Class::HappyPathOnly, "a login that completes with the password alone", crate::model::Outcome::Ng),
        crate::probes::registry::counterfeit("a_wrong_totp_secret_does_not_log_in_and_is_ng", crate::probes::registry::Class::Nearest, "a second factor that does not complete with the right device", crate::model::Outcome::Ng),
        crate::probes::registry::counterfeit("a_code_form_accepting_any_six_digits_is_ng", crate::probes::registry::Class::HappyPathOnly, "a second-factor form that accepts any six digits", crate::model::Outcome::Ng),
        crate::probes::registry::counterfeit(
            "the_portal_opening_after_the_password_alone_is_ng",
            crate::probes::registry::Class::HappyPathOnly,
            "a second factor asked for, but the logged-in page opens directly after the password alone",
            crate::model::Outcome::Ng,
        ),
        crate::probes::registry::counterfeit(
            "a_code_accepted_twice_is_pending_citing_rfc_6238",
            crate::probes::registry::Class::Nearest,
            "a TOTP code that logs in twice within its time step (RFC 6238 §5.2)",
            crate::model::Outcome::Pending,
        ),
    ],
    unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "One staff account is tried; other accounts' second factors are not."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the login URL the scenario names; other entry points (an API, an admin console) are not tried.")],
    run: |i| Box::pin(staff_2fa(i)),
}];

const SOURCE: &str = "login";
const PASSWORD_ONLY: &str = "password-only";
const SECOND_FACTOR: &str = "second-factor";
const LOGGED_IN_URL: &str = "logged-in-url";
const REPLAY: &str = "replay";
const WRONG_CODE: &str = "wrong-code";

pub async fn staff_2fa(input: Arc<ProbeInput>) -> Findings {
    let Some(login) = input.scenario.login.as_ref() else {
        return Findings::cannot(
            "シナリオに [login]（テスト用職員アカウントのログイン手順）がなく、顧客側の二要素認証を試せない",
            "the scenario has no [login] (the test staff account's login), so the staff two-factor login cannot be tried",
        );
    };
    let url = match Url::parse(login.url.get_ref()) {
        Ok(u) => u,
        Err(e) => return Findings::cannot(format!("[login] url が URL でない: {e}"), format!("[login] url is not a URL: {e}")),
    };
    let (password, totp_secret) = match credentials(login, &input).await {
        Ok(c) => c,
        Err(why) => return Findings::cannot(&why, &why),
    };
    let totp = match totp_secret.map(|s| generator(login, &s)).transpose() {
        Ok(t) => t,
        Err(why) => return Findings::cannot(&why, &why),
    };
    // The first session's client; a failure to build one is the scenario's (ca_file), not the site's.
    let first = match Browser::new(login) {
        Ok(b) => b,
        Err(why) => return Findings::cannot(&why.ja, &why.en),
    };
    let mut f = Findings::new();
    if url.scheme() == "http" {
        f.info("login page", None, crate::msg!("{0} は TLS なし（http）", "{0} is served without TLS (http)", place(&url)), SOURCE);
    }
    if let Err(why) = flow(first, &url, &password, totp.as_ref(), &mut f).await {
        f.error("login", None, why, SOURCE);
    }
    f.ok_summary(Msg::new(
        "パスワードだけではログイン後の画面に到達せず（ログイン後のURLも開かず）、TOTPによる二要素目でログインでき、誤ったコードと同じコードの再利用は拒否された（顧客側の二要素認証）",
        "the password alone neither reached nor opened the logged-in page, the TOTP second factor logged in, and a wrong code and the same code used again were refused (staff two-factor login)",
    ));
    f
}

/// The steps, each in its own login session (a browser's cookies):
/// 1. the password alone must not reach the logged-in page;
/// 2. the right code must log in — the page reached is the logged-in URL;
/// 3. a second session after the password alone: that URL must not open, and
///    the code of step 2 used again must be refused (RFC 6238 §5.2);
/// 4. a third session: one wrong code, never more, must be refused.
///
/// The wrong code comes last, after the one successful login of the run,
/// so a lockout counting consecutive failures sees at most this run's
/// refused replay and wrong code. `Err` is a reason the login could not be
/// tried to its end.
async fn flow(first: Browser<'_>, url: &Url, password: &Secret, totp: Option<&Totp>, f: &mut Findings) -> Result<(), Msg> {
    let login = first.login;
    // Step 1: the password alone.
    let (challenge, single_step) = match password_step(&first, url, password).await? {
        Step::Reached(r) => {
            r.record(f, "");
            return Ok(());
        }
        Step::Challenge { at, form, single_step } => {
            f.pass(
                PASSWORD_ONLY,
                None,
                crate::msg!(
                    "パスワードだけではログインできず、二要素目（{otp}）を求められた（{at}）",
                    "the password alone was refused; the second factor `{otp}` was asked for ({at})";
                    otp = &login.otp_field
                ),
                SOURCE,
            );
            (form, single_step)
        }
    };

    // Step 2: the right code.
    let Some(totp) = totp else {
        f.unverified(Msg::new(
            "二要素目の完了は未確認（テスト用アカウントのTOTPシークレット totp_secret_env がない）: 認証機器でのログインを手で確認する",
            "completing the second factor was not tried (no TOTP secret of the test account, totp_secret_env): log in with the authentication device by hand",
        ));
        return Ok(());
    };
    let (code, code_step) = fresh_code(totp, login.totp_step_secs).await?;
    let done = first.submit(&challenge, &code_values(login, &challenge, single_step, &code, password)).await?;
    let Some(home) = first.logged_in(&done).await? else {
        f.fail(
            SECOND_FACTOR,
            None,
            crate::msg!(
                "正しいTOTPコードでもログイン後の画面に到達しなかった（HTTP {status}、{at}）: シークレット・時刻同期・二要素認証の設定を確認",
                "the correct TOTP code did not log in (HTTP {status}, {at}): check the secret, the clock and the two-factor settings";
                status = done.status,
                at = place(&done.url)
            ),
            SOURCE,
        );
        return Ok(());
    };
    f.pass(
        SECOND_FACTOR,
        None,
        crate::msg!(
            "TOTPコード（RFC 6238）で二要素目を完了し、ログイン後の画面（{at}）に到達",
            "the TOTP code (RFC 6238) completed the login ({at})";
            at = place(&home)
        ),
        SOURCE,
    );

    // Step 3: a second session, the password alone.
    let second = Browser::new(login)?;
    let (challenge, single_step) = match password_step(&second, url, password).await? {
        Step::Reached(r) => {
            r.record(f, "（2つ目のセッション） / (second session)");
            return Ok(());
        }
        Step::Challenge { form, single_step, .. } => (form, single_step),
    };
    // The page the login reached, opened directly: a session that passed the
    // password may be one the portal already accepts.
    let page = second.get(&home).await?;
    if second.shows_logged_in(&page) {
        f.fail(
            LOGGED_IN_URL,
            None,
            crate::msg!(
                "パスワードだけのセッションでログイン後のURL（{at}）が直接開いた: 二要素目を経ずに入れる",
                "the logged-in URL ({at}) opened directly in a session that gave the password alone";
                at = place(&home)
            ),
            SOURCE,
        );
    } else {
        f.pass(
            LOGGED_IN_URL,
            None,
            crate::msg!(
                "パスワードだけのセッションではログイン後のURL（{home}）は開かなかった（HTTP {status}、{at}）",
                "the logged-in URL ({home}) did not open after the password alone (HTTP {status}, {at})";
                home = place(&home),
                status = page.status,
                at = place(&page.url)
            ),
            SOURCE,
        );
    }
    // The code that has just logged in, once more.
    let replayed = second.submit(&challenge, &code_values(login, &challenge, single_step, &code, password)).await?;
    let same_step = unix_now()? / login.totp_step_secs.max(1) == code_step;
    if second.logged_in(&replayed).await?.is_some() {
        f.info(
            REPLAY,
            None,
            Msg::new("ログインに使ったTOTPコードが2つ目のセッションでも受理された", "the TOTP code that had logged in was accepted again in a second session"),
            SOURCE,
        );
        f.unverified(Msg::new(
            "同じTOTPコードで2回ログインできた（RFC 6238 §5.2: 検証に成功したコードを再び受理してはならない）: コードの再利用防止をサイトの設定で確認する",
            "the same TOTP code logged in twice (RFC 6238 §5.2: a verifier must not accept a code again after a successful validation): check the site's replay protection",
        ));
    } else if same_step {
        f.pass(
            REPLAY,
            None,
            Msg::new(
                "ログインに使ったTOTPコードは同じ時間ステップ内でも2つ目のセッションで拒否された（RFC 6238 §5.2）",
                "the TOTP code that had logged in was refused in a second session within its time step (RFC 6238 §5.2)",
            ),
            SOURCE,
        );
    } else {
        f.info(
            REPLAY,
            None,
            Msg::new(
                "再利用したTOTPコードは拒否されたが、時間ステップが変わった後だった",
                "the replayed TOTP code was refused, but after its time step had passed",
            ),
            SOURCE,
        );
        f.unverified(Msg::new(
            "同じTOTPコードの再利用（RFC 6238 §5.2）は時間ステップ内に試せなかった: 再実行するか手で確認する",
            "a replay of the same TOTP code (RFC 6238 §5.2) could not be tried within its time step: run again or check by hand",
        ));
    }

    // Step 4: a third session, one wrong code.
    let third = Browser::new(login)?;
    let (challenge, single_step) = match password_step(&third, url, password).await? {
        Step::Reached(r) => {
            r.record(f, "（3つ目のセッション） / (third session)");
            return Ok(());
        }
        Step::Challenge { form, single_step, .. } => (form, single_step),
    };
    let wrong = wrong_code(totp, &code, login.totp_step_secs)?;
    let answer = third.submit(&challenge, &code_values(login, &challenge, single_step, &wrong, password)).await?;
    match third.logged_in(&answer).await? {
        Some(at) => f.fail(
            WRONG_CODE,
            None,
            crate::msg!(
                "誤った認証コードでログイン後の画面（{at}）に到達した: 二要素目がコードを検証していない",
                "a wrong code reached the logged-in page ({at}): the second factor does not check the code";
                at = place(&at)
            ),
            SOURCE,
        ),
        None => f.pass(
            WRONG_CODE,
            None,
            crate::msg!(
                "誤った認証コード（前後の時間ステップでも無効なもの、1回のみ）は拒否された（HTTP {status}、{at}）",
                "a wrong code (invalid for the adjacent time steps too, tried once) was refused (HTTP {status}, {at})";
                status = answer.status,
                at = place(&answer.url)
            ),
            SOURCE,
        ),
    }
    Ok(())
}

/// What a session shows after the password alone.
enum Step {
    Reached(Reached),
    /// The second-factor form, as the answer to the password (at `at`) showed it.
    Challenge {
        at: String,
        form: Box<Form>,
        single_step: bool,
    },
}

/// The logged-in page reached with the password alone.
struct Reached {
    at: String,
    /// Opened as `logged_in_url` rather than shown as the answer to the form.
    direct: bool,
}

impl Reached {
    fn record(&self, f: &mut Findings, session: &str) {
        let at = &self.at;
        let detail = if self.direct {
            crate::msg!(
                "パスワードだけの段階でログイン後のURL（{at}）が直接開いた{session}: 二要素目を経ずに入れる",
                "the logged-in URL ({at}) opened directly after the password alone{session}"
            )
        } else {
            crate::msg!(
                "パスワードだけでログイン後の画面（{at}）に到達した{session}: 二要素目が求められない",
                "the password alone reached the logged-in page ({at}){session}"
            )
        };
        f.fail(if self.direct { LOGGED_IN_URL } else { PASSWORD_ONLY }, None, detail, SOURCE);
    }
}

/// A fresh session: the login page read, the form submitted with the password alone.
async fn password_step(b: &Browser<'_>, url: &Url, password: &Secret) -> Result<Step, Msg> {
    let login = b.login;
    let page = b.get(url).await?;
    if !page.success() {
        return Err(
            crate::msg!("ログイン画面 {at} が HTTP {status} を返した", "the login page {at} answered HTTP {status}"; at = place(&page.url), status = page.status),
        );
    }
    if page.shows(&login.logged_in_marker) {
        return Err(crate::msg!(
            "logged_in_marker がログイン前の画面 {at} にもある: ログイン後の画面だけに出る文字列を指定する",
            "logged_in_marker already appears on the login page {at}: choose text only the logged-in page shows";
            at = place(&page.url)
        ));
    }
    let form = page.form_with(&login.password_field)?.ok_or_else(|| {
        crate::msg!(
            "{at} に {field} 欄のあるフォームがない",
            "no form with a `{field}` field on the login page {at}";
            at = place(&page.url),
            field = &login.password_field
        )
    })?;
    if !form.has(&login.username_field) {
        return Err(crate::msg!("ログインフォームに {0} 欄がない", "the login form has no `{0}` field", login.username_field));
    }
    // One form with both the password and the code: the password alone is the same form without the code.
    let single_step = form.has(&login.otp_field);
    let after = b.submit(&form, &[(&login.username_field, &login.username), (&login.password_field, password.expose())]).await?;
    if after.shows(&login.logged_in_marker) {
        return Ok(Step::Reached(Reached { at: place(&after.url), direct: false }));
    }
    if let Some(at) = b.protected_page_opens().await? {
        return Ok(Step::Reached(Reached { at, direct: true }));
    }
    let challenge = after.form_with(&login.otp_field)?.ok_or_else(|| {
        crate::msg!(
            "パスワード送信後（HTTP {status}、{at}）に二要素目の入力欄 {field} もログイン後の画面もない: テスト用アカウントのID/パスワードを確認",
            "after the password (HTTP {status}, {at}) neither the `{field}` form nor the logged-in page: check the test account's credentials";
            status = after.status,
            at = place(&after.url),
            field = &login.otp_field
        )
    })?;
    if let Some(marker) = login.challenge_marker.as_deref() {
        if !after.shows(marker) {
            return Err(crate::msg!(
                "二要素目の画面（{0}）に challenge_marker がない",
                "the second-factor page ({0}) does not show challenge_marker",
                place(&after.url)
            ));
        }
    }
    Ok(Step::Challenge { at: place(&after.url), form: Box::new(challenge), single_step })
}

/// What the second-factor form is sent with: the code, and the credentials
/// again when the form asks for them too.
fn code_values<'v>(login: &'v Login, challenge: &Form, single_step: bool, code: &'v str, password: &'v Secret) -> Vec<(&'v str, &'v str)> {
    let mut values: Vec<(&str, &str)> = vec![(&login.otp_field, code)];
    if single_step || challenge.has(&login.password_field) {
        values.push((&login.username_field, &login.username));
        values.push((&login.password_field, password.expose()));
    }
    values
}

fn unix_now() -> Result<u64, Msg> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| crate::msg!("システム時刻が1970年より前: {e}", "system clock before 1970: {e}"))?.as_secs())
}

/// The current code and its time step, generated far enough from the
/// step's end that the replay of step 3 falls in the same step.
async fn fresh_code(totp: &Totp, step_secs: u64) -> Result<(String, u64), Msg> {
    let step = step_secs.max(1);
    let mut now = unix_now()?;
    let left = step - now % step;
    if left < (step / 3).min(10) {
        tokio::time::sleep(Duration::from_secs(left)).await;
        now = unix_now()?;
    }
    Ok((totp.generate(now).to_string(), now / step))
}

/// A code that is not the right one: every digit of `right` shifted by the
/// same amount, the first shift that is valid for none of the two steps
/// either side of now (a site's tolerance window), so it is wrong on any site.
fn wrong_code(totp: &Totp, right: &str, step_secs: u64) -> Result<String, Msg> {
    let now = unix_now()?;
    let step = step_secs.max(1);
    let valid: HashSet<String> = (0..=4u64).filter_map(|k| (now + k * step).checked_sub(2 * step)).map(|t| totp.generate(t).to_string()).collect();
    [5u32, 3, 7, 1, 9, 2, 4, 6, 8]
        .iter()
        .map(|shift| right.chars().map(|c| c.to_digit(10).map_or(c, |d| char::from_digit((d + shift) % 10, 10).unwrap_or(c))).collect::<String>())
        .find(|w| !valid.contains(w))
        .ok_or_else(|| Msg::new("誤ったコードを作れなかった", "could not make a wrong code"))
}

/// The password and, if any, the TOTP secret.
async fn credentials(login: &Login, input: &ProbeInput) -> Result<(Secret, Option<Secret>), String> {
    let arn = login.secret_arn.as_deref();
    let password = secret::resolve(&input.aws, login.password_env.as_deref(), arn, "password", "[login] password_env").await?.ok_or_else(|| match arn {
        Some(_) => "[login] secret_arn の secret に password キーがない / the secret has no `password` key".to_string(),
        None => "[login] に password_env も secret_arn もない / [login] has neither password_env nor secret_arn".to_string(),
    })?;
    let totp = secret::resolve(&input.aws, login.totp_secret_env.as_deref(), arn, "totp_secret", "[login] totp_secret_env").await?;
    Ok((password, totp))
}

/// An RFC 6238 generator for the account's base32 secret.
fn generator(login: &Login, secret: &Secret) -> Result<Totp, String> {
    let key = totp_rs::Secret::try_from_base32(secret.expose().replace(' ', "").to_ascii_uppercase())
        .map_err(|_| "[login] の TOTP シークレットが base32 でない / the TOTP secret is not base32".to_string())?;
    let algorithm = match login.totp_algorithm.get_ref().as_str() {
        "SHA256" => Algorithm::SHA256,
        "SHA512" => Algorithm::SHA512,
        _ => Algorithm::SHA1,
    };
    // Digits (6–8) and step (> 0) were validated with the scenario; the
    // secret's length is the site's choice (many use 80 bits), so it is not
    // held to RFC 4226's 128.
    Ok(Builder::new()
        .with_algorithm(algorithm)
        .with_digits(login.totp_digits as u8)
        .with_skew(1)
        .with_step_duration(login.totp_step_secs)
        .with_secret(key)
        .build_noncompliant())
}

fn client(login: &Login) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(login.timeout_secs.max(1)))
        .user_agent(concat!("gcverify/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &login.ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("[login] ca_file {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("[login] ca_file {}: {e}", ca.display()))?;
        for c in certs {
            builder = builder.add_root_certificate(c);
        }
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

/// `host/path`, the only part of a URL evidence keeps (a query may carry a token).
fn place(url: &Url) -> String {
    format!("{}{}", url.host_str().unwrap_or(""), url.path())
}

/// A cookie-keeping client with the scenario's login settings.
struct Browser<'a> {
    client: reqwest::Client,
    login: &'a Login,
    timeout: Duration,
}

/// A page as fetched: where the redirects ended, its status, its text.
struct Page {
    url: Url,
    status: u16,
    body: String,
}

impl Page {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn shows(&self, text: &str) -> bool {
        self.body.contains(text)
    }

    /// The first form with an input named `field`.
    fn form_with(&self, field: &str) -> Result<Option<Form>, Msg> {
        forms(&self.body, &self.url).map(|list| list.into_iter().find(|f| f.has(field))).map_err(|e| crate::msg!("画面のフォームを読めない: {e}", "{e}"))
    }
}

impl<'a> Browser<'a> {
    /// A new session: a client with no cookies yet.
    fn new(login: &'a Login) -> Result<Self, Msg> {
        let client = client(login).map_err(|e| crate::msg!("HTTP クライアントを作れない: {e}", "{e}"))?;
        Ok(Browser { client, login, timeout: Duration::from_secs(login.timeout_secs.max(1)) })
    }

    async fn get(&self, url: &Url) -> Result<Page, Msg> {
        self.send(self.client.get(url.clone()), url).await
    }

    async fn submit(&self, form: &Form, values: &[(&str, &str)]) -> Result<Page, Msg> {
        let mut fields: Vec<(String, String)> = form.fields.iter().filter(|(k, _)| !values.iter().any(|(n, _)| n == k)).cloned().collect();
        fields.extend(values.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let req = if form.post { self.client.post(form.action.clone()).form(&fields) } else { self.client.get(form.action.clone()).query(&fields) };
        self.send(req, &form.action).await
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &Url) -> Result<Page, Msg> {
        let at = place(url);
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                crate::msg!("{at}: {0} 秒以内に応答なし", "{at}: no answer within {0} s", self.timeout.as_secs())
            } else {
                crate::msg!("{at}: 接続失敗: {0}", "{at}: {0}", describe(&e))
            }
        })?;
        let (final_url, status) = (resp.url().clone(), resp.status().as_u16());
        let body = resp.text().await.map_err(|e| crate::msg!("{at}: 応答を読めない: {0}", "{at}: reading the answer failed: {0}", describe(&e)))?;
        Ok(Page { url: final_url, status, body })
    }

    /// `logged_in_url` opened with the session's cookies: `Some(place)` when it shows the marker.
    async fn protected_page_opens(&self) -> Result<Option<String>, Msg> {
        Ok(self.protected_url_opens().await?.map(|u| place(&u)))
    }

    async fn protected_url_opens(&self) -> Result<Option<Url>, Msg> {
        let Some(raw) = self.login.logged_in_url.as_deref() else {
            return Ok(None);
        };
        let url = Url::parse(raw).map_err(|e| crate::msg!("[login] logged_in_url が URL でない: {e}", "[login] logged_in_url is not a URL: {e}"))?;
        let page = self.get(&url).await?;
        Ok(self.shows_logged_in(&page).then_some(url))
    }

    /// Whether the session is logged in after `page`: the URL of the
    /// logged-in page (`page` itself when it shows the marker, else
    /// `logged_in_url` when it opens).
    async fn logged_in(&self, page: &Page) -> Result<Option<Url>, Msg> {
        if page.shows(&self.login.logged_in_marker) {
            return Ok(Some(page.url.clone()));
        }
        self.protected_url_opens().await
    }

    fn shows_logged_in(&self, page: &Page) -> bool {
        page.success() && page.shows(&self.login.logged_in_marker)
    }
}

/// A form as a browser would submit it.
#[derive(Debug, Clone)]
struct Form {
    action: Url,
    post: bool,
    /// Names and values it sends as filled in the page (hidden fields, defaults).
    fields: Vec<(String, String)>,
    names: HashSet<String>,
}

impl Form {
    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// Every form of a page, with what it would send unchanged.
fn forms(html: &str, base: &Url) -> Result<Vec<Form>, String> {
    let doc = Html::parse_document(html);
    let form_sel = selector("form")?;
    let field_sel = selector("input, select, textarea, button")?;
    let option_sel = selector("option")?;
    let mut out = Vec::new();
    for form in doc.select(&form_sel) {
        let el = form.value();
        let action = match el.attr("action").map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => base.join(a).map_err(|e| format!("form action is not a URL: {e}"))?,
            None => base.clone(),
        };
        let post = el.attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post"));
        let (mut fields, mut names, mut submit_taken) = (Vec::new(), HashSet::new(), false);
        for field in form.select(&field_sel) {
            let Some(name) = field.value().attr("name").filter(|n| !n.is_empty()) else { continue };
            names.insert(name.to_string());
            if let Some(value) = sent_value(field, &option_sel, &mut submit_taken) {
                fields.push((name.to_string(), value));
            }
        }
        out.push(Form { action, post, fields, names });
    }
    Ok(out)
}

/// What a field sends when the form is submitted as it stands (the first
/// named submit button counts as the one pressed).
fn sent_value(field: ElementRef<'_>, option_sel: &Selector, submit_taken: &mut bool) -> Option<String> {
    let el = field.value();
    let kind = el.attr("type").unwrap_or("").to_ascii_lowercase();
    let value = || el.attr("value").unwrap_or("").to_string();
    match el.name() {
        "textarea" => Some(field.text().collect()),
        "select" => {
            let options: Vec<ElementRef> = field.select(option_sel).collect();
            let chosen = options.iter().find(|o| o.value().attr("selected").is_some()).or(options.first())?;
            Some(chosen.value().attr("value").map(str::to_string).unwrap_or_else(|| chosen.text().collect::<String>().trim().to_string()))
        }
        "button" if kind.is_empty() || kind == "submit" => (!std::mem::replace(submit_taken, true)).then(value),
        "button" => None,
        _ => match kind.as_str() {
            "submit" | "image" => (!std::mem::replace(submit_taken, true)).then(value),
            "reset" | "button" | "file" => None,
            "checkbox" | "radio" => el.attr("checked").map(|_| el.attr("value").unwrap_or("on").to_string()),
            _ => Some(value()),
        },
    }
}

fn selector(s: &str) -> Result<Selector, String> {
    Selector::parse(s).map_err(|e| format!("selector {s}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://app.example.lg.jp/login/").expect("url")
    }

    #[test]
    fn a_form_sends_hidden_fields_defaults_and_one_submit_button() {
        let html = r#"<html><body>
            <form id="search" action="/search"><input name="q"></form>
            <form method="POST" action="/login/">
              <input type="hidden" name="csrfmiddlewaretoken" value="tok">
              <input name="username"><input type="password" name="password">
              <input type="checkbox" name="remember" value="1">
              <input type="checkbox" name="agree" checked>
              <select name="office"><option value="a">A</option><option value="b" selected>B</option></select>
              <button type="submit" name="go" value="login">ログイン</button>
              <button type="submit" name="other" value="x">別</button>
            </form></body></html>"#;
        let all = forms(html, &base()).expect("forms");
        assert_eq!(all.len(), 2);
        let form = all.into_iter().find(|f| f.has("password")).expect("login form");
        assert!(form.post);
        assert_eq!(form.action.as_str(), "https://app.example.lg.jp/login/");
        let sent: Vec<(&str, &str)> = form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(sent, vec![("csrfmiddlewaretoken", "tok"), ("username", ""), ("password", ""), ("agree", "on"), ("office", "b"), ("go", "login")]);
        assert!(form.has("remember") && form.has("other"), "every named field is known even if not sent");
    }

    #[test]
    fn a_form_without_action_posts_to_its_page_and_get_is_the_default() {
        let form = forms(r#"<form><input name="otp_token"></form>"#, &base()).expect("forms").remove(0);
        assert!(!form.post);
        assert_eq!(form.action, base());
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B: SHA1, secret "12345678901234567890", T = 59 s → 94287082 (8 digits).
        let mut login: Login =
            toml::from_str("url = \"https://x/\"\nusername = \"u\"\npassword_env = \"P\"\notp_field = \"o\"\nlogged_in_marker = \"m\"\ntotp_digits = 8\n")
                .expect("login");
        let secret = Secret::for_test("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(generator(&login, &secret).expect("totp").generate(59).to_string(), "94287082");
        login.totp_digits = 6;
        assert_eq!(generator(&login, &secret).expect("totp").generate(1111111109).to_string(), "081804");
        assert!(generator(&login, &Secret::for_test("not base32!")).is_err());
    }

    #[test]
    fn the_wrong_code_is_valid_for_no_step_near_now() {
        let login: Login =
            toml::from_str("url = \"https://x/\"\nusername = \"u\"\npassword_env = \"P\"\notp_field = \"o\"\nlogged_in_marker = \"m\"\n").expect("login");
        let totp = generator(&login, &Secret::for_test("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")).expect("totp");
        let now = unix_now().expect("clock");
        let right = totp.generate(now).to_string();
        let wrong = wrong_code(&totp, &right, 30).expect("a wrong code");
        assert_eq!(wrong.len(), right.len());
        assert!(wrong.chars().all(|c| c.is_ascii_digit()));
        for k in 0..=4u64 {
            assert_ne!(wrong, totp.generate(now + k * 30 - 60).to_string(), "valid at step {k}");
        }
        // Every digit shifted by one amount: not one of the right code's digits stays in place.
        assert!(wrong.chars().zip(right.chars()).all(|(w, r)| w != r));
    }

    #[test]
    fn evidence_keeps_host_and_path_only() {
        let url = Url::parse("https://app.example.lg.jp/login/otp/?next=/portal/&token=abc").expect("url");
        assert_eq!(place(&url), "app.example.lg.jp/login/otp/");
    }
}
