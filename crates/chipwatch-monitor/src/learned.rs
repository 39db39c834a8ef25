//! The learned layer: a multinomial logistic regression over character n-grams of the folded
//! article, trained offline on the development corpus (`tools/monitor-model/train.py`) and shipped
//! as data (`data/monitor/text-model.json`).
//!
//! Why it exists: the lexicons know the phrasings they were written from, and real reporting
//! keeps finding new ones. Character n-grams need no word segmentation (Chinese, Japanese and
//! Korean have none the lexicons can rely on) and generalise over inflections and compounds
//! ("수출통제를", "exportbeperkingen"). The rules stay in charge of what they are good at
//! (negations, "no effect on output", headline order, entities); the model's probabilities
//! confirm or overrule the rules' relevance and type only where it is confident, and the
//! n-grams that decided are part of the explanation ([`TextScores::features`]).
//!
//! Features are scikit-learn's `TfidfVectorizer(sublinear_tf=True)` over the n-grams of a fixed
//! vocabulary: `(1 + ln tf) * idf`, L2-normalised over the vocabulary's n-grams. The file carries
//! check articles with the probabilities the training script computed, and a test holds this
//! implementation to them.

use crate::normalize::fold;
use crate::{Article, MonitorError};
use serde::Deserialize;
use std::sync::{Arc, OnceLock};

/// The shipped model.
pub const TEXT_MODEL_JSON: &str = include_str!("../../../data/monitor/text-model.json");
const FORMAT: &str = "chipwatch-text-model/1";
/// Characters of an article the model reads (the longest development article has 4,772).
pub const MAX_CHARS: usize = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    /// What it was trained on and how (shown in `--explain` and the data notice).
    provenance: String,
    ngram_min: usize,
    ngram_max: usize,
    /// Languages of the training articles (the article's detected `language`).
    languages: Vec<String>,
    classes: Vec<String>,
    intercepts: Vec<f64>,
    thresholds: Thresholds,
    /// `[n-gram, idf, [weight per class]]`.
    features: Vec<(String, f64, Vec<f64>)>,
    #[serde(default)]
    checks: Vec<Check>,
}

/// Where the model overrules the rules (chosen by `tools/monitor-model/policy.py`).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Below this probability of relevance, an article the rules found relevant is not.
    pub veto: f64,
    /// At or above it, an article the rules found nothing in is relevant, of the model's type.
    pub rescue: f64,
    /// The model's type replaces the rules' when its probability exceeds the probability of
    /// the rules' type by at least this much.
    #[serde(rename = "override")]
    pub override_: f64,
}

/// An article and the probabilities the training script gave it.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub text: String,
    pub probabilities: Vec<f64>,
}

/// The model in memory.
#[derive(Debug)]
pub struct TextModel {
    /// foldhash, not SipHash: every character position costs up to four lookups, and the
    /// keys are the model's own n-grams, not attacker-chosen.
    index: foldhash::HashMap<String, u32>,
    names: Vec<String>,
    idf: Vec<f32>,
    /// Row-major: feature `j`'s weights are `weights[j * classes.len()..][..classes.len()]`.
    weights: Vec<f32>,
    intercepts: Vec<f64>,
    classes: Vec<String>,
    none_class: usize,
    ngram_min: usize,
    ngram_max: usize,
    pub provenance: String,
    /// The languages it was trained on: elsewhere it has seen no text and decides nothing.
    pub languages: Vec<String>,
    pub thresholds: Thresholds,
    pub checks: Vec<Check>,
}

/// What the model says about one article.
#[derive(Debug, Clone, PartialEq)]
pub struct TextScores {
    /// Probability that the article reports a supply-chain event (1 - P(`none`)).
    pub relevant: f64,
    /// Event types other than `none` by probability, highest first.
    pub types: Vec<(String, f64)>,
    /// The n-grams that pushed most towards the most probable class, with their contribution
    /// to its logit.
    pub features: Vec<(String, f64)>,
}

