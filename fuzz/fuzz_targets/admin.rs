//! The Admin API report importer (usage and cost reports) fed arbitrary bytes; the first
//! byte picks which report the bytes are read as.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run("admin", data));
