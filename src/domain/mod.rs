//! The domain, the bottom layer: usage records and their categories, time, file formats,
//! prices, the one cost function, money formatting, and the dataset a session imports. It
//! depends on no other layer.

pub mod cost;
pub mod dataset;
pub mod format;
pub mod money;
pub mod packed;
pub mod prices;
pub mod records;
pub mod time;
