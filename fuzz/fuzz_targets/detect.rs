//! Format detection, then the detected importer, on arbitrary bytes: the path every file a
//! user opens takes.
#![no_main]

mod common;

use costlens::import::{Options, detect_format, parse_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = detect_format(data);
    match parse_bytes("fuzz.input", data, &Options::default()) {
        Ok(parsed) => {
            let format = detected.expect("parse_bytes detects as detect_format does");
            common::check(format, data, parsed);
        }
        Err(e) => {
            let why = detected.expect_err("parse_bytes refuses what detect_format refuses");
            assert!(!why.is_empty());
            assert!(e.to_string().contains(&why), "{e} / {why}");
        }
    }
});
