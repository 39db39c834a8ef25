//! Any bytes given to the baci importer give normalised rows or an error naming file, line and
//! field, never a panic; every row it yields has an ISO3 (or `_X`) reporter and partner and a
//! finite non-negative value.
#![no_main]
use chipwatch_trade::import::{baci, Collector};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

static COUNTRIES: OnceLock<baci::Countries> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let mut col = Collector::default();
    let mut sink = |r: chipwatch_trade::schema::TradeRecord| {
        assert!(r.reporter.len() == 3 || r.reporter == "_X");
        assert!(r.partner.len() == 3 || r.partner == "_X");
        assert!(r.value.is_finite() && r.value >= 0.0);
        Ok(())
    };
    let codes = "country_code,country_name,country_iso2,country_iso3\n410,Korea,KR,KOR\n528,Netherlands,NL,NLD\n490,Other Asia nes,,S19\n";
    let c = COUNTRIES.get_or_init(|| {
        baci::Countries::parse(Path::new("codes.csv"), codes.as_bytes()).unwrap()
    });
    let _ = baci::parse(Path::new("fuzz.csv"), data, c, "fuzz", &mut col, &mut sink);
});
