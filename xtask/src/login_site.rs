//! Demo only: the staff login site (Django + django-otp, `demo/login_site`),
//! so that E.5.1.1's customer-side point logs in for real; it is also the
//! demo's partner system for C.4.5.1 (endpoints and HTTP processes). The scenario names
//! it with `url = "http://{demo_login_site}/login/"`; `demo` gets the two-step site
//! with TOTP, `demo-noncompliant` the one where the password alone logs in.

use anyhow::Result;
use gcverify_demo::login_site::{self, LoginSite, Mode};
use gcverify_scenarios::Scenario;
use std::path::Path;

pub const PLACEHOLDER: &str = "http://{demo_login_site}";

/// Where the site cannot start, the host says why in the row's reason.
const UNAVAILABLE: &str = "http://demo-login-site-not-installed.invalid";

/// Start the demo login site when the demo scenario's `[login]` names it; the
/// test account's password and TOTP secret are fresh for this run and reach
/// the check only through the environment variables the scenario names.
pub async fn prepare_demo(scenario: &mut Scenario, repo_root: &Path) -> Result<Option<LoginSite>> {
    let Some(demo) = scenario.demo.as_ref() else { return Ok(None) };
    let mode = if demo.seed == gcverify_scenarios::DemoSeed::Compliant { Mode::Totp } else { Mode::PasswordOnly };
    let named = |t: &str| t.contains(PLACEHOLDER);
    let in_login = scenario.login.as_ref().is_some_and(|l| named(l.url.get_ref()));
    let in_integrations = scenario.integrations.endpoints.iter().any(|e| named(&e.target))
        || scenario.integrations.processes.iter().filter_map(|p| p.http.as_ref()).any(|h| named(&h.url));
    if !in_login && !in_integrations {
        return Ok(None);
    }
    eprintln!("gcverify: starting the demo's staff login site (Django + django-otp) ...");
    let password = crate::database::random_hex(12)?;
    let secret = totp_rs::Secret::from(crate::database::random_bytes(20)?).to_base32();
    let started = match login_site::ensure_requirements(repo_root) {
        Ok(python) => LoginSite::start(&python, mode, &password, Some(&secret)).await,
        Err(e) => Err(e),
    };
    let base = match &started {
        Ok(site) => site.url(""),
        Err(e) => {
            eprintln!("gcverify: the login site could not start ({e:#}): E.5.1.1's customer-side point and C.4.5.1's HTTP checks will be 検証不能");
            UNAVAILABLE.to_string()
        }
    };
    let fill = |t: &mut String| *t = t.replacen(PLACEHOLDER, &base, 1);
    // The demo's partner system for C.4.5.1 is the same local site.
    for e in &mut scenario.integrations.endpoints {
        fill(&mut e.target);
    }
    for h in scenario.integrations.processes.iter_mut().filter_map(|p| p.http.as_mut()) {
        fill(&mut h.url);
    }
    if let Some(login) = scenario.login.as_mut() {
        fill(login.url.get_mut());
        if let Some(u) = login.logged_in_url.as_mut() {
            fill(u);
        }
        login.username = login_site::STAFF_USER.to_string();
        // Set before any probe runs; the values are this run's, never printed.
        if let Some(var) = &login.password_env {
            std::env::set_var(var, &password);
        }
        if let Some(var) = &login.totp_secret_env {
            std::env::set_var(var, &secret);
        }
    }
    Ok(started.ok())
}
