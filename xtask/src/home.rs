//! Where things are for each entry point. `gcverify` (the installed tool)
//! works in the user's folder: `--env NAME` reads `./scenarios/NAME.toml`
//! (or `$GCVERIFY_HOME/scenarios/`), reports default to
//! `./gcverify-out/ENV/` (or `$GCVERIFY_HOME/gcverify-out/ENV/`), never the
//! source tree. `cargo xtask` (developers) keeps the checkout's
//! `scenarios/` and `target/gcverify/`.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Which binary runs the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `gcverify`, installed with `cargo install --path gcverify`.
    Product,
    /// `cargo xtask`, in a checkout.
    Developer,
}

static FLAVOR: OnceLock<Flavor> = OnceLock::new();
static ENGLISH: OnceLock<bool> = OnceLock::new();

/// The language of messages said outside a command (e.g. the error line):
/// English when the command line has `--lang en`, else Japanese.
pub fn message_lang() -> gcverify_checks::model::Lang {
    let en = *ENGLISH.get_or_init(|| {
        let args: Vec<String> = std::env::args().collect();
        args.windows(2).any(|w| w[0] == "--lang" && w[1] == "en") || args.iter().any(|a| a == "--lang=en")
    });
    if en {
        gcverify_checks::model::Lang::En
    } else {
        gcverify_checks::model::Lang::Ja
    }
}

/// Set once at start (a library user that never sets it gets the developer's paths).
pub fn set_flavor(flavor: Flavor) {
    let _ = FLAVOR.set(flavor);
}

pub fn flavor() -> Flavor {
    FLAVOR.get().copied().unwrap_or(Flavor::Developer)
}

/// The program's name in messages and help (`gcverify` or `cargo xtask`).
pub fn program() -> &'static str {
    match flavor() {
        Flavor::Product => "gcverify",
        Flavor::Developer => "cargo xtask",
    }
}

/// The checkout this binary was built from (demo assets: the emulator's
/// venv, the login site; may be absent where the binary was copied alone).
pub fn source_tree() -> PathBuf {
    crate::cli::repo_root()
}

/// `$GCVERIFY_HOME` when set, else the working directory (product only).
fn user_base() -> PathBuf {
    match std::env::var_os("GCVERIFY_HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

/// The folder `--env NAME` reads `NAME.toml` (and fleets `fleets/NAME.toml`) from.
pub fn scenarios_dir() -> PathBuf {
    match flavor() {
        Flavor::Product => user_base().join("scenarios"),
        Flavor::Developer => source_tree().join("scenarios"),
    }
}

/// The demo's scenarios ship with the source: `gcverify demo` works from any
/// folder of a machine holding the checkout it was built from.
pub fn bundled_scenarios_dir() -> PathBuf {
    source_tree().join("scenarios")
}

/// The folder the default output folders are made in (`OUT/ENV/`, `OUT/FLEET/`).
pub fn out_base() -> PathBuf {
    match flavor() {
        Flavor::Product => user_base().join("gcverify-out"),
        Flavor::Developer => source_tree().join("target/gcverify"),
    }
}

/// A run's default output folder.
pub fn default_out(environment: &str) -> PathBuf {
    out_base().join(environment)
}
