//! Property test: any model the format can express round-trips exactly through TOML.

use chipwatch_data::format::{from_toml_str, to_toml_string};
use chipwatch_model::*;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    // Includes quotes, backslashes, newlines and non-ASCII to exercise TOML escaping.
    prop::string::string_regex("[A-Za-z0-9 \"\\\\\n\t光刻机é-]{0,12}").unwrap()
}

fn market_size() -> impl Strategy<Value = Option<MarketSize>> {
    prop::option::of(
        (
            0.0f64..1e13,
            prop::option::of(1990i32..2030),
            prop::option::of(name()),
            prop::option::of(name()),
        )
            .prop_map(|(usd, year, qualifier, source)| MarketSize {
                usd,
                year,
                qualifier,
                source,
            }),
    )
}

fn model() -> impl Strategy<Value = Model> {
    let items = prop::collection::vec(
        (
            name(),
            prop::sample::select(ItemKind::ALL.to_vec()),
            prop::option::of(prop::sample::select(StageKind::ALL.to_vec())),
            prop::collection::vec(name(), 0..2),
            market_size(),
            prop::collection::btree_map(name(), -1e6f64..1e6, 0..2),
        ),
        0..6,
    );
    let providers = prop::collection::vec(
        (
            name(),
            prop::sample::select(vec![
                ProviderType::Country,
                ProviderType::Organisation,
                ProviderType::Bucket,
            ]),
            prop::option::of("[A-Z]{3}"),
            prop::collection::vec(name(), 0..2),
        ),
        0..5,
    );
    let shares = prop::collection::vec(
        (
            name(),
            name(),
            prop::option::of(0.0f64..=100.0),
            prop::option::of(1990i32..2030),
            prop::option::of(name()),
            prop::bool::ANY,
        ),
        0..8,
    );
    (name(), items, providers, shares).prop_map(|(n, items, providers, shares)| Model {
        meta: Meta {
            format_version: FORMAT_VERSION,
            name: n.clone(),
            dataset: n.clone(),
            vintage: n,
            ..Default::default()
        },
        sources: vec![],
        stages: vec![],
        items: items
            .into_iter()
            .enumerate()
            .map(
                |(i, (name, kind, stage, is_type_of, market_size, parameters))| Item {
                    id: format!("N{i}"),
                    name,
                    kind,
                    stage,
                    is_type_of: is_type_of.into_iter().map(Into::into).collect(),
                    goes_into: vec![],
                    market_size,
                    year: None,
                    hs_codes: vec![],
                    control_entries: vec![],
                    parameters,
                },
            )
            .collect(),
        providers: providers
            .into_iter()
            .enumerate()
            .map(|(i, (name, provider_type, country, aliases))| Provider {
                id: format!("P{i}"),
                name,
                provider_type,
                country,
                aliases,
                bucket_of: None,
            })
            .collect(),
        shares: shares
            .into_iter()
            .map(|(provider, item, share, year, source, hq)| Share {
                provider: provider.into(),
                item: item.into(),
                share,
                year,
                source,
                basis: if hq { Basis::Hq } else { Basis::Location },
            })
            .collect(),
    })
}

proptest! {
    #[test]
    fn toml_round_trips(m in model()) {
        let text = to_toml_string(&m);
        let back = from_toml_str(&text, "prop.toml").unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(to_toml_string(&back), text);
    }
}
