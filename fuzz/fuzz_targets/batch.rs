//! The batch importer fed arbitrary bytes (format detection skipped).
#![no_main]

mod common;

use costlens::import::{Format, Options, parse_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        batch_date: Some(1_763_942_400),
    };
    let parsed = parse_as(Format::BatchResultsJsonl, "fuzz.input", data, &opts);
    common::check(Format::BatchResultsJsonl, data, parsed);
});