impl TextScores {
    /// The most probable event type and its probability.
    pub fn best_type(&self) -> Option<(&str, f64)> {
        self.types.first().map(|(t, p)| (t.as_str(), *p))
    }

    /// The probability of one event type (0 for a type the model does not know).
    pub fn type_probability(&self, event_type: &str) -> f64 {
        self.types
            .iter()
            .find(|(t, _)| t == event_type)
            .map_or(0.0, |(_, p)| *p)
    }
}

fn bad(file: &str, message: String) -> MonitorError {
    MonitorError::Config {
        file: file.to_string(),
        message,
    }
}

impl TextModel {
    /// The model shipped in the binary, parsed once per process (the server builds a classifier
    /// per request; 0.7 MB of JSON each time would be most of a short request's cost).
    pub fn embedded() -> Result<Arc<Self>, MonitorError> {
        static MODEL: OnceLock<Arc<TextModel>> = OnceLock::new();
        if let Some(m) = MODEL.get() {
            return Ok(m.clone());
        }
        let m = Arc::new(Self::from_json(
            TEXT_MODEL_JSON,
            "data/monitor/text-model.json",
        )?);
        Ok(MODEL.get_or_init(|| m).clone())
    }

    /// Parse and check a model file: the format tag, matching dimensions, finite numbers, a
    /// `none` class, no repeated n-gram, n-gram lengths inside the stated range.
    pub fn from_json(text: &str, file: &str) -> Result<Self, MonitorError> {
        let m: ModelFile =
            serde_json::from_str(text).map_err(|e| bad(file, format!("not a text model: {e}")))?;
        if m.format != FORMAT {
            return Err(bad(
                file,
                format!("format is `{}`, expected `{FORMAT}`", m.format),
            ));
        }
        if m.ngram_min == 0 || m.ngram_min > m.ngram_max || m.ngram_max > 8 {
            return Err(bad(
                file,
                format!(
                    "n-gram range {}..={} (lengths 1 to 8)",
                    m.ngram_min, m.ngram_max
                ),
            ));
        }
        if m.languages.is_empty() {
            return Err(bad(file, "field `languages` is empty".into()));
        }
        let k = m.classes.len();
        let none_class = m
            .classes
            .iter()
            .position(|c| c == "none")
            .ok_or_else(|| bad(file, "field `classes` has no `none` class".into()))?;
        if k < 2 || m.intercepts.len() != k {
            return Err(bad(
                file,
                format!(
                    "field `intercepts` has {} values for {k} classes",
                    m.intercepts.len()
                ),
            ));
        }
        let t = m.thresholds;
        if [t.veto, t.rescue, t.override_]
            .iter()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return Err(bad(
                file,
                "field `thresholds`: values must be finite and not negative".into(),
            ));
        }
        if m.intercepts.iter().any(|v| !v.is_finite()) {
            return Err(bad(
                file,
                "field `intercepts`: a value is not finite".into(),
            ));
        }
        let mut index =
            foldhash::HashMap::with_capacity_and_hasher(m.features.len(), Default::default());
        let mut names = Vec::with_capacity(m.features.len());
        let mut idf = Vec::with_capacity(m.features.len());
        let mut weights = Vec::with_capacity(m.features.len() * k);
        for (j, (gram, f_idf, w)) in m.features.into_iter().enumerate() {
            let n = gram.chars().count();
            if n < m.ngram_min || n > m.ngram_max {
                return Err(bad(
                    file,
                    format!("feature {j} `{gram}`: {n} characters, outside the n-gram range"),
                ));
            }
            if w.len() != k {
                return Err(bad(
                    file,
                    format!("feature {j} `{gram}`: {} weights for {k} classes", w.len()),
                ));
            }
            if !f_idf.is_finite() || f_idf <= 0.0 || w.iter().any(|v| !v.is_finite()) {
                return Err(bad(
                    file,
                    format!("feature {j} `{gram}`: idf and weights must be finite, idf positive"),
                ));
            }
            if index.insert(gram.clone(), j as u32).is_some() {
                return Err(bad(file, format!("feature {j} `{gram}` is repeated")));
            }
            names.push(gram);
            idf.push(f_idf as f32);
            weights.extend(w.into_iter().map(|v| v as f32));
        }
        Ok(TextModel {
            index,
            names,
            idf,
            weights,
            intercepts: m.intercepts,
            classes: m.classes,
            none_class,
            ngram_min: m.ngram_min,
            ngram_max: m.ngram_max,
            provenance: m.provenance,
            languages: m.languages,
            thresholds: m.thresholds,
            checks: m.checks,
        })
    }

    /// The class names, `none` among them.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Probabilities of every class (in [`Self::classes`] order) and the feature vector, for a
    /// text already folded.
    fn probabilities(&self, folded: &str) -> (Vec<f64>, Vec<(u32, f32)>) {
        // Byte offsets of the character boundaries, so each n-gram is a slice of the text. Only
        // the first MAX_CHARS characters count: the news is in the headline and lede, training
        // articles are far shorter, and a 20 MB page must not cost memory in proportion.
        let end = folded
            .char_indices()
            .nth(MAX_CHARS)
            .map_or(folded.len(), |(i, _)| i);
        let folded = &folded[..end];
        let bounds: Vec<usize> = folded
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(folded.len()))
            .collect();
        let chars = bounds.len() - 1;
        let mut ids: Vec<u32> = Vec::with_capacity(chars * (self.ngram_max - self.ngram_min + 1));
        for n in self.ngram_min..=self.ngram_max {
            for i in 0..chars.saturating_sub(n - 1) {
                if let Some(&j) = self.index.get(&folded[bounds[i]..bounds[i + n]]) {
                    ids.push(j);
                }
            }
        }
        ids.sort_unstable();
        let mut x: Vec<(u32, f32)> = Vec::new();
        for run in ids.chunk_by(|a, b| a == b) {
            let j = run[0];
            let tf = 1.0 + (run.len() as f32).ln();
            x.push((j, tf * self.idf[j as usize]));
        }
        let norm = x.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, v) in &mut x {
                *v /= norm;
            }
        }
        let k = self.classes.len();
        let mut logits = self.intercepts.clone();
        for &(j, v) in &x {
            let w = &self.weights[j as usize * k..][..k];
            for (l, wc) in logits.iter_mut().zip(w) {
                *l += f64::from(v * wc);
            }
        }
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut p: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = p.iter().sum();
        for v in &mut p {
            *v /= sum;
        }
        (p, x)
    }

    /// Score a text already folded ([`model_text`]).
    pub fn score_folded(&self, folded: &str) -> TextScores {
        let (p, x) = self.probabilities(folded);
        let k = self.classes.len();
        let top = (0..k)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
            .unwrap_or(self.none_class);
        let mut types: Vec<(String, f64)> = (0..k)
            .filter(|&c| c != self.none_class)
            .map(|c| (self.classes[c].clone(), p[c]))
            .collect();
        types.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // Contribution of each n-gram to the winning class against the average class: what
        // made this class stand out, not what every class shares.
        let mut features: Vec<(String, f64)> = x
            .iter()
            .map(|&(j, v)| {
                let w = &self.weights[j as usize * k..][..k];
                let mean = w.iter().sum::<f32>() / k as f32;
                (
                    self.names[j as usize].clone(),
                    f64::from(v * (w[top] - mean)),
                )
            })
            .filter(|(_, c)| *c > 0.0)
            .collect();
        features.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // Shown as words: "cenc", "nces" and "icen" are all "licences" to a reader. And "许可"
        // says what "许" says: an n-gram inside one already listed adds nothing to read.
        let mut shown: Vec<(String, f64)> = Vec::new();
        for (gram, c) in features {
            if shown.len() == 6 {
                break;
            }
            let word = word_around(folded, &gram);
            if !word.chars().any(char::is_alphanumeric) || shown.iter().any(|s| s.0.contains(word))
            {
                continue;
            }
            // "xt:2" after "t:2": the longer one says more and takes the first one's place.
            match shown.iter().position(|s| word.contains(s.0.as_str())) {
                Some(i) => {
                    shown[i].0 = word.to_string();
                    let mut j = 0;
                    shown.retain(|s| {
                        j += 1;
                        j - 1 == i || !word.contains(s.0.as_str())
                    });
                }
                None => shown.push((word.to_string(), c)),
            }
        }
        let features = shown;
        TextScores {
            relevant: 1.0 - p[self.none_class],
            types,
            features,
        }
    }

    /// Score an article.
    pub fn score(&self, a: &Article) -> TextScores {
        self.score_folded(&model_text(a))
    }

    /// Probabilities in class order, for the checks the file carries.
    pub fn class_probabilities(&self, folded: &str) -> Vec<f64> {
        self.probabilities(folded).0
    }
}

