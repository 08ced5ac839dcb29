//! The README's generated tables and docs/items.md match the catalog and the
//! probe registry (`cargo xtask docs` regenerates them).

use gcverify_checks::{docs, Catalog};

fn repo_file(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn readme_tables_are_generated_from_catalog_and_registry() {
    let readme = repo_file("README.md");
    let want = docs::splice_readme(&readme, &Catalog::builtin()).expect("README has the generated markers");
    assert!(readme == want, "README.md's generated tables are stale: run `cargo xtask docs`");
}

#[test]
fn items_md_is_generated_from_catalog_and_registry() {
    let have = repo_file("docs/items.md");
    assert!(have == docs::items_md(&Catalog::builtin()), "docs/items.md is stale: run `cargo xtask docs`");
}
