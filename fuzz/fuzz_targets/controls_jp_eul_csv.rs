//! Any bytes given to the Japan End User List CSV/TSV importer give a list or an error, never a panic; an
//! imported list round-trips through the project's TOML format and can be screened.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(list) = chipwatch_controls::lists::jp_eul::import_jp_eul(text, "fuzz.csv", chipwatch_controls::Date::parse("2026-01-01").ok()) {
            let toml = list.to_toml_string();
            let back = chipwatch_controls::RestrictedList::from_toml_str(&toml, "roundtrip");
            if let Ok(back) = back {
                assert_eq!(back.entries.len(), list.entries.len());
            }
            let s = chipwatch_controls::Screener::new(chipwatch_controls::default_normaliser(), vec![list]);
            let _ = s.screen(text.get(..64).unwrap_or(text), 0.5);
        }
    }
});
