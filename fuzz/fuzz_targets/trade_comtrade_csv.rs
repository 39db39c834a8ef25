//! Any bytes given to the comtrade importer give normalised rows or an error naming file, line and
//! field, never a panic; every row it yields has an ISO3 (or `_X`) reporter and partner and a
//! finite non-negative value.
#![no_main]
use chipwatch_trade::import::{comtrade, Collector};
use libfuzzer_sys::fuzz_target;
use std::path::Path;


fuzz_target!(|data: &[u8]| {
    let mut col = Collector::default();
    let mut sink = |r: chipwatch_trade::schema::TradeRecord| {
        assert!(r.reporter.len() == 3 || r.reporter == "_X");
        assert!(r.partner.len() == 3 || r.partner == "_X");
        assert!(r.value.is_finite() && r.value >= 0.0);
        Ok(())
    };
    let _ = comtrade::parse(Path::new("fuzz.csv"), data, "fuzz", &mut col, &mut sink);
});
