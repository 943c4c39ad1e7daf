//! costlens: the desktop app and the CLI over the costlens core.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        Some(cli::Command::Report(a)) => cli::exit(cli::run_report(&a)),
        Some(cli::Command::Estimate(a)) => cli::exit(cli::run_estimate(&a)),
        Some(cli::Command::Prices { json, prices }) => cli::exit(cli::run_prices(json, &prices)),
        Some(cli::Command::Export(_a)) => cli::exit(Err(cli::Fail::input("export: not built yet"))),
        Some(cli::Command::Open { files }) => run_app(files),
        None => run_app(args.files),
    }
}

fn run_app(_files: Vec<std::path::PathBuf>) -> ExitCode {
    ExitCode::SUCCESS
}
