//! E.10.1.2 WAFの導入有無 (`web.waf`).
//! Level 0 (the pilot's choice: 閉域網のみ): 対象外 with the reason (the
//! scenario's `[not_applicable]` entry wins, see the engine; otherwise the
//! pilot's 判断理由). Level ≥ 1 ([+]Webアプリケーションを用いる場合): every
//! internet-facing load balancer in scope, in the primary and DR regions, has a
//! WAF web ACL associated. WAF attaches to application load balancers only, so
//! an internet-facing network load balancer is a violation at level ≥ 1.

use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, LoadBalancerTypeEnum};

use super::{Findings, ProbeInput};
use crate::model::Msg;

/// IAM actions this probe calls (see `permissions`).
pub const ACTIONS: &[&str] = &["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags", "wafv2:GetWebACLForResource"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[
    super::registry::ProbeDef {
        name: "web.waf",
        ja: "インターネットに面したロードバランサーにWAF（Web ACL）が関連付けられている",
        en: "Internet-facing load balancers have a WAF web ACL associated",
        detail: "Level 0 (the pilot's): 対象外 with the reason. Level ≥ 1: every internet-facing load balancer in scope (primary and DR) has a WAF web ACL; an internet-facing NLB is NG (WAF cannot attach).",
        section: "[scope]",
        actions: ACTIONS,
        emulator: "moto: ELBv2, WAFv2 web ACL association",
        claims: &[super::registry::claim("waf-attached", "インターネット向けロードバランサに WAF がある", "Internet-facing load balancers have a WAF web ACL", super::registry::Basis::Setting)],
        counterfeits: &[crate::probes::registry::counterfeit("internet_facing_alb_without_web_acl_is_ng_naming_it", crate::probes::registry::Class::Nearest, "an internet-facing ALB without a web ACL", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("internet_facing_nlb_is_ng_because_waf_cannot_attach", crate::probes::registry::Class::Nearest, "an internet-facing NLB (WAF cannot attach)", crate::model::Outcome::Ng)],
        unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::PartialObservation, "A web ACL's association is read, not its rules: an ACL with no rules counts as attached."), crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Load balancers only: CloudFront distributions and API Gateway stages are not examined."), crate::probes::registry::unseen(crate::probes::registry::Class::HappyPathOnly, "No malicious request is sent to show the web ACL blocks it.")],
        run: |i| Box::pin(waf(i)),
    },
];

const LBS: &str = "elasticloadbalancing:DescribeLoadBalancers";
const WAF: &str = "wafv2:GetWebACLForResource";

/// One load balancer as observed.
struct Lb {
    arn: String,
    name: String,
    internet_facing: bool,
    application: bool,
}

pub async fn waf(input: Arc<ProbeInput>) -> Findings {
    if input.level == "0" {
        return Findings::level_asks_nothing(&input.level);
    }
    let mut f = Findings::new();
    let aws = &input.scenario.aws;
    let mut regions = vec![aws.primary_region.clone()];
    if aws.dr_region != aws.primary_region {
        regions.push(aws.dr_region.clone());
    }
    for region in &regions {
        region_check(&input, region, &mut f).await;
    }
    f
}

async fn region_check(input: &ProbeInput, region: &str, f: &mut Findings) {
    let scoped = input.inventory.scoped_load_balancers(region).await;
    if !f.scoped_complete(&scoped) {
        return;
    }
    let lbs: Vec<Lb> = scoped
        .items
        .iter()
        .map(|(rec, _)| Lb {
            arn: rec.lb.load_balancer_arn().unwrap_or("").to_string(),
            name: rec.lb.load_balancer_name().unwrap_or("").to_string(),
            // A missing Scheme/Type is read as the API defaults (internet-facing,
            // application): the stricter reading, so it can never hide an exposed LB.
            internet_facing: rec.lb.scheme() != Some(&LoadBalancerSchemeEnum::Internal),
            application: rec.lb.r#type().is_none_or(|t| *t == LoadBalancerTypeEnum::Application),
        })
        .collect();
    let waf = input.aws.wafv2(region);
    let mut exposed = 0;
    for lb in &lbs {
        if !lb.internet_facing {
            f.info(
                &lb.name,
                Some(region),
                Msg::new("内部ロードバランサー: インターネットに公開されず WAF 不要", "internal load balancer: not exposed to the internet, no WAF required"),
                LBS,
            );
            continue;
        }
        exposed += 1;
        if !lb.application {
            f.fail(
                &lb.name,
                Some(region),
                Msg::new(
                    "インターネット向けロードバランサーが ALB でない: WAF のウェブ ACL を関連付けられない",
                    "internet-facing load balancer is not an application load balancer: a WAF web ACL cannot be associated",
                ),
                LBS,
            );
            continue;
        }
        match waf.get_web_acl_for_resource().resource_arn(&lb.arn).send().await {
            Ok(out) => match out.web_acl() {
                Some(acl) => f.pass(
                    &lb.name,
                    Some(region),
                    crate::msg!("WAF のウェブ ACL `{0}`（{1}）を関連付け済", "WAF web ACL `{0}` ({1}) associated", acl.name(), acl.arn()),
                    WAF,
                ),
                None => f.fail(
                    &lb.name,
                    Some(region),
                    Msg::new("インターネット向けロードバランサーに WAF のウェブ ACL がない", "internet-facing load balancer has no WAF web ACL associated"),
                    WAF,
                ),
            },
            Err(e) => f.aws_error(WAF, Some(region), &e),
        }
    }
    if exposed == 0 {
        // Not an OK on its own: a wrong scope would look the same.
        f.info(
            region,
            Some(region),
            crate::msg!(
                "対象にインターネット向けロードバランサーなし（対象のロードバランサー {0}件）",
                "no internet-facing load balancer in scope ({0} load balancer(s) in scope)",
                lbs.len()
            ),
            LBS,
        );
    }
}
