//! E.10.1.2 WAF (`web.waf`) against canned ELBv2/WAFv2 answers
//! (`aws-smithy-mocks`): association present/absent, a network load balancer,
//! permission denied, level 0. The moto path is in tests/tests/security.rs.

use std::path::Path;
use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer, LoadBalancerSchemeEnum, LoadBalancerTypeEnum};
use aws_sdk_wafv2::operation::get_web_acl_for_resource::{GetWebACLForResourceError, GetWebAclForResourceOutput};
use aws_sdk_wafv2::types::{DefaultAction, VisibilityConfig, WebAcl};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;
use chrono::{TimeZone, Utc};

use gcverify_checks::probes::{self, Conclusion, ProbeInput};
use gcverify_checks::{Catalog, Outcome};

mod common;
use common::aws;

async fn waf(level: &str, rules: &[Rule]) -> Conclusion {
    // One region only, so each canned answer is seen once.
    let text = "[environment]\nname = \"t\"\n[aws]\nprimary_region = \"ap-northeast-1\"\ndr_region = \"ap-northeast-1\"\n";
    let scenario = Arc::new(gcverify_scenarios::parse(text, Path::new("t.toml")).expect("scenario"));
    let input = Arc::new(ProbeInput::alone(
        Catalog::builtin().get("E.10.1.2").cloned().expect("item"),
        level.into(),
        Arc::new(Default::default()),
        scenario,
        aws(rules),
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).single().expect("clock"),
        None,
    ));
    probes::web::waf(input).await.conclude(level)
}

fn lb(name: &str, scheme: LoadBalancerSchemeEnum, kind: LoadBalancerTypeEnum) -> LoadBalancer {
    LoadBalancer::builder()
        .load_balancer_arn(format!("arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/app/{name}/1"))
        .load_balancer_name(name)
        .scheme(scheme)
        .r#type(kind)
        .build()
}

fn lbs(list: Vec<LoadBalancer>) -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
        .then_output(move || DescribeLoadBalancersOutput::builder().set_load_balancers(Some(list.clone())).build())
}

fn acl() -> Rule {
    mock!(aws_sdk_wafv2::Client::get_web_acl_for_resource).then_output(|| {
        let acl = WebAcl::builder()
            .name("juki-waf")
            .id("1")
            .arn("arn:aws:wafv2:ap-northeast-1:123456789012:regional/webacl/juki-waf/1")
            .default_action(DefaultAction::builder().build())
            .visibility_config(
                VisibilityConfig::builder().sampled_requests_enabled(true).cloud_watch_metrics_enabled(true).metric_name("juki").build().expect("visibility"),
            )
            .build()
            .expect("acl");
        GetWebAclForResourceOutput::builder().web_acl(acl).build()
    })
}

fn no_acl() -> Rule {
    mock!(aws_sdk_wafv2::Client::get_web_acl_for_resource).then_output(|| GetWebAclForResourceOutput::builder().build())
}

#[tokio::test]
async fn internet_facing_alb_with_web_acl_is_ok_and_internal_is_only_context() {
    let c = waf(
        "1",
        &[
            lbs(vec![
                lb("juki-web", LoadBalancerSchemeEnum::InternetFacing, LoadBalancerTypeEnum::Application),
                lb("juki-ap", LoadBalancerSchemeEnum::Internal, LoadBalancerTypeEnum::Application),
            ]),
            acl(),
        ],
    )
    .await;
    assert_eq!(c.outcome, Outcome::Ok, "{:?}", c.evidence);
    let text = format!("{:?}", c.evidence);
    assert!(text.contains("juki-waf") && text.contains("internal load balancer"), "{text}");
}

#[tokio::test]
async fn internet_facing_alb_without_web_acl_is_ng_naming_it() {
    let c = waf("1", &[lbs(vec![lb("juki-web", LoadBalancerSchemeEnum::InternetFacing, LoadBalancerTypeEnum::Application)]), no_acl()]).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(c.summary.en.contains("juki-web"), "{}", c.summary.en);
}

#[tokio::test]
async fn internet_facing_nlb_is_ng_because_waf_cannot_attach() {
    let c = waf("1", &[lbs(vec![lb("juki-nlb", LoadBalancerSchemeEnum::InternetFacing, LoadBalancerTypeEnum::Network)])]).await;
    assert_eq!(c.outcome, Outcome::Ng);
    assert!(format!("{:?}", c.evidence).contains("cannot be associated"));
}

#[tokio::test]
async fn access_denied_is_error_not_ng() {
    let denied = mock!(aws_sdk_wafv2::Client::get_web_acl_for_resource)
        .then_error(|| GetWebACLForResourceError::generic(ErrorMetadata::builder().code("AccessDeniedException").message("not authorized").build()));
    let c = waf("1", &[lbs(vec![lb("juki-web", LoadBalancerSchemeEnum::InternetFacing, LoadBalancerTypeEnum::Application)]), denied]).await;
    assert_eq!(c.outcome, Outcome::Error, "{:?}", c.evidence);
    assert!(c.summary.en.contains("wafv2:GetWebACLForResource"), "{}", c.summary.en);
}

#[tokio::test]
async fn no_internet_facing_load_balancer_is_error_not_ok() {
    let c = waf("1", &[lbs(vec![lb("juki-ap", LoadBalancerSchemeEnum::Internal, LoadBalancerTypeEnum::Application)])]).await;
    assert_eq!(c.outcome, Outcome::Error, "{:?}", c.evidence);
}
