//! Event detection by rules and lexicons. For each sentence of an article (title first) the
//! gazetteer finds entities and trigger terms; each event type scores the weighted triggers it
//! gets, boosted in the title and in sentences that also name a chip-related thing (anchor word,
//! model item, organisation) and damped in background sentences ("last year..."). The best type
//! wins if the article is about semiconductors and the score clears a threshold; weak types
//! (expansions, shortages, alliances...) must also beat the negative lexicon (earnings, product
//! launches). Actors, organisation roles, items, status, certainty and severity then come from
//! the evidence sentences: the ones whose triggers decided the type.

use crate::article::Article;
use crate::gazetteer::{Entity, Gazetteer, Mention, OrgKind, TermHit, TermOwner};
use crate::learned::TextModel;
use crate::normalize::{fold, sentences};
use crate::MonitorError;
use chipwatch_model::ValueChain;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Minimum score for an event type to count.
pub const MIN_SCORE: f64 = 3.0;
/// Event types whose triggers are common in ordinary business news: they must beat the negative
/// lexicon.
const WEAK_TYPES: &[&str] = &[
    "capacity_expansion",
    "shortage",
    "price_spike",
    "alliance_agreement",
    "m_and_a",
    "diplomatic_statement",
    "tariff",
    "investigation",
];
/// Physical disruptions: need a firm, a site or a chip word in the trigger sentence.
const DISRUPTION_TYPES: &[&str] = &[
    "factory_fire",
    "earthquake",
    "power_outage",
    "extreme_weather",
    "strike",
];
/// Measures by a state: imposing and target countries apply.
const MEASURE_TYPES: &[&str] = &[
    "export_control",
    "export_control_relaxation",
    "licence_revocation",
    "licence_grant",
    "entity_listing",
    "market_access_restriction",
    "tariff",
    "investigation",
    "state_intervention",
];
/// Measures that are specific cases of export controls.
const SPECIFIC_MEASURES: &[&str] = &[
    "licence_revocation",
    "licence_grant",
    "entity_listing",
    "export_control_relaxation",
];
/// Whether the rules' choice of `rules` stands against the learned layer's `model` type. Two
/// kinds of pairs: where a headline rule of the rules decides (a cause against its effect, a
/// probe against its object, a reaction against the measure, a specific measure against export
/// controls in general), and where the two differ in direction (a licence granted or revoked,
/// controls eased or tightened), which the rules' triggers carry and a bag of n-grams blurs
/// ("移出实体清单" against "列入实体清单"). Only the directions where the rules were right at least
/// as often as the layer on articles neither had seen (docs/monitor-evaluation.md, "The learned
/// layer"): a listing against the package it belongs to, or a deal against the state acting on
/// it, the layer reads better.
pub fn rules_keep(rules: &str, model: &str) -> bool {
    let market = matches!(model, "shortage" | "price_spike");
    rules != model
        && ((matches!(
            rules,
            "export_control_relaxation" | "licence_grant" | "licence_revocation"
        ) && model == "export_control")
            || rules == "diplomatic_statement"
            || (DISRUPTION_TYPES.contains(&rules) && market)
            || (rules == "investigation"
                && (market || matches!(model, "tariff" | "market_access_restriction")))
            || (rules == "licence_grant" && model == "licence_revocation")
            || (rules == "licence_revocation" && model == "licence_grant")
            || (rules == "export_control_relaxation"
                && matches!(model, "entity_listing" | "licence_revocation")))
}

/// Words that make a following no-effect phrase one about people ("인명 피해는 없었다": no one
/// was hurt), not about output.
const CASUALTY_QUALIFIERS: &[&str] = &["인명", "人的", "人员", "人身", "死伤"];
/// Characters that end a clause in a headline.
const CLAUSE_BREAKS: &[char] = &['：', ':', '；', ';', '|', '…', '—'];
/// Sentences after the headline that make the lede (where outlets put the news itself).
const LEDE_SENTENCES: usize = 3;
/// Markers of background sentences.
const BACKGROUND: &[&str] = &[
    "去年",
    "多年来",
    "此前",
    "早前",
    "早在",
    "过去",
    "当时",
    "前年",
    "last year",
    "in the past",
    "previously",
    "earlier this year",
    "earlier this month",
    // "back in 2019", not "back in business"
    "back in 19",
    "back in 20",
    "at the time",
    "last month",
    "지난달",
    "先月",
    "上月",
    "vorige maand",
    "years ago",
    "지난해",
    "작년",
    "앞서",
    "당시",
    "이전에",
    "昨年",
    "これまで",
    "以前",
    "かつて",
    "当時",
    "前回",
    "vorig jaar",
    "eerder",
    "destijds",
    "in het verleden",
    "jaar geleden",
];

/// Countries imposing and targeted (for agreements: the parties, in `imposing`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actors {
    pub imposing: Vec<String>,
    pub target: Vec<String>,
}

/// An organisation named in the article, linked to the model where possible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgRef {
    pub name: String,
    /// Provider id of the model; `None` for organisations the model does not list.
    pub provider_id: Option<String>,
    /// Gazetteer id (`P88`, `ext:nl-government`).
    pub id: String,
    pub country: Option<String>,
    /// authority | subject | target | affected | party | mentioned
    pub role: String,
}

/// One classified article: the JSON line of `chipwatch monitor classify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classified {
    pub source: String,
    pub url: Option<String>,
    pub title: String,
    pub language: String,
    pub seen_at: Option<String>,
    pub published_at: Option<String>,
    /// Where `published_at` came from (`feed`, `page metadata`, `article text`, `url`); absent
    /// for an undated article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at_source: Option<String>,
    pub relevant: bool,
    pub event_type: String,
    pub status: Option<String>,
    pub polarity: Option<String>,
    pub certainty: f64,
    pub countries: Vec<String>,
    pub actors: Actors,
    pub organisations: Vec<OrgRef>,
    pub items: Vec<String>,
    pub severity: f64,
    pub cluster_id: Option<String>,
    pub evidence: Vec<String>,
    /// Other event types the article also reports (e.g. a reaction).
    pub other_event_types: Vec<String>,
    /// English summary built from what was extracted (never a translation), for relevant
    /// articles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// What the learned layer said and whether it changed the rules' decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned: Option<Learned>,
    pub people: Vec<String>,
    /// Countries of places named (sites), which can differ from the owners' countries.
    pub locations: Vec<String>,
    pub dates: Vec<String>,
    pub quantities: Vec<String>,
    pub canonical_url: Option<String>,
    pub content_hash: String,
    pub warnings: Vec<String>,
}

