//! E.6.1.1 伝送データの暗号化: ELBv2 listeners in every used region
//! (HTTPS/TLS with a TLS 1.2+ policy; HTTP only as a redirect to HTTPS) and
//! an active TLS handshake to each endpoint the scenario lists, judged
//! against the CRYPTREC list shipped in checks/data/cryptrec-tls.toml.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{ActionTypeEnum, Listener, ProtocolEnum};
use serde::Deserialize;

use super::tls::{self, CryptrecList, Handshake};
use super::{Findings, ProbeInput};
use crate::model::{Msg, Outcome};
use gcverify_scenarios::TlsEndpoint;

pub const ACTIONS: &[&str] = &["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTags"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "encryption.in_transit",
        ja: "ロードバランサーのリスナーとTLSエンドポイントの実ハンドシェイクがCRYPTREC推奨暗号で通信",
        en: "Load-balancer listeners and real TLS handshakes with the endpoints use CRYPTREC-recommended ciphers",
        detail: "ELB listeners HTTPS/TLS with a TLS 1.2+ policy (HTTP only redirects); an active rustls handshake to each scenario endpoint recording protocol, cipher suite (judged against the CRYPTREC 電子政府推奨暗号リスト, `checks/data/cryptrec-tls.toml`) and certificate (expiry, chain, or a pinned SHA-256); then a TLS 1.0-only and a TLS 1.1-only ClientHello, each of which must be refused (accepted → NG).",
        section: "[transit]",
        actions: ACTIONS,
        emulator: "moto: ELBv2 listeners; local TLS servers for handshakes",
        claims: &[super::registry::claim("tls-in-use", "TLS 1.2 以上と推奨暗号で接続でき、証明書が有効", "Connections use TLS 1.2+, CRYPTREC ciphers and a valid certificate", super::registry::Basis::Effect)],
        counterfeits: &[crate::probes::registry::counterfeit("tls10_only_server_is_ng", crate::probes::registry::Class::Nearest, "a server offering TLS 1.0 only", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("tls_endpoint_with_expired_certificate_is_ng", crate::probes::registry::Class::Nearest, "an expired certificate", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("a_server_also_accepting_tls10_beside_tls13_is_ng", crate::probes::registry::Class::HappyPathOnly, "a server negotiating TLS 1.3 that still accepts a TLS 1.0/1.1 ClientHello", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("tls_endpoint_self_signed_unpinned_is_ng", crate::probes::registry::Class::HappyPathOnly, "a self-signed certificate nobody pinned", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("elb_plain_http_listener_is_ng_naming_it", crate::probes::registry::Class::UnlistedData, "a plain HTTP listener beside the HTTPS one", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "One handshake per endpoint: a load balancer whose nodes differ in configuration is seen through whichever node answered.")],
        run: |i| Box::pin(in_transit(i)),
    },
];

const ELB_POLICIES_TOML: &str = include_str!("../../data/elb-tls-policies.toml");
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
struct ElbPolicies {
    accepted: Vec<String>,
}

/// Policies accepted for HTTPS/TLS listeners: the shipped list plus the scenario's extras.
pub fn accepted_policies(extra: &[String]) -> Result<BTreeSet<String>, String> {
    let p: ElbPolicies = toml::from_str(ELB_POLICIES_TOML).map_err(|e| format!("checks/data/elb-tls-policies.toml: {e}"))?;
    Ok(p.accepted.into_iter().chain(extra.iter().cloned()).collect())
}

#[derive(Default)]
struct Counts {
    listeners: usize,
    endpoints: usize,
}

pub async fn in_transit(input: Arc<ProbeInput>) -> Findings {
    let all_data = match input.level.as_str() {
        "0" => return Findings::level_asks_nothing("0"),
        "1" | "2" => false,
        "3" => true,
        other => {
            return Findings::decided(
                Outcome::Error,
                Msg::new(
                    format!("検証不能: レベル{other}の判定は未対応（0-3）"),
                    format!("could not verify: level {other} is not supported by this probe (0-3)"),
                ),
            )
        }
    };
    let (policies, cryptrec) = match (accepted_policies(&input.scenario.transit.extra_elb_policies), CryptrecList::builtin()) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return Findings::decided(Outcome::Error, Msg::new(format!("検証不能: {e}"), format!("could not verify: {e}"))),
    };
    let mut f = Findings::new();
    let mut n = Counts::default();
    let endpoints = &input.scenario.transit.endpoints;
    for region in input.scenario.aws.used_regions() {
        load_balancers(&input, &region, &policies, all_data, &mut f, &mut n).await;
    }
    for ep in endpoints {
        n.endpoints += 1;
        probe_endpoint(ep, &cryptrec, input.now, &mut f).await;
    }
    if endpoints.is_empty() {
        // Listener settings are not the path: an OK needs a handshake over it.
        f.error(
            "transit-endpoints",
            None,
            Msg::new(
                "シナリオに [transit] endpoints がなく、庁舎⇔ガバメントクラウド間の経路のTLSを実際に確認していない（ELBリスナー設定のみ）",
                "no [transit] endpoints in the scenario: the office ⇔ Government Cloud path was never probed (ELB listener settings only)",
            ),
            "scenario",
        );
    }
    f.ok_summary(Msg::new(
        format!("ELBリスナー{}件はTLS1.2以上（HTTPはHTTPSへリダイレクト）、TLSエンドポイント{}件はCRYPTREC推奨暗号で通信", n.listeners, n.endpoints),
        format!(
            "{} ELB listener(s) use TLS 1.2+ (HTTP only redirects to HTTPS); {} TLS endpoint(s) negotiate CRYPTREC-listed suites",
            n.listeners, n.endpoints
        ),
    ));
    f
}

async fn load_balancers(input: &ProbeInput, region: &str, policies: &BTreeSet<String>, all_data: bool, f: &mut Findings, n: &mut Counts) {
    let endpoints = &input.scenario.transit.endpoints;
    let scoped = input.inventory.scoped_load_balancers(region).await;
    f.scoped_complete(&scoped);
    for (rec, _) in &scoped.items {
        let (Some(arn), name, dns) = (rec.lb.load_balancer_arn(), rec.lb.load_balancer_name().unwrap_or(""), rec.lb.dns_name().unwrap_or("")) else { continue };
        let listeners = match input.inventory.listeners(region, arn).await {
            Ok(l) => l,
            Err(e) => {
                f.listing_error(&e);
                continue;
            }
        };
        for l in listeners.iter() {
            n.listeners += 1;
            judge_listener(l, name, dns, policies, all_data, endpoints, region, f);
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn judge_listener(
    l: &Listener,
    lb: &str,
    dns: &str,
    policies: &BTreeSet<String>,
    all_data: bool,
    endpoints: &[TlsEndpoint],
    region: &str,
    f: &mut Findings,
) {
    const SRC: &str = "elasticloadbalancing:DescribeListeners";
    let port = l.port().unwrap_or(0);
    let subject = format!("{lb}:{port}");
    let protocol = l.protocol();
    match protocol {
        Some(ProtocolEnum::Https) | Some(ProtocolEnum::Tls) => {
            let proto = protocol.map(|p| p.as_str()).unwrap_or("-");
            match l.ssl_policy() {
                Some(p) if policies.contains(p) => f.pass(
                    &subject,
                    Some(region),
                    crate::msg!("TLS 1.2以上のポリシー（Protocol={proto} SslPolicy={p}）", "Protocol={proto} SslPolicy={p} (TLS 1.2+)"),
                    SRC,
                ),
                Some(p) => f.fail(
                    &subject,
                    Some(region),
                    crate::msg!(
                        "Protocol={proto} SslPolicy={p} は許容リストの TLS 1.2以上のポリシーではない",
                        "Protocol={proto} SslPolicy={p} is not a TLS 1.2+ policy on the accepted list"
                    ),
                    SRC,
                ),
                None => f.fail(&subject, Some(region), crate::msg!("SslPolicy なし（Protocol={proto}）", "Protocol={proto} without SslPolicy"), SRC),
            }
        }
        Some(ProtocolEnum::Http) => {
            let redirect = l.default_actions().iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Redirect));
            let to_https = redirect.and_then(|a| a.redirect_config()).and_then(|r| r.protocol()).is_some_and(|p| p.eq_ignore_ascii_case("HTTPS"));
            if to_https {
                f.pass(
                    &subject,
                    Some(region),
                    Msg::new("HTTPSへリダイレクト（Protocol=HTTP、既定アクション redirect）", "Protocol=HTTP, default action redirects to HTTPS"),
                    SRC,
                );
            } else {
                let actions: Vec<&str> = l.default_actions().iter().filter_map(|a| a.r#type()).map(|t| t.as_str()).collect();
                let detail = crate::msg!(
                    "平文の通信でHTTPSへのリダイレクトなし（Protocol=HTTP、既定アクション {0}）",
                    "Protocol=HTTP, default action {0} (plain-text traffic, no redirect to HTTPS)",
                    actions.join(",")
                );
                if all_data {
                    f.fail(&subject, Some(region), detail, SRC);
                } else {
                    f.info(
                        &subject,
                        Some(region),
                        detail.wrap(
                            ("", "。認証情報・重要データが通らなければレベル3未満では許容"),
                            ("", "; allowed below level 3 when no credentials/important data pass here"),
                        ),
                        SRC,
                    );
                }
            }
        }
        other => {
            let proto = other.map(|p| p.as_str()).unwrap_or("(none)");
            // A TCP listener may pass TLS through to the targets: only the active probe can tell.
            let probed = endpoints.iter().any(|e| e.host.eq_ignore_ascii_case(dns) && e.port as i32 == port);
            if probed {
                f.info(
                    &subject,
                    Some(region),
                    crate::msg!(
                        "Protocol={proto}: 暗号化は {dns}:{port} へのTLS接続で確認",
                        "Protocol={proto}: encryption checked by the active TLS probe of {dns}:{port}"
                    ),
                    SRC,
                );
            } else if all_data && other.is_some() {
                f.fail(
                    &subject,
                    Some(region),
                    crate::msg!(
                        "Protocol={proto} はTLSを終端しない。TLSを通過させるなら {dns}:{port} を [transit] endpoints に記載",
                        "Protocol={proto} does not terminate TLS; list {dns}:{port} under [transit] endpoints if TLS passes through"
                    ),
                    SRC,
                );
            } else {
                f.info(&subject, Some(region), crate::msg!("プロトコル Protocol={proto}", "Protocol={proto}"), SRC);
            }
        }
    }
}

async fn probe_endpoint(ep: &TlsEndpoint, cryptrec: &CryptrecList, now: chrono::DateTime<chrono::Utc>, f: &mut Findings) {
    const SRC: &str = "tls-handshake";
    let subject = format!("{} ({}:{})", ep.name, ep.host, ep.port);
    let sni = ep.server_name.clone().unwrap_or_else(|| ep.host.clone());
    let result = match tls::handshake(&ep.host, ep.port, &sni, ep.ca_file.as_deref(), HANDSHAKE_TIMEOUT).await {
        Ok(r) => r,
        Err(why) => return f.error(&subject, None, crate::msg!("TLS確認の準備ができない: {why}", "TLS probe not set up: {why}"), SRC),
    };
    let neg = match result {
        Handshake::Unreachable(why) => return f.error(&subject, None, crate::msg!("接続できない: {why}", "{why}"), SRC),
        Handshake::Broken(why) => return f.error(&subject, None, crate::msg!("TLSハンドシェイク失敗: {why}", "{why}"), SRC),
        Handshake::Refused(why) => {
            return f.fail(
                &subject,
                None,
                crate::msg!("サーバーが TLS 1.2以上・AEAD暗号スイートで接続しない: {why}", "server did not negotiate TLS 1.2+ with an AEAD suite: {why}"),
                SRC,
            )
        }
        Handshake::Negotiated(n) => n,
    };
    judge_negotiated(&subject, ep.pin_sha256.as_deref(), &neg, cryptrec, now, f);
    // A good handshake shows what the server prefers, not what it refuses:
    // offer each old version alone.
    for (version, label) in [(0x0301u16, "TLS 1.0"), (0x0302, "TLS 1.1")] {
        match tls::legacy_version(&ep.host, ep.port, &sni, version, HANDSHAKE_TIMEOUT).await {
            tls::LegacyAnswer::Accepted => f.fail(
                &subject,
                None,
                crate::msg!(
                    "サーバーが {label} も受け入れる（{label} のみの ClientHello に {label} の ServerHello）",
                    "server also accepts {label} (a {label}-only ClientHello got a {label} ServerHello)"
                ),
                SRC,
            ),
            tls::LegacyAnswer::Refused(how) => f.pass(&subject, None, crate::msg!("{label} を拒否（{how}）", "{label} refused ({how})"), SRC),
            tls::LegacyAnswer::Unknown(why) => {
                f.error(&subject, None, crate::msg!("{label} を拒否するか確認できない: {why}", "whether {label} is refused could not be asked: {why}"), SRC)
            }
        }
    }
}

/// Judge one completed handshake: version, suite, certificate (pin or chain, validity).
pub fn judge_negotiated(
    subject: &str,
    pin: Option<&str>,
    neg: &tls::Negotiated,
    cryptrec: &CryptrecList,
    now: chrono::DateTime<chrono::Utc>,
    f: &mut Findings,
) {
    const SRC: &str = "tls-handshake";
    if cryptrec.allows_version(&neg.version) {
        f.pass(subject, None, crate::msg!("{0} で接続", "negotiated {0}", neg.version), SRC);
    } else {
        f.fail(subject, None, crate::msg!("{0} で接続（{1} 未満）", "negotiated {0} (below {1})", neg.version, cryptrec.min_version), SRC);
    }
    if cryptrec.allows_suite(&neg.suite) {
        f.pass(
            subject,
            None,
            crate::msg!(
                "暗号スイート {0} は CRYPTREC 電子政府推奨暗号リストに掲載",
                "cipher suite {0} is on the CRYPTREC list of recommended ciphers",
                neg.suite
            ),
            SRC,
        );
    } else {
        f.fail(
            subject,
            None,
            crate::msg!(
                "暗号スイート {0} は CRYPTREC 電子政府推奨暗号リストにない（{1}）",
                "cipher suite {0} is not on the CRYPTREC list of recommended ciphers ({1})",
                neg.suite,
                cryptrec.source
            ),
            SRC,
        );
    }
    let Some(cert) = &neg.cert else {
        return f.fail(subject, None, Msg::new("サーバーが証明書を提示しない", "server presented no certificate"), SRC);
    };
    let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "?".into());
    f.info(
        subject,
        None,
        crate::msg!(
            "証明書 subject=`{0}` issuer=`{1}` 有効期間 {2}..{3} sha256={4} チェーン長 {5}",
            "certificate subject=`{0}` issuer=`{1}` valid {2}..{3} sha256={4} chain length {5}",
            cert.subject,
            cert.issuer,
            fmt(cert.not_before),
            fmt(cert.not_after),
            cert.sha256,
            cert.chain_len
        ),
        SRC,
    );
    match (cert.not_before, cert.not_after) {
        (_, Some(end)) if end < now => f.fail(subject, None, crate::msg!("証明書の有効期限切れ（{0}）", "certificate expired on {0}", fmt(Some(end))), SRC),
        (Some(start), _) if start > now => {
            f.fail(subject, None, crate::msg!("証明書は {0} まで有効期間前", "certificate not valid before {0}", fmt(Some(start))), SRC)
        }
        (Some(_), Some(end)) => f.pass(
            subject,
            None,
            crate::msg!("証明書は {0} まで有効（残り {1} 日）", "certificate valid until {0} ({1} days left)", fmt(Some(end)), (end - now).num_days()),
            SRC,
        ),
        _ => f.fail(subject, None, Msg::new("証明書の有効期間を読めない", "certificate validity could not be read"), SRC),
    }
    match pin {
        Some(pin) => {
            let want: String = pin.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase();
            if want == cert.sha256 {
                f.pass(subject, None, Msg::new("証明書がシナリオで固定した SHA-256 と一致", "certificate matches the SHA-256 pinned in the scenario"), SRC);
            } else {
                f.fail(
                    subject,
                    None,
                    crate::msg!("証明書の SHA-256 {0} が固定値 {want} と不一致", "certificate SHA-256 {0} does not match the pinned {want}", cert.sha256),
                    SRC,
                );
            }
        }
        None => match &neg.chain {
            Ok(()) => f.pass(
                subject,
                None,
                Msg::new("証明書チェーンと名前を信頼されたルートで検証済", "certificate chain and name verified against the trusted roots"),
                SRC,
            ),
            Err(why) => f.fail(
                subject,
                None,
                crate::msg!(
                    "証明書を信頼できない（{why}）。自己署名証明書にはシナリオの pin_sha256 が必要",
                    "certificate not trusted ({why}); a self-signed certificate needs pin_sha256 in the scenario"
                ),
                SRC,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{Action, RedirectActionConfig};
    use chrono::Utc;

    fn listener(proto: ProtocolEnum, policy: Option<&str>, action: Action) -> Listener {
        Listener::builder().port(443).protocol(proto).set_ssl_policy(policy.map(str::to_string)).default_actions(action).build()
    }
    fn forward() -> Action {
        Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn("tg").build()
    }
    fn redirect(proto: &str) -> Action {
        Action::builder().r#type(ActionTypeEnum::Redirect).redirect_config(RedirectActionConfig::builder().protocol(proto).build()).build()
    }
    fn judge(l: &Listener, all: bool) -> Outcome {
        let p = accepted_policies(&[]).expect("policies");
        let mut f = Findings::new();
        judge_listener(l, "alb", "alb.example", &p, all, &[], "r", &mut f);
        f.conclude("3").outcome
    }

    #[test]
    fn https_with_tls12_policy_passes_and_legacy_policy_fails() {
        assert_eq!(judge(&listener(ProtocolEnum::Https, Some("ELBSecurityPolicy-TLS13-1-2-2021-06"), forward()), true), Outcome::Ok);
        assert_eq!(judge(&listener(ProtocolEnum::Https, Some("ELBSecurityPolicy-2016-08"), forward()), true), Outcome::Ng);
        assert_eq!(judge(&listener(ProtocolEnum::Https, Some("ELBSecurityPolicy-TLS13-1-0-2021-06"), forward()), true), Outcome::Ng);
    }

    #[test]
    fn http_only_as_redirect_to_https_at_level_3() {
        assert_eq!(judge(&listener(ProtocolEnum::Http, None, redirect("HTTPS")), true), Outcome::Ok);
        assert_eq!(judge(&listener(ProtocolEnum::Http, None, redirect("HTTP")), true), Outcome::Ng);
        assert_eq!(judge(&listener(ProtocolEnum::Http, None, forward()), true), Outcome::Ng);
        // Below level 3 a forwarding HTTP listener is context, not a violation (nor an OK).
        assert_eq!(judge(&listener(ProtocolEnum::Http, None, forward()), false), Outcome::Error);
    }

    #[test]
    fn scenario_can_accept_a_custom_policy() {
        let p = accepted_policies(&["my-policy".to_string()]).expect("policies");
        assert!(p.contains("my-policy") && p.contains("ELBSecurityPolicy-TLS13-1-3-2021-06"));
    }

    fn negotiated(suite: &str, chain: Result<(), String>, days_left: i64) -> tls::Negotiated {
        let now = Utc::now();
        tls::Negotiated {
            version: "TLSv1.3".into(),
            suite: suite.into(),
            cert: Some(tls::CertInfo {
                subject: "CN=x".into(),
                issuer: "CN=x".into(),
                not_before: Some(now - chrono::Duration::days(10)),
                not_after: Some(now + chrono::Duration::days(days_left)),
                sha256: "ab".repeat(32),
                chain_len: 1,
            }),
            chain,
        }
    }

    fn judge_neg(pin: Option<&str>, n: &tls::Negotiated) -> Outcome {
        let c = CryptrecList::builtin().expect("list");
        let mut f = Findings::new();
        judge_negotiated("ep", pin, n, &c, Utc::now(), &mut f);
        f.conclude("3").outcome
    }

    #[test]
    fn negotiated_judgement() {
        assert_eq!(judge_neg(None, &negotiated("TLS_AES_128_GCM_SHA256", Ok(()), 90)), Outcome::Ok);
        assert_eq!(judge_neg(None, &negotiated("TLS_CHACHA20_POLY1305_SHA256", Ok(()), 90)), Outcome::Ng);
        assert_eq!(judge_neg(None, &negotiated("TLS_AES_128_GCM_SHA256", Err("UnknownIssuer".into()), 90)), Outcome::Ng);
        assert_eq!(judge_neg(Some(&"AB".repeat(32)), &negotiated("TLS_AES_128_GCM_SHA256", Err("UnknownIssuer".into()), 90)), Outcome::Ok);
        assert_eq!(judge_neg(Some(&"cd".repeat(32)), &negotiated("TLS_AES_128_GCM_SHA256", Ok(()), 90)), Outcome::Ng);
        // Pinned but expired is still NG.
        assert_eq!(judge_neg(Some(&"ab".repeat(32)), &negotiated("TLS_AES_128_GCM_SHA256", Err("Expired".into()), -1)), Outcome::Ng);
    }
}
