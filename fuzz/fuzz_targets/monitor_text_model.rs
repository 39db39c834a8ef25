//! Any text given as a learned-layer model file gives a model or an error, never a panic; a
//! model that loads scores any text to probabilities in [0, 1].
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = chipwatch_monitor::learned::TextModel::from_json(&text, "fuzz.json") {
        let s = m.score_folded(&text);
        assert!((0.0..=1.0).contains(&s.relevant));
    }
});
