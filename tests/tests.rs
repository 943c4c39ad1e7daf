//! The whole test suite as one binary (linked once, as ripgrep does: `autotests = false`):
//! one module per area. `cargo test` runs it with the library's and the app's unit tests.
//! Run one area with `cargo test --test tests cli::` (or any name filter).

mod answers;
mod atomic_kill;
mod cli;
mod cli_export;
mod cli_whatif;
mod engine_billed;
mod engine_cost;
mod engine_import_csv;
mod engine_prices;
mod engine_scenario;
mod engine_whatif;
mod fuzz_regressions;
mod hardening_corpus;
mod hardening_props;
mod history;
mod import_logs;
mod layers;
mod never_wrong;
mod real_world_formats;
mod splice;
mod store;
mod walk;
