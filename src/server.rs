//! `promlite serve`: opens the database and serves the HTTP API until SIGTERM/SIGINT.

/// Command-line arguments of `promlite serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {}

/// Runs the server until a shutdown signal.
pub fn run(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
