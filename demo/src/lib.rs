//! The embedded demo environment: a local AWS emulator (moto) started on a
//! free loopback port, seeded with a municipal 住民記録 system, compliant or
//! with deliberate violations. Used by `cargo xtask verify --env demo` and by
//! the end-to-end tests.

pub mod fleet;
pub mod login_site;
pub mod mariadb;
pub mod moto;
pub mod postgres;
pub mod process;
pub mod restore_copy;
pub mod seed;
pub mod seed_continuity;
pub mod seed_monitoring;
pub mod seed_network;
pub mod seed_operations;
pub mod seed_scale;
pub mod seed_security;
pub mod tls_server;

pub use moto::{ensure_venv, find_moto_server, MotoServer};
pub use seed::{seed, Seeded};

/// The account ID moto uses.
pub const MOTO_ACCOUNT: &str = "123456789012";
