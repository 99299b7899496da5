//! The fast YAML path against granit on arbitrary text: whenever the fast path accepts an
//! input, `parse_stream` must give exactly what granit gives (documents with their spans,
//! ids, values, styles, or the same error). It must never panic, whatever it accepts or
//! declines.
#![no_main]

use kubemig::yaml::{Parser, parse_stream_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = parse_stream_with(src, Parser::Fast) {
        let granit = parse_stream_with(src, Parser::Granit);
        assert_eq!(Some(fast), granit, "fast path and granit differ on {src:?}");
    }
});
