//! Concentration commands: `chokepoints`, `value-share`, `dependence`.

use super::model::provenance;
use crate::output::{pct, print_json, usd, Table};
use crate::Cli;
use anyhow::Result;
use chipwatch_analysis::concentration::{self, ChokepointOptions, Coverage};
use chipwatch_model::Basis;
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ChokepointsArgs {
    /// Single point of failure: top country above this percent.
    #[arg(long, default_value_t = concentration::DEFAULT_SPOF_THRESHOLD)]
    pub threshold: f64,
    /// Only shares of this basis: hq (who controls supply) or location (where capacity is).
    #[arg(long, value_parser = parse_basis)]
    pub basis: Option<Basis>,
    /// Only single points of failure.
    #[arg(long)]
    pub spof_only: bool,
}

fn parse_basis(s: &str) -> Result<Basis, String> {
    Basis::parse(s).ok_or_else(|| format!("unknown basis `{s}`; one of: hq, location"))
}

#[derive(Debug, Serialize)]
struct ChokepointJson<'a> {
    item_id: &'a str,
    name: &'a str,
    hhi: Option<f64>,
    effective_providers: Option<f64>,
    cr1: Option<f64>,
    cr3: Option<f64>,
    top_country: Option<&'a str>,
    countries_to_75: Option<usize>,
    single_point_of_failure: bool,
    /// `yes`, `no` or `unknown` (countries listed without a share could hold the rest).
    single_point_of_failure_status: &'static str,
    coverage: Coverage,
    basis: Basis,
    listed_without_number: &'a [String],
    bucket_share: f64,
    year: Option<i32>,
    sources: &'a [String],
}

