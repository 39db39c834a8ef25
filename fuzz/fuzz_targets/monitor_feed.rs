//! Any bytes given to the input reader (sniffing RSS/Atom/JSON Feed, archives, HTML, text) give
//! articles or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(items) = chipwatch_monitor::input::parse_bytes(data, "fuzz", None) {
        for raw in items {
            let _ = chipwatch_monitor::Article::from_raw(raw);
        }
    }
    let _ = chipwatch_monitor::feed::parse(data, "fuzz", None);
});
