//! Fuzz the API's date parser (`chipwatch_store::time::parse`): never panics, and whatever it
//! accepts formats back to a string it parses to the same instant.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(t) = chipwatch_store::time::parse(s) {
            let back = chipwatch_store::time::format(t);
            assert_eq!(chipwatch_store::time::parse(&back), Some(t));
        }
    }
});
