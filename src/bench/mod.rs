//! The `promlite bench ...` subcommands.

pub mod compression;
pub mod dataset;
pub mod write;
pub mod compare;
pub mod peers;
