use super::*;
use crate::catalog::Catalog;
use crate::probes::registry;

fn point_result(id: &str, verifier: &str, c: Conclusion) -> PointResult {
    c.into_point(id.into(), id.into(), id.into(), Vec::new(), verifier.into())
}

/// Findings of `def` with one compliant observation per claim, and a
/// violation of `violated` when given.
fn one_pass_per_claim(def: &ProbeDef, violated: Option<&'static str>) -> Findings {
    let mut f = Findings::new();
    for c in def.claims {
        f.claim(c.id);
        f.pass(&format!("ok-{}", c.id), None, "compliant", "t");
    }
    if let Some(v) = violated {
        f.claim(v);
        f.fail(&format!("bad-{v}"), None, "violation", "t");
    }
    attribute(&mut f, def);
    f
}

#[test]
fn a_violation_of_one_claim_leaves_the_other_claims_points_alone() {
    let mut multi = 0;
    for def in registry::all().filter(|d| d.claims.len() > 1) {
        multi += 1;
        for violated in def.claims {
            let f = one_pass_per_claim(def, Some(violated.id));
            for c in def.claims {
                let got = conclude(&f, Scope::Claims(&[c]), "2");
                let want = if c.id == violated.id { Outcome::Ng } else { Outcome::Ok };
                assert_eq!(got.outcome, want, "{}: {} violated, {} judged: {}", def.name, violated.id, c.id, got.summary.en);
                if want == Outcome::Ok {
                    assert!(matches!(got.proof(), Some(Proof::Observed(p)) if !p.is_empty()), "{}: an OK carries its evidence", def.name);
                    assert!(got.evidence.iter().all(|e| e.claim.as_deref() == Some(c.id)), "{}/{}: only its own evidence", def.name, c.id);
                }
            }
        }
    }
    assert!(multi >= 6, "{multi} verifiers with several claims");
}

#[test]
fn a_claim_without_evidence_is_never_ok() {
    for def in registry::all() {
        for c in def.claims {
            // Every other claim observed, this one not.
            let mut f = Findings::new();
            for other in def.claims.iter().filter(|o| o.id != c.id) {
                f.claim(other.id);
                f.pass("x", None, "compliant", "t");
            }
            attribute(&mut f, def);
            let got = conclude(&f, Scope::Claims(&[c]), "2");
            assert_ne!(got.outcome, Outcome::Ok, "{}/{}: OK without its own evidence", def.name, c.id);
            assert!(got.proof().is_none());
        }
    }
}

#[test]
fn an_unobserved_effect_is_pending_an_unobserved_setting_is_error() {
    let copy = backup_remote_copy();
    let (rule, points) = (copy.claim("copy-rule").expect("claim"), copy.claim("dr-recovery-points").expect("claim"));
    let mut f = Findings::new();
    f.claim("copy-rule");
    f.pass("plan/rule", None, "copies to the DR vault", "t");
    let c = conclude(&f, Scope::Claims(&[rule, points]), "2");
    assert_eq!(c.outcome, Outcome::Pending, "{}", c.summary.ja);
    assert!(c.summary.ja.contains("設定のみ確認（実績未確認）"), "{}", c.summary.ja);

    let mut g = Findings::new();
    g.claim("dr-recovery-points");
    g.pass("vault", None, "3 recovery points", "t");
    let c = conclude(&g, Scope::Claims(&[rule, points]), "2");
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.ja);
    assert!(c.summary.ja.contains("観測なし"), "{}", c.summary.ja);
}

fn backup_remote_copy() -> &'static ProbeDef {
    registry::lookup("backup.remote_copy").expect("registered")
}

#[test]
fn an_unnamed_claim_in_a_multi_claim_probe_is_a_defect_not_a_verdict() {
    let def = registry::lookup("access.restrictions").expect("registered");
    let mut f = Findings::new();
    f.fail("sg-1", None, "port 22 open", "t");
    attribute(&mut f, def);
    for c in def.claims {
        assert_eq!(conclude(&f, Scope::Claims(&[c]), "1").outcome, Outcome::Error, "{}", c.id);
    }
    // A probe with one claim need not name it.
    let single = registry::lookup("encryption.at_rest").expect("registered");
    let mut g = Findings::new();
    g.pass("vol-1", None, "Encrypted=true", "t");
    attribute(&mut g, single);
    assert_eq!(conclude(&g, Scope::Claims(&[&single.claims[0]]), "1").outcome, Outcome::Ok);
}

#[test]
fn an_undeclared_claim_is_a_defect_that_no_point_can_drop() {
    let def = registry::lookup("access.restrictions").expect("registered");
    let mut f = Findings::new();
    f.claim("no-such-claim");
    f.fail("sg-1", None, "port 22 open", "t");
    attribute(&mut f, def);
    // The violation was about nothing any point lists: every point of the
    // verifier is 検証不能, none silently OK.
    for c in def.claims {
        assert_eq!(conclude(&f, Scope::Claims(&[c]), "1").outcome, Outcome::Error, "{}", c.id);
    }
}

