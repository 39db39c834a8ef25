//! The multilingual gazetteer: countries (with the short forms news uses), organisations (every
//! organisation of the model, plus names in other scripts, ministries and regulators), people,
//! items and product models, sites, domain anchors, and the trigger lexicons per event type.
//!
//! The data lives in `data/gazetteer/*.toml` (documented there, with sources) and is embedded
//! with `include_str!`. Everything is matched on the folded text (NFKC, lower case, traditional
//! to simplified; see [`crate::normalize::fold`]) with Aho-Corasick automata: one leftmost-longest
//! automaton for entities (so `荷兰政府` wins over `荷兰`, `north korea` over `korea`), one
//! overlapping automaton for lexicon terms (so `实体清单` and `出口` both count), and a small
//! case-sensitive one for acronyms that are also words (`US`, `ARM`, `TEL`).

use crate::normalize::{fold, is_han};
use crate::MonitorError;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use chipwatch_model::{ProviderType, ValueChain};
use serde::Deserialize;
use std::collections::HashMap;

pub const COUNTRIES_TOML: &str = include_str!("../../../data/gazetteer/countries.toml");
pub const ORGANISATIONS_TOML: &str = include_str!("../../../data/gazetteer/organisations.toml");
pub const PEOPLE_TOML: &str = include_str!("../../../data/gazetteer/people.toml");
pub const ITEMS_TOML: &str = include_str!("../../../data/gazetteer/items.toml");
pub const DOMAIN_TOML: &str = include_str!("../../../data/gazetteer/domain.toml");
pub const TRIGGERS_TOML: &str = include_str!("../../../data/gazetteer/triggers.toml");

/// Model organisation names that are ordinary words: matched case-sensitively only.
const WORDLIKE_NAMES: &[&str] = &[
    "screen",
    "disco",
    "toyo",
    "nova",
    "canon",
    "focus",
    "linde",
    "graco",
    "apple",
    "arm",
    "mirae",
    "raith",
    "hesse",
    "minami",
    "holon",
    "tanaka",
    "sumitomo",
    "dupont",
    "resonac",
    "zeiss",
    "hoson",
    "brooks",
    "dongjin",
    "kangqiang",
    "yesdo",
    "doublink",
    "trinity tech",
];
/// Model item names too generic to match as such (the gazetteer has specific aliases instead).
const GENERIC_ITEM_NAMES: &[&str] = &[
    "testing",
    "deposition",
    "wafer",
    "chip design",
    "substrates",
];

