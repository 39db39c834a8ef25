//! Reports of one event in different languages share a cluster (translations share no text but
//! share the event type, countries, organisations and items); another event does not join.

use chipwatch_monitor::cluster::Clusterer;
use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;

#[test]
fn one_event_in_three_languages_is_one_cluster() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/eval/monitor");
    let c = Classifier::new(&chipwatch_data::default_model()).unwrap();
    let mut clusterer = Clusterer::default();
    let mut ids = Vec::new();
    for f in [
        "zh/a010_cac_summons_nvidia.txt",
        "ja/b021_cac_summons_nvidia.txt",
        "nl/c013_nvidia_ontboden_h20.txt",
        "zh/a014_intel_government_stake.txt",
    ] {
        let raw = input::read_file(&root.join(f), input::DEFAULT_MAX_BYTES)
            .unwrap()
            .remove(0);
        let a = Article::from_raw(raw);
        let r = c.classify(&a);
        ids.push((f, r.language.clone(), clusterer.assign(&r, &a.text)));
    }
    assert_eq!(ids[0].2, ids[1].2, "{ids:?}");
    assert_eq!(ids[0].2, ids[2].2, "{ids:?}");
    assert_ne!(ids[0].2, ids[3].2, "another event: {ids:?}");
    let langs: std::collections::BTreeSet<&str> = ids[..3].iter().map(|x| x.1.as_str()).collect();
    assert_eq!(langs.len(), 3, "three languages: {ids:?}");
}
