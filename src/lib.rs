//! costlens core, in layers a reader finds by folder name, each using only those below it:
//!
//! - [`domain`]: records, categories, time, formats, prices, the one cost function, the dataset;
//! - [`engine`]: cube, views, scenario, calculator, chart data, forecast, guard, report;
//! - [`import`]: one module per file format over shared CSV and JSON readers, detection in one
//!   place, and the merge with its identity rules;
//! - [`store`]: the import cache and snapshots, settings, safe writes;
//! - [`pipeline`]: loading files and the one pipeline from inputs to report and chart.
//!
//! Nothing here knows about egui: the desktop app and the CLI (in the binary) are thin layers
//! over the pipeline.

pub mod domain;
pub mod engine;
pub mod import;
pub mod pipeline;
pub mod store;
