//! Load profile files (`scenarios/load/*.toml`): the operations to send,
//! an optional login step, client limits, and the phases (`normal`, `peak`)
//! with their arrival rates and the percentile the SLO applies to. The SLO
//! threshold itself is not in the profile: it comes from the selected level.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::LoadError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Prefix for operation URLs that start with `/`. A scenario (or the
    /// demo runner) may override it.
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub client: ClientSettings,
    #[serde(default)]
    pub login: Option<Login>,
    #[serde(rename = "operation")]
    pub operations: Vec<Operation>,
    /// Phases by name: `normal` (B.2.1.4) and `peak` (B.2.1.5).
    pub phase: BTreeMap<String, Phase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// A request still unanswered after this is a failure, recorded at this value.
    #[serde(default = "d_timeout")]
    pub timeout_ms: u64,
    /// Requests in flight at once; also the bound on open connections.
    #[serde(default = "d_in_flight")]
    pub max_in_flight: usize,
    /// A send later than this behind its intended time counts as late.
    #[serde(default = "d_tolerance")]
    pub schedule_tolerance_ms: u64,
    /// More late sends than this fraction: the generator could not keep its
    /// schedule and the row is ERROR.
    #[serde(default = "d_late")]
    pub max_late_fraction: f64,
    /// Length of one interval of the histogram log and of the live view (default 1000).
    #[serde(default)]
    pub interval_ms: Option<u64>,
    /// Generator threads, each with its own runtime and its share of the
    /// connections (default 1; never more than `max_in_flight`). One thread
    /// sustained ~58,000 req/s on the bench machine; more only help when the
    /// target is elsewhere and the rate is higher than that.
    #[serde(default)]
    pub threads: Option<usize>,
}

fn d_timeout() -> u64 {
    10_000
}
fn d_in_flight() -> usize {
    1024
}
fn d_tolerance() -> u64 {
    50
}
fn d_late() -> f64 {
    0.01
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout_ms: d_timeout(),
            max_in_flight: d_in_flight(),
            schedule_tolerance_ms: d_tolerance(),
            max_late_fraction: d_late(),
            interval_ms: None,
            threads: None,
        }
    }
}

/// A login request run once before a phase; its cookies (or a token taken
/// from its JSON answer) are added to every operation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    #[serde(default = "d_post")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// Take this field of the JSON answer as a token (else: reuse cookies).
    #[serde(default)]
    pub token_json_field: Option<String>,
    #[serde(default = "d_auth")]
    pub token_header: String,
    #[serde(default = "d_bearer")]
    pub token_prefix: String,
}

fn d_post() -> String {
    "POST".into()
}
fn d_get() -> String {
    "GET".into()
}
fn d_auth() -> String {
    "Authorization".into()
}
fn d_bearer() -> String {
    "Bearer ".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Name shown in results, e.g. `住民票照会`.
    pub name: String,
    #[serde(default = "d_get")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    /// Accepted status codes; empty = any 2xx.
    #[serde(default)]
    pub expect_status: Vec<u16>,
    /// The answer's body must contain this text.
    #[serde(default)]
    pub expect_body: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Measured time, after warm-up.
    pub duration_secs: f64,
    /// Sent but not counted (connections, caches warm up).
    #[serde(default)]
    pub warmup_secs: f64,
    /// Arrival rate rises linearly from 0 over this time (within or before warm-up).
    #[serde(default)]
    pub ramp_secs: f64,
    /// Requests per second per operation name.
    pub rates: BTreeMap<String, f64>,
    /// Which percentile must meet the threshold: `p50` ... `p99.9` or `all`.
    #[serde(default)]
    pub percentile: Percentile,
    /// More failures (status, body, timeout, transport) than this fraction is a violation.
    #[serde(default = "d_err")]
    pub max_error_rate: f64,
}

fn d_err() -> f64 {
    0.01
}

impl Phase {
    /// When counting starts: after warm-up and after the ramp.
    pub fn measure_start_secs(&self) -> f64 {
        self.warmup_secs.max(self.ramp_secs)
    }
    pub fn total_secs(&self) -> f64 {
        self.measure_start_secs() + self.duration_secs
    }
}

/// The percentile the SLO applies to.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub enum Percentile {
    /// A quantile in (0, 1), e.g. 0.95.
    Q(f64),
    /// Every request (the maximum).
    All,
}

impl Default for Percentile {
    fn default() -> Self {
        Percentile::Q(0.95)
    }
}

