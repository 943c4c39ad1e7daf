//! Format detection, then the detected importer, on arbitrary bytes: the path every file a
//! user opens takes.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run("detect", data));
