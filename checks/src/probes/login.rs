//! E.5.1.1 ① 顧客側の二要素認証: the staff login of a test account, observed
//! as a browser would do it. The login form is read from the page (hidden
//! fields such as CSRF tokens included, cookies kept), submitted with the
//! password alone — which must not reach the logged-in page — and, when the
//! account's TOTP secret is given, completed with an RFC 6238 code.
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
    ja: "テスト用職員アカウントでログインし、パスワードだけではログイン後の画面に到達せず、TOTPで二要素目を完了できることを確認",
    en: "Logs in with a test staff account: the password alone must not reach the logged-in page, and a TOTP code completes the second factor",
    detail: "Reads the login form at `[login] url` (hidden fields and cookies kept, as a browser does) and submits it with the password alone. Reaching the page that shows `logged_in_marker` (or opening `logged_in_url`) → NG. The answer must be a form with `otp_field` (and `challenge_marker`, if set); otherwise → ERROR (wrong test credentials?). With `totp_secret_env` (or `totp_secret` in the `secret_arn` secret) the second-factor form is submitted with an RFC 6238 code and must reach the logged-in page, else NG; without a secret the second factor is 要確認. A marker already on the login page, an unreachable site, a missing credential → ERROR. No page content, password, secret or code is kept.",
    section: "[login]",
    actions: secret::ACTIONS,
    emulator: "a real Django + django-otp login site (demo/login_site) started by the tests, in two-step and password-only modes",
    claims: &[super::registry::claim("two-factor-login", "パスワードだけではログインできず、TOTP で完了する（実際のログイン）", "A real login is refused with the password alone and completes with TOTP", super::registry::Basis::Effect)],
    counterfeits: &[crate::probes::registry::counterfeit("the_password_alone_reaching_the_portal_is_ng", crate::probes::registry::Class::HappyPathOnly, "a login that completes with the password alone", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_wrong_totp_secret_does_not_log_in_and_is_ng", crate::probes::registry::Class::Nearest, "a second factor that does not complete with the right device", crate::model::Outcome::Ng)],
    run: |i| Box::pin(staff_2fa(i)),
}];

const SOURCE: &str = "login";
const PASSWORD_ONLY: &str = "password-only";
const SECOND_FACTOR: &str = "second-factor";

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
    let client = match client(login) {
        Ok(c) => c,
        Err(why) => return Findings::cannot(&why, &why),
    };
    let mut f = Findings::new();
    let browser = Browser { client, login, timeout: Duration::from_secs(login.timeout_secs.max(1)) };
    if url.scheme() == "http" {
        f.info("login page", None, format!("{} は TLS なし（http） / served without TLS", place(&url)), SOURCE);
    }
    if let Err(why) = flow(&browser, &url, &password, totp.as_ref(), &mut f).await {
        f.error("login", None, why, SOURCE);
    }
    f.ok_summary(Msg::new(
        "パスワードだけではログイン後の画面に到達せず、TOTPによる二要素目でログインできた（顧客側の二要素認証）",
        "the password alone did not reach the logged-in page, and the TOTP second factor logged in (staff two-factor login)",
    ));
    f
}

