//! `promlite`: the server and its command-line tools.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "promlite",
    version,
    about = "SQLite for Prometheus data: remote-write in, PromQL out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (remote-write, remote-read, Prometheus query API).
    Serve(promlite::server::ServeArgs),
    /// Benchmarks: compression, write load, side-by-side comparison.
    Bench {
        #[command(subcommand)]
        bench: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Bytes per sample and speed of each sample codec on real and synthetic data.
    Compression(promlite::bench::compression::Args),
    /// A remote-write load generator against any remote-write URL.
    Write(promlite::bench::write::Args),
    /// promlite, Prometheus and VictoriaMetrics side by side on the same data.
    Compare(promlite::bench::compare::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => promlite::server::run(args),
        Command::Bench { bench } => match bench {
            BenchCommand::Compression(args) => promlite::bench::compression::run(args),
            BenchCommand::Write(args) => promlite::bench::write::run(args),
            BenchCommand::Compare(args) => promlite::bench::compare::run(args),
        },
    }
}
