//! The batch importer fed arbitrary bytes (format detection skipped).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run("batch", data));
