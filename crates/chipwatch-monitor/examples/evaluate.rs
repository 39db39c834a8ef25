//! The monitor's evaluation without building the whole `chipwatch` binary (which links
//! DataFusion): the same scores as `chipwatch monitor evaluate`, for quick rounds on the corpus.
//!
//! usage: cargo run -p chipwatch-monitor --example evaluate -- LABELS.toml [--errors] [--countries] [--filter PREFIX]
//!
//! `--errors` lists relevance and type errors, `--countries` the countries missed or added on
//! relevant articles, `--filter` keeps only articles whose file starts with PREFIX after the
//! language directory (e.g. `e` for one batch), `--explain PATH-PART` prints the classifier's
//! trace for the articles whose file contains PATH-PART, `--ranks` where the labelled event type
//! stood among the classifier's scores when it chose another (is a type error one of ranking or
//! of a lexicon that never saw the words?), `--dump FILE` one JSON line per article with the
//! labels, the text the learned layer reads and the rules' own decision (the input of
//! `tools/monitor-model/train.py`), `--rules-only` the scores without the learned layer.

use chipwatch_monitor::eval::{self, Labels};
use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut labels, mut filter, mut errors, mut countries) = (None, None, false, false);
    let (mut ranks, mut rules_only) = (false, false);
    let mut explain: Option<String> = None;
    let mut dump: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--errors" => errors = true,
            "--countries" => countries = true,
            "--ranks" => ranks = true,
            "--rules-only" => rules_only = true,
            "--filter" => filter = it.next().cloned(),
            "--explain" => explain = it.next().cloned(),
            "--dump" => dump = it.next().cloned(),
            _ if labels.is_none() && !a.starts_with("--") => labels = Some(a.clone()),
            _ => {
                eprintln!("unexpected argument {a}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(labels_path) = labels else {
        eprintln!("usage: evaluate LABELS.toml [--errors] [--countries] [--filter PREFIX] [--explain PATH-PART]");
        return ExitCode::from(2);
    };
    let labels_path = Path::new(&labels_path);
    let text = match std::fs::read_to_string(labels_path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: {e}", labels_path.display());
            return ExitCode::FAILURE;
        }
    };
    let labels = match Labels::from_toml_str(&text, &labels_path.display().to_string()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let vc = chipwatch_data::default_model();
    let classifier = match Classifier::new(&vc) {
        // The dump records the rules' own decisions, which the learned layer is trained
        // to complement.
        Ok(c) if dump.is_some() || rules_only => c.rules_only(),
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let base = labels_path.parent().unwrap_or(Path::new("."));
    let mut pairs = Vec::new();
    let mut dumped = String::new();
    for l in labels.articles {
        if let Some(f) = &filter {
            let name = l.file.rsplit('/').next().unwrap_or(&l.file);
            if !name.starts_with(f.as_str()) {
                continue;
            }
        }
        let p = base.join(&l.file);
        let raw = match input::read_file(&p, input::DEFAULT_MAX_BYTES) {
            Ok(v) if !v.is_empty() => v.into_iter().next().expect("non-empty"),
            Ok(_) => {
                eprintln!("{}: no article in file", p.display());
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let article = Article::from_raw(raw);
        if explain
            .as_ref()
            .is_some_and(|x| l.file.contains(x.as_str()))
        {
            let (c, trace) = classifier.explain(&article);
            println!(
                "== {} (gold {}/{} {:?}; predicted {}/{} {:?}; published {:?})",
                l.file,
                l.relevant,
                l.event_type,
                l.countries,
                c.relevant,
                c.event_type,
                c.countries,
                c.published_at
            );
            for t in trace {
                println!("   {t}");
            }
        }
        let c = classifier.classify(&article);
        if dump.is_some() {
            let (_, trace) = classifier.explain(&article);
            let line = serde_json::json!({
                "file": l.file,
                "language": l.language,
                "relevant": l.relevant,
                "event_type": l.event_type,
                "text": chipwatch_monitor::learned::model_text(&article),
                "rule_relevant": c.relevant,
                "rule_event_type": c.event_type,
                "rule_hard_negative": trace.iter().any(|t| t == "hard negative: true"),
            });
            dumped.push_str(&line.to_string());
            dumped.push('\n');
        }
        if ranks && l.relevant && c.relevant && l.event_type != c.event_type {
            let (_, trace) = classifier.explain(&article);
            let scores = rule_scores(&trace);
            let gold = scores.iter().position(|(n, _)| n == &l.event_type);
            let bucket = match gold {
                None => "absent".to_string(),
                Some(i) if scores[i].1 < chipwatch_monitor::detect::MIN_SCORE => {
                    format!("below {}", chipwatch_monitor::detect::MIN_SCORE)
                }
                Some(i) => format!("rank {}", i + 1),
            };
            println!(
                "RANK {bucket:>9} {}: gold {} predicted {} | {}",
                l.file,
                l.event_type,
                c.event_type,
                scores
                    .iter()
                    .map(|(n, v)| format!("{n} {v:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        pairs.push((l, c));
    }
    if let Some(path) = &dump {
        if let Err(e) = std::fs::write(path, &dumped) {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let r = eval::evaluate(&pairs);
    println!("| slice | n | precision | recall | F1 | type | negatives rejected | country recall | country precision | lang |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let row = |name: &str, s: &eval::Scores| {
        let rejected = if s.tn + s.fp == 0 {
            1.0
        } else {
            s.tn as f64 / (s.tn + s.fp) as f64
        };
        println!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            s.articles,
            s.precision,
            s.recall,
            s.f1,
            s.event_type_accuracy,
            rejected,
            s.country_recall,
            s.country_precision,
            s.language_accuracy
        )
    };
    row("all", &r.overall);
    for (lang, s) in &r.by_language {
        row(lang, s);
    }
    if errors {
        println!();
        for (f, why) in &r.errors {
            let evidence = pairs
                .iter()
                .find(|(l, _)| &l.file == f)
                .map(|(_, c)| c.evidence.first().cloned().unwrap_or_default())
                .unwrap_or_default();
            let short: String = evidence.chars().take(110).collect();
            println!("{f}: {why}  [{short}]");
        }
    }
    if countries {
        println!();
        for (l, c) in &pairs {
            if !(l.relevant && c.relevant) || l.countries.is_empty() {
                continue;
            }
            let missed: Vec<&String> = l
                .countries
                .iter()
                .filter(|x| !c.countries.contains(x))
                .collect();
            let added: Vec<&String> = c
                .countries
                .iter()
                .filter(|x| !l.countries.contains(x))
                .collect();
            if !missed.is_empty() || !added.is_empty() {
                println!("{}: missed {missed:?} added {added:?}", l.file);
            }
        }
    }
    ExitCode::SUCCESS
}

/// The event-type scores of the classifier's trace ("scores: a 1.20, b 0.40; negative ...").
fn rule_scores(trace: &[String]) -> Vec<(String, f64)> {
    trace
        .iter()
        .find_map(|t| t.strip_prefix("scores: "))
        .and_then(|t| t.split(';').next())
        .map(|t| {
            t.split(", ")
                .filter_map(|e| {
                    let (n, v) = e.rsplit_once(' ')?;
                    Some((n.to_string(), v.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}
