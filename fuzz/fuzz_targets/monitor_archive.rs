//! Any text given to the feed-mirror archive reader gives items (with warnings) or an error,
//! never a panic; every item cleans to an article.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(items) = chipwatch_monitor::archive::parse(&text, "fuzz.txt") {
        for raw in items {
            let a = chipwatch_monitor::Article::from_raw(raw);
            assert_eq!(a.content_hash.len(), 64);
        }
    }
});
