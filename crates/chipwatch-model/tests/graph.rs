//! ValueChain behaviour on small hand-built models: lookup, vintages, views, stage derivation,
//! diagnostics.

use chipwatch_model::*;

fn item(id: &str, name: &str, kind: ItemKind) -> Item {
    Item {
        id: id.into(),
        name: name.into(),
        kind,
        stage: None,
        is_type_of: vec![],
        goes_into: vec![],
        market_size: None,
        year: None,
        hs_codes: vec![],
        control_entries: vec![],
        parameters: Default::default(),
    }
}

fn provider(id: &str, name: &str, t: ProviderType, country: Option<&str>) -> Provider {
    Provider {
        id: id.into(),
        name: name.into(),
        provider_type: t,
        country: country.map(Into::into),
        aliases: vec![],
        bucket_of: None,
    }
}

fn share(p: &str, i: &str, v: Option<f64>, year: i32) -> Share {
    Share {
        provider: p.into(),
        item: i.into(),
        share: v,
        year: Some(year),
        source: None,
        basis: Basis::Hq,
    }
}

fn model() -> Model {
    let mut fab = item("P1", "Lithography step", ItemKind::Process);
    fab.stage = Some(StageKind::Fabrication);
    fab.goes_into = vec!["F".into()];
    let mut tools = item("T", "Litho tools", ItemKind::Tool);
    tools.goes_into = vec!["P1".into()];
    let mut euv = item("T1", "EUV tools", ItemKind::Tool);
    euv.is_type_of = vec!["T".into()];
    let mut sub = item("T11", "EUV high-NA tools", ItemKind::Tool);
    sub.is_type_of = vec!["T1".into()];
    Model {
        meta: Meta {
            format_version: FORMAT_VERSION,
            ..Default::default()
        },
        items: vec![
            fab,
            tools,
            euv,
            sub,
            item("F", "Chip", ItemKind::FinalOutput),
            item("D", "Design IP", ItemKind::DesignResource),
        ],
        providers: vec![
            provider("C1", "NLD", ProviderType::Country, Some("NLD")),
            provider("C2", "JPN", ProviderType::Country, Some("JPN")),
            provider("B", "Various countries", ProviderType::Bucket, None),
            provider("O1", "ASML", ProviderType::Organisation, Some("NLD")),
            provider("O2", "Canon", ProviderType::Organisation, Some("JPN")),
        ],
        shares: vec![
            share("C1", "T", Some(70.0), 2019),
            share("C1", "T", Some(80.0), 2025),
            share("C2", "T", Some(15.0), 2025),
            share("B", "T", Some(5.0), 2025),
            share("O1", "T", Some(80.0), 2025),
            share("O2", "T", None, 2025),
        ],
        ..Default::default()
    }
}

#[test]
fn lookup_by_id_name_and_prefix() {
    let vc = ValueChain::new(model()).unwrap();
    assert_eq!(vc.find_item("T1"), Ok(vc.item_idx("T1").unwrap()));
    assert_eq!(vc.find_item("euv tools"), Ok(vc.item_idx("T1").unwrap()));
    assert_eq!(vc.find_item("high-na"), Ok(vc.item_idx("T11").unwrap()));
    assert!(matches!(
        vc.find_item("tools"),
        Err(LookupError::Ambiguous(..))
    ));
    assert!(matches!(
        vc.find_item("gadget"),
        Err(LookupError::NotFound(_))
    ));
    assert_eq!(vc.find_provider("asml"), Ok(vc.provider_idx("O1").unwrap()));
    assert_eq!(vc.country_provider("JPN"), vc.provider_idx("C2"));
}

#[test]
fn latest_vintage_and_views() {
    let vc = ValueChain::new(model()).unwrap();
    let t = vc.item_idx("T").unwrap();
    assert_eq!(vc.all_shares(t).count(), 6);
    let countries = vc.country_shares(t, None);
    let got: Vec<_> = countries
        .iter()
        .map(|s| (s.provider.as_str(), s.share))
        .collect();
    assert_eq!(
        got,
        [("C1", Some(80.0)), ("C2", Some(15.0)), ("B", Some(5.0))]
    );
    let firms: Vec<_> = vc
        .firm_shares(t)
        .iter()
        .map(|s| s.provider.as_str())
        .collect();
    assert_eq!(firms, ["O1", "O2"]);
    assert!(vc.country_shares(t, Some(Basis::Location)).is_empty());
}

#[test]
fn stages_are_derived_through_flow_and_taxonomy() {
    let vc = ValueChain::new(model()).unwrap();
    let st = |id: &str| vc.stage(vc.item_idx(id).unwrap());
    assert_eq!(st("P1"), Some(StageKind::Fabrication));
    assert_eq!(st("T"), Some(StageKind::Fabrication)); // through goes_into
    assert_eq!(st("T11"), Some(StageKind::Fabrication)); // through two taxonomy levels
    assert_eq!(st("D"), Some(StageKind::Design));
    assert_eq!(st("F"), None);
    let t = vc.item_idx("T").unwrap();
    let mut d: Vec<_> = vc
        .descendants(t)
        .iter()
        .map(|&i| vc.item(i).id.clone())
        .collect();
    d.sort();
    assert_eq!(d, ["T1", "T11"]);
    let anc: Vec<_> = vc
        .ancestors(vc.item_idx("T11").unwrap())
        .iter()
        .map(|&i| vc.item(i).id.clone())
        .collect();
    assert_eq!(anc, ["T1", "T"]);
    let order: Vec<_> = vc
        .flow_topo_order()
        .iter()
        .map(|&i| vc.item(i).id.clone())
        .collect();
    let pos = |x: &str| order.iter().position(|o| o == x).unwrap();
    assert!(pos("T") < pos("P1") && pos("P1") < pos("F"));
}

#[test]
fn diagnostics_instead_of_failure() {
    let mut m = model();
    m.items[4].goes_into = vec!["P1".into()]; // F -> P1 -> F
    m.items[5].goes_into = vec!["NOPE".into()];
    m.shares.push(share("ZZ", "T", Some(1.0), 2025));
    m.shares.push(share("C2", "T1", Some(50.0), 2025)); // sums to 50% with nothing unknown
    m.providers
        .push(provider("C3", "nld", ProviderType::Country, Some("NLD")));
    let vc = ValueChain::new(m).unwrap();
    let codes: Vec<_> = vc.diagnostics().iter().map(|d| d.code).collect();
    for c in ["cycle", "dangling_reference", "share_sum", "duplicate_name"] {
        assert!(codes.contains(&c), "missing {c}: {codes:?}");
    }
    let cyc = vc.diagnostics().iter().find(|d| d.code == "cycle").unwrap();
    assert!(cyc.message.contains("P1") && cyc.message.contains("F"));
}

#[test]
fn hard_errors() {
    let mut m = model();
    m.items.push(item("T", "dup", ItemKind::Tool));
    assert_eq!(
        ValueChain::new(m).unwrap_err(),
        ModelError::DuplicateItemId("T".into())
    );
    let mut m = model();
    m.shares[0].share = Some(-3.0);
    assert!(matches!(
        ValueChain::new(m).unwrap_err(),
        ModelError::ShareOutOfRange { index: 0, .. }
    ));
}
