//! Any bytes given to the TTS network parser give a network or an error, never a panic; small
//! networks that parse are solved (TTS and TTR) to a result or an error.
#![no_main]
use chipwatch_analysis::tts::{analyse, Network};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(net) = Network::from_json_str(text, "fuzz.json") {
            if net.nodes.len() <= 20 && net.edges.len() <= 40 {
                let ttr = net.nodes.iter().all(|n| n.ttr_days.is_some());
                if let Ok(r) = analyse(&net, 100.0, ttr) {
                    for n in &r.nodes {
                        assert!(n.tts_days >= 0.0 && n.tts_days <= 100.0);
                    }
                }
            }
        }
    }
});
