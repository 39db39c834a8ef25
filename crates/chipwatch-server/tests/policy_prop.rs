//! Property test: the API's access decisions (which records a caller sees, and which fields of
//! each) equal a small reference policy written here independently of the server, on random
//! organisations, sharing groups, agreements (active, revoked, expired, not yet valid; firm or
//! country level) and records of every distribution level.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const ITEMS: [&str; 3] = ["N20", "N22", "N5"];
const METRICS: [&str; 2] = ["capacity", "inventory_days"];
const DISTS: [&str; 5] = [
    "organisation_only",
    "community",
    "connected_communities",
    "all",
    "sharing_group",
];
const FIELDS: [&str; 7] = [
    "provider",
    "site",
    "country",
    "value",
    "unit",
    "period",
    "provenance",
];

#[derive(Debug, Clone)]
struct Rec {
    owner: usize,
    item: usize,
    metric: usize,
    dist: usize,
}

#[derive(Debug, Clone)]
struct Agr {
    grantor: usize,
    grantee: usize,
    items: Option<Vec<usize>>, // None = "*"
    metrics: Option<Vec<usize>>,
    fields: Vec<usize>,
    country: bool,
    state: u8, // 0 active, 1 revoked, 2 expired, 3 not yet valid
}

#[derive(Debug, Clone)]
struct World {
    orgs: usize,
    groups: Vec<Vec<bool>>, // group of org i: membership of every org (owner always in)
    records: Vec<Rec>,
    agreements: Vec<Agr>,
}

fn subset(n: usize) -> impl Strategy<Value = Option<Vec<usize>>> {
    prop_oneof![
        Just(None),
        proptest::collection::btree_set(0..n, 1..=n).prop_map(|s| Some(s.into_iter().collect()))
    ]
}

fn world() -> impl Strategy<Value = World> {
    (2usize..=4).prop_flat_map(|n| {
        let rec = (0..n, 0..ITEMS.len(), 0..METRICS.len(), 0..DISTS.len()).prop_map(
            |(owner, item, metric, dist)| Rec {
                owner,
                item,
                metric,
                dist,
            },
        );
        let agr = (
            0..n,
            0..n,
            subset(ITEMS.len()),
            subset(METRICS.len()),
            proptest::collection::btree_set(0..FIELDS.len(), 0..=FIELDS.len()),
            proptest::bool::weighted(0.2),
            0u8..4,
        )
            .prop_filter("grantor != grantee", |(g, e, ..)| g != e)
            .prop_map(
                |(grantor, grantee, items, metrics, fields, country, state)| Agr {
                    grantor,
                    grantee,
                    items,
                    metrics,
                    fields: fields.into_iter().collect(),
                    country,
                    state,
                },
            );
        (
            Just(n),
            proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), n),
            proptest::collection::vec(rec, 1..8),
            proptest::collection::vec(agr, 0..7),
        )
            .prop_map(|(orgs, groups, records, agreements)| World {
                orgs,
                groups,
                records,
                agreements,
            })
    })
}

/// The reference policy: what `viewer` sees of record `r` (None: nothing).
fn reference(w: &World, viewer: usize, r: &Rec) -> Option<BTreeSet<&'static str>> {
    if r.owner == viewer {
        return Some(FIELDS.iter().copied().collect());
    }
    let dist_ok = match DISTS[r.dist] {
        "organisation_only" => false,
        "sharing_group" => w.groups[r.owner][viewer],
        _ => true, // every org here is a tenant of this instance
    };
    if !dist_ok {
        return None;
    }
    let mut fields = BTreeSet::new();
    let mut any = false;
    for a in &w.agreements {
        let covers = a.grantor == r.owner
            && a.grantee == viewer
            && !a.country
            && a.state == 0
            && a.items.as_ref().is_none_or(|s| s.contains(&r.item))
            && a.metrics.as_ref().is_none_or(|s| s.contains(&r.metric));
        if covers {
            any = true;
            fields.extend(a.fields.iter().map(|f| FIELDS[*f]));
        }
    }
    any.then_some(fields)
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    env: Env,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let env = rt.block_on(envs()).remove(0);
        Fixture { rt, env }
    })
}

