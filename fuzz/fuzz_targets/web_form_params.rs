//! The dashboard's form and query-string parsing: any bytes as a query string must give a
//! scenario or an error naming the field, never a panic; a parsed scenario's own parameters must
//! parse again.
#![no_main]

use chipwatch_server::web::{query_string, scenario, Params};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let p = Params::parse(&text);
    let _ = p.all("s0_items");
    if let Ok(sc) = scenario::from_params(&p) {
        let again = Params::parse(&query_string(&scenario::to_params(&sc)));
        scenario::from_params(&again).expect("a dashboard scenario's own parameters parse");
    }
});
