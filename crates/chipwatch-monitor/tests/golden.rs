//! Golden test: the full classification of a small corpus (the two seeds and one article per
//! language, in both archive, text and HTML form) is pinned in a snapshot, so any change in
//! output shape or in what is detected shows up in review.

use chipwatch_monitor::cluster::Clusterer;
use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;

#[test]
fn golden_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = [
        "tests/fixtures/monitor/seeds/000_febb013b7a39c0d2.txt",
        "tests/fixtures/monitor/seeds/003_0dfa30bb12f098ef.txt",
        "data/eval/monitor/zh/002_entity_list_ymtc.txt",
        "data/eval/monitor/zh-Hant/003_asml_licence.txt",
        "data/eval/monitor/en/003_renesas_fire.txt",
        "data/eval/monitor/ko/001_japan_curbs.txt",
        "data/eval/monitor/ja/001_meti_23_items.txt",
        "data/eval/monitor/nl/002_asml_licence.txt",
        "data/eval/monitor/en/101_nvidia_earnings.txt",
    ];
    let vc = chipwatch_data::default_model();
    let c = Classifier::new(&vc).unwrap();
    let mut clusterer = Clusterer::default();
    let mut out = Vec::new();
    for f in files {
        for raw in input::read_file(&root.join(f), input::DEFAULT_MAX_BYTES).unwrap() {
            let a = Article::from_raw(raw);
            let mut r = c.classify(&a);
            r.cluster_id = Some(clusterer.assign(&r, &a.text));
            r.source = f.to_string();
            out.push(r);
        }
    }
    insta::assert_json_snapshot!(out);
}
