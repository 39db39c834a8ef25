//! The labelled evaluation set (data/eval/monitor) must keep its quality: these floors are below
//! the figures recorded in docs/monitor-evaluation.md, so a regression in the lexicons or rules
//! fails here.

use chipwatch_monitor::{eval, Classifier};
use std::path::Path;

#[test]
fn evaluation_set_meets_floors() {
    let vc = chipwatch_data::default_model();
    let c = Classifier::new(&vc).unwrap();
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/eval/monitor/labels.toml");
    let r = eval::evaluate_file(&p, &c).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
    let o = &r.overall;
    assert!(o.articles >= 1840);
    assert!(o.precision >= 0.94, "precision {}", o.precision);
    assert!(o.recall >= 0.95, "recall {}", o.recall);
    assert!(
        o.event_type_accuracy >= 0.88,
        "type accuracy {}",
        o.event_type_accuracy
    );
    let rejected = o.tn as f64 / (o.tn + o.fp) as f64;
    assert!(rejected >= 0.92, "negatives rejected {rejected}");
    assert!(
        o.language_accuracy >= 0.99,
        "language accuracy {}",
        o.language_accuracy
    );
    assert!(
        o.country_recall >= 0.8 && o.organisation_recall >= 0.85 && o.item_recall >= 0.8,
        "{o:?}"
    );
    for lang in ["zh", "zh-Hant", "en", "ko", "ja", "nl"] {
        let s = r.by_language.get(lang);
        assert!(
            s.is_some_and(|s| s.articles >= 55),
            "{lang} under-represented"
        );
        assert!(
            s.is_some_and(|s| s.recall >= 0.92),
            "{lang} relevance recall {:?}",
            s.map(|s| s.recall)
        );
    }
}

/// The held-out set was written after the rules were frozen; its figures are reported as they
/// are, and this test only guards against collapse.
#[test]
fn held_out_set_reports() {
    let vc = chipwatch_data::default_model();
    let c = Classifier::new(&vc).unwrap();
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/eval/monitor-heldout/labels.toml");
    let r = eval::evaluate_file(&p, &c).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r.overall.articles, 720);
    assert!(r.overall.f1 >= 0.88, "F1 {}", r.overall.f1);
    assert!(
        r.overall.event_type_accuracy >= 0.72,
        "type accuracy {}",
        r.overall.event_type_accuracy
    );
    assert!(r.overall.language_accuracy >= 0.95);
}