/// The learned layer's view of one article ([`crate::learned`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// Probability that the article reports a supply-chain event.
    pub relevant: f64,
    /// The model's most probable event type and its probability.
    pub event_type: String,
    pub probability: f64,
    /// `confirmed` (the model let the rules' decision stand), `vetoed` (it made a relevant
    /// verdict of the rules irrelevant), `rescued` (it found an event the rules did not),
    /// `retyped` (it replaced the rules' event type) or `outside its languages` (the article's
    /// language is none the model was trained on, so the rules decided alone).
    pub decision: String,
    /// The character n-grams that weighed most towards the model's class.
    pub features: Vec<String>,
}

struct Sentence<'a> {
    original: &'a str,
    is_title: bool,
    mentions: Vec<Mention>,
    hits: Vec<TermHit>,
    folded: String,
    anchored: bool,
    background: bool,
}

/// The classifier: gazetteer plus model facts used for severity.
#[derive(Debug)]
pub struct Classifier {
    pub gaz: Gazetteer,
    /// Largest country share (0..1) of each item: a disruption of a concentrated item is worse.
    concentration: HashMap<String, f64>,
    /// Finished chips (model items of kind `final_output`): beside a machine word they are what
    /// the machine makes ("装置 used to make advanced chips"), not the item of the event.
    final_outputs: BTreeSet<String>,
    date_re: Regex,
    qty_re: Regex,
    /// The background markers, matched in one pass over a sentence.
    background: aho_corasick::AhoCorasick,
    /// The learned layer; `None` for the rules alone ([`Classifier::rules_only`]).
    text_model: Option<std::sync::Arc<TextModel>>,
}

