//! The denial-notice file parser: any input gives notices or an error, never a panic; what
//! parses round-trips through its serialised form and still validates, and matching a
//! transaction made of the notices' own parties and items never panics.
#![no_main]
use chipwatch_controls::denials::{match_notices, parse_notices, QueryParty, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ns) = parse_notices(text, "fuzz.toml") else {
        return;
    };
    let again = serde_json::to_string(&ns).expect("writes");
    let back: Vec<chipwatch_controls::denials::DenialNotice> =
        serde_json::from_str(&again).expect("reads back");
    assert_eq!(back, ns);
    for n in &back {
        chipwatch_controls::denials::validate(n).expect("still valid");
    }
    let norm = chipwatch_controls::screening::Normaliser::default();
    for n in &ns {
        let t = Transaction {
            parties: n
                .end_user
                .iter()
                .chain(&n.consignees)
                .map(|name| QueryParty {
                    role: "consignee".into(),
                    name: name.clone(),
                })
                .collect(),
            product: n.item.product.clone(),
            control_entries: n.item.control_entry.iter().cloned().collect(),
            model_item: n.item.model_item.clone(),
            date: None,
        };
        let _ = match_notices(&norm, None, std::slice::from_ref(n), &t);
    }
});
