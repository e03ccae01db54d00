//! The `promlite bench ...` subcommands.

pub mod compare;
pub mod compression;
pub mod dataset;
pub mod peers;
pub mod write;
