//! The engine, above the domain: the cube, views and their evaluation under a scenario, the
//! workload calculator, chart data and the forecast, usage derived from cost, the stale-price
//! guard and the report. It depends on the domain only.

pub mod chart;
pub mod coverage;
pub mod cube;
pub mod derive;
pub mod estimate;
pub mod forecast;
pub mod opportunities;
mod order;
pub mod price_check;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod view;
