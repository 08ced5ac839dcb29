//! `gcverify` — the installed tool (`cargo install --path gcverify`). It works
//! in the user's folder: `--env NAME` reads `./scenarios/NAME.toml` (or
//! `$GCVERIFY_HOME/scenarios/`), reports go to `./gcverify-out/ENV/`.

fn main() -> std::process::ExitCode {
    gcverify_cli::main(gcverify_cli::Flavor::Product)
}
