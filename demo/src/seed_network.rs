//! Seeds the system's load balancer for E.6.1.1 (伝送データの暗号化): an ALB
//! in the 住民記録 VPC with an HTTPS listener on a TLS 1.2+ policy and an
//! HTTP listener that only redirects to HTTPS. The non-compliant variant's
//! HTTP listener forwards plain text to the web servers instead.

use anyhow::{Context, Result};
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, Certificate, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Tag};

use crate::seed::{emulator_config, PRIMARY, SYSTEM_TAG};

pub const ALB_NAME: &str = "juki-alb";
/// The TLS 1.2+ policy of the HTTPS listener.
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/// Subject of the NG finding in the non-compliant seed (`<lb>:<port>`).
pub const PLAIN_HTTP_LISTENER: &str = "juki-alb:80";

/// The VPC created by `seed::ec2` (10.20.0.0/16).
async fn system_vpc(ec2: &aws_sdk_ec2::Client) -> Result<String> {
    let out = ec2.describe_vpcs().send().await?;
    out.vpcs()
        .iter()
        .find(|v| v.cidr_block() == Some("10.20.0.0/16"))
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
        .context("the 住民記録 VPC (10.20.0.0/16) was not seeded before the load balancer")
}

pub async fn seed_network(endpoint: &str, compliant: bool) -> Result<()> {
    let conf = emulator_config(endpoint, PRIMARY);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = system_vpc(&ec2).await?;
    let mut subnets = Vec::new();
    for (cidr, az) in [("10.20.101.0/24", "a"), ("10.20.102.0/24", "c")] {
        let s = ec2.create_subnet().vpc_id(&vpc).cidr_block(cidr).availability_zone(format!("{PRIMARY}{az}")).send().await?;
        subnets.push(s.subnet().and_then(|s| s.subnet_id()).context("no subnet id")?.to_string());
    }
    // The listener's certificate: moto only checks that the ARN exists.
    let iam = aws_sdk_iam::Client::new(&conf);
    let cert = iam
        .upload_server_certificate()
        .server_certificate_name("juki-alb-cert")
        .certificate_body("-----BEGIN CERTIFICATE-----\nZGVtbw==\n-----END CERTIFICATE-----\n")
        .private_key("-----BEGIN PRIVATE KEY-----\nZGVtbw==\n-----END PRIVATE KEY-----\n")
        .send()
        .await?;
    let cert_arn = cert.server_certificate_metadata().map(|m| m.arn().to_string()).context("no certificate ARN")?;

    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let lb =
        elb.create_load_balancer().name(ALB_NAME).set_subnets(Some(subnets)).tags(Tag::builder().key(SYSTEM_TAG.0).value(SYSTEM_TAG.1).build()).send().await?;
    let lb_arn = lb.load_balancers().first().and_then(|l| l.load_balancer_arn()).context("no load balancer ARN")?.to_string();
    let tg = elb.create_target_group().name("juki-web").protocol(ProtocolEnum::Http).port(80).vpc_id(&vpc).send().await?;
    let tg_arn = tg.target_groups().first().and_then(|t| t.target_group_arn()).context("no target group ARN")?.to_string();
    let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build();

    elb.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .ssl_policy(TLS_POLICY)
        .certificates(Certificate::builder().certificate_arn(&cert_arn).build())
        .default_actions(forward.clone())
        .send()
        .await?;
    let http_action = if compliant {
        Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(RedirectActionConfig::builder().protocol("HTTPS").port("443").status_code(RedirectActionStatusCodeEnum::Http301).build())
            .build()
    } else {
        forward
    };
    elb.create_listener().load_balancer_arn(&lb_arn).protocol(ProtocolEnum::Http).port(80).default_actions(http_action).send().await?;
    Ok(())
}
