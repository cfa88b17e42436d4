//! The `bizbot` command line: thin wiring from arguments to the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BIZBOT_LOG").unwrap_or_else(|_| "bizbot=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
