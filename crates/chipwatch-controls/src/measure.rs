//! The measure format (one TOML file per legal instrument and version, see `docs/controls.md`)
//! and its compiled form. Parsing happens in two steps: serde reads the raw file (so unknown keys
//! and wrong types are reported with line and column), then [`compile`] checks the semantics
//! (dates, operators, outcomes, formulas) and names the offending field, e.g.
//! `data/controls/eu-3b001.toml: field `rule[1].outcome`: unknown outcome `licensed``.

use crate::date::Date;
use crate::expr::Expr;
use crate::value::Value;
use crate::ControlsError;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Raw file layout (what serde reads).

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub measure: Option<RawMeasure>,
    #[serde(default)]
    pub formula: Vec<RawFormula>,
    pub item: Option<RawCond>,
    pub reach: Option<RawReach>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
    #[serde(default)]
    pub coverage: Vec<RawCoverage>,
    #[serde(default)]
    pub group: Vec<RawGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeasure {
    pub id: String,
    pub version: String,
    pub jurisdiction: String,
    pub authority: String,
    pub instrument: String,
    pub citation: String,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    pub in_force_from: String,
    #[serde(default)]
    pub in_force_until: Option<String>,
    #[serde(default)]
    pub replaced_by: Option<String>,
    #[serde(default)]
    pub suspended: Vec<RawSuspension>,
    #[serde(default)]
    pub grandfathering: Option<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub approximations: Vec<String>,
    #[serde(default)]
    pub gaps: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSuspension {
    pub from: String,
    pub until: String,
    pub instrument: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFormula {
    pub name: String,
    pub expr: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCond {
    #[serde(default)]
    pub all: Option<Vec<RawCond>>,
    #[serde(default)]
    pub any: Option<Vec<RawCond>>,
    #[serde(default)]
    pub not: Option<Box<RawCond>>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub value: Option<toml::Value>,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDest {
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub outside: Option<String>,
    #[serde(default)]
    pub except_countries: Vec<String>,
    #[serde(default)]
    pub except_groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReach {
    #[serde(default)]
    pub exporters: Option<RawDest>,
    #[serde(default)]
    pub origins: Vec<String>,
    #[serde(default)]
    pub de_minimis_pct: Option<f64>,
    #[serde(default)]
    pub de_minimis_param: Option<String>,
    #[serde(default)]
    pub fdp_param: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub destinations: Option<RawDest>,
    #[serde(default)]
    pub end_user_lists: Vec<String>,
    #[serde(default)]
    pub end_user_entries: Vec<String>,
    #[serde(default)]
    pub end_uses: Vec<String>,
    #[serde(default)]
    pub when: Option<RawCond>,
    pub outcome: String,
    #[serde(default)]
    pub review_policy: Option<String>,
    #[serde(default)]
    pub authorisation: Option<String>,
    #[serde(default)]
    pub suspended: Vec<RawSuspension>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCoverage {
    pub item: String,
    #[serde(default)]
    pub from: Vec<String>,
    pub fraction: f64,
    pub assumption: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub id: String,
    pub name: String,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub members: Vec<RawMember>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMember {
    pub country: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Compiled form.

/// Outcome of a measure for one shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    NotRequired,
    GeneralAuthorisation,
    ExceptionWithNotification,
    /// The engine could not decide: a measure could catch the item but a value it needs is
    /// missing, or the jurisdiction's measures are not encoded. Never a rule's outcome in data.
    Undetermined,
    LicenceRequired,
    Prohibited,
}

impl OutcomeKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "not_required" => Self::NotRequired,
            "general_authorisation" => Self::GeneralAuthorisation,
            "exception_with_notification" => Self::ExceptionWithNotification,
            "licence_required" => Self::LicenceRequired,
            "prohibited" => Self::Prohibited,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRequired => "not_required",
            Self::GeneralAuthorisation => "general_authorisation",
            Self::ExceptionWithNotification => "exception_with_notification",
            Self::Undetermined => "undetermined",
            Self::LicenceRequired => "licence_required",
            Self::Prohibited => "prohibited",
        }
    }
}

/// How a licence application is reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    PresumptionOfApproval,
    CaseByCase,
    PerApplication,
    PresumptionOfDenial,
}

impl ReviewPolicy {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "presumption_of_approval" => Self::PresumptionOfApproval,
            "case_by_case" => Self::CaseByCase,
            "per_application" => Self::PerApplication,
            "presumption_of_denial" => Self::PresumptionOfDenial,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PresumptionOfApproval => "presumption_of_approval",
            Self::CaseByCase => "case_by_case",
            Self::PerApplication => "per_application",
            Self::PresumptionOfDenial => "presumption_of_denial",
        }
    }
}

/// Review policy of a rule: fixed, or taken from the restricted-party entry that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySource {
    Fixed(ReviewPolicy),
    FromList,
}

