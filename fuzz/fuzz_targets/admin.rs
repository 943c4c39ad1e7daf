//! The Admin API report importer (usage and cost reports) fed arbitrary bytes; the first
//! byte picks which report the bytes are read as.
#![no_main]

mod common;

use costlens::import::{Format, Options, parse_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = if pick & 1 == 0 {
        Format::AdminUsageJson
    } else {
        Format::AdminCostJson
    };
    let parsed = parse_as(format, "fuzz.json", rest, &Options::default());
    common::check(format, rest, parsed);
});
