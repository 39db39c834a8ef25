//! The TTS/TTR programs checked against an independent solution: scipy/HiGHS on the same
//! networks (fixtures written by bench/tts_highs.py from `chipwatch gen --network` output).

use chipwatch_analysis::tts::{analyse, Network};

fn check(fixture: &str) {
    let v: serde_json::Value = serde_json::from_str(fixture).unwrap();
    let net: Network = serde_json::from_value(v["network"].clone()).unwrap();
    let horizon = v["horizon_days"].as_f64().unwrap();
    let r = analyse(&net, horizon, true).unwrap();
    let expected = v["expected"].as_array().unwrap();
    assert_eq!(expected.len(), r.nodes.len());
    let mut capped = 0;
    for (e, got) in expected.iter().zip(&r.nodes) {
        assert_eq!(e["id"].as_str().unwrap(), got.id);
        let tts = e["tts_days"].as_f64().unwrap();
        assert!(
            (tts - got.tts_days).abs() <= 1e-5 * tts.max(1.0),
            "{}: HiGHS {tts}, ours {}",
            got.id,
            got.tts_days
        );
        let pi = e["pi"].as_f64().unwrap();
        let ours = got.pi.unwrap();
        assert!(
            (pi - ours).abs() <= 1e-5 * pi.max(1.0),
            "{}: HiGHS PI {pi}, ours {ours}",
            got.id
        );
        capped += usize::from(got.tts_capped);
    }
    // The fixtures must exercise something: not every node at the cap, not all equal.
    assert!(capped < r.nodes.len());
}

#[test]
fn tts_matches_highs_on_a_40_node_network() {
    check(include_str!("fixtures/tts_n40.json"));
}

#[test]
fn tts_matches_highs_on_a_120_node_network() {
    check(include_str!("fixtures/tts_n120.json"));
}