/// A period during which a measure (or one of its rules) does not apply; both ends inclusive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suspension {
    pub from: Date,
    pub until: Date,
    pub instrument: String,
}

/// A derived parameter.
#[derive(Debug, Clone)]
pub struct Formula {
    pub name: String,
    pub expr: Expr,
    pub text: String,
    pub unit: Option<String>,
    pub description: Option<String>,
    pub file: String,
}

/// Comparison operator of a predicate leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    In,
    NotIn,
    Prefix,
}

impl CmpOp {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            "==" => Self::Eq,
            "!=" => Self::Ne,
            "in" => Self::In,
            "not_in" => Self::NotIn,
            "prefix" => Self::Prefix,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::In => "in",
            Self::NotIn => "not in",
            Self::Prefix => "starts with",
        }
    }
}

/// A predicate over item parameters.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Vec<Cond>, Option<String>),
    Any(Vec<Cond>, Option<String>),
    Not(Box<Cond>, Option<String>),
    Cmp {
        param: String,
        op: CmpOp,
        values: Vec<Value>,
        label: Option<String>,
    },
}

impl Cond {
    /// Parameter names the predicate reads.
    pub fn params(&self, out: &mut Vec<String>) {
        match self {
            Cond::All(v, _) | Cond::Any(v, _) => v.iter().for_each(|c| c.params(out)),
            Cond::Not(c, _) => c.params(out),
            Cond::Cmp { param, .. } => out.push(param.clone()),
        }
    }
}

/// A set of countries: all, a list, groups (with dated membership), everything outside a group
/// (a customs union), minus exceptions.
#[derive(Debug, Clone, Default)]
pub struct Dest {
    pub all: bool,
    pub countries: Vec<String>,
    pub groups: Vec<String>,
    pub outside: Option<String>,
    pub except_countries: Vec<String>,
    pub except_groups: Vec<String>,
}

impl Dest {
    /// Short description for explanations.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.all {
            parts.push("all destinations".to_string());
        }
        if let Some(o) = &self.outside {
            parts.push(format!("outside {o}"));
        }
        if !self.countries.is_empty() {
            parts.push(self.countries.join(", "));
        }
        if !self.groups.is_empty() {
            parts.push(format!("groups {}", self.groups.join(", ")));
        }
        let mut s = parts.join("; ");
        if !self.except_countries.is_empty() || !self.except_groups.is_empty() {
            let ex: Vec<&str> = self
                .except_countries
                .iter()
                .chain(&self.except_groups)
                .map(String::as_str)
                .collect();
            s.push_str(&format!(" except {}", ex.join(", ")));
        }
        s
    }
}

/// Which exports a jurisdiction reaches: from its territory, of its origin, above a de minimis
/// share of its content, or as the direct product of its technology.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub exporters: Option<Dest>,
    pub origins: Vec<String>,
    pub de_minimis_pct: Option<f64>,
    pub de_minimis_param: String,
    pub fdp_param: Option<String>,
    pub note: Option<String>,
}

/// One line of the outcome table of a measure; the first rule that matches decides.
#[derive(Debug, Clone)]
pub struct Rule {
    pub label: Option<String>,
    pub destinations: Dest,
    pub end_user_lists: Vec<String>,
    /// Entry names (as in the list) the rule is limited to; empty = any entry of the lists.
    /// For entries whose listing states item-specific review policies (SMIC: 10 nm and below).
    pub end_user_entries: Vec<String>,
    pub end_uses: Vec<String>,
    pub when: Option<Cond>,
    pub outcome: OutcomeKind,
    pub review_policy: Option<PolicySource>,
    pub authorisation: Option<String>,
    pub suspensions: Vec<Suspension>,
    pub note: Option<String>,
}

/// How much of a value-chain item a measure covers (a documented assumption).
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub item: String,
    /// Provider countries whose exports of the item the measure catches; empty = the countries
    /// the measure's exporters reach (its own territory).
    pub from: Vec<String>,
    pub fraction: f64,
    pub assumption: String,
}

