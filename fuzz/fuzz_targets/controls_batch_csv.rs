//! Any bytes given to the batch CSV parser give shipments or an error, never a panic; parsed
//! shipments are determined without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static ENGINE: OnceLock<chipwatch_controls::Engine> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let date = chipwatch_controls::Date::parse("2026-11-21").unwrap();
        if let Ok(rows) = chipwatch_controls::batch::parse_batch_csv(text, "fuzz.csv", date) {
            let e = ENGINE.get_or_init(|| chipwatch_controls::default_engine().unwrap());
            for r in rows.iter().take(16) {
                let _ = e.determine(r);
            }
        }
    }
});
