//! English summaries are built from the extraction, in any source language, and only for
//! relevant articles.

use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;

fn summary(file: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let c = Classifier::new(&chipwatch_data::default_model()).unwrap();
    let raw = input::read_file(&root.join(file), input::DEFAULT_MAX_BYTES)
        .unwrap()
        .remove(0);
    c.classify(&Article::from_raw(raw)).summary
}

#[test]
fn summaries_say_who_does_what_to_whom_in_english() {
    assert_eq!(
        summary("tests/fixtures/monitor/seeds/003_0dfa30bb12f098ef.txt").as_deref(),
        Some("The Netherlands revokes export licences for lithography tools to China (announced).")
    );
    assert_eq!(
        summary("data/eval/monitor/ko/001_japan_curbs.txt").as_deref(),
        Some("Japan imposes export controls on wet chemicals, photoresists and process-specific fabrication materials, affecting South Korea (announced).")
    );
    let s = summary("data/eval/monitor/en/003_renesas_fire.txt").unwrap();
    assert!(
        s.starts_with("A fire at Renesas in Japan disrupts chip production"),
        "{s}"
    );
    assert_eq!(
        summary("data/eval/monitor/en/101_nvidia_earnings.txt"),
        None
    );
}

/// Items are named as news names them: the ETO model's "Memory chip design" node, where DRAM and
/// HBM reports land, reads "memory chips" in a summary.
#[test]
fn summaries_name_items_as_news_does() {
    let s = summary("data/eval/monitor/ko/005_yongin.txt").unwrap();
    assert!(s.contains("memory chips"), "{s}");
    assert!(!s.contains("memory chip design"), "{s}");
}
