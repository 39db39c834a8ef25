//! Serialisable views of the model that several front ends show (CLI `items`/`show`, the HTTP
//! API, the dashboard): one definition, so their JSON cannot drift apart.

use chipwatch_model::{Basis, ItemIdx, ItemKind, ProviderType, StageKind, ValueChain};
use serde::Serialize;

/// One row of the item list (`chipwatch items --json`, `GET /api/v1/items`).
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub kind: ItemKind,
    pub stage: Option<StageKind>,
    pub market_size_usd: Option<f64>,
    pub year: Option<i32>,
}

/// Items filtered by kind and by a stage they serve.
pub fn item_rows(
    vc: &ValueChain,
    kind: Option<ItemKind>,
    stage: Option<StageKind>,
) -> Vec<ItemRow<'_>> {
    vc.items()
        .filter(|(_, it)| kind.is_none_or(|k| it.kind == k))
        .filter(|(i, _)| stage.is_none_or(|s| vc.stages(*i).contains(&s)))
        .map(|(i, it)| ItemRow {
            id: &it.id,
            name: &it.name,
            kind: it.kind,
            stage: vc.stage(i),
            market_size_usd: it.market_size.as_ref().map(|m| m.usd),
            year: it.market_size.as_ref().and_then(|m| m.year).or(it.year),
        })
        .collect()
}

/// One provision figure with its provider and source resolved.
#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    pub provider_id: String,
    pub provider: String,
    pub provider_type: ProviderType,
    pub country: Option<String>,
    pub share: Option<f64>,
    pub year: Option<i32>,
    pub source: Option<String>,
    pub basis: Basis,
    /// Whether the figure belongs to the country view (countries and country buckets) or the
    /// firm view; the two views are never summed.
    pub country_view: bool,
}

/// A link to another item.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub id: String,
    pub name: String,
    pub kind: ItemKind,
    /// For uses inherited from a taxonomy parent: the parent's id (a variant of lithography tools
    /// is used wherever lithography tools are).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Everything `chipwatch show` prints about an item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetail {
    pub id: String,
    pub name: String,
    pub kind: ItemKind,
    pub stage: Option<StageKind>,
    pub stages: Vec<StageKind>,
    pub market_size_usd: Option<f64>,
    pub market_size_year: Option<i32>,
    pub market_size_qualifier: Option<String>,
    pub market_size_source: Option<String>,
    pub year: Option<i32>,
    pub is_type_of: Vec<Link>,
    pub variants: Vec<Link>,
    /// Country view first, then firm view; each by share descending (unknown last), then name.
    pub shares: Vec<ShareRow>,
    pub inputs: Vec<Link>,
    pub used_by: Vec<Link>,
    pub dataset: String,
    pub vintage: String,
}

