//! Hand-computed cases of the segment layer on a small model: allocation rules, installed-base
//! erosion, consumables, baseline denials, chip export blocks; and properties.

use super::*;
use chipwatch_model::production::*;
use chipwatch_model::{Basis, Item, Meta, Model, Provider, ProviderType, Share, Stage};

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

fn share(p: &str, i: &str, v: f64) -> Share {
    Share {
        provider: p.into(),
        item: i.into(),
        share: Some(v),
        year: Some(2022),
        source: None,
        basis: Basis::Hq,
    }
}

/// Tool T (AAA 60%, BBB 40%) and material M (AAA 50%, BBB 50%) go into process P, which makes
/// the finished chip F; XXX and YYY have fabs.
fn model() -> ValueChain {
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
        item("U", ItemKind::Material, &["P"]),
        item("P", ItemKind::Process, &["F"]),
        item("F", ItemKind::FinalOutput, &[]),
    ];
    m.providers = vec![
        country("PA", "AAA"),
        country("PB", "BBB"),
        country("PC", "CCC"),
        country("PX", "XXX"),
        country("PY", "YYY"),
    ];
    m.shares = vec![
        share("PA", "T", 60.0),
        share("PB", "T", 40.0),
        share("PA", "M", 50.0),
        share("PB", "M", 50.0),
        share("PX", "S2", 50.0),
        share("PY", "S2", 50.0),
    ];
    m.shares
        .iter_mut()
        .skip(4)
        .for_each(|s| s.basis = Basis::Location);
    // U: AAA 20%, BBB and CCC listed without a number.
    m.shares.push(share("PA", "U", 20.0));
    for p in ["PB", "PC"] {
        let mut x = share(p, "U", 0.0);
        x.share = None;
        m.shares.push(x);
    }
    ValueChain::new(m).unwrap()
}

fn fab(id: &str, owner: &str, country: &str, seg: Segment, cap: f64) -> Fab {
    Fab {
        fab_id: id.into(),
        owner: owner.into(),
        owner_country: country.into(),
        site: "x".into(),
        country: country.into(),
        wafer_mm: 300,
        capacity_wspm: Some(cap),
        segment: seg,
        status: FabStatus::Operating,
        start_year: Some(2010),
        capacity_year: Some(2024),
        sources: vec!["s".into()],
        note: String::new(),
        line: 2,
    }
}

fn econ(code: &str, all: f64) -> (Economy, DemandShare) {
    (
        Economy {
            code: code.into(),
            name: code.into(),
            part_of: None,
        },
        DemandShare {
            consumer: code.into(),
            segment: None,
            share_pct: all,
            year: None,
            source: "s".into(),
            note: String::new(),
        },
    )
}

/// XXX: FabCo logic_leading 100 and dram 50; YYY: OtherCo logic_leading 100. Demand: XXX 50%,
/// YYY 30%, ROW 20%. logic_leading needs T (tool) and M (material); dram needs M at 0.5.
fn prod() -> ProductionData {
    let (e, d): (Vec<_>, Vec<_>) = [econ("XXX", 50.0), econ("YYY", 30.0), econ("ROW", 20.0)]
        .into_iter()
        .unzip();
    let need = |s: Segment, item: &str, kind: NeedKind, dep: f64| SegmentNeed {
        segment: s,
        item: item.into(),
        kind,
        dependence: dep,
        source: "s".into(),
        note: String::new(),
    };
    ProductionData {
        fabs: vec![
            fab("fx1", "FabCo", "XXX", Segment::LogicLeading, 100.0),
            fab("fx2", "FabCo", "XXX", Segment::Dram, 50.0),
            fab("fy1", "OtherCo", "YYY", Segment::LogicLeading, 100.0),
        ],
        sources: vec![],
        totals: vec![CapacityTotal {
            scope: "all".into(),
            segment: None,
            capacity_wspm_300eq: 500.0,
            year: 2024,
            source: "s".into(),
            note: String::new(),
        }],
        atp: vec![AtpShare {
            country: "XXX".into(),
            share_pct: 100.0,
            year: None,
            source: "s".into(),
        }],
        economies: e,
        demand: d,
        needs: vec![
            need(Segment::LogicLeading, "T", NeedKind::Tool, 1.0),
            need(Segment::LogicLeading, "M", NeedKind::Material, 1.0),
            need(Segment::Dram, "M", NeedKind::Material, 0.5),
        ],
        origin: "test".into(),
    }
}

