//! Backup selections (which resources a plan protects) and matching a
//! resource against them, after AWS Backup's rules: `Resources` ARNs
//! (wildcards allowed) OR any `ListOfTags` tag, AND every `Conditions`
//! condition, minus `NotResources`.

use aws_sdk_backup::types::{BackupSelection, ConditionParameter};

use super::scope::Resource;
use crate::probes::{Findings, ProbeInput};

#[derive(Debug, Clone)]
pub struct Selection {
    pub plan: String,
    pub name: String,
    resources: Vec<String>,
    not_resources: Vec<String>,
    list_of_tags: Vec<(String, String)>,
    equals: Vec<(String, String)>,
    not_equals: Vec<(String, String)>,
    like: Vec<(String, String)>,
    not_like: Vec<(String, String)>,
}

/// `aws:ResourceTag/System` → `System`.
fn tag_key(k: &str) -> String {
    k.strip_prefix("aws:ResourceTag/").unwrap_or(k).to_string()
}

fn params(p: &[ConditionParameter]) -> Vec<(String, String)> {
    p.iter().map(|c| (tag_key(c.condition_key().unwrap_or("")), c.condition_value().unwrap_or("").to_string())).collect()
}

impl Selection {
    pub fn from_sdk(plan: &str, s: &BackupSelection) -> Self {
        let c = s.conditions();
        Self {
            plan: plan.to_string(),
            name: s.selection_name().to_string(),
            resources: s.resources().to_vec(),
            not_resources: s.not_resources().to_vec(),
            list_of_tags: s.list_of_tags().iter().map(|t| (tag_key(t.condition_key()), t.condition_value().to_string())).collect(),
            equals: c.map(|c| params(c.string_equals())).unwrap_or_default(),
            not_equals: c.map(|c| params(c.string_not_equals())).unwrap_or_default(),
            like: c.map(|c| params(c.string_like())).unwrap_or_default(),
            not_like: c.map(|c| params(c.string_not_like())).unwrap_or_default(),
        }
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let tag = |k: &str| r.tags.get(k).map(String::as_str);
        let by_arn = self.resources.iter().any(|p| glob(p, &r.arn));
        let by_tag = self.list_of_tags.iter().any(|(k, v)| tag(k) == Some(v.as_str()));
        let conditions = self.equals.iter().all(|(k, v)| tag(k) == Some(v.as_str()))
            && self.not_equals.iter().all(|(k, v)| tag(k) != Some(v.as_str()))
            && self.like.iter().all(|(k, v)| tag(k).is_some_and(|t| glob(v, t)))
            && self.not_like.iter().all(|(k, v)| !tag(k).is_some_and(|t| glob(v, t)));
        (by_arn || by_tag) && conditions && !self.not_resources.iter().any(|p| glob(p, &r.arn))
    }
}

/// `*` matches any run of characters (AWS Backup's ARN and StringLike wildcard).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Every selection of the given plans (name, ID). Returns whether all were read.
pub async fn read(input: &ProbeInput, backup: &aws_sdk_backup::Client, region: &str, plans: &[(String, String)], f: &mut Findings) -> (Vec<Selection>, bool) {
    const GET: &str = "backup:GetBackupSelection";
    let mut out = Vec::new();
    let mut complete = true;
    for (plan, id) in plans {
        let ids: Vec<String> = match input.inventory.backup_selections(region, id).await {
            Ok(list) => list.iter().filter_map(|s| s.selection_id().map(str::to_string)).collect(),
            Err(e) => {
                f.listing_error(&e);
                complete = false;
                continue;
            }
        };
        for sid in ids {
            match backup.get_backup_selection().backup_plan_id(id).selection_id(&sid).send().await {
                Ok(o) => match o.backup_selection() {
                    Some(s) => out.push(Selection::from_sdk(plan, s)),
                    None => {
                        f.error(
                            plan,
                            Some(region),
                            crate::msg!("{GET}: 応答に BackupSelection がない（{sid}）", "{GET}: answer had no BackupSelection ({sid})"),
                            GET,
                        );
                        complete = false;
                    }
                },
                Err(e) => {
                    f.aws_error(GET, Some(region), &e);
                    complete = false;
                }
            }
        }
    }
    (out, complete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_backup::types::{Condition, ConditionType, Conditions};
    use std::collections::BTreeMap;

    fn res(arn: &str, tags: &[(&str, &str)]) -> Resource {
        Resource { arn: arn.into(), name: arn.into(), tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(), pitr: None }
    }

    fn sel(b: aws_sdk_backup::types::builders::BackupSelectionBuilder) -> Selection {
        Selection::from_sdk("p", &b.selection_name("s").iam_role_arn("arn:aws:iam::1:role/r").build().expect("selection"))
    }

    #[test]
    fn globs() {
        assert!(glob("*", "anything"));
        assert!(glob("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:ap-northeast-1:1:instance/i-1"));
        assert!(!glob("arn:aws:ec2:*:*:instance/*", "arn:aws:rds:ap-northeast-1:1:db:x"));
        assert!(glob("juki-*", "juki-db"));
        assert!(!glob("juki-*-x", "juki-"));
    }

    #[test]
    fn arn_tags_conditions_and_exclusions() {
        let i1 = res("arn:aws:ec2:r:1:instance/i-1", &[("System", "juki")]);
        let i2 = res("arn:aws:ec2:r:1:instance/i-2", &[("System", "other")]);
        let by_tag = sel(BackupSelection::builder().list_of_tags(
            Condition::builder()
                .condition_type(ConditionType::Stringequals)
                .condition_key("aws:ResourceTag/System")
                .condition_value("juki")
                .build()
                .expect("c"),
        ));
        assert!(by_tag.matches(&i1) && !by_tag.matches(&i2));

        let all_but = sel(BackupSelection::builder().resources("*").not_resources("arn:aws:ec2:r:1:instance/i-1"));
        assert!(!all_but.matches(&i1) && all_but.matches(&i2));

        let cond = sel(BackupSelection::builder().resources("*").conditions(
            Conditions::builder().string_like(ConditionParameter::builder().condition_key("aws:ResourceTag/System").condition_value("ju*").build()).build(),
        ));
        assert!(cond.matches(&i1) && !cond.matches(&i2));
        let nothing = sel(BackupSelection::builder());
        assert!(!nothing.matches(&i1));
    }
}