static CASE: AtomicUsize = AtomicUsize::new(0);

async fn check(env: &Env, w: &World) -> Result<(), TestCaseError> {
    let app = &env.app;
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let mut ts = Vec::new();
    for i in 0..w.orgs {
        ts.push(tenant(&env.store, &format!("case{case}-org{i}")).await);
    }
    let mut group_ids = Vec::new();
    for (i, members) in w.groups.iter().enumerate() {
        let ids: Vec<i64> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(j, _)| ts[j].org.id)
            .collect();
        let (st, g) = call(
            app,
            "POST",
            "/api/v1/sharing-groups",
            Some(&ts[i].admin),
            Some(json!({"name": "g", "members": ids})),
        )
        .await;
        prop_assert_eq!(st.as_u16(), 201, "{}", g);
        group_ids.push(g["id"].as_i64().unwrap());
    }
    let mut w = w.clone();
    for (i, m) in w.groups.iter_mut().enumerate() {
        m[i] = true; // the creator is always a member
    }
    let mut ids = Vec::new();
    for r in &w.records {
        let mut body = record_body(ITEMS[r.item], "Firm", 1.0, DISTS[r.dist]);
        body["metric"] = json!(METRICS[r.metric]);
        if DISTS[r.dist] == "sharing_group" {
            body["sharing_group_id"] = json!(group_ids[r.owner]);
        }
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/records",
            Some(&ts[r.owner].analyst),
            Some(body),
        )
        .await;
        prop_assert_eq!(st.as_u16(), 201, "{}", v);
        ids.push(v["id"].as_i64().unwrap());
    }
    for a in &w.agreements {
        let list = |s: &Option<Vec<usize>>, names: &[&str]| match s {
            None => json!(["*"]),
            Some(v) => json!(v.iter().map(|i| names[*i]).collect::<Vec<_>>()),
        };
        let (from, until) = match a.state {
            2 => (Some("2000-01-01"), Some("2001-01-01")),
            3 => (Some("2098-01-01"), None),
            _ => (None, None),
        };
        let mut body = json!({
            "grantee_org_id": ts[a.grantee].org.id, "items": list(&a.items, &ITEMS), "metrics": list(&a.metrics, &METRICS),
            "fields": a.fields.iter().map(|f| FIELDS[*f]).collect::<Vec<_>>(),
            "granularity": if a.country { "country" } else { "firm" }, "valid_from": from, "valid_until": until,
        });
        if a.country {
            body["min_firms"] = json!(2);
        }
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/agreements",
            Some(&ts[a.grantor].admin),
            Some(body),
        )
        .await;
        prop_assert_eq!(st.as_u16(), 201, "{}", v);
        if a.state == 1 {
            let (st, _) = call(
                app,
                "POST",
                &format!("/api/v1/agreements/{}/revoke", v["id"]),
                Some(&ts[a.grantor].admin),
                None,
            )
            .await;
            prop_assert_eq!(st.as_u16(), 204);
        }
    }
    for (viewer, vt) in ts.iter().enumerate() {
        let (_, listed) = call(app, "GET", "/api/v1/records", Some(&vt.viewer), None).await;
        let mut got: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        for r in listed["records"].as_array().unwrap() {
            let fields = FIELDS
                .iter()
                .copied()
                .filter(|f| r.get(*f).is_some())
                .collect();
            got.insert(r["id"].as_i64().unwrap(), fields);
        }
        let mut want: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
        for (r, id) in w.records.iter().zip(&ids) {
            if let Some(f) = reference(&w, viewer, r) {
                want.insert(*id, f);
            }
        }
        prop_assert_eq!(&got, &want, "viewer org{}", viewer);
        for id in &ids {
            let (st, one) = call(
                app,
                "GET",
                &format!("/api/v1/records/{id}"),
                Some(&vt.viewer),
                None,
            )
            .await;
            prop_assert_eq!(
                st.as_u16() == 200,
                want.contains_key(id),
                "GET record {} as org{}: {}",
                id,
                viewer,
                one
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    #[test]
    fn api_access_matches_reference_policy(w in world()) {
        let f = fixture();
        f.rt.block_on(check(&f.env, &w))?;
    }
}
