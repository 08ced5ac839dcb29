//! `cargo xtask` — the developers' entry point to gcverify's command line
//! (the product binary is `gcverify`, crate gcverify/).

fn main() -> std::process::ExitCode {
    gcverify_cli::main(gcverify_cli::Flavor::Developer)
}
