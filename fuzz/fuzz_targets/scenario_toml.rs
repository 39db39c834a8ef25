//! Any bytes given to the scenario parser give a scenario or an error, never a panic; a scenario
//! that parses runs on the embedded model (with a short horizon) to a result or an error, through
//! the item view and through the segment layer with the embedded production data.
#![no_main]
use chipwatch_analysis::scenario::{run, run_with_production, Scenario};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static VC: OnceLock<chipwatch_model::ValueChain> = OnceLock::new();
static PROD: OnceLock<chipwatch_model::production::ProductionData> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(mut s) = Scenario::from_toml_str(text, "fuzz.toml") {
            s.horizon_days = s.horizon_days.min(30);
            let vc = VC.get_or_init(chipwatch_data::default_model);
            if let Ok(r) = run(vc, &s) {
                for c in &r.consumers {
                    for i in c.items.iter() {
                        assert!((0.0..=1.0).contains(&i.availability_min));
                    }
                }
            }
            let prod = PROD.get_or_init(chipwatch_data::fabs::default_production);
            if let Ok(r) = run_with_production(vc, &s, prod, None) {
                for e in &r.economies {
                    for sg in &e.segments {
                        assert!((0.0..=1.0).contains(&sg.availability_min), "{sg:?}");
                    }
                }
            }
        }
    }
});
