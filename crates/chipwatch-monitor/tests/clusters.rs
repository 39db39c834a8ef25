//! Reports of one event in different languages share a cluster (translations share no text but
//! share the event type, countries, organisations and items); another event does not join.

use chipwatch_monitor::cluster::Clusterer;
use chipwatch_monitor::{input, Article, Classifier, RawArticle};
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

/// Two entity listings in one week by different states (Taiwan's list, the US list naming a
/// Taiwanese office) share countries and an authority but are two events.
#[test]
fn measures_by_different_states_are_different_events() {
    let c = Classifier::new(&chipwatch_data::default_model()).unwrap();
    let mk = |title: &str, body: &str| {
        let mut raw = RawArticle::new(title);
        raw.title = title.into();
        raw.body = body.into();
        raw.published_at = Some("2025-06-15T08:00:00Z".into());
        c.classify(&Article::from_raw(raw))
    };
    let a = mk(
        "經濟部將兩家大陸晶片業者納入出口管制實體名單",
        "經濟部國際貿易署更新出口實體管理名單，新增兩家大陸晶片製造商，廠商出貨前須取得輸出許可證。",
    );
    let b = mk(
        "美商務部將港商在台辦事處列入實體清單",
        "美國商務部將數十個實體列入實體清單，包括一家港商在台灣的辦事處，理由是協助大陸取得先進運算晶片。",
    );
    assert_eq!(a.event_type, "entity_listing");
    assert_eq!(b.event_type, "entity_listing");
    assert_ne!(a.actors.imposing, b.actors.imposing);
    let mut cl = Clusterer::default();
    let ia = cl.assign(&a, "");
    let ib = cl.assign(&b, "");
    assert_ne!(ia, ib);
}