fn scenario(shocks: Vec<Shock>) -> Scenario {
    let mut s = Scenario::new("t");
    s.horizon_days = 365;
    s.step_days = 30;
    s.assumptions.chip_inventory_days = 0.0;
    s.baseline_date = Some("2024-06-30".into());
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

fn block(from: &[&str], to: &[&str], items: &[&str]) -> Shock {
    Shock::ExportBlock {
        from: from.iter().map(|s| s.to_string()).collect(),
        to: to.iter().map(|s| s.to_string()).collect(),
        items: items.iter().map(|s| s.to_string()).collect(),
        start_day: 0,
        duration_days: None,
        fraction: None,
    }
}

fn seg<'r>(r: &'r ScenarioResult, code: &str, s: Segment) -> &'r SegmentResult {
    r.economies
        .iter()
        .find(|e| e.code == code)
        .unwrap()
        .segments
        .iter()
        .find(|x| x.segment == s)
        .unwrap()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-4, "{a} != {b}");
}

fn run_s(s: &Scenario) -> ScenarioResult {
    run_with_production(&model(), s, &prod(), None).unwrap()
}

#[test]
fn baseline_is_whole() {
    let r = run_s(&scenario(vec![]));
    for e in &r.economies {
        for s in &e.segments {
            close(s.availability_min, 1.0);
            assert!(s.binding_constraint.is_empty());
        }
    }
    let p = r.segment_provenance.as_ref().unwrap();
    close(p.coverage_pct.unwrap(), 50.0);
}

/// XXX's logic fabs stop: the world has YYY's 100 x 1.1 of 200; pro rata, everyone gets 0.55.
#[test]
fn pro_rata_shares_the_loss() {
    let r = run_s(&scenario(vec![loss("XXX", &["logic_leading"], 1.0)]));
    for c in ["XXX", "YYY", "ROW"] {
        close(seg(&r, c, Segment::LogicLeading).availability_min, 0.55);
        close(seg(&r, c, Segment::Dram).availability_min, 1.0);
    }
    let b = &seg(&r, "YYY", Segment::LogicLeading).binding_constraint;
    assert_eq!(b[1], "production in XXX");
    assert!(b[2].starts_with("FabCo fabs: capacity loss"), "{b:?}");
}

/// Half of XXX's logic stops, home first: XXX keeps its 50, exports 5 (3 to YYY, 2 to ROW);
/// YYY serves itself (30), exports 50 + 20, and gives its spare 10 to itself: YYY 43/60, ROW
/// 22/40.
#[test]
fn home_first_serves_home() {
    let mut s = scenario(vec![loss("XXX", &["logic_leading"], 0.5)]);
    s.allocation.rule = AllocationRule::HomeFirst;
    let r = run_s(&s);
    close(seg(&r, "XXX", Segment::LogicLeading).availability_min, 1.0);
    close(
        seg(&r, "YYY", Segment::LogicLeading).availability_min,
        43.0 / 60.0,
    );
    close(seg(&r, "ROW", Segment::LogicLeading).availability_min, 0.55);
}

/// Allies first with XXX and YYY in one group: ROW, outside it, bears the loss.
#[test]
fn allies_first_serves_the_group() {
    let mut s = scenario(vec![loss("XXX", &["logic_leading"], 0.5)]);
    s.allocation.rule = AllocationRule::AlliesFirst;
    s.allocation
        .groups
        .insert("pair".into(), vec!["XXX".into(), "YYY".into()]);
    let r = run_s(&s);
    // XXX's 55 go to XXX and YYY first (50 : 30 -> 34.375, 20.625), ROW gets nothing from XXX;
    // YYY's 110 serve XXX 50 and YYY 30 first, then ROW 20, spare 10 to the group's shortfalls.
    let x = seg(&r, "XXX", Segment::LogicLeading).availability_min;
    let y = seg(&r, "YYY", Segment::LogicLeading).availability_min;
    let w = seg(&r, "ROW", Segment::LogicLeading).availability_min;
    assert!(
        w < x && w < y,
        "ROW {w} should be below XXX {x} and YYY {y}"
    );
    // Total delivered is the same 165 of 200 whatever the rule.
    close(x * 100.0 + y * 60.0 + w * 40.0, 165.0);
}

/// YYY's chips may not go to XXX: XXX gets its own 50 plus XXX's spare 10.
#[test]
fn chip_export_block() {
    let r = run_s(&scenario(vec![block(
        &["YYY"],
        &["XXX"],
        &["logic_leading"],
    )]));
    close(seg(&r, "XXX", Segment::LogicLeading).availability_min, 0.6);
    close(seg(&r, "YYY", Segment::LogicLeading).availability_min, 1.0);
    close(seg(&r, "ROW", Segment::LogicLeading).availability_min, 1.0);
    let b = &seg(&r, "XXX", Segment::LogicLeading).binding_constraint;
    assert_eq!(b[1], "imports from YYY");
}

