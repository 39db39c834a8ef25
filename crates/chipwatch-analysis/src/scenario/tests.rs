//! Unit tests of the scenario engine: hand-computed small chains, properties on the default
//! model (proptest), malformed scenario files.

use super::*;
use chipwatch_model::{
    Basis, BucketOf, Item, ItemKind, Meta, Model, Provider, ProviderType, Share, Stage, ValueChain,
};
use proptest::prelude::*;

fn item(id: &str, kind: ItemKind, goes_into: &[&str]) -> Item {
    Item {
        id: id.into(),
        name: format!("item {id}"),
        kind,
        stage: (kind == ItemKind::Process).then_some(StageKind::Fabrication),
        is_type_of: vec![],
        goes_into: goes_into.iter().map(|s| (*s).into()).collect(),
        market_size: None,
        year: None,
        hs_codes: vec![],
        control_entries: vec![],
        parameters: Default::default(),
    }
}

fn country(id: &str, iso: &str) -> Provider {
    Provider {
        id: id.into(),
        name: format!("Country {iso}"),
        provider_type: ProviderType::Country,
        country: Some(iso.into()),
        aliases: vec![],
        bucket_of: None,
    }
}

fn share(p: &str, i: &str, v: Option<f64>, basis: Basis) -> Share {
    Share {
        provider: p.into(),
        item: i.into(),
        share: v,
        year: Some(2022),
        source: None,
        basis,
    }
}