/// The steps; `Err` is a reason the login could not be tried to its end.
async fn flow(b: &Browser<'_>, url: &Url, password: &Secret, totp: Option<&Totp>, f: &mut Findings) -> Result<(), String> {
    let login = b.login;
    let page = b.get(url).await?;
    if !page.success() {
        return Err(format!("ログイン画面 {} が HTTP {} を返した / the login page answered HTTP {}", place(&page.url), page.status, page.status));
    }
    if page.shows(&login.logged_in_marker) {
        return Err(format!(
            "logged_in_marker がログイン前の画面 {} にもある: ログイン後の画面だけに出る文字列を指定する / logged_in_marker already appears on the login page: choose text only the logged-in page shows",
            place(&page.url)
        ));
    }
    let form = page.form_with(&login.password_field)?.ok_or_else(|| {
        format!("{} に {} 欄のあるフォームがない / no form with a `{}` field on the login page", place(&page.url), login.password_field, login.password_field)
    })?;
    if !form.has(&login.username_field) {
        return Err(format!("ログインフォームに {} 欄がない / the login form has no `{}` field", login.username_field, login.username_field));
    }
    // One form with both the password and the code: the password alone is the same form without the code.
    let single_step = form.has(&login.otp_field);

    // Step 1: the password alone.
    let after = b.submit(&form, &[(&login.username_field, &login.username), (&login.password_field, password.expose())]).await?;
    let reached = if after.shows(&login.logged_in_marker) { Some(place(&after.url)) } else { b.protected_page_opens().await? };
    if let Some(at) = reached {
        f.fail(
            PASSWORD_ONLY,
            None,
            format!("パスワードだけでログイン後の画面（{at}）に到達した: 二要素目が求められない / the password alone reached the logged-in page ({at})"),
            SOURCE,
        );
        return Ok(());
    }
    let challenge = after.form_with(&login.otp_field)?.ok_or_else(|| {
        format!(
            "パスワード送信後（HTTP {}、{}）に二要素目の入力欄 {} もログイン後の画面もない: テスト用アカウントのID/パスワードを確認 / after the password (HTTP {}) neither the `{}` form nor the logged-in page: check the test account's credentials",
            after.status,
            place(&after.url),
            login.otp_field,
            after.status,
            login.otp_field
        )
    })?;
    if let Some(marker) = login.challenge_marker.as_deref() {
        if !after.shows(marker) {
            return Err(format!("二要素目の画面（{}）に challenge_marker がない / the second-factor page does not show challenge_marker", place(&after.url)));
        }
    }
    f.pass(
        PASSWORD_ONLY,
        None,
        format!(
            "パスワードだけではログインできず、二要素目（{}）を求められた（{}） / the password alone was refused; the second factor `{}` was asked for",
            login.otp_field,
            place(&after.url),
            login.otp_field
        ),
        SOURCE,
    );

    // Step 2: the second factor.
    let Some(totp) = totp else {
        f.unverified(Msg::new(
            "二要素目の完了は未確認（テスト用アカウントのTOTPシークレット totp_secret_env がない）: 認証機器でのログインを手で確認する",
            "completing the second factor was not tried (no TOTP secret of the test account, totp_secret_env): log in with the authentication device by hand",
        ));
        return Ok(());
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| format!("system clock before 1970: {e}"))?.as_secs();
    let code = totp.generate(now).to_string();
    let mut values: Vec<(&str, &str)> = vec![(&login.otp_field, &code)];
    if single_step || challenge.has(&login.password_field) {
        values.push((&login.username_field, &login.username));
        values.push((&login.password_field, password.expose()));
    }
    let done = b.submit(&challenge, &values).await?;
    let reached = if done.shows(&login.logged_in_marker) { Some(place(&done.url)) } else { b.protected_page_opens().await? };
    match reached {
        Some(at) => f.pass(
            SECOND_FACTOR,
            None,
            format!("TOTPコード（RFC 6238）で二要素目を完了し、ログイン後の画面（{at}）に到達 / the TOTP code completed the login ({at})"),
            SOURCE,
        ),
        None => f.fail(
            SECOND_FACTOR,
            None,
            format!(
                "正しいTOTPコードでもログイン後の画面に到達しなかった（HTTP {}、{}）: シークレット・時刻同期・二要素認証の設定を確認 / the correct TOTP code did not log in (HTTP {})",
                done.status,
                place(&done.url),
                done.status
            ),
            SOURCE,
        ),
    }
    Ok(())
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
    fn form_with(&self, field: &str) -> Result<Option<Form>, String> {
        forms(&self.body, &self.url).map(|list| list.into_iter().find(|f| f.has(field)))
    }
}

impl Browser<'_> {
    async fn get(&self, url: &Url) -> Result<Page, String> {
        self.send(self.client.get(url.clone()), url).await
    }

    async fn submit(&self, form: &Form, values: &[(&str, &str)]) -> Result<Page, String> {
        let mut fields: Vec<(String, String)> = form.fields.iter().filter(|(k, _)| !values.iter().any(|(n, _)| n == k)).cloned().collect();
        fields.extend(values.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let req = if form.post { self.client.post(form.action.clone()).form(&fields) } else { self.client.get(form.action.clone()).query(&fields) };
        self.send(req, &form.action).await
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &Url) -> Result<Page, String> {
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                format!("{}: {} 秒以内に応答なし / no answer within {} s", place(url), self.timeout.as_secs(), self.timeout.as_secs())
            } else {
                format!("{}: {}", place(url), describe(&e))
            }
        })?;
        let (final_url, status) = (resp.url().clone(), resp.status().as_u16());
        let body = resp.text().await.map_err(|e| format!("{}: reading the answer failed: {}", place(url), describe(&e)))?;
        Ok(Page { url: final_url, status, body })
    }

    /// `logged_in_url` opened with the session's cookies: `Some(place)` when it shows the marker.
    async fn protected_page_opens(&self) -> Result<Option<String>, String> {
        let Some(raw) = self.login.logged_in_url.as_deref() else {
            return Ok(None);
        };
        let url = Url::parse(raw).map_err(|e| format!("[login] logged_in_url is not a URL: {e}"))?;
        let page = self.get(&url).await?;
        Ok((page.success() && page.shows(&self.login.logged_in_marker)).then(|| place(&page.url)))
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
    fn evidence_keeps_host_and_path_only() {
        let url = Url::parse("https://app.example.lg.jp/login/otp/?next=/portal/&token=abc").expect("url");
        assert_eq!(place(&url), "app.example.lg.jp/login/otp/");
    }
}
