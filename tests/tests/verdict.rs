//! No OK about nothing: every registered verifier run against an empty
//! emulated account with no scenario sections says no point OK.

mod common;

use common::*;
use gcverify_checks::{Catalog, Outcome};

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_account_with_an_empty_scenario_has_no_ok_point() {
    let moto = moto().await;
    let catalog = Catalog::builtin();
    // Every item some probe verifies (desk-only rows are 要確認 without attestations).
    let ids: Vec<&str> = catalog.items().iter().filter(|i| i.points.iter().any(|p| p.verifier != "attestation")).map(|i| i.id.as_str()).collect();
    // E.10.1.2's pilot level (0) asks nothing: at level 1 its verifier runs too.
    let report = run(&moto.endpoint(), scenario(&format!("{BASE}\n[levels]\n\"E.10.1.2\" = \"1\"\n")), &ids).await;
    assert_eq!(report.items.len(), ids.len());
    let mut verifiers_seen = std::collections::BTreeSet::new();
    for row in &report.items {
        assert_ne!(row.outcome, Outcome::Ok, "{}: OK on an empty account: {}", row.id, row.summary);
        for p in &row.points {
            verifiers_seen.insert(p.verifier.clone());
            assert_ne!(p.outcome, Outcome::Ok, "{} {}: OK on an empty account: {}", row.id, p.id, p.summary);
        }
    }
    for def in gcverify_checks::probes::registry::all() {
        assert!(verifiers_seen.contains(def.name), "{} was not exercised", def.name);
    }
}
