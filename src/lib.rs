//! costlens core: usage records, prices, the pricing function, the scenario engine,
//! aggregation and importers. Nothing here knows about egui: the desktop app and the CLI are
//! thin layers over these modules.

pub mod aggregate;
pub mod atomic;
pub mod chart;
pub mod cost;
pub mod dataset;
pub mod derive;
pub mod estimate;
pub mod import;
pub mod money;
pub mod pipeline;
pub mod price_check;
pub mod prices;
pub mod records;
pub mod report;
pub mod scenario;
pub mod session;
pub mod store;
pub mod synth;