/// Shares of an item with providers and sources resolved: the latest vintage, or every vintage.
pub fn share_rows(vc: &ValueChain, i: ItemIdx, all_years: bool) -> Vec<ShareRow> {
    let shares: Vec<_> = if all_years {
        vc.all_shares(i).collect()
    } else {
        vc.latest_shares(i)
    };
    let mut rows: Vec<ShareRow> = shares
        .into_iter()
        .filter_map(|s| {
            let p = vc.provider_by_id(&s.provider)?;
            Some(ShareRow {
                provider_id: p.id.clone(),
                provider: p.name.clone(),
                provider_type: p.provider_type,
                country: p.country.clone(),
                share: s.share,
                year: s.year,
                source: s
                    .source
                    .as_deref()
                    .and_then(|id| vc.source_label(id))
                    .map(str::to_string),
                basis: s.basis,
                country_view: p.in_country_view(),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.country_view
            .cmp(&a.country_view)
            .then_with(|| b.share.unwrap_or(-1.0).total_cmp(&a.share.unwrap_or(-1.0)))
            .then_with(|| a.provider.cmp(&b.provider))
            .then_with(|| b.year.cmp(&a.year))
    });
    rows
}

/// The detail view of one item.
pub fn item_detail(vc: &ValueChain, i: ItemIdx) -> ItemDetail {
    let it = vc.item(i);
    let link = |j: &ItemIdx| {
        let x = vc.item(*j);
        Link {
            id: x.id.clone(),
            name: x.name.clone(),
            kind: x.kind,
            via: None,
        }
    };
    let mut used_by: Vec<Link> = vc.feeds(i).iter().map(link).collect();
    for a in vc.ancestors(i) {
        for f in vc.feeds(a) {
            if !used_by.iter().any(|l| l.id == vc.item(*f).id) {
                used_by.push(Link {
                    via: Some(vc.item(a).id.clone()),
                    ..link(f)
                });
            }
        }
    }
    let ms = it.market_size.as_ref();
    ItemDetail {
        id: it.id.clone(),
        name: it.name.clone(),
        kind: it.kind,
        stage: vc.stage(i),
        stages: vc.stages(i).to_vec(),
        market_size_usd: ms.map(|m| m.usd),
        market_size_year: ms.and_then(|m| m.year),
        market_size_qualifier: ms.and_then(|m| m.qualifier.clone()),
        market_size_source: ms
            .and_then(|m| m.source.as_deref())
            .and_then(|s| vc.source_label(s))
            .map(str::to_string),
        year: it.year,
        is_type_of: vc.parents(i).iter().map(link).collect(),
        variants: vc.children(i).iter().map(link).collect(),
        shares: share_rows(vc, i, false),
        inputs: vc.inputs(i).iter().map(link).collect(),
        used_by,
        dataset: vc.model().meta.dataset.clone(),
        vintage: vc.model().meta.vintage.clone(),
    }
}

/// One item a provider supplies: its latest figure for that item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplyRow {
    pub item_id: String,
    pub item: String,
    pub share: Option<f64>,
    pub year: Option<i32>,
    pub basis: Basis,
    pub source: Option<String>,
}

/// What `chipwatch show FIRM` prints and the dashboard's firm page shows.
#[derive(Debug, Clone, Serialize)]
pub struct FirmDetail {
    pub id: String,
    pub name: String,
    pub provider_type: ProviderType,
    pub country: Option<String>,
    pub aliases: Vec<String>,
    /// Largest share first (figures without a share last), then item id.
    pub supplies: Vec<SupplyRow>,
    pub dataset: String,
    pub vintage: String,
}

/// The latest figure of provider `id` for every item it supplies, largest share first.
pub fn supply_rows(vc: &ValueChain, id: &str) -> Vec<SupplyRow> {
    let mut out = Vec::new();
    for (i, it) in vc.items() {
        for sh in vc.latest_shares(i) {
            if sh.provider == id {
                out.push(SupplyRow {
                    item_id: it.id.clone(),
                    item: it.name.clone(),
                    share: sh.share,
                    year: sh.year,
                    basis: sh.basis,
                    source: sh
                        .source
                        .as_deref()
                        .and_then(|s| vc.source_label(s))
                        .map(str::to_string),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.share
            .unwrap_or(-1.0)
            .total_cmp(&a.share.unwrap_or(-1.0))
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    out
}

/// A provider with what it supplies.
pub fn firm_detail(vc: &ValueChain, p: chipwatch_model::ProviderIdx) -> FirmDetail {
    let pr = vc.provider(p);
    FirmDetail {
        id: pr.id.clone(),
        name: pr.name.clone(),
        provider_type: pr.provider_type,
        country: pr.country.clone(),
        aliases: pr.aliases.clone(),
        supplies: supply_rows(vc, &pr.id),
        dataset: vc.model().meta.dataset.clone(),
        vintage: vc.model().meta.vintage.clone(),
    }
}

#[cfg(test)]
mod supply_tests {
    use super::*;

    #[test]
    fn asml_supplies_euv_tools_first() {
        let vc = chipwatch_data::default_model();
        let d = firm_detail(&vc, vc.find_provider("ASML").unwrap());
        assert_eq!((d.id.as_str(), d.country.as_deref()), ("P88", Some("NLD")));
        assert_eq!(d.supplies[0].item_id, "N20");
        assert_eq!(d.supplies[0].share, Some(100.0));
        assert!(d
            .supplies
            .windows(2)
            .all(|w| w[0].share.unwrap_or(-1.0) >= w[1].share.unwrap_or(-1.0)));
        // Only this provider's figures, one per item and basis (latest vintage).
        let mut keys: Vec<_> = d.supplies.iter().map(|r| (&r.item_id, r.basis)).collect();
        let n = keys.len();
        keys.sort_by_key(|k| (k.0.clone(), k.1.as_str()));
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
}
