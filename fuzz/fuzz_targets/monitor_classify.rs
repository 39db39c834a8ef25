//! Any text classifies without panicking (sentence splitting, folding, gazetteer offsets, role
//! markers at string edges).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static CLASSIFIER: OnceLock<chipwatch_monitor::Classifier> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let c = CLASSIFIER.get_or_init(|| {
        chipwatch_monitor::Classifier::new(&chipwatch_data::default_model()).expect("gazetteer")
    });
    let text = String::from_utf8_lossy(data);
    let mut raw = chipwatch_monitor::RawArticle::new("fuzz");
    let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
    raw.title = title.to_string();
    raw.body = body.to_string();
    raw.is_html = body.contains('<');
    let _ = c.classify(&chipwatch_monitor::Article::from_raw(raw));
});