/// The word of `text` around the first occurrence of `gram`: the n-gram widened over letters and
/// digits on both sides, up to 24 characters. Chinese and Japanese have no spaces between words,
/// so their characters (and spaces, punctuation) end the widening and the n-gram stays as it is.
fn word_around<'a>(text: &'a str, gram: &'a str) -> &'a str {
    let core = gram.trim();
    let widens = |c: char| {
        c.is_alphanumeric() && !crate::normalize::is_han(c) && !crate::normalize::is_kana(c)
    };
    let Some(at) = text.find(gram) else {
        return core;
    };
    if core.is_empty() || !core.chars().all(widens) {
        return core;
    }
    // The core's span inside this occurrence of the n-gram (" lic" -> "lic").
    let start = at + gram.find(core).unwrap_or(0);
    let end = start + core.len();
    let mut a = start;
    for (i, c) in text[..start].char_indices().rev() {
        if !widens(c) || text[i..end].chars().count() > 24 {
            break;
        }
        a = i;
    }
    let mut b = end;
    for (i, c) in text[end..].char_indices() {
        let next = end + i + c.len_utf8();
        if !widens(c) || text[a..next].chars().count() > 24 {
            break;
        }
        b = next;
    }
    &text[a..b]
}

/// The text the model reads: headline and body, folded ([`fold`]) as the lexicons see them.
pub fn model_text(a: &Article) -> String {
    if a.title.is_empty() {
        fold(&a.text)
    } else {
        fold(&format!("{}\n{}", a.title, a.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_model_reproduces_the_training_scripts_probabilities() {
        let m = TextModel::embedded().expect("shipped model loads");
        assert!(
            !m.checks.is_empty(),
            "the shipped model carries check texts"
        );
        for c in &m.checks {
            let p = m.class_probabilities(&c.text);
            assert_eq!(p.len(), c.probabilities.len(), "{}", c.text);
            for (a, b) in p.iter().zip(&c.probabilities) {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{}: {p:?} against {:?}",
                    c.text,
                    c.probabilities
                );
            }
        }
    }

    #[test]
    fn scores_are_probabilities_and_name_their_ngrams() {
        let m = TextModel::embedded().unwrap();
        for text in [
            "",
            " ",
            "a",
            "수출 통제",
            "export controls on lithography scanners",
        ] {
            let s = m.score_folded(text);
            assert!((0.0..=1.0).contains(&s.relevant), "{text}");
            let total: f64 = s.types.iter().map(|t| t.1).sum::<f64>() + 1.0 - s.relevant;
            assert!((total - 1.0).abs() < 1e-9, "{text}: {total}");
            for (g, _) in &s.features {
                assert!(
                    text.contains(g.as_str()),
                    "{text}: n-gram {g} is not in the text"
                );
            }
        }
    }

    #[test]
    fn a_huge_text_is_read_up_to_max_chars() {
        let m = TextModel::embedded().unwrap();
        let head: String = "수출 통제 ".chars().cycle().take(MAX_CHARS).collect();
        let huge = format!("{head}{}", "earthquake ".repeat(200_000));
        assert_eq!(m.score_folded(&head), m.score_folded(&huge));
        // Below the limit, what follows still counts.
        let half: String = head.chars().take(MAX_CHARS / 2).collect();
        assert_ne!(
            m.score_folded(&half),
            m.score_folded(&format!("{half}earthquake"))
        );
    }

    const GOOD: &str = r#"{"format":"chipwatch-text-model/1","provenance":"test","ngram_min":1,"ngram_max":2,"languages":["en"],
        "classes":["none","tariff"],"intercepts":[0.5,-0.5],
        "thresholds":{"veto":0.1,"rescue":0.9,"override":0.5},
        "features":[["ta",1.5,[-1.0,2.0]],["x",1.0,[0.5,-0.5]]]}"#;

    #[test]
    fn ngrams_are_shown_as_the_words_they_stand_in() {
        let t = "the netherlands revoked licences; 荷兰撤销许可 수출규제를 강화";
        assert_eq!(word_around(t, "cenc"), "licences");
        assert_eq!(word_around(t, " lic"), "licences");
        assert_eq!(word_around(t, "撤销"), "撤销");
        assert_eq!(word_around(t, "규제"), "수출규제를");
        assert_eq!(word_around(t, "s; "), "s;");
        assert_eq!(word_around(t, "absent"), "absent");
        let long = "a".repeat(40);
        assert_eq!(word_around(&long, "aaa").chars().count(), 24);
    }

    #[test]
    fn a_small_model_scores_by_hand() {
        let m = TextModel::from_json(GOOD, "t.json").unwrap();
        // "tax": n-grams t, a, x, ta, ax; in the vocabulary: x (tf 1, idf 1) and ta (idf 1.5).
        let norm = (1.0f64 + 1.5 * 1.5).sqrt();
        let (x, ta) = (1.0 / norm, 1.5 / norm);
        let none = 0.5 + 0.5 * x - ta;
        let tariff = -0.5 - 0.5 * x + 2.0 * ta;
        let p_tariff = 1.0 / (1.0 + (none - tariff).exp());
        let s = m.score_folded("tax");
        assert!(
            (s.relevant - p_tariff).abs() < 1e-6,
            "{} vs {p_tariff}",
            s.relevant
        );
        assert_eq!(s.best_type().unwrap().0, "tariff");
        // Shown as the word it stands in.
        assert_eq!(s.features[0].0, "tax");
    }

    #[test]
    fn malformed_models_are_errors_naming_the_file_and_field() {
        let cases = [
            ("{", "not a text model"),
            (&GOOD.replace("chipwatch-text-model/1", "v2"), "format"),
            (
                &GOOD.replace(r#""none","tariff""#, r#""a","tariff""#),
                "none",
            ),
            (
                &GOOD.replace("[0.5,-0.5]]", "[0.5]]"),
                "weights for 2 classes",
            ),
            (&GOOD.replace(r#"["x","#, r#"["ta","#), "repeated"),
            (
                &GOOD.replace(r#"["x","#, r#"["xyz","#),
                "outside the n-gram range",
            ),
            (&GOOD.replace(r#""veto":0.1"#, r#""veto":-1"#), "thresholds"),
            (&GOOD.replace(r#"["ta",1.5"#, r#"["ta",0"#), "idf"),
            (
                &GOOD.replace(r#""intercepts":[0.5,-0.5]"#, r#""intercepts":[0.5]"#),
                "intercepts",
            ),
            (
                &GOOD.replace(r#""ngram_min":1"#, r#""ngram_min":0"#),
                "n-gram range",
            ),
            (&GOOD.replace(r#""provenance":"test","#, ""), "provenance"),
            (
                &GOOD.replace(r#""languages":["en"]"#, r#""languages":[]"#),
                "languages",
            ),
        ];
        for (text, want) in cases {
            let e = TextModel::from_json(text, "bad.json")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("bad.json: "), "{e}");
            assert!(e.contains(want), "{e} should mention {want}");
        }
    }
}
