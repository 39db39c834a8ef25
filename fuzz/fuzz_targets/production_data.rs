//! The production data readers (`data/fabs/`: fabs and ATP CSV, sources, totals, demand and
//! segment-needs TOML) and the chip trade matrix CSV: any bytes in place of one file give data or
//! an error naming the file, never a panic. The first byte picks the file; the embedded files fill
//! the others, so a replaced file is cross-checked against real ones.
#![no_main]
use chipwatch_data::fabs::{embedded, parse, parse_trade_matrix, Texts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if which % 8 == 7 {
        if let Ok(m) = parse_trade_matrix(text, "fuzz.csv") {
            assert!(!m.flows.is_empty());
            assert!(m.flows.iter().all(|f| f.value.is_finite() && f.value >= 0.0));
        }
        return;
    }
    let mut t = Texts {
        dir: "fuzz",
        fabs: embedded::FABS_CSV,
        sources: embedded::SOURCES_TOML,
        totals: embedded::TOTALS_TOML,
        atp: embedded::ATP_CSV,
        demand: embedded::DEMAND_TOML,
        demand_sources: embedded::DEMAND_SOURCES_TOML,
        segments: embedded::SEGMENTS_TOML,
    };
    match which % 8 {
        0 => t.fabs = text,
        1 => t.sources = text,
        2 => t.totals = text,
        3 => t.atp = text,
        4 => t.demand = text,
        5 => t.demand_sources = text,
        _ => t.segments = text,
    }
    match parse(t) {
        Ok(p) => {
            for f in &p.fabs {
                assert!(f.capacity_300eq().is_none_or(|c| c.is_finite() && c >= 0.0));
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz/"), "{e}"),
    }
});
