//! The `promlite bench ...` subcommands.

pub mod compression;
pub mod write;