impl Classifier {
    pub fn new(vc: &ValueChain) -> Result<Self, MonitorError> {
        let gaz = Gazetteer::new(vc)?;
        let mut concentration = HashMap::new();
        let final_outputs = vc
            .items()
            .filter(|(_, it)| it.kind == chipwatch_model::ItemKind::FinalOutput)
            .map(|(_, it)| it.id.clone())
            .collect();
        for (i, it) in vc.items() {
            let top = vc
                .country_shares(i, None)
                .iter()
                .filter_map(|s| s.share)
                .fold(0.0f64, f64::max);
            concentration.insert(it.id.clone(), top / 100.0);
        }
        let date_re = Regex::new(
            r"(?x)
            \d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?
            | \d{4}\s*년\s*\d{1,2}\s*월(?:\s*\d{1,2}\s*일)?
            | \d{4}-\d{2}-\d{2}
            | (?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4}
            | \d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December|januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)\s+\d{4}",
        )
        .expect("static regex");
        let qty_re = Regex::new(
            r"(?i)\d+(?:[.,]\d+)?\s?(?:%|percent|per cent|procent|亿美元|亿元|亿|万吨|万片|万|吨|billion|million|bn|tonnes?|tons?|wafers|억\s?달러|억\s?원|조\s?원|億ドル|億円|トン|nm|纳米|나노)",
        )
        .expect("static regex");
        let background = aho_corasick::AhoCorasick::new(BACKGROUND).expect("static markers");
        let text_model = TextModel::embedded()?;
        if let Some(c) = text_model
            .classes()
            .iter()
            .find(|c| *c != "none" && !gaz.events.iter().any(|e| e.event_type == c.as_str()))
        {
            return Err(MonitorError::Config {
                file: "data/monitor/text-model.json".into(),
                message: format!("class `{c}` is no event type of the gazetteer"),
            });
        }
        Ok(Classifier {
            text_model: Some(text_model),
            gaz,
            final_outputs,
            concentration,
            date_re,
            qty_re,
            background,
        })
    }

    /// The same classifier without the learned layer: the rules' own decisions (to train and
    /// judge the layer against them).
    pub fn rules_only(mut self) -> Self {
        self.text_model = None;
        self
    }

    /// Classify one cleaned article.
    pub fn classify(&self, a: &Article) -> Classified {
        let mut c = self.extract(a, None);
        c.summary = crate::summary::english(&c, &self.gaz);
        c
    }

    /// Classify and say why: every lexicon hit with its sentence and weight, the scores of the
    /// event types and the rules that set one aside or chose it (for analysts checking a
    /// decision and for tuning the lexicons).
    pub fn explain(&self, a: &Article) -> (Classified, Vec<String>) {
        let mut trace = Vec::new();
        let mut c = self.extract(a, Some(&mut trace));
        c.summary = crate::summary::english(&c, &self.gaz);
        (c, trace)
    }

    fn extract(&self, a: &Article, mut trace: Option<&mut Vec<String>>) -> Classified {
        // Lazy: the message is built only when a trace is asked for (formatting every trigger
        // hit would cost the pipeline most of its speed).
        let mut note = |msg: &dyn Fn() -> String| {
            if let Some(t) = trace.as_deref_mut() {
                t.push(msg());
            }
        };
        let g = &self.gaz;
        let mut sents: Vec<Sentence> = Vec::new();
        if !a.title.is_empty() {
            sents.push(self.sentence(&a.title, true));
        }
        for s in sentences(&a.text) {
            sents.push(self.sentence(s, false));
        }
        let article_anchored = sents.iter().any(|s| s.anchored);
        // Index of the lede's last sentence: the headline (when there is one) and the first
        // LEDE_SENTENCES body sentences.
        let lede_last = LEDE_SENTENCES - usize::from(a.title.is_empty());
        // A sentence after the lede that names only years before the latest year the headline
        // or lede names is background ("YMTC was added to the Entity List in December 2022"
        // in a 2025 report), whatever its wording.
        let lede_year = sents
            .iter()
            .take(lede_last + 1)
            .flat_map(|s| years(s.original))
            .max();
        if let Some(latest) = lede_year {
            for s in sents.iter_mut().skip(lede_last + 1) {
                let ys = years(s.original);
                if !ys.is_empty() && ys.iter().all(|&y| y < latest) {
                    s.background = true;
                }
            }
        }

        // Score event types.
        let n_ev = g.events.len();
        let mut score = vec![0.0f64; n_ev];
        let mut contrib: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_ev];
        let mut negative = 0.0;
        // The part of `negative` from sentences after the lede.
        let mut negative_body = 0.0;
        let mut negative_title = false;
        let mut stoppage_title = false;
        let (mut no_effect, mut stoppage, mut reaction_in_title) = (false, false, false);
        let mut no_effect_lede = false;
        let mut no_effect_title = false;
        let mut retrospective = false;
        let mut reaction_at: Option<usize> = None;
        let mut commentary_title = false;
        let mut other_chips = false;
        for (si, s) in sents.iter().enumerate() {
            let mut seen = BTreeSet::new();
            // The first body sentence, where outlets put a kicker
            // ("Interview |", "[인터뷰]").
            let kicker = si == usize::from(!a.title.is_empty());
            let lede = si <= lede_last;
            for h in &s.hits {
                match g.terms[h.term].owner {
                    TermOwner::Event(ei) => {
                        // One sentence counts once per event type: repeating synonyms in one
                        // sentence is not more evidence.
                        if !seen.insert(ei) {
                            continue;
                        }
                        let mut w = g.events[ei].weight;
                        if s.is_title {
                            w *= 1.5;
                        }
                        w *= if s.anchored {
                            1.3
                        } else if article_anchored {
                            0.8
                        } else {
                            0.3
                        };
                        if s.background {
                            w *= 0.5;
                        }
                        score[ei] += w;
                        contrib[ei].push((si, w));
                        note(&|| {
                            format!(
                                "sentence {si}{}{}{}: `{}` -> {} {w:.2}",
                                if s.is_title { " (title)" } else { "" },
                                if s.anchored { " (anchored)" } else { "" },
                                if s.background { " (background)" } else { "" },
                                g.terms[h.term].text,
                                g.events[ei].event_type
                            )
                        });
                    }
                    TermOwner::Negative => {
                        note(&|| format!("sentence {si}: negative `{}`", g.terms[h.term].text));
                        negative += if s.is_title {
                            g.negative_weight * 1.5
                        } else {
                            g.negative_weight
                        };
                        if !lede {
                            negative_body += g.negative_weight;
                        }
                        negative_title |= s.is_title;
                    }
                    // "No one was hurt" (인명 피해는 없었다, 人的被害はない) is about people,
                    // not output.
                    TermOwner::NoEffect
                        if CASUALTY_QUALIFIERS
                            .iter()
                            .any(|q| s.folded[..h.start].trim_end().ends_with(q)) => {}
                    TermOwner::NoEffect => {
                        note(&|| format!("sentence {si}: no effect `{}`", g.terms[h.term].text));
                        no_effect = true;
                        no_effect_lede |= lede;
                        no_effect_title |= s.is_title;
                    }
                    // A train line or a road stopped is no output stopped: only a sentence
                    // about a firm, a plant or chips says output stopped.
                    TermOwner::Stoppage if s.anchored => {
                        note(&|| format!("sentence {si}: stoppage `{}`", g.terms[h.term].text));
                        stoppage = true;
                        stoppage_title |= s.is_title;
                    }
                    TermOwner::Stoppage => {}
                    TermOwner::Reaction => {
                        reaction_in_title |= s.is_title;
                        if s.is_title {
                            reaction_at =
                                Some(reaction_at.map_or(h.start, |r: usize| r.min(h.start)));
                        }
                    }
                    TermOwner::Commentary => {
                        commentary_title |= s.is_title || (kicker && h.start == 0)
                    }
                    TermOwner::Retrospective if s.is_title => {
                        note(&|| format!("headline looks back: `{}`", g.terms[h.term].text));
                        retrospective = true
                    }
                    TermOwner::Retrospective => {}
                    TermOwner::OtherChips if s.is_title => {
                        note(&|| {
                            format!(
                                "headline names another kind of chip: `{}`",
                                g.terms[h.term].text
                            )
                        });
                        other_chips = true
                    }
                    TermOwner::OtherChips => {}
                    TermOwner::Status(_) => {}
                }
            }
        }
        let mut order: Vec<usize> = (0..n_ev).filter(|&i| score[i] > 0.0).collect();
        order.sort_by(|&x, &y| score[y].total_cmp(&score[x]).then(x.cmp(&y)));

        note(&|| {
            format!(
                "scores: {}; negative {negative:.2}; article anchored: {article_anchored}",
                order
                    .iter()
                    .map(|&i| format!("{} {:.2}", g.events[i].event_type, score[i]))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let mut chosen = None;
        // The article's disruption is one without effect on output (a fire "with no effect", a
        // rainstorm the fab "ran through"): then the plant words around it are no expansion or
        // shortage news either, whichever scored higher. A headline's all-clear ("plant: no
        // effect on output") is the outlet's verdict even when the body names what stopped for
        // a moment or what did not stop.
        let quiet_of = |et: &str| {
            DISRUPTION_TYPES.contains(&et)
                && et != "strike"
                && (!stoppage || (no_effect_title && !stoppage_title))
                && if et == "extreme_weather" {
                    no_effect_lede
                } else {
                    no_effect
                }
        };
        let quiet_disruption = order
            .iter()
            .any(|&e| score[e] >= MIN_SCORE && quiet_of(g.events[e].event_type));
        for &ei in &order {
            let et = g.events[ei].event_type;
            if score[ei] < MIN_SCORE || !article_anchored {
                break;
            }
            // A crisps factory's fire, a casino's chips: nothing here is in the chip supply chain.
            if other_chips {
                note(&|| format!("{et}: set aside, the headline is about another kind of chip"));
                continue;
            }
            // Any type named only deep in the body of an article about something else (a patent
            // suit that recalls its party's listing) is background to that article.
            let in_lede = contrib[ei].iter().any(|&(si, _)| si <= lede_last);
            // A merger or a new line named in the headline or lede is the news even when the
            // body goes on to revenue, an investor call or a launch event: negatives after the
            // lede weigh half against it (an earnings report names its earnings up front, and a
            // headline about share prices is one).
            let weighed = if in_lede && !negative_title {
                negative - 0.5 * negative_body
            } else {
                negative
            };
            if WEAK_TYPES.contains(&et) && weighed >= score[ei] {
                note(&|| format!("{et}: set aside, the negative lexicon outweighs it"));
                continue;
            }
            if !in_lede && negative >= score[ei] {
                note(&|| {
                    format!(
                    "{et}: set aside, only after the lede and the negative lexicon outweighs it"
                )
                });
                continue;
            }
            // Opinion, expert talk and market moves about controls in general report no new
            // measure: under such a headline only a specific measure (a listing, a licence
            // revoked or granted, an easing) with strong evidence counts.
            // A deal whose own headline names it is deal news even when the headline also
            // says when trading resumes ("…拟发股收购… A股9月1日复牌").
            let deal_headline = et == "m_and_a"
                && score[ei] >= 3.0 * MIN_SCORE
                && contrib[ei].iter().any(|&(si, _)| sents[si].is_title);
            let stands_out = (SPECIFIC_MEASURES.contains(&et) && score[ei] >= 2.0 * MIN_SCORE)
                || DISRUPTION_TYPES.contains(&et)
                || deal_headline;
            if commentary_title && !stands_out {
                note(&|| format!("{et}: set aside, a commentary headline"));
                continue;
            }
            // A look back ("five years after the fire", 被列入实体清单五年) is no news of it.
            if retrospective {
                note(&|| format!("{et}: set aside, the headline looks back at it"));
                continue;
            }
            // A fire, quake or outage the firm says did not touch its output, or a drill, is no
            // supply-chain event, unless the article also reports output stopping. Weather is
            // slow and wide: a plant "not affected so far" deep in a drought report does not
            // undo the drought; only a headline or lede saying so does (`quiet_of`).
            if quiet_of(et) {
                note(&|| format!("{et}: set aside, no effect on output"));
                continue;
            }
            // Once the article's disruption is one that did not touch output, the plant words
            // around it ("the fab under construction", "chip parks") are no expansion or
            // shortage news: only a state's measure with strong evidence still counts.
            if quiet_disruption && !(MEASURE_TYPES.contains(&et) && score[ei] >= 2.0 * MIN_SCORE) {
                note(&|| {
                    format!("{et}: set aside, the article reports a disruption without effect")
                });
                continue;
            }
            let ok_sentence = contrib[ei].iter().any(|&(si, _)| {
                let s = &sents[si];
                if DISRUPTION_TYPES.contains(&et) {
                    s.is_title && article_anchored
                        || s.mentions.iter().any(|m| match &m.entity {
                            Entity::Org(i) => g.orgs[*i].kind == OrgKind::Firm,
                            Entity::Site { .. }
                            | Entity::Anchor
                            | Entity::ChipEquipment
                            | Entity::Items { .. } => true,
                            _ => false,
                        })
                } else if et == "tariff" {
                    // Tariffs on furniture or cars are no chip news: the duty's own sentence
                    // must name chips, a chip firm or a chip item.
                    s.anchored
                } else {
                    s.anchored || s.is_title
                }
            });
            // An agreement between states: a firm's pact with a university or a customer is
            // no alliance. Two states, or a government, must be named where it is reported.
            let ok_sentence = ok_sentence
                && (et != "alliance_agreement" || {
                    let mut states = BTreeSet::new();
                    let mut government = false;
                    let title = sents.first().filter(|s| s.is_title).map(|_| 0);
                    for si in title
                        .into_iter()
                        .chain(contrib[ei].iter().map(|&(si, _)| si))
                    {
                        for m in &sents[si].mentions {
                            match &m.entity {
                                Entity::Country { iso3, .. } => {
                                    states.insert(iso3.as_str());
                                }
                                Entity::Org(i) => {
                                    government |= matches!(
                                        g.orgs[*i].kind,
                                        OrgKind::Government | OrgKind::Regulator
                                    )
                                }
                                _ => {}
                            }
                        }
                    }
                    states.len() >= 2 || government
                });
            if ok_sentence {
                chosen = Some(ei);
                break;
            }
            note(&|| format!("{et}: set aside, no trigger sentence names a firm, site or chip"));
        }
        if let Some(ei) = chosen {
            note(&|| format!("chosen first: {}", g.events[ei].event_type));
        }
        // A physical disruption is the cause of the shortage or price spike it brings: report
        // the cause when both are there. Unless the headline leads with the market move ("DRAM
        // prices up 18% on Taiwan quake", a market-research price report): its first event
        // trigger is the price or the shortage, and the disruption comes after it, if at all.
        let first_in_title = |e: usize| -> Option<usize> {
            sents.first().filter(|s| s.is_title).and_then(|s| {
                s.hits
                    .iter()
                    .filter(|h| g.terms[h.term].owner == TermOwner::Event(e))
                    .map(|h| h.start)
                    .min()
            })
        };
        // The headline names type `a` before type `b`, or names `a` and not `b`.
        let named_first = |a: usize, b: usize| match (first_in_title(a), first_in_title(b)) {
            (Some(x), Some(y)) => x < y,
            (Some(_), None) => true,
            _ => false,
        };
        if let Some(ei) = chosen {
            if matches!(g.events[ei].event_type, "shortage" | "price_spike") {
                if let Some(&d) = order.iter().find(|&&o| {
                    DISRUPTION_TYPES.contains(&g.events[o].event_type) && score[o] >= MIN_SCORE
                }) {
                    if !named_first(ei, d) {
                        chosen = Some(d);
                    }
                }
            } else if DISRUPTION_TYPES.contains(&g.events[ei].event_type) {
                // The same headline test when the disruption scored higher.
                if let Some(&m) = order.iter().find(|&&o| {
                    matches!(g.events[o].event_type, "shortage" | "price_spike")
                        && score[o] >= MIN_SCORE
                }) {
                    if let (Some(p), Some(c)) = (first_in_title(m), first_in_title(ei)) {
                        if p < c {
                            chosen = Some(m);
                        }
                    }
                }
            }
        }
        // A storm or a quake is the cause of the blackout it brings: when the headline names the
        // hazard before the outage ("台風…直撃 工場が浸水・停電"), the hazard is the event.
        if let Some(ei) = chosen {
            if g.events[ei].event_type == "power_outage" {
                let hazard = order.iter().copied().find(|&o| {
                    matches!(g.events[o].event_type, "extreme_weather" | "earthquake")
                        && score[o] >= MIN_SCORE
                        && named_first(o, ei)
                });
                if let Some(h) = hazard {
                    note(&|| "power_outage: the headline names the hazard that caused it".into());
                    chosen = Some(h);
                }
            }
        }
        // A probe named in the headline is the news, and the tariff, price rise or shortage
        // is its object: a price or a shortage wherever the headline names it ("모듈 가격 급등…
        // 공정위 담합 조사"), a tariff only when the probe comes first ("opens probe into
        // imports, a step toward tariffs"; "probe results: tariffs from 2027" is the tariff).
        if let Some(ei) = chosen {
            let et = g.events[ei].event_type;
            if matches!(et, "tariff" | "price_spike" | "shortage") {
                if let Some(inv) = (0..n_ev)
                    .find(|&e| g.events[e].event_type == "investigation" && score[e] >= MIN_SCORE)
                {
                    let probe_wins =
                        first_in_title(inv).is_some() && (et != "tariff" || named_first(inv, ei));
                    if probe_wins {
                        note(&|| "the headline names a probe of it".into());
                        chosen = Some(inv);
                    }
                }
            }
        }

        // A concrete measure (a revoked or granted licence, a listing, a relaxation) is a more
        // specific report than export controls in general, which articles repeat as background.
        // But when the headline announces export controls, the specific one is a detail of the
        // package (new rules that also list entities): a headline naming only the listing has
        // its control words inside the longer listing trigger ("export-control entity list").
        // A headline that names both ("Japan versoepelt exportregels", "Seoul revokes export
        // licence") reports the specific one: the control words are its object. Not a listing:
        // a package that also lists firms stays export controls (below).
        if let Some(ei) = chosen {
            if g.events[ei].event_type == "export_control" {
                let in_title = |e: usize| contrib[e].iter().any(|&(si, _)| sents[si].is_title);
                if let Some(&sp) = order.iter().find(|&&o| {
                    let et = g.events[o].event_type;
                    SPECIFIC_MEASURES.contains(&et)
                        && score[o] >= MIN_SCORE
                        && contrib[o]
                            .iter()
                            .any(|&(si, _)| sents[si].anchored || sents[si].is_title)
                        && (!in_title(ei) || (in_title(o) && et != "entity_listing"))
                }) {
                    chosen = Some(sp);
                }
            }
        }

        // A deal whose headline names a state acting on it or a probe of it is the state's act
        // ("Trump orders Chinese-controlled firm to sell", 国防部入股) or the probe ("Peking opent
        // mededingingsonderzoek naar Qualcomm om overname Autotalks"); the state comes first.
        if chosen.is_some_and(|ei| g.events[ei].event_type == "m_and_a") {
            for (other, why) in [
                ("state_intervention", "a state's intervention"),
                ("investigation", "a probe of the deal"),
            ] {
                let hit = (0..n_ev).find(|&e| {
                    g.events[e].event_type == other
                        && first_in_title(e).is_some()
                        && score[e] >= MIN_SCORE
                });
                if let Some(oi) = hit {
                    note(&|| format!("m_and_a: the headline names {why}"));
                    chosen = Some(oi);
                    break;
                }
            }
        }

        // A headline that announces controls and a listing reports a package whose listing is
        // one part ("US tightens rules for foundries, blacklists two AI firms").
        if let Some(ei) = chosen {
            if g.events[ei].event_type == "entity_listing" {
                if let Some(ec) = (0..n_ev).find(|&e| g.events[e].event_type == "export_control") {
                    if first_in_title(ec).is_some() && first_in_title(ei).is_some() {
                        note(&|| {
                            "entity_listing: part of a control package named in the headline".into()
                        });
                        chosen = Some(ec);
                    }
                }
            }
        }

        // A reaction to another state's measure ("China firmly opposes Japan's curbs", "商务部
        // 回应…：坚决反对") reports the statement: the headline carries the opposition ([reaction]
        // lexicon) and the body quotes a statement; the measure it answers stays among the other
        // event types.
        if let Some(ei) = chosen {
            if !DISRUPTION_TYPES.contains(&g.events[ei].event_type) {
                if let Some(dip) =
                    (0..n_ev).find(|&e| g.events[e].event_type == "diplomatic_statement")
                {
                    // The headline leads with the measure ("... listed; ministry: firmly
                    // opposes"): the measure is the news, the reaction a part of it.
                    // In its own clause: "... 列入实体清单 外交部：坚决反对", not "일본 수출규제에
                    // 강한 불만" (the measure as the object of the reaction).
                    let measure_first = match (first_in_title(ei), reaction_at) {
                        (Some(m), Some(r)) if m < r => sents[0]
                            .folded
                            .get(m..r)
                            .is_some_and(|between| between.contains(CLAUSE_BREAKS)),
                        _ => false,
                    };
                    if reaction_in_title
                        && !measure_first
                        && contrib[dip].iter().any(|&(si, _)| !sents[si].is_title)
                    {
                        chosen = Some(dip);
                    }
                }
            }
        }

        // The rules' own verdicts against an event, which the learned layer may not undo by
        // finding one: another kind of chip, a look back, a disruption without effect.
        let hard_negative = other_chips || retrospective || quiet_disruption;
        if hard_negative {
            note(&|| "hard negative: true".into());
        }
        let learned = self.text_model.as_ref().map(|m| {
            let ts = m.score(a);
            let t = m.thresholds;
            let find = |et: &str| (0..n_ev).find(|&e| g.events[e].event_type == et);
            let (best, q) = ts.best_type().unwrap_or(("none", 0.0));
            note(&|| {
                format!(
                    "learned layer: relevant {:.3}; {}; n-grams {:?}",
                    ts.relevant,
                    ts.types
                        .iter()
                        .take(3)
                        .map(|(t, p)| format!("{t} {p:.3}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    ts.features.iter().map(|f| &f.0).collect::<Vec<_>>()
                )
            });
            let mut decision = "confirmed";
            // In a language it never read, the model's probabilities mean nothing either way:
            // the rules decide alone and the article says so.
            let trained = m.languages.contains(&a.language);
            if !trained {
                note(&|| format!("learned layer: not trained on language `{}`", a.language));
                decision = "outside its languages";
            }
            match chosen {
                _ if !trained => {}
                Some(_) if ts.relevant < t.veto => {
                    note(&|| format!("learned layer: not relevant (below {})", t.veto));
                    chosen = None;
                    decision = "vetoed";
                }
                Some(ei) => {
                    let rt = g.events[ei].event_type;
                    if best != rt
                        && q - ts.type_probability(rt) >= t.override_
                        && !rules_keep(rt, best)
                    {
                        if let Some(bi) = find(best) {
                            note(&|| format!("learned layer: {best} rather than {rt}"));
                            chosen = Some(bi);
                            decision = "retyped";
                        }
                    }
                }
                None if ts.relevant >= t.rescue && !hard_negative => {
                    if let Some(bi) = find(best) {
                        note(&|| {
                            format!("learned layer: relevant, {best} (at or above {})", t.rescue)
                        });
                        chosen = Some(bi);
                        decision = "rescued";
                    }
                }
                None => {}
            }
            Learned {
                relevant: (ts.relevant * 1000.0).round() / 1000.0,
                event_type: best.to_string(),
                probability: (q * 1000.0).round() / 1000.0,
                decision: decision.to_string(),
                features: ts.features.into_iter().map(|f| f.0).collect(),
            }
        });

        note(&|| match chosen {
            Some(ei) => format!("event type: {}", g.events[ei].event_type),
            None => "not relevant".to_string(),
        });
        let mut out = Classified {
            source: a.source.clone(),
            url: a.url.clone(),
            title: a.title.clone(),
            language: a.language.clone(),
            seen_at: a.seen_at.clone(),
            published_at: a.published_at.clone(),
            published_at_source: a.published_at_source.clone(),
            relevant: chosen.is_some(),
            event_type: "none".into(),
            status: None,
            polarity: None,
            certainty: 0.0,
            countries: Vec::new(),
            actors: Actors::default(),
            organisations: Vec::new(),
            items: Vec::new(),
            severity: 0.0,
            cluster_id: None,
            evidence: Vec::new(),
            other_event_types: Vec::new(),
            summary: None,
            learned,
            people: Vec::new(),
            locations: Vec::new(),
            dates: Vec::new(),
            quantities: Vec::new(),
            canonical_url: a.canonical_url.clone(),
            content_hash: a.content_hash.clone(),
            warnings: a.warnings.clone(),
        };

        // Entities over the whole article.
        let mut country_count: Vec<(String, usize)> = Vec::new();
        let add_country = |c: &str, list: &mut Vec<(String, usize)>| {
            if c == "EU" {
                return;
            }
            match list.iter_mut().find(|(x, _)| x == c) {
                Some((_, n)) => *n += 1,
                None => list.push((c.to_string(), 1)),
            }
        };
        let mut org_seen: Vec<usize> = Vec::new();
        let mut items: Vec<String> = Vec::new();
        for s in &sents {
            for m in &s.mentions {
                match &m.entity {
                    Entity::Country { iso3, .. } => add_country(iso3, &mut country_count),
                    Entity::Org(i) => {
                        if !org_seen.contains(i) {
                            org_seen.push(*i);
                        }
                        let o = &g.orgs[*i];
                        if matches!(o.kind, OrgKind::Government | OrgKind::Regulator) {
                            if let Some(c) = &o.country {
                                add_country(c, &mut country_count);
                            }
                        }
                    }
                    Entity::Person(i) => {
                        let p = &g.people[*i];
                        if !out.people.contains(&p.name) {
                            out.people.push(p.name.clone());
                        }
                    }
                    Entity::Items { ids, org } => {
                        for id in ids {
                            if !items.contains(id) {
                                items.push(id.clone());
                            }
                        }
                        if let Some(o) = org {
                            if !org_seen.contains(o) {
                                org_seen.push(*o);
                            }
                        }
                    }
                    Entity::Site { country } => {
                        add_country(country, &mut country_count);
                        if !out.locations.contains(country) {
                            out.locations.push(country.clone());
                        }
                    }
                    Entity::Anchor | Entity::Equipment | Entity::ChipEquipment | Entity::Ignore => {
                    }
                }
            }
        }
        out.countries = country_count.iter().map(|(c, _)| c.clone()).collect();

        let Some(ei) = chosen else {
            out.organisations = org_seen
                .iter()
                .map(|&i| self.org_ref(i, "mentioned"))
                .collect();
            out.items = items;
            return out;
        };
        let def = &g.events[ei];
        let et = def.event_type;
        out.event_type = et.to_string();
        out.polarity = def.polarity.clone();
        out.other_event_types = order
            .iter()
            .filter(|&&o| o != ei && score[o] >= MIN_SCORE * 0.5)
            .map(|&o| g.events[o].event_type.to_string())
            .collect();

        // Evidence: the sentences that contributed most to the chosen type.
        let mut ev: Vec<(usize, f64)> = Vec::new();
        for &(si, w) in &contrib[ei] {
            match ev.iter_mut().find(|(s, _)| *s == si) {
                Some((_, x)) => *x += w,
                None => ev.push((si, w)),
            }
        }
        // An event the learned layer found where no trigger of its type stood: the headline
        // and the lede are what it read first.
        if ev.is_empty() {
            ev.extend((0..sents.len().min(2)).map(|si| (si, 0.0)));
        }
        ev.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ev.truncate(3);
        ev.sort_by_key(|e| e.0);
        let ev_idx: Vec<usize> = ev.iter().map(|e| e.0).collect();
        out.evidence = ev_idx
            .iter()
            .map(|&i| sents[i].original.to_string())
            .collect();

        // Items of the event: those named outside background sentences ("last year the US
        // restricted AI chips" is context, not this event); all of them only if that is empty.
        let focus: Vec<String> = sents
            .iter()
            .enumerate()
            .filter(|(i, s)| s.is_title || ev_idx.contains(i) || !s.background)
            .flat_map(|(_, s)| s.mentions.iter())
            .filter_map(|m| match &m.entity {
                Entity::Items { ids, .. } => Some(ids.clone()),
                _ => None,
            })
            .flatten()
            .fold(Vec::new(), |mut v, id| {
                if !v.contains(&id) {
                    v.push(id);
                }
                v
            });
        // Chips named beside a machine word in a measure on equipment are what the machines
        // make: the event is about the machines.
        let equipment_measure = MEASURE_TYPES.contains(&et)
            && sents.iter().any(|s| {
                (s.is_title || !s.background)
                    && s.mentions
                        .iter()
                        .any(|m| matches!(m.entity, Entity::ChipEquipment))
            });
        let focus: Vec<String> = if equipment_measure {
            focus
                .into_iter()
                .filter(|id| !self.final_outputs.contains(id))
                .collect()
        } else {
            focus
        };
        let all_items = std::mem::replace(&mut items, focus);
        // Items linked through a firm + a generic machine word in an evidence sentence.
        for &si in &ev_idx {
            let s = &sents[si];
            let has_equipment = s
                .mentions
                .iter()
                .any(|m| matches!(m.entity, Entity::Equipment | Entity::ChipEquipment));
            let has_items = s
                .mentions
                .iter()
                .any(|m| matches!(m.entity, Entity::Items { .. }));
            if has_equipment && !has_items {
                for m in &s.mentions {
                    if let Entity::Org(i) = m.entity {
                        for id in &g.orgs[i].items {
                            if !items.contains(id) {
                                items.push(id.clone());
                            }
                        }
                    }
                }
            }
        }
        // Firms named elsewhere in the article that make the kind of machine the evidence names.
        if items.is_empty() {
            let ev_equipment = ev_idx.iter().any(|&si| {
                sents[si]
                    .mentions
                    .iter()
                    .any(|m| matches!(m.entity, Entity::Equipment | Entity::ChipEquipment))
            });
            if ev_equipment {
                for &i in &org_seen {
                    for id in &g.orgs[i].items {
                        if !items.contains(id) {
                            items.push(id.clone());
                        }
                    }
                }
            }
        }
        if items.is_empty() {
            items = all_items
                .into_iter()
                .filter(|id| !(equipment_measure && self.final_outputs.contains(id)))
                .collect();
        }
        out.items = items;

        // Actors.
        let ev_text_countries = |idx: &[usize]| -> Vec<String> {
            let mut v = Vec::new();
            for &si in idx {
                for m in &sents[si].mentions {
                    if let Entity::Country { iso3, .. } = &m.entity {
                        if !v.contains(iso3) {
                            v.push(iso3.clone());
                        }
                    }
                }
            }
            v
        };
        let mut imposing: Vec<String> = Vec::new();
        let mut target: Vec<String> = Vec::new();
        let push = |v: &mut Vec<String>, c: &str| {
            if c != "EU" && !v.iter().any(|x| x == c) {
                v.push(c.to_string());
            }
        };
        if MEASURE_TYPES.contains(&et) {
            for &si in &ev_idx {
                let s = &sents[si];
                for m in &s.mentions {
                    match &m.entity {
                        Entity::Org(i)
                            if matches!(
                                g.orgs[*i].kind,
                                OrgKind::Government | OrgKind::Regulator
                            ) =>
                        {
                            if let Some(c) = &g.orgs[*i].country {
                                push(&mut imposing, c);
                            }
                        }
                        Entity::Country { iso3, .. } => {
                            let before = s.folded.get(..m.start).unwrap_or("");
                            let after = s.folded.get(m.end..).unwrap_or("");
                            let r = &g.roles;
                            if r.target_before.iter().any(|t| before.ends_with(t.as_str()))
                                || r.target_after.iter().any(|t| after.starts_with(t.as_str()))
                            {
                                push(&mut target, iso3);
                            } else if r
                                .imposer_after
                                .iter()
                                .any(|t| after.starts_with(t.as_str()))
                            {
                                push(&mut imposing, iso3);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if et == "entity_listing" {
                for &si in &ev_idx {
                    for m in &sents[si].mentions {
                        if let Entity::Org(i) = m.entity {
                            let o = &g.orgs[i];
                            if o.kind == OrgKind::Firm {
                                if let Some(c) = &o.country {
                                    if !imposing.contains(c) {
                                        push(&mut target, c);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // The exporter's home country imposes export measures (ASML's licences are Dutch
            // licences); an investigation, a market-access restriction, a tariff or a state
            // intervention is imposed on the firm by the state that acts, not by its home.
            let export_measure = matches!(
                et,
                "export_control"
                    | "export_control_relaxation"
                    | "licence_revocation"
                    | "licence_grant"
            );
            if imposing.is_empty() && export_measure {
                for &si in &ev_idx {
                    for m in &sents[si].mentions {
                        if let Entity::Org(i) = m.entity {
                            if let Some(c) = &g.orgs[i].country {
                                if !target.contains(c)
                                    && imposing.is_empty()
                                    && et != "entity_listing"
                                {
                                    push(&mut imposing, c);
                                }
                            }
                        }
                    }
                }
            }
            if imposing.is_empty() {
                // A government or regulator named elsewhere in the article (the headline says
                // "Commerce eases curbs", the body names the department).
                for s in sents.iter() {
                    for m in &s.mentions {
                        if let Entity::Org(i) = m.entity {
                            let o = &g.orgs[i];
                            if matches!(o.kind, OrgKind::Government | OrgKind::Regulator)
                                && imposing.is_empty()
                            {
                                if let Some(c) = o.country.as_ref().filter(|c| !target.contains(c))
                                {
                                    push(&mut imposing, c);
                                }
                            }
                        }
                    }
                }
            }
            if imposing.is_empty() {
                if let Some(c) = ev_text_countries(&ev_idx)
                    .into_iter()
                    .find(|c| !target.contains(c))
                {
                    push(&mut imposing, &c);
                }
            }
            target.retain(|c| !imposing.contains(c));
        } else if et == "alliance_agreement" || et == "m_and_a" {
            // Parties: countries named in the title and the evidence, the most frequent ones.
            let mut cands = ev_text_countries(&ev_idx);
            if let Some(t) = sents.first().filter(|s| s.is_title) {
                for m in &t.mentions {
                    if let Entity::Country { iso3, .. } = &m.entity {
                        if !cands.contains(iso3) {
                            cands.push(iso3.clone());
                        }
                    }
                }
            }
            let count = |c: &str| {
                country_count
                    .iter()
                    .find(|(x, _)| x == c)
                    .map_or(0, |x| x.1)
            };
            let max = cands.iter().map(|c| count(c)).max().unwrap_or(0);
            for c in cands {
                if count(&c) * 3 >= max {
                    push(&mut imposing, &c);
                }
            }
        } else if DISRUPTION_TYPES.contains(&et) || et == "shortage" || et == "price_spike" {
            for c in out
                .locations
                .iter()
                .cloned()
                .chain(ev_text_countries(&ev_idx))
            {
                push(&mut target, &c);
            }
        } else if et == "diplomatic_statement" {
            for &si in &ev_idx {
                for m in &sents[si].mentions {
                    if let Entity::Person(i) = m.entity {
                        push(&mut imposing, &g.people[i].country);
                    }
                }
            }
        }
        out.actors = Actors { imposing, target };

        // Organisations and roles.
        let ev_orgs: BTreeSet<usize> = ev_idx
            .iter()
            .flat_map(|&si| sents[si].mentions.iter())
            .filter_map(|m| match m.entity {
                Entity::Org(i) => Some(i),
                _ => None,
            })
            .collect();
        out.organisations = org_seen
            .iter()
            .map(|&i| {
                let o = &g.orgs[i];
                let role = if matches!(
                    o.kind,
                    OrgKind::Government | OrgKind::Regulator | OrgKind::Bloc
                ) {
                    if ev_orgs.contains(&i) {
                        "authority"
                    } else {
                        "mentioned"
                    }
                } else if !ev_orgs.contains(&i) {
                    "mentioned"
                } else if MEASURE_TYPES.contains(&et) {
                    let c = o.country.as_deref().unwrap_or("");
                    if et == "entity_listing" || out.actors.target.iter().any(|t| t == c) {
                        "target"
                    } else {
                        "subject"
                    }
                } else if DISRUPTION_TYPES.contains(&et) || et == "shortage" || et == "price_spike"
                {
                    "affected"
                } else {
                    "party"
                };
                self.org_ref(i, role)
            })
            .collect();

        // A firm implies a country: where no site names the place of a disruption or an
        // expansion, the firms the evidence names stand for it by their home country (a fire at
        // TSMC is in Taiwan unless a site abroad is named, which `locations` keeps apart).
        if (DISRUPTION_TYPES.contains(&et) || et == "capacity_expansion")
            && out.locations.is_empty()
        {
            for &i in &ev_orgs {
                let o = &g.orgs[i];
                if matches!(
                    o.kind,
                    OrgKind::Government | OrgKind::Regulator | OrgKind::Bloc
                ) {
                    continue;
                }
                if let Some(c) = o.country.as_deref().filter(|c| *c != "EU") {
                    if !out.countries.iter().any(|x| x == c) {
                        out.countries.push(c.to_string());
                    }
                    if DISRUPTION_TYPES.contains(&et) && !out.actors.target.iter().any(|x| x == c) {
                        out.actors.target.push(c.to_string());
                    }
                }
            }
        }

        // Status and certainty from the evidence sentences.
        let mut status_found: BTreeSet<&'static str> = BTreeSet::new();
        for &si in &ev_idx {
            for h in &sents[si].hits {
                if let TermOwner::Status(k) = g.terms[h.term].owner {
                    // "revoked" describes a measure being withdrawn; in a licence revocation the
                    // same word is the event itself.
                    if k == "revoked" && et == "licence_revocation" {
                        continue;
                    }
                    status_found.insert(k);
                }
            }
        }
        let status = ["rumoured", "suspended", "revoked", "effective", "announced"]
            .into_iter()
            .find(|k| status_found.contains(k))
            .unwrap_or(def.status.as_str());
        out.status = Some(status.to_string());
        let official = ev_idx.iter().any(|&si| {
            sents[si].mentions.iter().any(|m| {
                matches!(m.entity, Entity::Org(i) if g.orgs[i].kind != OrgKind::Firm)
                    || matches!(m.entity, Entity::Person(_))
            })
        });
        let mut certainty = (score[ei] / (2.0 * MIN_SCORE)).min(1.0) * 0.6 + 0.3;
        if official {
            certainty += 0.1;
        }
        if status == "rumoured" {
            certainty *= 0.6;
        }
        out.certainty = round2(certainty.min(1.0));

        let base = match et {
            "export_control" | "factory_fire" => 0.7,
            "earthquake" => 0.8,
            "licence_revocation" | "entity_listing" | "state_intervention" | "power_outage"
            | "shortage" => 0.6,
            "market_access_restriction" | "extreme_weather" | "strike" | "tariff" => 0.5,
            "price_spike" => 0.4,
            "export_control_relaxation" | "investigation" | "m_and_a" | "licence_grant" => 0.3,
            "capacity_expansion" | "alliance_agreement" => 0.2,
            _ => 0.1,
        };
        let conc = out
            .items
            .iter()
            .filter_map(|i| self.concentration.get(i))
            .fold(None, |m: Option<f64>, &c| Some(m.map_or(c, |m| m.max(c))))
            .unwrap_or(0.5);
        out.severity = round2(base * (0.6 + 0.4 * conc) * out.certainty);

        for &si in &ev_idx {
            let s = sents[si].original;
            for m in self.date_re.find_iter(s) {
                let d = m.as_str().to_string();
                if !out.dates.contains(&d) {
                    out.dates.push(d);
                }
            }
            for m in self.qty_re.find_iter(s) {
                let q = m.as_str().to_string();
                if !out.quantities.contains(&q) {
                    out.quantities.push(q);
                }
            }
        }
        out
    }

    fn org_ref(&self, i: usize, role: &str) -> OrgRef {
        let o = &self.gaz.orgs[i];
        OrgRef {
            name: o.name.clone(),
            provider_id: o.in_model.then(|| o.id.clone()),
            id: o.id.clone(),
            country: o.country.clone(),
            role: role.to_string(),
        }
    }

    fn sentence<'a>(&self, original: &'a str, is_title: bool) -> Sentence<'a> {
        let folded = fold(original);
        let mentions = self.gaz.entities(&folded, original);
        let mut hits = self.gaz.terms(&folded);
        // A trigger inside a longer trigger of another type (inside one of its parts, not in the
        // gap between them) reads as the longer one:
        // "ontnemen ... vrijstelling" (revoked) is not "vrijstelling" (an exemption), "suspends
        // ... export ban" is not an export ban, "輸出管理リスト" is a list, not controls.
        let owner = |h: &TermHit| match self.gaz.terms[h.term].owner {
            TermOwner::Event(e) => Some(e),
            _ => None,
        };
        let nested: Vec<bool> = hits
            .iter()
            .map(|h| {
                owner(h).is_some_and(|e| {
                    hits.iter().any(|o| {
                        let inside_first = o.start <= h.start && h.end <= o.first_end;
                        let inside_last = o.last_start <= h.start && h.end <= o.end;
                        owner(o).is_some_and(|oe| oe != e)
                            && (inside_first || inside_last)
                            && o.end - o.start > h.end - h.start
                    })
                })
            })
            .collect();
        let mut keep = nested.iter().map(|n| !n);
        hits.retain(|_| keep.next().unwrap_or(true));
        // A sentence that reports licences revoked, halted or not renewed names what it ends:
        // "stopped approving licences", "verlengt de algemene vergunning niet meer" are not a
        // grant or an easing.
        let ty = |h: &TermHit| owner(h).map(|e| self.gaz.events[e].event_type);
        if hits.iter().any(|h| ty(h) == Some("licence_revocation")) {
            hits.retain(|h| !matches!(ty(h), Some("licence_grant" | "export_control_relaxation")));
        }
        let anchored = mentions.iter().any(|m| match &m.entity {
            Entity::Anchor | Entity::ChipEquipment | Entity::Items { .. } => true,
            Entity::Org(i) => self.gaz.orgs[*i].kind == OrgKind::Firm,
            _ => false,
        });
        // Bulleted lines are lists of other headlines ("related articles") or of details.
        let bulleted = original.trim_start().starts_with([
            '▶', '▷', '☞', '►', '›', '»', '・', '•', '■', '□', '◆', '◇', '△', '▲',
        ]);
        let background = bulleted || self.background.is_match(&folded);
        Sentence {
            original,
            is_title,
            mentions,
            hits,
            folded,
            anchored,
            background,
        }
    }
}

/// Calendar years (1990-2039) named in a text: four digits not inside a longer number.
fn years(text: &str) -> Vec<u16> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= b.len() {
        let four = &b[i..i + 4];
        let before = i > 0 && b[i - 1].is_ascii_digit();
        let after = i + 4 < b.len() && b[i + 4].is_ascii_digit();
        if !before && !after && four.iter().all(u8::is_ascii_digit) {
            let y = four
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
            if (1990..2040).contains(&y) {
                out.push(y);
            }
            i += 4;
        } else {
            i += 1;
        }
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
