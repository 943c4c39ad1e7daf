//! The store, above import: what costlens keeps on disk of its own (the import cache and
//! snapshots, the settings) and how it writes files (atomically, never replacing what is not
//! ours). Persistence, apart from parsing.

pub mod answer;
pub mod atomic;
pub mod cache;
pub mod history;
pub mod settings;
pub mod snapshot;
pub mod walk;
