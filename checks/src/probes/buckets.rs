//! Every S3 bucket of the account with its region (ListBuckets +
//! GetBucketLocation), for the probes that judge buckets account-wide.

use super::Findings;
use crate::aws::AwsContext;

/// `LocationConstraint` → region (empty means us-east-1, `EU` is eu-west-1).
pub fn location_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

/// `(bucket, region)` for every bucket. A failed listing is recorded in `f`
/// and yields `None`; a bucket whose location cannot be read is recorded and skipped.
pub async fn with_regions(aws: &AwsContext, home: &str, f: &mut Findings) -> Option<Vec<(String, String)>> {
    const LIST: &str = "s3:ListBuckets";
    const LOCATION: &str = "s3:GetBucketLocation";
    let s3 = aws.s3(home);
    let mut token: Option<String> = None;
    let mut names = Vec::new();
    loop {
        match s3.list_buckets().set_continuation_token(token.clone()).send().await {
            Ok(out) => {
                names.extend(out.buckets().iter().filter_map(|b| b.name().map(str::to_string)));
                token = out.continuation_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            Err(e) => {
                f.aws_error(LIST, None, &e);
                return None;
            }
        }
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        match s3.get_bucket_location().bucket(&name).send().await {
            Ok(loc) => out.push((name, location_region(loc.location_constraint().map(|c| c.as_str())))),
            Err(e) => f.aws_error(LOCATION, None, &e),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::location_region;

    #[test]
    fn legacy_location_constraints() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(location_region(Some("")), "us-east-1");
        assert_eq!(location_region(Some("EU")), "eu-west-1");
        assert_eq!(location_region(Some("ap-northeast-3")), "ap-northeast-3");
    }
}