impl TryFrom<String> for Percentile {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        if t == "all" || t == "max" || t == "p100" {
            return Ok(Percentile::All);
        }
        let num = t.strip_prefix('p').ok_or_else(|| format!("percentile `{s}`: expected p50, p95, p99, p99.9 or all"))?;
        let v: f64 = num.parse().map_err(|_| format!("percentile `{s}`: expected p50, p95, p99, p99.9 or all"))?;
        if !(v > 0.0 && v < 100.0) {
            return Err(format!("percentile `{s}` must be between p0 and p100 (exclusive), or all"));
        }
        Ok(Percentile::Q(v / 100.0))
    }
}

impl std::fmt::Display for Percentile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Percentile::All => write!(f, "all"),
            Percentile::Q(q) => write!(f, "p{}", q * 100.0),
        }
    }
}

impl Profile {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Profile(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| LoadError::Profile(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let p: Profile = toml::from_str(text).map_err(|e| e.to_string())?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), String> {
        if self.operations.is_empty() {
            return Err("no [[operation]]".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for op in &self.operations {
            if !names.insert(op.name.as_str()) {
                return Err(format!("operation `{}` defined twice", op.name));
            }
            http::Method::from_bytes(op.method.as_bytes()).map_err(|_| format!("operation `{}`: bad method `{}`", op.name, op.method))?;
        }
        let c = &self.client;
        if c.max_in_flight == 0 || c.timeout_ms == 0 || c.threads == Some(0) {
            return Err("[client] max_in_flight, timeout_ms and threads must be > 0".into());
        }
        for (name, ph) in &self.phase {
            if ph.duration_secs.is_nan() || ph.duration_secs <= 0.0 || ph.warmup_secs < 0.0 || ph.ramp_secs < 0.0 {
                return Err(format!("phase `{name}`: duration_secs must be > 0, warmup/ramp >= 0"));
            }
            if ph.rates.is_empty() {
                return Err(format!("phase `{name}`: no rates"));
            }
            for (op, rate) in &ph.rates {
                if !names.contains(op.as_str()) {
                    return Err(format!("phase `{name}`: rate for unknown operation `{op}`"));
                }
                if rate.is_nan() || *rate <= 0.0 {
                    return Err(format!("phase `{name}`: rate for `{op}` must be > 0"));
                }
            }
            if !(0.0..=1.0).contains(&ph.max_error_rate) {
                return Err(format!("phase `{name}`: max_error_rate must be within 0..1"));
            }
        }
        Ok(())
    }
}

/// `url` as is when absolute, else `base` + `url`.
pub fn resolve_url(base: Option<&str>, url: &str) -> Result<http::Uri, LoadError> {
    let full = if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        let base = base.ok_or_else(|| LoadError::Profile(format!("URL `{url}` is relative and no base_url is set")))?;
        format!("{}/{}", base.trim_end_matches('/'), url.trim_start_matches('/'))
    };
    full.parse::<http::Uri>().map_err(|e| LoadError::Profile(format!("URL `{full}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = r#"
base_url = "http://127.0.0.1:1"
[[operation]]
name = "照会"
url = "/q"
[phase.normal]
duration_secs = 2
rates = { "照会" = 10 }
[phase.peak]
duration_secs = 2
rates = { "照会" = 10 }
percentile = "p99.9"
"#;

    #[test]
    fn parses_defaults_and_percentiles() {
        let p = Profile::parse(P).expect("parses");
        assert_eq!(p.phase["normal"].percentile, Percentile::Q(0.95));
        match p.phase["peak"].percentile {
            Percentile::Q(q) => assert!((q - 0.999).abs() < 1e-9),
            Percentile::All => panic!("expected a quantile"),
        }
        assert_eq!(p.client.timeout_ms, 10_000);
        assert_eq!(Percentile::try_from("all".to_string()), Ok(Percentile::All));
        assert!(Percentile::try_from("95".to_string()).is_err());
    }

    #[test]
    fn rejects_rate_for_unknown_operation() {
        let bad = P.replace("rates = { \"照会\" = 10 }\npercentile", "rates = { \"x\" = 10 }\npercentile");
        let e = Profile::parse(&bad).expect_err("unknown op");
        assert!(e.contains("unknown operation `x`"), "{e}");
    }

    #[test]
    fn relative_urls_need_a_base() {
        assert_eq!(resolve_url(Some("http://h:1/"), "/a").map(|u| u.to_string()).ok().as_deref(), Some("http://h:1/a"));
        assert!(resolve_url(None, "/a").is_err());
    }
}