/// Event types of BRIEF 3.6 (without `none`), in a fixed order used for ties.
pub const EVENT_TYPES: &[&str] = &[
    "licence_revocation",
    "licence_grant",
    "entity_listing",
    "export_control_relaxation",
    "export_control",
    "market_access_restriction",
    "investigation",
    "state_intervention",
    "factory_fire",
    "earthquake",
    "power_outage",
    "extreme_weather",
    "strike",
    "shortage",
    "price_spike",
    "tariff",
    "capacity_expansion",
    "alliance_agreement",
    "m_and_a",
    "diplomatic_statement",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountriesFile {
    country: Vec<CountryEntry>,
    #[serde(default)]
    pair: Vec<PairEntry>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryEntry {
    iso3: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    case_aliases: Vec<String>,
    #[serde(default)]
    short: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PairEntry {
    alias: String,
    countries: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgsFile {
    org: Vec<OrgEntry>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgEntry {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    case_aliases: Vec<String>,
    #[serde(default)]
    items: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleFile {
    person: Vec<PersonEntry>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonEntry {
    name: String,
    country: String,
    role: String,
    aliases: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemsFile {
    item: Vec<ItemEntry>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemEntry {
    items: Vec<String>,
    aliases: Vec<String>,
    #[serde(default)]
    org: Option<String>,
    /// What news calls the item, for summaries, when the model's name is a different thing
    /// (the ETO model's "Memory chip design" is where DRAM and HBM reports land: "memory chips").
    #[serde(default)]
    summary_name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainFile {
    anchors: Vec<String>,
    equipment: Vec<String>,
    chip_equipment: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    site: Vec<SiteEntry>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteEntry {
    aliases: Vec<String>,
    country: String,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggersFile {
    event: Vec<EventEntry>,
    negative: NegativeEntry,
    /// Statements that a disruption had no effect on chip output, and drills.
    #[serde(default)]
    no_effect: Option<TermList>,
    /// Statements that output actually stopped (they outweigh a no-effect statement).
    #[serde(default)]
    stoppage: Option<TermList>,
    /// Opposition to another state's measure ("firmly opposes", 坚决反对): in a headline, the
    /// article reports the statement, not the measure.
    #[serde(default)]
    reaction: Option<TermList>,
    /// Opinion, analysis, expert talk and market moves about measures ("Opinion:", "专家：",
    /// "chip stocks slide"): in a headline, the article is not a report of a new measure.
    #[serde(default)]
    commentary: Option<TermList>,
    /// Anniversaries and looking back ("five years after the fire", 26週年): in a headline, the
    /// disruption it names is history, not news.
    #[serde(default)]
    retrospective: Option<TermList>,
    /// Chips that are not semiconductors (crisps, fish and chips, casino chips, wood chips): in a
    /// headline, the article's fire, strike or shortage is not in the chip supply chain.
    #[serde(default)]
    other_chips: Option<TermList>,
    status: HashMap<String, Vec<String>>,
    roles: RolesEntry,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    #[serde(rename = "type")]
    event_type: String,
    weight: f64,
    #[serde(default)]
    polarity: Option<String>,
    status: String,
    terms: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TermList {
    terms: Vec<String>,
}
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NegativeEntry {
    weight: f64,
    terms: Vec<String>,
}
/// Words around a country name that give it a role in a measure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesEntry {
    pub target_before: Vec<String>,
    pub target_after: Vec<String>,
    pub imposer_after: Vec<String>,
}

/// Kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgKind {
    Firm,
    Government,
    Regulator,
    Bloc,
}

/// An organisation the gazetteer knows.
#[derive(Debug, Clone)]
pub struct Org {
    /// Provider id of the model (`P88`) or a gazetteer id (`ext:nl-government`).
    pub id: String,
    pub name: String,
    /// HQ country (ISO alpha-3), or `EU` for the bloc.
    pub country: Option<String>,
    pub kind: OrgKind,
    /// Model item ids the firm is known for (used with generic equipment words).
    pub items: Vec<String>,
    /// Whether `id` is a provider id of the loaded model.
    pub in_model: bool,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub country: String,
    pub role: String,
}

/// What a lexicon term belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermOwner {
    Event(usize),
    Negative,
    /// "Production was not affected", "an earthquake drill".
    NoEffect,
    /// "Production halted", "lines stopped".
    Stoppage,
    /// "Firmly opposes", "강한 불만": a reaction to a measure.
    Reaction,
    /// "Opinion:", "专家：", "stocks slide": commentary on measures, not a report of one.
    Commentary,
    /// "Five years after", "26週年": a look back at an old event.
    Retrospective,
    /// "Chipsfabriek", "fish and chip shops", 籌碼: another kind of chip.
    OtherChips,
    Status(&'static str),
}

/// A lexicon term: one or more parts that must occur in order in one sentence.
#[derive(Debug, Clone)]
pub struct Term {
    pub owner: TermOwner,
    pub parts: Vec<String>,
    pub text: String,
}

/// An event type with its lexicon defaults.
#[derive(Debug, Clone)]
pub struct EventDef {
    pub event_type: &'static str,
    pub weight: f64,
    pub polarity: Option<String>,
    pub status: String,
}

/// What an entity alias refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    Country {
        iso3: String,
        short: bool,
    },
    Org(usize),
    Person(usize),
    /// Model item ids, with the product maker when the alias is a product model.
    Items {
        ids: Vec<String>,
        org: Option<usize>,
    },
    Site {
        country: String,
    },
    Anchor,
    Equipment,
    /// Chip-making equipment in general: an anchor and a machine word at once.
    ChipEquipment,
    /// A span that only looks like an entity (`印度-太平洋` is a region, not India).
    Ignore,
}

/// One match in a folded sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub entity: Entity,
    pub start: usize,
    pub end: usize,
}

/// A lexicon hit (a whole term, all parts found in order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermHit {
    pub term: usize,
    /// Byte offset in the folded sentence of the first part.
    pub start: usize,
    /// Byte offset in the folded sentence after the last part.
    pub end: usize,
    /// End of the first part and start of the last part (`A…B` matches "A ... B": a trigger
    /// inside A or B is part of this one, a trigger in the gap between them is not).
    pub first_end: usize,
    pub last_start: usize,
}

/// The compiled gazetteer.
#[derive(Debug)]
pub struct Gazetteer {
    pub orgs: Vec<Org>,
    pub people: Vec<Person>,
    pub events: Vec<EventDef>,
    pub terms: Vec<Term>,
    pub negative_weight: f64,
    pub roles: RolesEntry,
    entity_ac: AhoCorasick,
    entity_payload: Vec<Vec<Entity>>,
    entity_latin: Vec<bool>,
    case_ac: AhoCorasick,
    case_payload: Vec<Vec<Entity>>,
    term_ac: AhoCorasick,
    /// pattern -> (term, part) pairs.
    term_payload: Vec<Vec<(usize, usize)>>,
    term_latin: Vec<bool>,
    /// Names of model items by id, for display.
    pub item_names: HashMap<String, String>,
    /// English names of the countries by ISO alpha-3 (the first alias, capitalised), for the
    /// English summaries.
    pub country_names: HashMap<String, String>,
    /// Number of organisations that are providers of the model.
    pub model_orgs: usize,
}

fn is_latin_edge(s: &str) -> (bool, bool) {
    let f = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let l = s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    (f, l)
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> Result<T, MonitorError> {
    toml::from_str(text).map_err(|e| MonitorError::Gazetteer {
        file: file.to_string(),
        message: e.to_string(),
    })
}

struct PatternSet<P> {
    index: HashMap<String, usize>,
    patterns: Vec<String>,
    payload: Vec<Vec<P>>,
}

impl<P> Default for PatternSet<P> {
    fn default() -> Self {
        PatternSet {
            index: HashMap::new(),
            patterns: Vec::new(),
            payload: Vec::new(),
        }
    }
}

impl<P: PartialEq> PatternSet<P> {
    fn add(&mut self, pattern: String, p: P) {
        if pattern.trim().is_empty() {
            return;
        }
        let i = *self.index.entry(pattern.clone()).or_insert_with(|| {
            self.patterns.push(pattern);
            self.payload.push(Vec::new());
            self.payload.len() - 1
        });
        if !self.payload[i].contains(&p) {
            self.payload[i].push(p);
        }
    }
}

impl Gazetteer {
    /// Build the gazetteer from the embedded data and the model: model organisations and items
    /// are matched by their model names; ids in the data files that the model lacks are
    /// reported as an error naming the file (a stale gazetteer would link to nothing).
    pub fn new(vc: &ValueChain) -> Result<Gazetteer, MonitorError> {
        let countries: CountriesFile = parse(COUNTRIES_TOML, "countries.toml")?;
        let orgs_file: OrgsFile = parse(ORGANISATIONS_TOML, "organisations.toml")?;
        let people_file: PeopleFile = parse(PEOPLE_TOML, "people.toml")?;
        let items_file: ItemsFile = parse(ITEMS_TOML, "items.toml")?;
        let domain: DomainFile = parse(DOMAIN_TOML, "domain.toml")?;
        let triggers: TriggersFile = parse(TRIGGERS_TOML, "triggers.toml")?;

        let mut ents: PatternSet<Entity> = PatternSet::default();
        let mut case: PatternSet<Entity> = PatternSet::default();

        let mut country_names = HashMap::new();
        for c in &countries.country {
            if let Some(first) = c.aliases.first() {
                let name: Vec<String> = first
                    .split(' ')
                    .map(|w| match w {
                        "of" | "the" | "and" => w.to_string(),
                        _ => {
                            let mut cs = w.chars();
                            cs.next()
                                .map(|f| f.to_uppercase().chain(cs).collect())
                                .unwrap_or_default()
                        }
                    })
                    .collect();
                country_names.insert(c.iso3.clone(), name.join(" "));
            }
            for a in &c.aliases {
                ents.add(
                    fold(a),
                    Entity::Country {
                        iso3: c.iso3.clone(),
                        short: false,
                    },
                );
            }
            for a in &c.case_aliases {
                case.add(
                    a.clone(),
                    Entity::Country {
                        iso3: c.iso3.clone(),
                        short: false,
                    },
                );
            }
            for a in &c.short {
                ents.add(
                    fold(a),
                    Entity::Country {
                        iso3: c.iso3.clone(),
                        short: true,
                    },
                );
            }
        }
        for p in &countries.pair {
            for iso in &p.countries {
                ents.add(
                    fold(&p.alias),
                    Entity::Country {
                        iso3: iso.clone(),
                        short: false,
                    },
                );
            }
        }

        // Organisations: model ones first (index = order), then gazetteer extras.
        let mut orgs: Vec<Org> = Vec::new();
        let mut org_index: HashMap<String, usize> = HashMap::new();
        let mut model_orgs = 0;
        for (_, p) in vc.providers() {
            if p.provider_type != ProviderType::Organisation {
                continue;
            }
            let i = orgs.len();
            orgs.push(Org {
                id: p.id.clone(),
                name: p.name.clone(),
                country: p.country.clone(),
                kind: OrgKind::Firm,
                items: Vec::new(),
                in_model: true,
            });
            org_index.insert(p.id.clone(), i);
            model_orgs += 1;
            for name in std::iter::once(&p.name).chain(p.aliases.iter()) {
                let f = fold(name);
                if name.chars().count() <= 4 || WORDLIKE_NAMES.contains(&f.as_str()) {
                    case.add(name.trim().to_string(), Entity::Org(i));
                } else {
                    ents.add(f, Entity::Org(i));
                }
            }
        }
        for o in &orgs_file.org {
            let i = match org_index.get(&o.id) {
                Some(&i) => i,
                None if o.id.starts_with("ext:") => {
                    let kind = match o.kind.as_deref() {
                        Some("government") => OrgKind::Government,
                        Some("regulator") => OrgKind::Regulator,
                        Some("bloc") => OrgKind::Bloc,
                        _ => OrgKind::Firm,
                    };
                    orgs.push(Org {
                        id: o.id.clone(),
                        name: o.name.clone().unwrap_or_else(|| o.id.clone()),
                        country: o.country.clone(),
                        kind,
                        items: Vec::new(),
                        in_model: false,
                    });
                    org_index.insert(o.id.clone(), orgs.len() - 1);
                    orgs.len() - 1
                }
                // A provider id the (user's) model does not have: skip it quietly, the model
                // decides what can be linked.
                None => continue,
            };
            orgs[i].items.extend(
                o.items
                    .iter()
                    .filter(|id| vc.item_idx(id).is_some())
                    .cloned(),
            );
            for a in &o.aliases {
                ents.add(fold(a), Entity::Org(i));
            }
            for a in &o.case_aliases {
                case.add(a.clone(), Entity::Org(i));
            }
        }

        let people: Vec<Person> = people_file
            .person
            .iter()
            .map(|p| Person {
                name: p.name.clone(),
                country: p.country.clone(),
                role: p.role.clone(),
            })
            .collect();
        for (i, p) in people_file.person.iter().enumerate() {
            for a in &p.aliases {
                ents.add(fold(a), Entity::Person(i));
            }
        }

        let mut item_names = HashMap::new();
        for (_, it) in vc.items() {
            item_names.insert(it.id.clone(), it.name.clone());
            let f = fold(&it.name);
            if (f.contains(' ') || f.len() >= 12) && !GENERIC_ITEM_NAMES.contains(&f.as_str()) {
                ents.add(
                    f,
                    Entity::Items {
                        ids: vec![it.id.clone()],
                        org: None,
                    },
                );
            }
        }
        for it in &items_file.item {
            if let (Some(n), [id]) = (&it.summary_name, it.items.as_slice()) {
                item_names.insert(id.clone(), n.clone());
            }
        }
        for it in &items_file.item {
            let ids: Vec<String> = it
                .items
                .iter()
                .filter(|id| vc.item_idx(id).is_some())
                .cloned()
                .collect();
            if ids.is_empty() {
                continue;
            }
            let org = it.org.as_ref().and_then(|o| org_index.get(o).copied());
            for a in &it.aliases {
                ents.add(
                    fold(a),
                    Entity::Items {
                        ids: ids.clone(),
                        org,
                    },
                );
            }
        }
        for a in &domain.anchors {
            ents.add(fold(a), Entity::Anchor);
        }
        for a in &domain.equipment {
            ents.add(fold(a), Entity::Equipment);
        }
        for a in &domain.ignore {
            ents.add(fold(a), Entity::Ignore);
        }
        for a in &domain.chip_equipment {
            ents.add(fold(a), Entity::ChipEquipment);
        }
        for s in &domain.site {
            for a in &s.aliases {
                ents.add(
                    fold(a),
                    Entity::Site {
                        country: s.country.clone(),
                    },
                );
            }
        }

        // Lexicon terms.
        let mut events = Vec::new();
        let mut terms = Vec::new();
        for e in &triggers.event {
            let Some(&et) = EVENT_TYPES.iter().find(|t| **t == e.event_type) else {
                return Err(MonitorError::Gazetteer {
                    file: "triggers.toml".into(),
                    message: format!("unknown event type `{}`", e.event_type),
                });
            };
            let ei = events.len();
            events.push(EventDef {
                event_type: et,
                weight: e.weight,
                polarity: e.polarity.clone(),
                status: e.status.clone(),
            });
            for t in &e.terms {
                terms.push(make_term(TermOwner::Event(ei), t));
            }
        }
        for t in &triggers.negative.terms {
            terms.push(make_term(TermOwner::Negative, t));
        }
        for t in triggers.no_effect.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::NoEffect, t));
        }
        for t in triggers.stoppage.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::Stoppage, t));
        }
        for t in triggers.reaction.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::Reaction, t));
        }
        for t in triggers.commentary.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::Commentary, t));
        }
        for t in triggers.retrospective.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::Retrospective, t));
        }
        for t in triggers.other_chips.iter().flat_map(|l| &l.terms) {
            terms.push(make_term(TermOwner::OtherChips, t));
        }
        for (kind, list) in &triggers.status {
            let k: &'static str = match kind.as_str() {
                "rumoured" => "rumoured",
                "suspended" => "suspended",
                "effective" => "effective",
                "revoked" => "revoked",
                "announced" => "announced",
                other => {
                    return Err(MonitorError::Gazetteer {
                        file: "triggers.toml".into(),
                        message: format!("unknown status `{other}`"),
                    })
                }
            };
            for t in list {
                terms.push(make_term(TermOwner::Status(k), t));
            }
        }
        let mut tset: PatternSet<(usize, usize)> = PatternSet::default();
        for (ti, t) in terms.iter().enumerate() {
            for (pi, p) in t.parts.iter().enumerate() {
                tset.add(p.clone(), (ti, pi));
            }
        }

        // Role markers are compared with folded text: fold them once here, keeping the
        // spaces that delimit words (`to `, ` customers`).
        let mut roles = triggers.roles;
        for list in [
            &mut roles.target_before,
            &mut roles.target_after,
            &mut roles.imposer_after,
        ] {
            for m in list.iter_mut() {
                *m = fold_keep_space(m);
            }
        }
        let build = |pats: &[String], kind: MatchKind| {
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .build(pats)
                .map_err(|e| MonitorError::Gazetteer {
                    file: "<all>".into(),
                    message: e.to_string(),
                })
        };
        let entity_ac = build(&ents.patterns, MatchKind::LeftmostLongest)?;
        let case_ac = build(&case.patterns, MatchKind::LeftmostLongest)?;
        let term_ac = build(&tset.patterns, MatchKind::Standard)?;
        let entity_latin = ents
            .patterns
            .iter()
            .map(|p| is_latin_edge(p) != (false, false))
            .collect();
        let term_latin = tset.patterns.iter().map(|p| is_latin_edge(p).0).collect();
        Ok(Gazetteer {
            orgs,
            people,
            events,
            terms,
            negative_weight: triggers.negative.weight,
            roles,
            entity_ac,
            entity_payload: ents.payload,
            entity_latin,
            case_ac,
            case_payload: case.payload,
            term_ac,
            term_payload: tset.payload,
            term_latin,
            item_names,
            country_names,
            model_orgs,
        })
    }

    /// Entity mentions in one sentence: `folded` is `fold(original)`, `nfkc` the original (case
    /// kept) for acronyms. Offsets of case-sensitive matches refer to `nfkc`.
    pub fn entities(&self, folded: &str, original: &str) -> Vec<Mention> {
        let mut out = Vec::new();
        let fb = folded.as_bytes();
        for m in self.entity_ac.find_iter(folded) {
            let (s, e) = (m.start(), m.end());
            let pid = m.pattern().as_usize();
            if self.entity_latin[pid] && !latin_bounded(fb, s, e) {
                continue;
            }
            for ent in &self.entity_payload[pid] {
                if let Entity::Country { short: true, .. } = ent {
                    // One-character forms only stand alone (美/中, 美 상무부), never inside a word.
                    let before = folded[..s].chars().next_back();
                    let after = folded[e..].chars().next();
                    // Nor next to kana, hangul or digits: `12日` and `この日` are days.
                    let glued = |c: char| {
                        is_han(c)
                            || c.is_ascii_digit()
                            || ('\u{3040}'..='\u{30ff}').contains(&c)
                            || ('\u{ac00}'..='\u{d7af}').contains(&c)
                    };
                    if before.is_some_and(glued) || after.is_some_and(glued) {
                        continue;
                    }
                }
                out.push(Mention {
                    entity: ent.clone(),
                    start: s,
                    end: e,
                });
            }
        }
        if original.bytes().any(|b| b.is_ascii_uppercase()) {
            let ob = original.as_bytes();
            for m in self.case_ac.find_iter(original) {
                let (s, e) = (m.start(), m.end());
                if !latin_bounded(ob, s, e) {
                    continue;
                }
                // Offsets into the folded text: identical for ASCII sentences; otherwise the
                // folded acronym is looked up there (folding can change byte lengths).
                let (fs, fe) = if original.len() == folded.len() && original.is_ascii() {
                    (s, e)
                } else {
                    let needle = fold(&original[s..e]);
                    match folded.find(&needle) {
                        Some(p) => (p, p + needle.len()),
                        None => (0, 0),
                    }
                };
                for ent in &self.case_payload[m.pattern().as_usize()] {
                    out.push(Mention {
                        entity: ent.clone(),
                        start: fs,
                        end: fe,
                    });
                }
            }
        }
        out
    }

    /// Lexicon terms found in a folded sentence (all parts present, in order).
    pub fn terms(&self, folded: &str) -> Vec<TermHit> {
        // Earliest start and latest start of each part per term.
        let fb = folded.as_bytes();
        let mut found: HashMap<usize, Vec<(usize, usize)>> = HashMap::new(); // term -> (part, start)
        for m in self.term_ac.find_overlapping_iter(folded) {
            let pid = m.pattern().as_usize();
            if self.term_latin[pid] && m.start() > 0 && fb[m.start() - 1].is_ascii_alphanumeric() {
                continue;
            }
            for &(t, p) in &self.term_payload[pid] {
                found.entry(t).or_default().push((p, m.start()));
            }
        }
        let mut hits = Vec::new();
        for (t, parts) in found {
            let n = self.terms[t].parts.len();
            // Greedy in-order check: each next part must start after the previous one.
            let mut pos = 0usize;
            let mut first = None;
            let (mut first_end, mut last_start) = (0usize, 0usize);
            let mut ok = true;
            for p in 0..n {
                let next = parts
                    .iter()
                    .filter(|(pp, s)| *pp == p && *s >= pos)
                    .map(|(_, s)| *s)
                    .min();
                match next {
                    Some(s) => {
                        first.get_or_insert(s);
                        pos = s + self.terms[t].parts[p].len();
                        if p == 0 {
                            first_end = pos;
                        }
                        last_start = s;
                    }
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                hits.push(TermHit {
                    term: t,
                    start: first.unwrap_or(0),
                    end: pos,
                    first_end,
                    last_start,
                });
            }
        }
        hits.sort_by_key(|h| (h.start, h.term));
        hits
    }
}

