//! The licence register parser: any input gives records or an error, never a panic; what parses
//! writes back to a register that parses to the same records, and every state on any date of
//! its history can be computed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(recs) = chipwatch_controls::licence::parse_register(text, "fuzz.toml") else {
        return;
    };
    for r in &recs {
        for e in &r.events {
            let _ = r.state_on(e.date);
        }
        let _ = r.state_on(r.licence.valid_from);
    }
    let again = chipwatch_controls::licence::register_to_toml(&recs).expect("writes");
    let back = chipwatch_controls::licence::parse_register(&again, "again.toml").expect("reparses");
    assert_eq!(back, recs);
});
