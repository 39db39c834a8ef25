//! Evaluation against a labelled set: precision, recall and F1 of `relevant`, accuracy of the
//! event type (on articles labelled relevant, and overall), and recall of countries,
//! organisations and items; overall and per language.

use crate::article::Article;
use crate::detect::{Classified, Classifier};
use crate::MonitorError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels file (`labels.toml`): one `[[article]]` per file of the set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(rename = "article")]
    pub articles: Vec<Label>,
}

/// Gold labels of one article.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Path relative to the labels file.
    pub file: String,
    pub language: String,
    pub relevant: bool,
    #[serde(default = "none")]
    pub event_type: String,
    #[serde(default)]
    pub countries: Vec<String>,
    /// Provider ids of the model (or `ext:` gazetteer ids).
    #[serde(default)]
    pub organisations: Vec<String>,
    #[serde(default)]
    pub items: Vec<String>,
}

/// The label an analyst's mark gives an event: `(relevant, event_type)`. `correct` confirms the
/// monitor's output; `irrelevant` and `duplicate` (a duplicate report is no new event) make it
/// not relevant; `wrong_type` gives the right type; `wrong_entity` keeps relevance and type (the
/// entity is corrected in the note, which the set does not score).
pub fn label_from_feedback(
    verdict: &str,
    event_type: Option<&str>,
    predicted_relevant: bool,
    predicted_type: &str,
) -> (bool, String) {
    match verdict {
        "irrelevant" | "duplicate" => (false, "none".into()),
        "wrong_type" => (true, event_type.unwrap_or(predicted_type).to_string()),
        _ => (
            predicted_relevant,
            if predicted_relevant {
                predicted_type.to_string()
            } else {
                "none".into()
            },
        ),
    }
}

fn none() -> String {
    "none".into()
}

impl Labels {
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, MonitorError> {
        toml::from_str(text).map_err(|e| MonitorError::Config {
            file: file.to_string(),
            message: e.to_string(),
        })
    }
}

/// Counts for one slice (all, or one language).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Scores {
    pub articles: usize,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Event type correct among articles labelled relevant.
    pub event_type_accuracy: f64,
    /// Event type correct (incl. `none`) over all articles.
    pub event_type_accuracy_all: f64,
    pub language_accuracy: f64,
    pub country_recall: f64,
    /// Countries found that the label has, among all found, on relevant articles with labelled
    /// countries (a newspaper's or a time zone's country found is a miss here).
    pub country_precision: f64,
    pub organisation_recall: f64,
    pub item_recall: f64,
    #[serde(skip)]
    acc: [usize; 12],
}

/// Full report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub overall: Scores,
    pub by_language: BTreeMap<String, Scores>,
    /// Articles where the prediction disagrees with the label (file, what differed).
    pub errors: Vec<(String, String)>,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        ((a as f64 / b as f64) * 1000.0).round() / 1000.0
    }
}

impl Scores {
    fn add(&mut self, gold: &Label, pred: &Classified) {
        self.articles += 1;
        match (gold.relevant, pred.relevant) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
        // acc: [type_ok_rel, rel, type_ok_all, lang_ok, c_found, c_total, o_found, o_total,
        //       i_found, i_total, c_right, c_predicted]
        if gold.relevant {
            self.acc[1] += 1;
            if pred.event_type == gold.event_type {
                self.acc[0] += 1;
            }
        }
        let pred_type = if pred.relevant {
            pred.event_type.as_str()
        } else {
            "none"
        };
        if pred_type == gold.event_type {
            self.acc[2] += 1;
        }
        if pred.language == gold.language {
            self.acc[3] += 1;
        }
        self.acc[4] += gold
            .countries
            .iter()
            .filter(|c| pred.countries.contains(c))
            .count();
        self.acc[5] += gold.countries.len();
        self.acc[6] += gold
            .organisations
            .iter()
            .filter(|o| pred.organisations.iter().any(|p| &p.id == *o))
            .count();
        self.acc[7] += gold.organisations.len();
        self.acc[8] += gold.items.iter().filter(|i| pred.items.contains(i)).count();
        self.acc[9] += gold.items.len();
        if gold.relevant && pred.relevant && !gold.countries.is_empty() {
            self.acc[10] += pred
                .countries
                .iter()
                .filter(|c| gold.countries.contains(c))
                .count();
            self.acc[11] += pred.countries.len();
        }
    }

    fn finish(&mut self) {
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
        self.f1 = if self.precision + self.recall > 0.0 {
            ((2.0 * self.precision * self.recall / (self.precision + self.recall)) * 1000.0).round()
                / 1000.0
        } else {
            0.0
        };
        self.event_type_accuracy = ratio(self.acc[0], self.acc[1]);
        self.event_type_accuracy_all = ratio(self.acc[2], self.articles);
        self.language_accuracy = ratio(self.acc[3], self.articles);
        self.country_recall = ratio(self.acc[4], self.acc[5]);
        self.country_precision = ratio(self.acc[10], self.acc[11]);
        self.organisation_recall = ratio(self.acc[6], self.acc[7]);
        self.item_recall = ratio(self.acc[8], self.acc[9]);
    }
}

/// Score predictions (same order as the labels).
pub fn evaluate(pairs: &[(Label, Classified)]) -> Report {
    let mut overall = Scores::default();
    let mut by_language: BTreeMap<String, Scores> = BTreeMap::new();
    let mut errors = Vec::new();
    for (g, p) in pairs {
        overall.add(g, p);
        by_language.entry(g.language.clone()).or_default().add(g, p);
        let pred_type = if p.relevant {
            p.event_type.as_str()
        } else {
            "none"
        };
        if g.relevant != p.relevant || pred_type != g.event_type {
            errors.push((
                g.file.clone(),
                format!(
                    "gold {}/{} predicted {}/{}",
                    g.relevant, g.event_type, p.relevant, pred_type
                ),
            ));
        }
    }
    overall.finish();
    for s in by_language.values_mut() {
        s.finish();
    }
    Report {
        overall,
        by_language,
        errors,
    }
}

/// Classify every article of a labels file (paths relative to it) and score the predictions.
pub fn evaluate_file(
    labels_path: &std::path::Path,
    classifier: &Classifier,
) -> Result<Report, MonitorError> {
    let origin = labels_path.display().to_string();
    let text = std::fs::read_to_string(labels_path).map_err(|e| MonitorError::Io {
        path: origin.clone(),
        source: e,
    })?;
    let labels = Labels::from_toml_str(&text, &origin)?;
    let base = labels_path.parent().unwrap_or(std::path::Path::new("."));
    let mut pairs = Vec::with_capacity(labels.articles.len());
    for l in labels.articles {
        let p = base.join(&l.file);
        let raw = crate::input::read_file(&p, crate::input::DEFAULT_MAX_BYTES)?
            .into_iter()
            .next()
            .ok_or_else(|| MonitorError::Input {
                origin: p.display().to_string(),
                message: "no article in file".into(),
            })?;
        let c = classifier.classify(&Article::from_raw(raw));
        pairs.push((l, c));
    }
    Ok(evaluate(&pairs))
}
