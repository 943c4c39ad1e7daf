//! costlens: the desktop app and the CLI over the costlens core. The app (a window, native
//! dialogs) is the `gui` feature; without it the binary is the headless CLI, and `export`
//! still renders the chart (offscreen, through egui + egui-wgpu: `render`).

#[cfg(feature = "gui")]
mod app;
#[cfg(all(test, feature = "gui"))]
mod app_tests;
mod cli;
mod render;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        Some(cli::Command::Report(a)) => cli::exit(cli::run_report(&a)),
        Some(cli::Command::Estimate(a)) => cli::exit(cli::run_estimate(&a)),
        Some(cli::Command::Prices(a)) => cli::exit(cli::run_prices(&a)),
        Some(cli::Command::Export(a)) => cli::exit(run_export(&a)),
        Some(cli::Command::History(a)) => cli::exit(cli::run_history(&a)),
        Some(cli::Command::Open { files }) => run_app(files),
        None => run_app(args.files),
    }
}

#[cfg(feature = "gui")]
fn run_app(files: Vec<std::path::PathBuf>) -> ExitCode {
    match app::run(files) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "costlens: cannot open a window: {e}. The CLI works without a display: costlens --help"
            );
            ExitCode::from(1)
        }
    }
}

/// A build without the `gui` feature has no window: say so, and what it does have.
#[cfg(not(feature = "gui"))]
fn run_app(_files: Vec<std::path::PathBuf>) -> ExitCode {
    eprintln!(
        "costlens: this build has no window (built without the gui feature); use the subcommands report, estimate, prices, export (costlens --help)"
    );
    ExitCode::from(2)
}

/// `costlens export`: the dashboard's chart rendered offscreen to a PNG.
fn run_export(a: &cli::ExportArgs) -> Result<(), cli::Fail> {
    let levers = a.levers.levers();
    let pipeline = cli::pipeline(&a.files, &a.prices, &a.import, &levers, &a.view)?;
    if let Some(out) = &a.records {
        cli::write_records(&pipeline, out, &a.files)?;
    }
    let Some(png) = &a.png else { return Ok(()) };
    let data = pipeline.chart("Claude API cost: actual vs scenario");
    let img = render::png::render_png(&data, false, a.width, a.height).map_err(cli::Fail::input)?;
    render::png::write_png(&img, png, &a.files).map_err(cli::Fail::input)?;
    eprintln!("wrote {} ({}x{})", png.display(), img.width(), img.height());
    Ok(())
}
