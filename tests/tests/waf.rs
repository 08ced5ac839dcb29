//! E.10.1.2 WAF against a real moto server: the pilot's level 0 is 対象外;
//! a scenario that raises the level to 1 gets NG for the demo's internet-facing
//! ALB until a web ACL is associated, then OK naming the ACL.

mod common;

use aws_sdk_wafv2::types::{DefaultAction, Scope, VisibilityConfig};
use common::*;
use gcverify_checks::Outcome;
use gcverify_demo::seed::{emulator_config, PRIMARY};
use gcverify_demo::seed_network::ALB_NAME;

#[tokio::test]
async fn waf_association_decides_e_10_1_2_at_level_1() {
    let server = moto().await;
    gcverify_demo::seed(&server.endpoint(), true).await.expect("seed");

    // The pilot's level 0: not applicable, whatever is deployed.
    let r = run(&server.endpoint(), scenario(BASE), &["E.10.1.2"]).await;
    assert_eq!(item(&r, "E.10.1.2").outcome, Outcome::NotApplicable);

    let raised = scenario(&format!("{BASE}\n[levels]\n\"E.10.1.2\" = \"1\"\n"));
    let r = run(&server.endpoint(), raised.clone(), &["E.10.1.2"]).await;
    let i = item(&r, "E.10.1.2");
    assert_eq!(i.outcome, Outcome::Ng, "{}\n{}", i.summary_en, evidence_text(i));
    assert!(i.summary_en.contains(ALB_NAME), "{}", i.summary_en);

    let conf = emulator_config(&server.endpoint(), PRIMARY);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let lbs = elb.describe_load_balancers().names(ALB_NAME).send().await.expect("describe");
    let lb_arn = lbs.load_balancers().first().and_then(|l| l.load_balancer_arn()).expect("ALB ARN").to_string();
    let waf = aws_sdk_wafv2::Client::new(&conf);
    let acl = waf
        .create_web_acl()
        .name("juki-waf")
        .scope(Scope::Regional)
        .default_action(DefaultAction::builder().build())
        .visibility_config(
            VisibilityConfig::builder().sampled_requests_enabled(true).cloud_watch_metrics_enabled(true).metric_name("juki").build().expect("vc"),
        )
        .send()
        .await
        .expect("create web ACL");
    let acl_arn = acl.summary().and_then(|s| s.arn()).expect("ACL ARN").to_string();
    waf.associate_web_acl().web_acl_arn(&acl_arn).resource_arn(&lb_arn).send().await.expect("associate");

    let r = run(&server.endpoint(), raised, &["E.10.1.2"]).await;
    let i = item(&r, "E.10.1.2");
    assert_eq!(i.outcome, Outcome::Ok, "{}\n{}", i.summary_en, evidence_text(i));
    assert!(evidence_text(i).contains("juki-waf"), "{}", evidence_text(i));
}

#[tokio::test]
async fn raising_the_level_of_an_item_the_pilot_left_out_needs_an_attestation() {
    // E.3.1.2 Web診断: 対象外 at the pilot's level 0; at level 1 a reviewer's
    // evidence is required, so without an attestation the row is 要確認, not N/A.
    let server = moto().await;
    let r = run(&server.endpoint(), scenario(&format!("{BASE}\n[levels]\n\"E.3.1.2\" = \"1\"\n")), &["E.3.1.2"]).await;
    assert_eq!(item(&r, "E.3.1.2").outcome, Outcome::Pending, "{}", item(&r, "E.3.1.2").summary_en);
}