/// No new tools for XXX: its installed base erodes by 10% a year and the 6% growth is
/// forgone: after a year the capacity needing T is (0.9 / 1.06) of what it would have been.
#[test]
fn tool_block_erodes_the_installed_base() {
    let r = run_s(&scenario(vec![block(&["AAA", "BBB"], &["XXX"], &["T"])]));
    let row = r
        .production
        .iter()
        .find(|p| p.country == "XXX" && p.segment == Segment::LogicLeading)
        .unwrap();
    close(row.capacity_end, 0.9 / 1.06);
    assert!(
        row.cause.contains("installed base eroding"),
        "{}",
        row.cause
    );
    // After a month the fab has lost little: tools keep running.
    let e = seg(&r, "XXX", Segment::LogicLeading);
    let day30 = e.series.iter().find(|(d, _)| *d == 30).unwrap().1;
    assert!(day30 > 0.99, "{day30}");
    // dram does not need T.
    let d = r
        .production
        .iter()
        .find(|p| p.country == "XXX" && p.segment == Segment::Dram)
        .unwrap();
    close(d.capacity_min, 1.0);
}

/// The block of T from AAA to XXX is in force on the baseline date: blocking it again changes
/// nothing and is reported; blocking BBB too stops the rest.
#[test]
fn baseline_denial_is_the_world_as_it_is() {
    let mut s = scenario(vec![block(&["AAA"], &["XXX"], &["T"])]);
    s.baseline_denials.push(BaselineDenial {
        measure: "test measure".into(),
        from: vec!["AAA".into()],
        to: vec!["XXX".into()],
        items: vec!["T".into()],
        fraction: 1.0,
        since: "2019-11-01".into(),
        source: String::new(),
    });
    let r = run_s(&s);
    for p in &r.production {
        close(p.capacity_min, 1.0);
    }
    let b = r.baseline.as_ref().unwrap();
    assert_eq!(b.already_denied.len(), 1);
    assert!(b.already_denied[0].contains("since 2019-11-01"));
    s.shocks.push(block(&["BBB"], &["XXX"], &["T"]));
    let r = run_s(&s);
    let row = r
        .production
        .iter()
        .find(|p| p.country == "XXX" && p.segment == Segment::LogicLeading)
        .unwrap();
    close(row.capacity_end, 0.9 / 1.06);
}

/// M from AAA to XXX stops: supply 1.1 x 50% = 0.55; 30 days of stock last 30 / 0.45 = 66.7
/// days; then logic (dependence 1) runs at 0.55 and dram (0.5) at 0.775.
#[test]
fn consumables_stop_when_stock_runs_out() {
    let r = run_s(&scenario(vec![block(&["AAA"], &["XXX"], &["M"])]));
    let cap = |s: Segment| {
        r.production
            .iter()
            .find(|p| p.country == "XXX" && p.segment == s)
            .unwrap()
    };
    close(cap(Segment::LogicLeading).capacity_min, 0.55);
    close(cap(Segment::Dram).capacity_min, 0.775);
    let x = seg(&r, "XXX", Segment::Dram);
    // Before the stock runs out nothing is short.
    assert_eq!(x.tts_days, Some(67.0));
}

/// A firm named by its owner name hits its own fabs only.
#[test]
fn owner_shock_hits_its_fabs() {
    let r = run_s(&scenario(vec![loss("OtherCo", &["*"], 1.0)]));
    let hit: Vec<_> = r
        .production
        .iter()
        .filter(|p| p.capacity_min < 1.0)
        .map(|p| p.owner.as_str())
        .collect();
    assert_eq!(hit, ["OtherCo"]);
    let err = run_with_production(
        &model(),
        &scenario(vec![loss("NoSuchCo", &["dram"], 1.0)]),
        &prod(),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("shock[0].provider"), "{err}");
}

/// A trade matrix: all of YYY's exports go to ROW; XXX keeps pro rata.
#[test]
fn trade_matrix_routes_output() {
    let m = TradeMatrix {
        flows: vec![TradeFlow {
            segment: None,
            from: "YYY".into(),
            to: "ROW".into(),
            value: 10.0,
        }],
        origin: "test matrix".into(),
    };
    let s = scenario(vec![loss("YYY", &["logic_leading"], 1.0)]);
    let r = run_with_production(&model(), &s, &prod(), Some(&m)).unwrap();
    // YYY keeps 30% of its output at home and sends 70% to ROW; XXX's 100 go 50/30/20 and its
    // spare 10 is shared by shortfall. Demand: XXX 50, YYY 60, ROW 90.
    close(seg(&r, "XXX", Segment::LogicLeading).availability_min, 1.0);
    let w = seg(&r, "ROW", Segment::LogicLeading).availability_min;
    let y = seg(&r, "YYY", Segment::LogicLeading).availability_min;
    close(w * 90.0 + y * 60.0, 60.0);
    assert!(w < y);
}

