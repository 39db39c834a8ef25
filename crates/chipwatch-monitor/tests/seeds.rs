//! The two seeds (feed-mirror archives, Chinese) must come out right.

use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;

fn classify(name: &str) -> chipwatch_monitor::Classified {
    let vc = chipwatch_data::default_model();
    let c = Classifier::new(&vc).unwrap();
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/monitor/seeds")
        .join(name);
    let raws = input::read_file(&p, input::DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(raws.len(), 1);
    let a = Article::from_raw(raws.into_iter().next().unwrap());
    let out = c.classify(&a);
    eprintln!("{}", serde_json::to_string_pretty(&out).unwrap());
    out
}

#[test]
fn seed_000_alliance_kor_nld() {
    let c = classify("000_febb013b7a39c0d2.txt");
    assert_eq!(c.language, "zh");
    assert!(c.relevant);
    assert_eq!(c.event_type, "alliance_agreement");
    assert_eq!(c.seen_at.as_deref(), Some("2023-12-13T17:15:02Z"));
    assert_eq!(c.published_at.as_deref(), Some("2023-12-13T17:48:00"));
    let mut parties = c.actors.imposing.clone();
    parties.sort();
    assert_eq!(parties, vec!["KOR", "NLD"]);
    assert!(
        c.evidence.iter().any(|e| e.contains("半导体同盟")),
        "{:?}",
        c.evidence
    );
    assert!(c.countries.contains(&"KOR".to_string()) && c.countries.contains(&"NLD".to_string()));
    assert!(c
        .url
        .as_deref()
        .unwrap()
        .starts_with("https://www.rfi.fr/cn/"));
}

#[test]
fn seed_003_licence_revocation_asml_nld_chn() {
    let c = classify("003_0dfa30bb12f098ef.txt");
    assert_eq!(c.language, "zh");
    assert!(c.relevant);
    assert_eq!(c.event_type, "licence_revocation");
    assert_eq!(c.actors.imposing, vec!["NLD"]);
    assert_eq!(c.actors.target, vec!["CHN"]);
    let asml = c
        .organisations
        .iter()
        .find(|o| o.name == "ASML")
        .expect("ASML linked");
    assert_eq!(asml.provider_id.as_deref(), Some("P88"));
    assert_eq!(asml.role, "subject");
    assert!(c.items.contains(&"N19".to_string()), "{:?}", c.items);
    assert!(
        c.evidence.iter().any(|e| e.contains("吊销")),
        "{:?}",
        c.evidence
    );
    // China's reaction is reported too.
    assert!(
        c.other_event_types
            .iter()
            .any(|t| t == "diplomatic_statement"),
        "{:?}",
        c.other_event_types
    );
    assert!(c.people.iter().any(|p| p == "Xi Jinping"));
}