/// Fold a marker but keep its leading/trailing space.
fn fold_keep_space(s: &str) -> String {
    let mut f = fold(s);
    if s.starts_with(' ') {
        f.insert(0, ' ');
    }
    if s.ends_with(' ') {
        f.push(' ');
    }
    f
}

fn make_term(owner: TermOwner, t: &str) -> Term {
    let parts: Vec<String> = t.split('…').map(fold).filter(|p| !p.is_empty()).collect();
    Term {
        owner,
        parts,
        text: t.to_string(),
    }
}

/// Latin-script aliases need word boundaries (`korea` not in `koreatown`); a plural or
/// possessive `s` after the alias is allowed.
fn latin_bounded(b: &[u8], s: usize, e: usize) -> bool {
    let left = s == 0 || !b[s - 1].is_ascii_alphanumeric();
    let right = e >= b.len()
        || !b[e].is_ascii_alphanumeric()
        || (b[e] == b's' && (e + 1 >= b.len() || !b[e + 1].is_ascii_alphanumeric()));
    left && right
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaz() -> Gazetteer {
        Gazetteer::new(&chipwatch_data::default_model()).unwrap()
    }

    fn countries(g: &Gazetteer, s: &str) -> Vec<String> {
        g.entities(&fold(s), s)
            .into_iter()
            .filter_map(|m| match m.entity {
                Entity::Country { iso3, .. } => Some(iso3),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_model_org_is_known() {
        let g = gaz();
        let vc = chipwatch_data::default_model();
        let n = vc
            .providers()
            .filter(|(_, p)| p.provider_type == ProviderType::Organisation)
            .count();
        assert_eq!(g.model_orgs, n);
        assert!(n > 300);
    }

    #[test]
    fn country_short_forms() {
        let g = gaz();
        assert_eq!(countries(&g, "韩荷两国发表联合声明"), vec!["KOR", "NLD"]);
        assert_eq!(countries(&g, "美方表示"), vec!["USA"]);
        assert_eq!(countries(&g, "中方回应"), vec!["CHN"]);
        assert_eq!(countries(&g, "美/中 반도체 갈등"), vec!["USA", "CHN"]);
        assert_eq!(countries(&g, "米国と南韓"), vec!["USA", "KOR"]);
        // `美` inside a word is not the US, `中` inside 中心 is not China.
        assert!(countries(&g, "美丽的中心").is_empty());
        assert_eq!(
            countries(&g, "North Korea and South Korea"),
            vec!["PRK", "KOR"]
        );
        assert_eq!(
            countries(&g, "The US and the U.S. bar us"),
            vec!["USA", "USA"]
        );
        assert!(countries(&g, "Koreatown").is_empty());
    }

    #[test]
    fn aliases_in_all_scripts_link_to_asml_and_lithography() {
        let g = gaz();
        for s in ["ASML", "阿斯麦", "艾司摩爾", "阿斯麥", "asml은"] {
            let m = g.entities(&fold(s), s);
            assert!(
                m.iter()
                    .any(|m| matches!(&m.entity, Entity::Org(i) if g.orgs[*i].id == "P88")),
                "{s}: {m:?}"
            );
        }
        for s in [
            "光刻机",
            "曝光機",
            "노광장비",
            "露光装置",
            "lithography machines",
            "NXT:2050i",
            "ＮＸＴ：２０５０ｉ",
        ] {
            let m = g.entities(&fold(s), s);
            assert!(
                m.iter().any(|m| matches!(&m.entity, Entity::Items { ids, .. } if ids.iter().any(|i| i == "N19" || i == "N22"))),
                "{s}: {m:?}"
            );
        }
        for (s, id) in [
            ("H20", "N2"),
            ("镓", "N126"),
            ("锗", "N126"),
            ("光刻胶", "N31"),
            ("불화수소", "N92"),
        ] {
            let m = g.entities(&fold(s), s);
            assert!(
                m.iter().any(|m| matches!(&m.entity, Entity::Items { ids, .. } if ids.iter().any(|i| i == id))),
                "{s}: {m:?}"
            );
        }
    }

    #[test]
    fn gapped_terms() {
        let g = gaz();
        let s = fold("荷兰政府吊销了其部分尖端芯片制造机的运输许可证");
        let hits = g.terms(&s);
        assert!(hits.iter().any(|h| g.terms[h.term].owner
            == TermOwner::Event(
                g.events
                    .iter()
                    .position(|e| e.event_type == "licence_revocation")
                    .unwrap()
            )));
        // Out of order does not match.
        let s = fold("许可证被吊销");
        assert!(!g
            .terms(&s)
            .iter()
            .any(|h| g.terms[h.term].text == "吊销…许可"));
    }
}