/// More shock never raises availability; an economy with no demand in a segment is unaffected.
#[test]
fn monotone_and_no_demand_unaffected() {
    let mut prev = f64::INFINITY;
    for f in [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
        let r = run_s(&scenario(vec![loss("XXX", &["*"], f)]));
        let v = seg(&r, "ROW", Segment::LogicLeading).availability_min;
        assert!(v <= prev + 1e-9, "{f}: {v} > {prev}");
        prev = v;
    }
    let mut p = prod();
    p.demand.push(DemandShare {
        consumer: "ROW".into(),
        segment: Some(Segment::Dram),
        share_pct: 0.0,
        year: None,
        source: "s".into(),
        note: String::new(),
    });
    let r = run_with_production(
        &model(),
        &scenario(vec![loss("XXX", &["dram"], 1.0)]),
        &p,
        None,
    )
    .unwrap();
    close(seg(&r, "ROW", Segment::Dram).availability_min, 1.0);
    assert!(seg(&r, "XXX", Segment::Dram).availability_min < 0.1);
}

/// U's unassigned 80% is unknown: a block from BBB leaves XXX's logic between 1.1 x 20% = 0.22
/// (BBB holds all 80%) and 1 (CCC does), 0.66 with the even split.
#[test]
fn unknown_shares_give_a_range() {
    let mut p = prod();
    p.needs.push(SegmentNeed {
        segment: Segment::LogicLeading,
        item: "U".into(),
        kind: NeedKind::Material,
        dependence: 1.0,
        source: "s".into(),
        note: String::new(),
    });
    let mut s = scenario(vec![block(&["BBB"], &["XXX"], &["U"])]);
    s.assumptions.inventory_days.material = 0.0;
    let r = run_with_production(&model(), &s, &p, None).unwrap();
    let cap = r
        .production
        .iter()
        .find(|x| x.country == "XXX" && x.segment == Segment::LogicLeading)
        .unwrap();
    close(cap.capacity_min, 0.66);
    // XXX's logic: 66 + 0.66 of the world's... YYY unaffected: pro rata over 166 + spare.
    let x = seg(&r, "XXX", Segment::LogicLeading);
    let (lo, hi) = x.availability_min_range.unwrap();
    assert!(
        lo < x.availability_min && x.availability_min < hi,
        "{lo} {} {hi}",
        x.availability_min
    );
    close(hi, 1.0);
    assert!(
        r.notes.iter().any(|n| n.contains("unknown shares: U")),
        "{:?}",
        r.notes
    );
    // A shock that reaches no unknown provider gives no range.
    let r = run_s(&scenario(vec![loss("XXX", &["logic_leading"], 1.0)]));
    assert!(seg(&r, "XXX", Segment::LogicLeading)
        .availability_min_range
        .is_none());
}

mod embedded {
    //! Properties on the embedded model and production data.
    use super::super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn data() -> &'static (ValueChain, ProductionData) {
        static D: OnceLock<(ValueChain, ProductionData)> = OnceLock::new();
        D.get_or_init(|| {
            (
                chipwatch_data::default_model(),
                chipwatch_data::fabs::default_production(),
            )
        })
    }

    fn mins(r: &ScenarioResult) -> Vec<f64> {
        r.economies
            .iter()
            .flat_map(|e| e.segments.iter().map(|s| s.availability_min))
            .collect()
    }

    fn shock(kind: u8, who: &str, f: f64) -> Shock {
        match kind {
            0 => Shock::CapacityLoss {
                provider: who.into(),
                items: vec!["*".into()],
                fraction: f,
                start_day: 5,
                duration_days: Some(60),
                recovery_days: 20,
            },
            _ => Shock::ExportBlock {
                from: vec![who.into()],
                to: vec!["*".into()],
                items: vec!["N22".into(), "N31".into()],
                start_day: 5,
                duration_days: None,
                fraction: Some(f),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// More shock never raises any economy's availability in any segment; every value is
        /// in 0..=1.
        #[test]
        fn more_shock_never_raises_availability(
            kind in 0u8..2,
            who in prop::sample::select(vec!["TWN", "KOR", "JPN", "CHN", "USA", "NLD"]),
            f in 0.05f64..0.9,
            extra in 0.01f64..0.1,
        ) {
            let (vc, prod) = data();
            let mut s = Scenario::new("p");
            s.horizon_days = 120;
            s.baseline_date = Some("2025-06-30".into());
            s.shocks = vec![shock(kind, who, f)];
            let a = mins(&run_with_production(vc, &s, prod, None).unwrap());
            s.shocks = vec![shock(kind, who, (f + extra).min(1.0))];
            let b = mins(&run_with_production(vc, &s, prod, None).unwrap());
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((0.0..=1.0).contains(x) && (0.0..=1.0).contains(y));
                prop_assert!(*y <= *x + 1e-9, "{who} {f}+{extra}: {y} > {x}");
            }
        }
    }
}
