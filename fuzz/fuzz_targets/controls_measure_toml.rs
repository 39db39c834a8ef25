//! Any text given as a measure file, next to the shipped ones, gives an engine or an error naming
//! the file, never a panic; an engine that loads determines a shipment without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = chipwatch_controls::expr::Expr::parse(text);
        let mut files: Vec<(&str, &str)> = chipwatch_controls::EMBEDDED_MEASURES.to_vec();
        files.push(("fuzz.toml", text));
        let (Ok(cat), Ok(list)) = (
            chipwatch_controls::default_catalogue(),
            chipwatch_controls::default_list(),
        ) else {
            return;
        };
        let screener =
            chipwatch_controls::Screener::new(chipwatch_controls::default_normaliser(), vec![list]);
        match chipwatch_controls::Engine::from_sources(&files, cat, screener) {
            Ok(e) => {
                let s = chipwatch_controls::Shipment {
                    product: Some("NXT:2000i".into()),
                    params: Default::default(),
                    from: "NLD".into(),
                    to: "CHN".into(),
                    origin: None,
                    end_user: Some("SMIC".into()),
                    end_use: None,
                    date: chipwatch_controls::Date::parse("2026-11-21").unwrap(),
                    parties: Vec::new(),
                };
                let _ = e.determine(&s);
            }
            Err(err) => {
                let msg = err.to_string();
                assert!(!msg.is_empty());
            }
        }
    }
});