#[test]
fn an_ok_decided_without_an_attestation_is_refused() {
    let f = Findings::decided(Outcome::Ok, Msg::new("OK", "OK"));
    let c = conclude(&f, Scope::Whole, "1");
    assert_eq!(c.outcome, Outcome::Error, "{}", c.summary.en);
}

#[test]
fn a_row_counts_every_violation_of_every_point() {
    let catalog = Catalog::builtin();
    let item = catalog.get("E.5.2.1").expect("item").clone();
    let def = registry::lookup("access.restrictions").expect("registered");
    let mut f = Findings::new();
    f.claim("no-public-admin-path");
    f.fail("sg-1", Some("ap-northeast-1"), "22 open to 0.0.0.0/0", "t");
    f.claim("no-direct-admin");
    f.fail("alice", None, "AdministratorAccess attached", "t");
    f.claim("s3-public-blocked");
    f.pass("bucket", None, "blocked", "t");
    attribute(&mut f, def);
    let runs: BTreeMap<&'static str, Findings> = [(def.name, f)].into_iter().collect();
    let points: Vec<PointResult> = item
        .points
        .iter()
        .filter(|p| p.verifier == def.name)
        .map(|p| {
            let c = point(p, &runs, "1");
            point_result(&p.id, &p.verifier, c)
        })
        .collect();
    let by_id = |id: &str| points.iter().find(|p| p.id == id).map(|p| p.outcome);
    assert_eq!(by_id("authorized-only"), Some(Outcome::Ng));
    assert_eq!(by_id("s3-direct-access"), Some(Outcome::Ok), "the S3 point stands on its own claim");
    let r = row(&item, &points, "1", &runs);
    assert_eq!(r.outcome, Outcome::Ng);
    assert!(r.summary.ja.starts_with("違反 2件"), "{}", r.summary.ja);
    assert!(r.summary.ja.contains("alice") && r.summary.ja.contains("sg-1"), "{}", r.summary.ja);
}

#[test]
fn every_catalog_point_resolves_its_claims_and_every_claim_proves_a_point() {
    let catalog = Catalog::builtin();
    let mut used: Vec<(&str, &str)> = Vec::new();
    for item in catalog.items() {
        for p in item.points.iter().filter(|p| p.verifier != "attestation") {
            let claims = claims_of(p).unwrap_or_else(|e| panic!("{} {e}", item.id));
            for (v, cs) in claims {
                used.extend(cs.iter().map(|c| (v, c.id)));
            }
        }
    }
    for def in registry::all() {
        assert!(!def.claims.is_empty(), "{} declares no claim", def.name);
        for c in def.claims {
            assert!(used.contains(&(def.name, c.id)), "claim {}/{} proves no 確認観点", def.name, c.id);
        }
    }
}

/// 対象外 by level is decided here, from the catalog, before any probe runs;
/// a probe called at such a level on its own says so and is never OK.
#[test]
fn a_level_asking_nothing_is_not_applicable_from_the_catalog_with_its_reason() {
    let catalog = Catalog::builtin();
    let scenario = gcverify_scenarios::parse("[environment]\nname = \"t\"\n", std::path::Path::new("t.toml")).expect("scenario");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let mut n = 0;
    for item in catalog.items() {
        for (level, why) in &item.not_applicable_at {
            n += 1;
            let c = whole_row(item, level, &scenario, today).unwrap_or_else(|| panic!("{} at level {level}: decided as a whole", item.id));
            assert_eq!(c.outcome, Outcome::NotApplicable, "{}", item.id);
            assert!(c.summary.ja.contains(&why.ja) && c.summary.en.contains(&why.en), "{}: {}", item.id, c.summary.ja);
        }
    }
    assert!(n >= 20, "{n} levels asking nothing");
    let waf = catalog.get("E.10.1.2").expect("item");
    let c = whole_row(waf, "0", &scenario, today).expect("decided");
    assert!(c.summary.ja.contains(waf.not_verified_reason.trim()), "the pilot's reason goes with it: {}", c.summary.ja);
    assert_eq!(Findings::level_asks_nothing("0").conclude("0").outcome, Outcome::Error);
}

#[test]
fn an_all_not_applicable_row_keeps_the_pilots_reason() {
    let catalog = Catalog::builtin();
    let item = catalog.get("E.10.1.2").expect("item").clone();
    let p = &item.points[0];
    let na = point_not_applicable(&item, p, "0", None).unwrap_or_else(|| Conclusion::not_applicable(Msg::new("対象外: レベル0", "n/a")));
    let points = vec![point_result(&p.id, &p.verifier, na)];
    let r = row(&item, &points, "0", &BTreeMap::new());
    assert_eq!(r.outcome, Outcome::NotApplicable);
    assert!(r.summary.ja.contains(item.not_verified_reason.trim()), "{}", r.summary.ja);
}