pub fn chokepoints(cli: &Cli, a: &ChokepointsArgs) -> Result<()> {
    anyhow::ensure!(
        (0.0..=100.0).contains(&a.threshold),
        "--threshold must be a percentage between 0 and 100, got {}",
        a.threshold
    );
    let vc = super::load_model(cli)?;
    let rows = concentration::chokepoints(
        &vc,
        ChokepointOptions {
            threshold: a.threshold,
            basis: a.basis,
        },
    );
    let rows: Vec<_> = rows
        .iter()
        .filter(|r| !a.spof_only || r.single_point_of_failure)
        .collect();
    if cli.json {
        let v: Vec<ChokepointJson> = rows
            .iter()
            .map(|r| ChokepointJson {
                item_id: &r.item_id,
                name: &r.name,
                hhi: r.hhi,
                effective_providers: r.effective_providers,
                cr1: r.cr1,
                cr3: r.cr3,
                top_country: r.top_country.as_deref(),
                countries_to_75: r.countries_to_75,
                single_point_of_failure: r.single_point_of_failure,
                single_point_of_failure_status: r.spof_status(a.threshold),
                coverage: r.coverage,
                basis: r.basis,
                listed_without_number: &r.listed_without_number,
                bucket_share: r.bucket_share,
                year: r.year,
                sources: &r.sources,
            })
            .collect();
        return print_json(&v);
    }
    let mut t = Table::new([
        "ID", "ITEM", "HHI", "EFF", "CR1", "CR3", "TOP", "TO75", "SPOF", "BASIS", "YEAR",
    ]);
    let mut unquantified = Vec::new();
    for r in &rows {
        if r.coverage == Coverage::ListedWithoutNumbers {
            unquantified.push(*r);
            continue;
        }
        t.row([
            r.item_id.clone(),
            r.name.clone(),
            format!("{:.0}", r.hhi.unwrap_or(0.0)),
            format!("{:.2}", r.effective_providers.unwrap_or(0.0)),
            pct(r.cr1),
            pct(r.cr3),
            r.top_country.clone().unwrap_or_default(),
            r.countries_to_75.map_or("-".into(), |k| k.to_string()),
            r.spof_status(a.threshold).to_string(),
            r.basis.to_string(),
            r.year.map_or("-".into(), |y| y.to_string()),
        ]);
    }
    t.print()?;
    let spof = rows.iter().filter(|r| r.single_point_of_failure).count();
    outln!(
        "{} item(s) and stage(s) with numeric country shares, {spof} single point(s) of failure (top country > {}%).",
        rows.len() - unquantified.len(),
        a.threshold
    );
    if !unquantified.is_empty() {
        outln!("\nListed without numbers (not computed, not guessed):");
        for r in unquantified {
            outln!(
                "  {} {}: {}",
                r.item_id,
                r.name,
                r.listed_without_number.join(", ")
            );
        }
    }
    outln!(
        "\nHHI over country shares in percent (0-10000); EFF = 10000/HHI; TO75 = countries to reach 75%;\n\
         buckets (Various countries, EUR) never count as countries. {}",
        provenance(&vc)
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct ValueShareArgs {
    /// Item ids or names; must not mix a parent with its own variants.
    #[arg(required = true)]
    pub items: Vec<String>,
}

pub fn value_share(cli: &Cli, a: &ValueShareArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let v = concentration::value_share(&vc, &a.items)?;
    if cli.json {
        return print_json(&v);
    }
    let mut t = Table::new(["ID", "ITEM", "MARKET", "YEAR", "COUNTED"]);
    for it in v.items.iter() {
        t.row([
            it.item_id.clone(),
            it.name.clone(),
            usd(it.market_size_usd),
            it.year.map_or("-".into(), |y| y.to_string()),
            if it.covered {
                "yes".into()
            } else {
                "no".to_string()
            },
        ]);
    }
    t.print()?;
    outln!();
    let mut t = Table::new(["COUNTRY", "VALUE-WEIGHTED SHARE"]);
    for (c, s) in &v.shares {
        t.row([c.clone(), pct(Some(*s))]);
    }
    if v.bucket_share > 0.0 {
        t.row(["(buckets)".to_string(), pct(Some(v.bucket_share))]);
    }
    t.print()?;
    outln!(
        "coverage: {:.1}% of value ({} of {}) has numeric country shares",
        v.coverage * 100.0,
        usd(Some(v.covered_value_usd)),
        usd(Some(v.total_value_usd))
    );
    outln!("assumption: {}\n{}", v.assumption, provenance(&vc));
    Ok(())
}

#[derive(Debug, Args)]
pub struct DependenceArgs {
    /// Consuming country (ISO alpha-3).
    #[arg(long)]
    pub consumer: String,
    /// Supplying country (ISO alpha-3).
    #[arg(long)]
    pub supplier: String,
    /// Minimum share of the global market the supplier holds, percent.
    #[arg(long, default_value_t = 50.0)]
    pub min_share: f64,
}

pub fn dependence(cli: &Cli, a: &DependenceArgs) -> Result<()> {
    if !(0.0..=100.0).contains(&a.min_share) {
        anyhow::bail!(
            "--min-share: {} is not a percentage between 0 and 100",
            a.min_share
        );
    }
    let vc = super::load_model(cli)?;
    let rows = concentration::dependence(&vc, &a.consumer, &a.supplier, a.min_share)?;
    if cli.json {
        return print_json(&rows);
    }
    let sup = a.supplier.to_ascii_uppercase();
    let con = a.consumer.to_ascii_uppercase();
    let mut t = Table::new([
        "ID".to_string(),
        "ITEM".to_string(),
        format!("{sup} SHARE"),
        format!("{con} OWN"),
        format!("{sup} OF {con} IMPORTS"),
        "MARKET".to_string(),
        "YEAR".to_string(),
    ]);
    for r in &rows {
        t.row([
            r.item_id.clone(),
            r.name.clone(),
            pct(Some(r.supplier_share)),
            pct(Some(r.consumer_share)),
            pct(Some(r.import_share)),
            usd(r.market_size_usd),
            r.year.map_or("-".into(), |y| y.to_string()),
        ]);
    }
    t.print()?;
    let (total, counted, variants) = concentration::dependence_value(&vc, &rows);
    let no_size = rows
        .iter()
        .filter(|r| r.market_size_usd.is_none() && counted.contains(&r.item_id))
        .map(|r| r.item_id.as_str())
        .collect::<std::collections::BTreeSet<_>>();
    outln!(
        "{} row(s) where {sup} holds >= {}% of the global market; {} of market value over {} \
         item(s) counted once{}{}.\n\
         assumption: {con} uses its own production first and buys the rest at global shares.\n{}",
        rows.len(),
        a.min_share,
        usd(Some(total)),
        counted.len(),
        if variants.is_empty() {
            String::new()
        } else {
            format!(
                " (variants of a listed parent not added again: {})",
                variants.join(", ")
            )
        },
        if no_size.is_empty() {
            String::new()
        } else {
            format!(
                "; market size unknown for {}",
                no_size.into_iter().collect::<Vec<_>>().join(", ")
            )
        },
        provenance(&vc)
    );
    Ok(())
}