/// One version of one measure, as in force from `in_force_from`.
#[derive(Debug, Clone)]
pub struct Measure {
    pub id: String,
    pub version: String,
    pub jurisdiction: String,
    pub authority: String,
    pub instrument: String,
    pub citation: String,
    pub title: String,
    pub url: Option<String>,
    pub in_force_from: Date,
    pub in_force_until: Option<Date>,
    pub replaced_by: Option<String>,
    pub suspensions: Vec<Suspension>,
    pub grandfathering: Option<String>,
    pub notes: Vec<String>,
    pub approximations: Vec<String>,
    /// Parts of the instrument chipwatch does not model (machine-readable, one per entry): a
    /// verdict under this measure says so in its explanation, so a reader knows where the
    /// answer stops being the instrument's.
    pub gaps: Vec<String>,
    pub reach: Reach,
    pub item: Option<Cond>,
    pub rules: Vec<Rule>,
    pub coverage: Vec<Coverage>,
    pub file: String,
}

/// A country group with dated membership.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub source: String,
    pub note: Option<String>,
    pub members: Vec<Member>,
    pub file: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub country: String,
    pub from: Option<Date>,
    pub until: Option<Date>,
}

impl Group {
    /// Whether `country` is a member on `date` (both membership ends inclusive).
    pub fn contains(&self, country: &str, date: Date) -> bool {
        self.members.iter().any(|m| {
            m.country == country
                && m.from.is_none_or(|f| f <= date)
                && m.until.is_none_or(|u| date <= u)
        })
    }
    /// Members on `date`.
    pub fn members_on(&self, date: Date) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .members
            .iter()
            .filter(|m| m.from.is_none_or(|f| f <= date) && m.until.is_none_or(|u| date <= u))
            .map(|m| m.country.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// What one data file holds.
#[derive(Debug, Default)]
pub struct Compiled {
    pub measure: Option<Measure>,
    pub formulas: Vec<Formula>,
    pub groups: Vec<Group>,
}

// ---------------------------------------------------------------------------------------------
// Compilation with field paths in errors.

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ControlsError {
        ControlsError::Field {
            file: self.file.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
    fn date(&self, field: &str, s: &str) -> Result<Date, ControlsError> {
        Date::parse(s).map_err(|m| self.err(field, m))
    }
    fn country(&self, field: &str, s: &str) -> Result<String, ControlsError> {
        crate::normalise_country(s).ok_or_else(|| {
            self.err(
                field,
                format!("`{s}` is not an ISO 3166-1 alpha-3 country code"),
            )
        })
    }
    fn non_empty(&self, field: &str, s: &str) -> Result<(), ControlsError> {
        if s.trim().is_empty() {
            return Err(self.err(field, "must not be empty"));
        }
        Ok(())
    }
}

/// Parse and check one data file (a measure version, or country groups).
pub fn compile(text: &str, file: &str) -> Result<Compiled, ControlsError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ControlsError::Toml {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let cx = Ctx { file };
    let mut out = Compiled::default();
    for (i, g) in raw.group.into_iter().enumerate() {
        out.groups.push(compile_group(&cx, i, g)?);
    }
    for (i, f) in raw.formula.into_iter().enumerate() {
        let field = format!("formula[{i}]");
        if !is_ident(&f.name) {
            return Err(cx.err(
                format!("{field}.name"),
                format!("`{}` is not a parameter name (letters, digits, _)", f.name),
            ));
        }
        let expr =
            Expr::parse(&f.expr).map_err(|e| cx.err(format!("{field}.expr"), e.to_string()))?;
        if expr.variables().contains(&f.name) {
            return Err(cx.err(format!("{field}.expr"), "formula refers to itself"));
        }
        out.formulas.push(Formula {
            name: f.name,
            expr,
            text: f.expr,
            unit: f.unit,
            description: f.description,
            file: file.to_string(),
        });
    }
    let Some(m) = raw.measure else {
        if raw.item.is_some() || !raw.rule.is_empty() || raw.reach.is_some() {
            return Err(cx.err("measure", "missing [measure] table"));
        }
        if out.groups.is_empty() && out.formulas.is_empty() {
            return Err(cx.err(
                "measure",
                "the file has neither a [measure] table nor [[group]] entries",
            ));
        }
        return Ok(out);
    };
    for (f, v) in [
        ("measure.id", &m.id),
        ("measure.version", &m.version),
        ("measure.jurisdiction", &m.jurisdiction),
        ("measure.instrument", &m.instrument),
        ("measure.citation", &m.citation),
        ("measure.title", &m.title),
        ("measure.authority", &m.authority),
    ] {
        cx.non_empty(f, v)?;
    }
    for (i, g) in m.gaps.iter().enumerate() {
        cx.non_empty(&format!("measure.gaps[{i}]"), g)?;
    }
    let in_force_from = cx.date("measure.in_force_from", &m.in_force_from)?;
    let in_force_until = m
        .in_force_until
        .as_deref()
        .map(|s| cx.date("measure.in_force_until", s))
        .transpose()?;
    if let Some(u) = in_force_until {
        if u < in_force_from {
            return Err(cx.err(
                "measure.in_force_until",
                format!("{u} is before in_force_from {in_force_from}"),
            ));
        }
    }
    let suspensions = compile_suspensions(&cx, "measure.suspended", m.suspended)?;
    let reach = match raw.reach {
        None => return Err(cx.err("reach", "missing [reach] table (who the measure reaches)")),
        Some(r) => {
            let exporters = r
                .exporters
                .map(|d| compile_dest(&cx, "reach.exporters", d))
                .transpose()?;
            let origins = r
                .origins
                .iter()
                .enumerate()
                .map(|(i, c)| cx.country(&format!("reach.origins[{i}]"), c))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(p) = r.de_minimis_pct {
                if !(0.0..=100.0).contains(&p) {
                    return Err(cx.err("reach.de_minimis_pct", "must be a percentage 0..=100"));
                }
            }
            if exporters.is_none()
                && origins.is_empty()
                && r.de_minimis_pct.is_none()
                && r.fdp_param.is_none()
            {
                return Err(cx.err(
                    "reach",
                    "reaches nothing: give exporters, origins, de_minimis_pct or fdp_param",
                ));
            }
            Reach {
                exporters,
                origins,
                de_minimis_pct: r.de_minimis_pct,
                de_minimis_param: r
                    .de_minimis_param
                    .unwrap_or_else(|| "us_content_pct".to_string()),
                fdp_param: r.fdp_param,
                note: r.note,
            }
        }
    };
    let item = raw
        .item
        .map(|c| compile_cond(&cx, "item", c, 0))
        .transpose()?;
    if raw.rule.is_empty() {
        return Err(cx.err("rule", "a measure needs at least one [[rule]]"));
    }
    let mut rules = Vec::new();
    for (i, r) in raw.rule.into_iter().enumerate() {
        rules.push(compile_rule(&cx, i, r)?);
    }
    let mut coverage = Vec::new();
    for (i, c) in raw.coverage.into_iter().enumerate() {
        if !(0.0..=1.0).contains(&c.fraction) || c.fraction.is_nan() {
            return Err(cx.err(
                format!("coverage[{i}].fraction"),
                format!("{} is not a fraction between 0 and 1", c.fraction),
            ));
        }
        cx.non_empty(&format!("coverage[{i}].assumption"), &c.assumption)?;
        let from = c
            .from
            .iter()
            .enumerate()
            .map(|(j, x)| cx.country(&format!("coverage[{i}].from[{j}]"), x))
            .collect::<Result<Vec<_>, _>>()?;
        coverage.push(Coverage {
            item: c.item,
            from,
            fraction: c.fraction,
            assumption: c.assumption,
        });
    }
    out.measure = Some(Measure {
        id: m.id,
        version: m.version,
        jurisdiction: m.jurisdiction,
        authority: m.authority,
        instrument: m.instrument,
        citation: m.citation,
        title: m.title,
        url: m.url,
        in_force_from,
        in_force_until,
        replaced_by: m.replaced_by,
        suspensions,
        grandfathering: m.grandfathering,
        notes: m.notes,
        approximations: m.approximations,
        gaps: m.gaps,
        reach,
        item,
        rules,
        coverage,
        file: file.to_string(),
    });
    Ok(out)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn compile_group(cx: &Ctx, i: usize, g: RawGroup) -> Result<Group, ControlsError> {
    let field = format!("group[{i}]");
    cx.non_empty(&format!("{field}.id"), &g.id)?;
    cx.non_empty(&format!("{field}.source"), &g.source)?;
    let mut members = Vec::new();
    for (j, m) in g.members.into_iter().enumerate() {
        let f = format!("{field}.members[{j}]");
        let country = cx.country(&format!("{f}.country"), &m.country)?;
        let from = m
            .from
            .as_deref()
            .map(|s| cx.date(&format!("{f}.from"), s))
            .transpose()?;
        let until = m
            .until
            .as_deref()
            .map(|s| cx.date(&format!("{f}.until"), s))
            .transpose()?;
        if let (Some(a), Some(b)) = (from, until) {
            if b < a {
                return Err(cx.err(format!("{f}.until"), format!("{b} is before {a}")));
            }
        }
        members.push(Member {
            country,
            from,
            until,
        });
    }
    Ok(Group {
        id: g.id,
        name: g.name,
        source: g.source,
        note: g.note,
        members,
        file: cx.file.to_string(),
    })
}

fn compile_suspensions(
    cx: &Ctx,
    field: &str,
    raw: Vec<RawSuspension>,
) -> Result<Vec<Suspension>, ControlsError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let f = format!("{field}[{i}]");
            let from = cx.date(&format!("{f}.from"), &s.from)?;
            let until = cx.date(&format!("{f}.until"), &s.until)?;
            if until < from {
                return Err(cx.err(format!("{f}.until"), format!("{until} is before {from}")));
            }
            cx.non_empty(&format!("{f}.instrument"), &s.instrument)?;
            Ok(Suspension {
                from,
                until,
                instrument: s.instrument,
            })
        })
        .collect()
}

fn compile_dest(cx: &Ctx, field: &str, d: RawDest) -> Result<Dest, ControlsError> {
    let countries = |v: &[String], name: &str| -> Result<Vec<String>, ControlsError> {
        v.iter()
            .enumerate()
            .map(|(i, c)| cx.country(&format!("{field}.{name}[{i}]"), c))
            .collect()
    };
    let out = Dest {
        all: d.all,
        countries: countries(&d.countries, "countries")?,
        groups: d.groups,
        outside: d.outside,
        except_countries: countries(&d.except_countries, "except_countries")?,
        except_groups: d.except_groups,
    };
    if !out.all && out.countries.is_empty() && out.groups.is_empty() && out.outside.is_none() {
        return Err(cx.err(
            field,
            "names no destination: set all = true, countries, groups or outside",
        ));
    }
    Ok(out)
}

fn compile_rule(cx: &Ctx, i: usize, r: RawRule) -> Result<Rule, ControlsError> {
    let field = format!("rule[{i}]");
    let outcome = OutcomeKind::parse(&r.outcome).ok_or_else(|| {
        cx.err(
            format!("{field}.outcome"),
            format!(
                "unknown outcome `{}` (one of not_required, licence_required, \
                 general_authorisation, exception_with_notification, prohibited)",
                r.outcome
            ),
        )
    })?;
    let review_policy = match r.review_policy.as_deref() {
        None => None,
        Some("from_list") => Some(PolicySource::FromList),
        Some(s) => Some(PolicySource::Fixed(ReviewPolicy::parse(s).ok_or_else(
            || {
                cx.err(
                    format!("{field}.review_policy"),
                    format!(
                        "unknown review policy `{s}` (one of presumption_of_denial, case_by_case, \
                     presumption_of_approval, per_application, from_list)"
                    ),
                )
            },
        )?)),
    };
    match outcome {
        OutcomeKind::LicenceRequired if review_policy.is_none() => {
            return Err(cx.err(
                format!("{field}.review_policy"),
                "licence_required needs a review_policy",
            ))
        }
        OutcomeKind::GeneralAuthorisation | OutcomeKind::ExceptionWithNotification
            if r.authorisation
                .as_deref()
                .is_none_or(|a| a.trim().is_empty()) =>
        {
            return Err(cx.err(
                format!("{field}.authorisation"),
                format!("{} needs the name of the authorisation", outcome.as_str()),
            ))
        }
        _ => {}
    }
    if !r.end_user_entries.is_empty() && r.end_user_lists.is_empty() {
        return Err(cx.err(
            format!("{field}.end_user_entries"),
            "end_user_entries needs end_user_lists (the lists the entries are on)",
        ));
    }
    for (j, e) in r.end_user_entries.iter().enumerate() {
        cx.non_empty(&format!("{field}.end_user_entries[{j}]"), e)?;
    }
    if review_policy == Some(PolicySource::FromList) && r.end_user_lists.is_empty() {
        return Err(cx.err(
            format!("{field}.review_policy"),
            "from_list needs end_user_lists",
        ));
    }
    let destinations = match r.destinations {
        Some(d) => compile_dest(cx, &format!("{field}.destinations"), d)?,
        None => Dest {
            all: true,
            ..Dest::default()
        },
    };
    Ok(Rule {
        label: r.label,
        destinations,
        end_user_lists: r.end_user_lists,
        end_user_entries: r.end_user_entries,
        end_uses: r.end_uses,
        when: r
            .when
            .map(|c| compile_cond(cx, &format!("{field}.when"), c, 0))
            .transpose()?,
        outcome,
        review_policy,
        authorisation: r.authorisation,
        suspensions: compile_suspensions(cx, &format!("{field}.suspended"), r.suspended)?,
        note: r.note,
    })
}

fn compile_cond(cx: &Ctx, field: &str, c: RawCond, depth: usize) -> Result<Cond, ControlsError> {
    if depth > 32 {
        return Err(cx.err(field, "predicate nested too deeply"));
    }
    let kinds = [
        c.all.is_some(),
        c.any.is_some(),
        c.not.is_some(),
        c.param.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds != 1 {
        return Err(cx.err(
            field,
            "a predicate has exactly one of: all = [...], any = [...], not = {...}, or param/op/value",
        ));
    }
    let label = c.label;
    let (is_all, list) = match (c.all, c.any) {
        (Some(v), _) => (true, Some(v)),
        (None, Some(v)) => (false, Some(v)),
        (None, None) => (false, None),
    };
    if let Some(v) = list {
        let key = if is_all { "all" } else { "any" };
        if v.is_empty() {
            return Err(cx.err(format!("{field}.{key}"), "empty list"));
        }
        let mut out = Vec::new();
        for (i, sub) in v.into_iter().enumerate() {
            out.push(compile_cond(
                cx,
                &format!("{field}.{key}[{i}]"),
                sub,
                depth + 1,
            )?);
        }
        return Ok(if is_all {
            Cond::All(out, label)
        } else {
            Cond::Any(out, label)
        });
    }
    if let Some(n) = c.not {
        return Ok(Cond::Not(
            Box::new(compile_cond(cx, &format!("{field}.not"), *n, depth + 1)?),
            label,
        ));
    }
    let param = c.param.unwrap_or_default();
    if !is_ident(&param) {
        return Err(cx.err(
            format!("{field}.param"),
            format!("`{param}` is not a parameter name"),
        ));
    }
    let op_text =
        c.op.ok_or_else(|| cx.err(format!("{field}.op"), "missing operator"))?;
    let op = CmpOp::parse(&op_text).ok_or_else(|| {
        cx.err(
            format!("{field}.op"),
            format!(
                "unknown operator `{op_text}` (one of <, <=, >, >=, ==, !=, in, not_in, prefix)"
            ),
        )
    })?;
    let value = c
        .value
        .ok_or_else(|| cx.err(format!("{field}.value"), "missing value"))?;
    let values: Vec<Value> = match (&value, op) {
        (toml::Value::Array(a), CmpOp::In | CmpOp::NotIn | CmpOp::Prefix) => a
            .iter()
            .map(|v| {
                Value::from_toml(v).ok_or_else(|| {
                    cx.err(
                        format!("{field}.value"),
                        "list items must be numbers, booleans or strings",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        (toml::Value::Array(_), _) => {
            return Err(cx.err(
                format!("{field}.value"),
                format!("operator `{op_text}` takes a single value, not a list"),
            ))
        }
        (v, CmpOp::In | CmpOp::NotIn) => {
            return Err(cx.err(
                format!("{field}.value"),
                format!("operator `{op_text}` takes a list, got {}", v.type_str()),
            ))
        }
        (v, _) => vec![Value::from_toml(v).ok_or_else(|| {
            cx.err(
                format!("{field}.value"),
                "must be a number, boolean or string",
            )
        })?],
    };
    if values.is_empty() {
        return Err(cx.err(format!("{field}.value"), "empty list"));
    }
    let numeric_op = matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge);
    if numeric_op && values.iter().any(|v| v.as_num().is_none()) {
        return Err(cx.err(
            format!("{field}.value"),
            format!("operator `{op_text}` compares numbers"),
        ));
    }
    if op == CmpOp::Prefix && values.iter().any(|v| !matches!(v, Value::Str(_))) {
        return Err(cx.err(format!("{field}.value"), "`prefix` compares strings"));
    }
    Ok(Cond::Cmp {
        param,
        op,
        values,
        label,
    })
}
