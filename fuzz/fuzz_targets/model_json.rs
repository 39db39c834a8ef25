//! Any bytes given to the loader of the model format's JSON form give a model or an error, never
//! a panic; a model that loads reads back the same from its TOML form.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(vc) = chipwatch_data::load_model_json_str(text, "fuzz.json") {
            let out = chipwatch_data::format::to_toml_string(vc.model());
            let back = chipwatch_data::format::from_toml_str(&out, "roundtrip").expect("re-read");
            assert_eq!(&back, vc.model());
        }
    }
});