/// Tool T (A 60%, B 40%; firm FA of A holds 60%) and material M (A 50%, B 50%) go into process
/// P, which makes the final chip F. Consumer XXX runs fabrication. C provides 0% of T.
fn small_model() -> Model {
    let mut m = Model {
        meta: Meta {
            format_version: 1,
            name: "small".into(),
            dataset: "hand-made".into(),
            vintage: "test".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    m.stages.push(Stage {
        id: "S2".into(),
        name: "Fabrication".into(),
        kind: StageKind::Fabrication,
        market_size: None,
    });
    m.items = vec![
        item("T", ItemKind::Tool, &["P"]),
        item("M", ItemKind::Material, &["P"]),
        item("P", ItemKind::Process, &["F"]),
        item("F", ItemKind::FinalOutput, &[]),
    ];
    m.providers = vec![
        country("PA", "AAA"),
        country("PB", "BBB"),
        country("PC", "CCC"),
        country("PX", "XXX"),
        Provider {
            id: "FA".into(),
            name: "Firm A".into(),
            provider_type: ProviderType::Organisation,
            country: Some("AAA".into()),
            aliases: vec![],
            bucket_of: None,
        },
        Provider {
            id: "BK".into(),
            name: "Various countries".into(),
            provider_type: ProviderType::Bucket,
            country: None,
            aliases: vec![],
            bucket_of: Some(BucketOf::Countries),
        },
    ];
    m.shares = vec![
        share("PA", "T", Some(60.0), Basis::Hq),
        share("PB", "T", Some(40.0), Basis::Hq),
        share("PC", "T", Some(0.0), Basis::Hq),
        share("FA", "T", Some(60.0), Basis::Hq),
        share("PA", "M", Some(50.0), Basis::Hq),
        share("PB", "M", Some(50.0), Basis::Hq),
        share("PX", "S2", Some(100.0), Basis::Location),
    ];
    m
}

fn small() -> ValueChain {
    ValueChain::new(small_model()).unwrap()
}

/// No inventories, no lag: the static AND/OR model of BRIEF 3.3.
fn static_scenario(shocks: Vec<Shock>) -> Scenario {
    let mut s = Scenario::new("t");
    s.horizon_days = 30;
    s.assumptions.inventory_days.material = 0.0;
    s.assumptions.chip_inventory_days = 0.0;
    s.assumptions.tool_lag_days = 0;
    s.shocks = shocks;
    s
}

fn loss(provider: &str, items: &[&str], fraction: f64) -> Shock {
    Shock::CapacityLoss {
        provider: provider.into(),
        items: items.iter().map(|s| s.to_string()).collect(),
        fraction,
        start_day: 0,
        duration_days: None,
        recovery_days: 0,
    }
}

fn block(from: &str, to: &str, items: &[&str]) -> Shock {
    Shock::ExportBlock {
        from: vec![from.into()],
        to: vec![to.into()],
        items: items.iter().map(|s| s.to_string()).collect(),
        start_day: 0,
        duration_days: None,
        fraction: None,
    }
}

fn avail(r: &ScenarioResult, country: &str, item: &str) -> f64 {
    r.consumers
        .iter()
        .find(|c| c.country == country)
        .unwrap()
        .items
        .iter()
        .find(|i| &*i.item_id == item)
        .unwrap()
        .availability_min
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn hand_computed_capacity_loss() {
    let vc = small();
    let r = run(&vc, &static_scenario(vec![loss("AAA", &["T"], 0.5)])).unwrap();
    // T: 1.1 * (0.6 * 0.5 + 0.4) = 0.77; P = min(own 1, T 0.77, M 1); F = P.
    assert!(
        close(avail(&r, "XXX", "T"), 0.77),
        "{}",
        avail(&r, "XXX", "T")
    );
    assert!(close(avail(&r, "XXX", "P"), 0.77));
    assert!(close(avail(&r, "XXX", "F"), 0.77));
    let f = &r.consumers[0].final_output;
    assert_eq!(f.binding_constraint, vec!["F", "P", "T"]);
    assert_eq!(f.binding_providers, vec!["AAA"]);
    assert_eq!(f.tts_days, Some(0.0));
    assert!(close(f.shortfall_days, 30.0 * 0.23));
}

#[test]
fn firm_shock_equals_its_share_of_the_country() {
    let vc = small();
    let by_firm = run(&vc, &static_scenario(vec![loss("Firm A", &["T"], 1.0)])).unwrap();
    let by_country = run(&vc, &static_scenario(vec![loss("AAA", &["T"], 1.0)])).unwrap();
    // Firm A holds all of AAA's 60%: T = 1.1 * 0.4 = 0.44 either way.
    assert!(close(avail(&by_firm, "XXX", "T"), 0.44));
    assert!(close(avail(&by_country, "XXX", "T"), 0.44));
}

#[test]
fn inventory_buffers_a_consumable_until_the_closed_form_tts() {
    let vc = small();
    let mut s = static_scenario(vec![block("AAA", "XXX", &["M"])]);
    s.horizon_days = 60;
    s.assumptions.inventory_days.material = 10.0;
    let r = run(&vc, &s).unwrap();
    let m = r.consumers[0]
        .items
        .iter()
        .find(|i| &*i.item_id == "M")
        .unwrap();
    // Supply 1.1 * 0.5 = 0.55; the stock of 10 days drains at 0.45/day: 10 / 0.45 = 22.2 days
    // (BRIEF 3.4 one-tier closed form), so day 22 is the first day short.
    assert_eq!(m.tts_days, Some(22.0));
    assert!(close(m.availability_min, 0.55));
    assert!(close(m.series[0].1, 1.0));
}

#[test]
fn tools_act_with_a_linear_lag() {
    let vc = small();
    let mut s = static_scenario(vec![loss("AAA", &["T"], 1.0)]);
    s.assumptions.tool_lag_days = 10;
    s.step_days = 1;
    let r = run(&vc, &s).unwrap();
    let t = r.consumers[0]
        .items
        .iter()
        .find(|i| &*i.item_id == "T")
        .unwrap();
    // Raw availability 0.44 enters a 10-day moving average: day d = 1 - 0.056 (d + 1).
    for d in 0..10u32 {
        let want = 1.0 - 0.056 * f64::from(d + 1);
        assert!(
            close(t.series[d as usize].1, want),
            "day {d}: {:?}",
            t.series[d as usize]
        );
    }
    assert!(close(t.availability_end, 0.44));
}

#[test]
fn chip_inventory_covers_a_short_outage() {
    let vc = small();
    let mut s = static_scenario(vec![Shock::CapacityLoss {
        provider: "XXX".into(),
        items: vec!["fabrication".into()],
        fraction: 1.0,
        start_day: 5,
        duration_days: Some(3),
        recovery_days: 0,
    }]);
    s.assumptions.chip_inventory_days = 5.0;
    let r = run(&vc, &s).unwrap();
    let f = &r.consumers[0].final_output;
    // Three days without fabrication are covered by five days of chips.
    assert_eq!(f.availability_min, 1.0);
    assert_eq!(f.tts_days, None);
    // Without the inventory, the process and the chip drop to zero on day 5.
    s.assumptions.chip_inventory_days = 0.0;
    let r = run(&vc, &s).unwrap();
    let f = &r.consumers[0].final_output;
    assert_eq!(f.availability_min, 0.0);
    assert_eq!(f.worst_day, 5);
    assert_eq!(f.tts_days, Some(0.0));
    assert_eq!(f.binding_constraint, vec!["F", "P"]);
    assert_eq!(f.binding_providers, vec!["XXX"]);
}

#[test]
fn demand_surge_propagates_upstream() {
    let vc = small();
    let s = static_scenario(vec![Shock::DemandSurge {
        consumer: "XXX".into(),
        items: vec!["F".into()],
        factor: 1.2,
        start_day: 0,
    }]);
    let r = run(&vc, &s).unwrap();
    // Every input needs 1.2x; supply can grow by the 10% headroom: 1.1 / 1.2.
    assert!(close(avail(&r, "XXX", "F"), 1.1 / 1.2));
    assert!(close(avail(&r, "XXX", "T"), 1.1 / 1.2));
}

#[test]
fn recovery_ramps_back_linearly() {
    let vc = small();
    let mut s = static_scenario(vec![Shock::CapacityLoss {
        provider: "XXX".into(),
        items: vec!["P".into()],
        fraction: 1.0,
        start_day: 0,
        duration_days: Some(2),
        recovery_days: 3,
    }]);
    s.step_days = 1;
    s.assumptions.headroom = 0.0;
    let r = run(&vc, &s).unwrap();
    let p: Vec<f64> = r.consumers[0].items[2].series.iter().map(|x| x.1).collect();
    // Days 0-1 full loss; then the loss falls by 1/4 per day: 3/4, 2/4, 1/4, then 0.
    let want = [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0];
    for (d, w) in want.iter().enumerate() {
        assert!(close(p[d], *w), "day {d}: {p:?}");
    }
}

#[test]
fn blocking_a_zero_share_provider_changes_nothing() {
    let vc = small();
    let base = run(&vc, &static_scenario(vec![])).unwrap();
    let r = run(&vc, &static_scenario(vec![block("CCC", "*", &["T"])])).unwrap();
    assert_eq!(
        serde_json::to_value(&base.consumers).unwrap(),
        serde_json::to_value(&r.consumers).unwrap()
    );
}

#[test]
fn malformed_scenarios_name_the_field() {
    let cases = [
        ("name = \"x\"\n[[shock]]\nkind = \"capacity_loss\"\nprovider = \"TWN\"\nitems = [\"*\"]\nfraction = -0.5\n", "shock[0].fraction"),
        ("name = \"x\"\n[[shock]]\nkind = \"export_block\"\nfrom = [\"NLD\"]\nitems = [\"N22\"]\n", "missing field `to`"),
        ("horizon_days = 10\n", "missing field `name`"),
        ("name = \"x\"\n[[shock]]\nkind = \"meteor\"\n", "meteor"),
        ("name = \"x\"\nhorizon_days = 0\n", "horizon_days"),
        ("name = \"x\"\n[assumptions]\nheadroom = -1\n", "assumptions.headroom"),
        ("name = \"x\"\n[assumptions]\nheadrom = 0.2\n", "headrom"),
        ("name = \"x\"\n[[shock]]\nkind = \"demand_surge\"\nconsumer = \"USA\"\nitems = [\"N99\"]\nfactor = 0\n", "shock[0].factor"),
        // A shock starting after the horizon would never start: an error, not "no effect".
        ("name = \"x\"\nhorizon_days = 30\n[[shock]]\nkind = \"capacity_loss\"\nprovider = \"TWN\"\nitems = [\"*\"]\nfraction = 1.0\nstart_day = 30\n", "shock[0].start_day"),
    ];
    for (text, want) in cases {
        let e = Scenario::from_toml_str(text, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bad.toml: "), "{e}");
        assert!(e.contains(want), "{want} not in: {e}");
    }
    // Missing fields carry a line number.
    let e = Scenario::from_toml_str(
        "name = \"x\"\n\n[[shock]]\nkind = \"export_block\"\nfrom = [\"NLD\"]\nitems = [\"N22\"]\n",
        "b.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 3"), "{e}");
}

#[test]
fn unknown_references_name_the_field() {
    let vc = default_vc();
    let cases = [
        (
            block("NLD", "CHN", &["N22", "N9999"]),
            "shock[0].items[1]",
            "unknown item `N9999`",
        ),
        (
            block("Atlantis", "CHN", &["N22"]),
            "shock[0].from[0]",
            "unknown provider `Atlantis`",
        ),
        (
            block("NLD", "Narnia", &["N22"]),
            "shock[0].to[0]",
            "unknown consumer `Narnia`",
        ),
    ];
    for (shock, field, msg) in cases {
        let e = run(&vc, &static_scenario(vec![shock]))
            .unwrap_err()
            .to_string();
        assert!(e.contains(field) && e.contains(msg), "{e}");
    }
}

#[test]
fn cyclic_flow_is_an_error() {
    let mut m = small_model();
    m.items[3].goes_into = vec!["P".into()]; // F -> P -> F
    let vc = ValueChain::new(m).unwrap();
    let e = run(&vc, &Scenario::new("c")).unwrap_err();
    assert!(matches!(e, ScenarioError::Cycle { .. }), "{e}");
    assert!(e.to_string().contains("cyclic flow"));
}

pub(crate) fn default_vc() -> ValueChain {
    chipwatch_data::default_model()
}

#[test]
fn default_consumers_come_from_fab_and_atp_locations() {
    let vc = default_vc();
    let r = run(&vc, &Scenario::new("baseline")).unwrap();
    let names: Vec<&str> = r.consumers.iter().map(|c| c.country.as_str()).collect();
    assert_eq!(names, ["CHN", "JPN", "KOR", "TWN", "USA"]);
    let chn = &r.consumers[0];
    assert_eq!(chn.weight, 24.0);
    for c in &r.consumers {
        for it in c.items.iter() {
            assert_eq!(it.availability_min, 1.0, "{} {}", c.country, it.item_id);
            assert_eq!(it.tts_days, None);
        }
        assert!(c.final_output.binding_constraint.is_empty());
    }
}

#[test]
fn euv_block_binds_through_the_lithography_chain() {
    let vc = default_vc();
    let mut s = static_scenario(vec![block("NLD", "CHN", &["N20"])]);
    s.horizon_days = 10;
    let r = run(&vc, &s).unwrap();
    // N20 is 100% Dutch: nothing reaches China.
    assert_eq!(avail(&r, "CHN", "N20"), 0.0);
    let f = &r.consumers[0].final_output;
    assert!(f.availability_min < 1.0);
    assert_eq!(f.binding_constraint.last().map(String::as_str), Some("N20"));
    assert!(f.binding_constraint.contains(&"N25".to_string()));
    assert_eq!(f.binding_providers, vec!["NLD"]);
    // Other consumers are untouched.
    assert_eq!(avail(&r, "KOR", "N20"), 1.0);
}

/// A shock drawn from the default model's countries and items.
fn arb_shock() -> impl Strategy<Value = Shock> {
    let countries = prop::sample::select(vec!["NLD", "JPN", "USA", "CHN", "KOR", "TWN", "DEU"]);
    let items = prop::sample::select(vec![
        "N19",
        "N22",
        "N20",
        "N31",
        "N26",
        "N36",
        "N55",
        "N120",
        "N84",
        "fabrication",
        "*",
    ]);
    let consumers = prop::sample::select(vec!["CHN", "JPN", "KOR", "TWN", "USA", "*"]);
    prop_oneof![
        (countries.clone(), consumers, items.clone(), 0u32..20).prop_map(|(f, t, i, d)| {
            Shock::ExportBlock {
                from: vec![f.into()],
                to: vec![t.into()],
                items: vec![i.into()],
                start_day: d,
                duration_days: None,
                fraction: None,
            }
        }),
        (countries, items, 0.05f64..1.0, 0u32..20).prop_map(|(p, i, f, d)| Shock::CapacityLoss {
            provider: p.into(),
            items: vec![i.into()],
            fraction: f,
            start_day: d,
            duration_days: Some(15),
            recovery_days: 5,
        }),
    ]
}

fn short_scenario(shocks: Vec<Shock>) -> Scenario {
    let mut s = Scenario::new("prop");
    s.horizon_days = 40;
    s.assumptions.tool_lag_days = 10;
    s.assumptions.inventory_days.material = 5.0;
    s.shocks = shocks;
    s
}

fn all_values(r: &ScenarioResult) -> Vec<f64> {
    r.consumers
        .iter()
        .flat_map(|c| c.items.iter().flat_map(|i| i.series.iter().map(|p| p.1)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_larger_shock_never_raises_availability(
        shock in arb_shock(), extra in 0.0f64..0.9
    ) {
        let vc = default_vc();
        let bigger = match shock.clone() {
            Shock::CapacityLoss { provider, items, fraction, start_day, duration_days, recovery_days } =>
                Shock::CapacityLoss { provider, items, fraction: (fraction + extra).min(1.0), start_day, duration_days, recovery_days },
            Shock::ExportBlock { from, to, items, start_day, duration_days, .. } =>
                // A longer block is a larger shock.
                Shock::ExportBlock { from, to, items, start_day: start_day.saturating_sub(3), duration_days, fraction: None },
            other => other,
        };
        let a = all_values(&run(&vc, &short_scenario(vec![shock])).unwrap());
        let b = all_values(&run(&vc, &short_scenario(vec![bigger])).unwrap());
        for (x, y) in a.iter().zip(&b) {
            prop_assert!(y <= &(x + 1e-6), "{y} > {x}");
        }
    }

    #[test]
    fn no_shock_on_a_real_supplier_leaves_everything_at_one(
        pair in prop::sample::select(vec![
            ("NLD", "N22"), ("NLD", "N19"), ("JPN", "N31"), ("USA", "N84"), ("TWN", "N26"),
            ("JPN", "N120"), ("USA", "N38"), ("KOR", "N81"), ("DEU", "N8"),
        ]),
        to in prop::sample::select(vec!["CHN", "JPN", "KOR", "TWN", "USA", "*"]),
        fraction in 0.05f64..1.0,
        as_block in any::<bool>(),
    ) {
        prop_assume!(pair.0 != to);
        let vc = default_vc();
        let shock = if as_block {
            block(pair.0, to, &[pair.1])
        } else {
            loss(pair.0, &[pair.1], fraction)
        };
        // Without headroom every lost share shows (with it, small losses are absorbed).
        let mut s = short_scenario(vec![shock.clone()]);
        s.assumptions.headroom = 0.0;
        s.assumptions.inventory_days.material = 0.0;
        let r = run(&vc, &s).unwrap();
        prop_assert!(all_values(&r).iter().any(|&v| v < 1.0 - 1e-9), "{shock:?} left everything at 1");
    }

    /// The per-item figures are accumulated day by day without keeping the days; with a series
    /// point every day they must agree with the series.
    #[test]
    fn summaries_agree_with_the_daily_series(shocks in prop::collection::vec(arb_shock(), 1..3)) {
        let vc = default_vc();
        let mut s = short_scenario(shocks);
        s.step_days = 1;
        let first_shock = s.shocks.iter().map(Shock::start_day).min().unwrap();
        let r = run(&vc, &s).unwrap();
        for c in &r.consumers {
            for it in c.items.iter() {
                let v: Vec<f64> = it.series.iter().map(|p| p.1).collect();
                prop_assert_eq!(v.len(), s.horizon_days as usize);
                prop_assert!(it.series.iter().enumerate().all(|(t, p)| p.0 == t as u32));
                let min = v.iter().copied().fold(1.0, f64::min);
                prop_assert!((it.availability_min - min).abs() <= 2e-6, "{} {}: {} vs {min}", c.country, it.item_id, it.availability_min);
                prop_assert!((v[it.worst_day as usize] - min).abs() <= 2e-6);
                prop_assert_eq!(it.availability_end, *v.last().unwrap());
                let short: f64 = v.iter().map(|x| 1.0 - x.min(1.0)).sum();
                prop_assert!((it.shortfall_days - short).abs() <= 1e-4, "{} vs {short}", it.shortfall_days);
                match it.tts_days {
                    Some(d) => {
                        let day = first_shock as usize + d as usize;
                        prop_assert!(v[day] < 1.0 - 1e-5 + 1e-6);
                        prop_assert!(v[..day].iter().all(|&x| x >= 1.0 - 1e-5 - 1e-6));
                    }
                    None => prop_assert!(v.iter().all(|&x| x >= 1.0 - 1e-5 - 1e-6)),
                }
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_input_order(seed in 0u64..1000, shocks in prop::collection::vec(arb_shock(), 1..3)) {
        let vc = default_vc();
        let mut m = vc.model().clone();
        // Deterministic shuffles of items, providers and shares.
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |n: usize| { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; (rng % n as u64) as usize };
        for i in (1..m.items.len()).rev() { let j = next(i + 1); m.items.swap(i, j); }
        for i in (1..m.providers.len()).rev() { let j = next(i + 1); m.providers.swap(i, j); }
        for i in (1..m.shares.len()).rev() { let j = next(i + 1); m.shares.swap(i, j); }
        let shuffled = ValueChain::new(m).unwrap();
        let mut rev = shocks.clone();
        rev.reverse();
        let a = run(&vc, &short_scenario(shocks)).unwrap();
        let b = run(&shuffled, &short_scenario(rev)).unwrap();
        for (ca, cb) in a.consumers.iter().zip(&b.consumers) {
            prop_assert_eq!(&ca.country, &cb.country);
            for ia in ca.items.iter() {
                let ib = cb.items.iter().find(|i| i.item_id == ia.item_id).unwrap();
                prop_assert!((ia.availability_min - ib.availability_min).abs() < 1e-5, "{} {}", ca.country, ia.item_id);
                prop_assert!((ia.availability_end - ib.availability_end).abs() < 1e-5);
                prop_assert_eq!(ia.tts_days, ib.tts_days);
            }
            prop_assert_eq!(&ca.final_output.binding_constraint, &cb.final_output.binding_constraint);
        }
    }
}

/// Two consumers with the same stages and no effect of their own are simulated once and share
/// their item results; an effect on one of them gives each its own simulation again, and the
/// shared run gives what separate runs give.
#[test]
fn twin_consumers_share_one_simulation_until_an_effect_separates_them() {
    let vc = small();
    let spec = |c: &str| ConsumerSpec {
        country: c.into(),
        weight: Some(1.0),
        stages: Some(vec![StageKind::Fabrication]),
    };
    let mut s = static_scenario(vec![loss("PA", &["T"], 0.5)]);
    s.assumptions.tool_lag_days = 5;
    s.assumptions.inventory_days.material = 3.0;
    s.consumers = Some(vec![spec("XXX"), spec("BBB")]);
    let r = run(&vc, &s).unwrap();
    let (x, b) = (&r.consumers[0], &r.consumers[1]);
    assert!(std::sync::Arc::ptr_eq(&x.items, &b.items));
    // The same figures as a run with that consumer alone.
    let mut alone = s.clone();
    alone.consumers = Some(vec![spec("BBB")]);
    let ra = run(&vc, &alone).unwrap();
    for (i, j) in b.items.iter().zip(ra.consumers[0].items.iter()) {
        assert_eq!(
            (i.availability_min, &i.series),
            (j.availability_min, &j.series)
        );
    }
    assert!(avail(&r, "BBB", "T") < 1.0);

    // A block on AAA's exports to BBB alone: BBB is on its own, and worse off than XXX.
    s.shocks.push(block("PA", "BBB", &["T"]));
    let r = run(&vc, &s).unwrap();
    assert!(!std::sync::Arc::ptr_eq(
        &r.consumers[0].items,
        &r.consumers[1].items
    ));
    assert!(avail(&r, "BBB", "T") < avail(&r, "XXX", "T"));
}
