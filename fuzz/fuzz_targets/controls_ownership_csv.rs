//! Any bytes given as ownership data give the data or an error, never a panic; loaded data
//! runs through the affiliates rule (cycles, chains) over the default list and screens.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(own) = chipwatch_controls::OwnershipData::from_csv_str(text, "fuzz.csv") {
            let rule = chipwatch_controls::default_affiliates_rule().unwrap();
            let list = chipwatch_controls::default_list().unwrap();
            let s = chipwatch_controls::Screener::new(chipwatch_controls::default_normaliser(), vec![list])
                .with_ownership(&own, &rule);
            for l in &own.links {
                let _ = s.screen(&l.owned, 0.85);
            }
        }
    }
});
