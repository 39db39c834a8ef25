//! An English summary of an event, built only from what was extracted (type, countries with
//! their roles, organisations, items, status, dates), so an analyst who does not read the
//! article's language sees what the monitor understood — and what it did not: nothing is
//! translated, and a field the extraction lacks is left out rather than guessed.
//!
//! "The Netherlands imposes export controls on ArF immersion (DUV) lithography tools, affecting
//! China (announced; dates named: 2023-09-01)."

use crate::detect::Classified;
use crate::gazetteer::Gazetteer;

/// `a`, `a and b`, `a, b and c`.
fn and_list(v: &[String]) -> String {
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

fn country(g: &Gazetteer, iso: &str) -> String {
    match g.country_names.get(iso) {
        // "The Netherlands", "the United States" read as a sentence needs them.
        Some(n) if matches!(iso, "NLD" | "USA" | "GBR" | "PHL") => format!("the {n}"),
        Some(n) => n.clone(),
        None => iso.to_string(),
    }
}

/// `Photoresists` -> `photoresists` inside a sentence; `ArF immersion`, `EUV ...` stay.
fn lower_first(s: &str) -> String {
    let first_word = s.split(' ').next().unwrap_or("");
    let mut cs = first_word.chars();
    let plain = cs.next().is_some_and(char::is_uppercase) && cs.all(|c| !c.is_uppercase());
    if plain {
        let mut all = s.chars();
        all.next()
            .map(|a| a.to_lowercase().chain(all).collect())
            .unwrap_or_default()
    } else {
        s.to_string()
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The summary of a relevant article; `None` for one that is not relevant.
pub fn english(c: &Classified, g: &Gazetteer) -> Option<String> {
    if !c.relevant || c.event_type == "none" {
        return None;
    }
    let countries = |v: &[String]| and_list(&v.iter().map(|i| country(g, i)).collect::<Vec<_>>());
    let imposing = countries(&c.actors.imposing);
    let target = countries(&c.actors.target);
    let items = and_list(
        &c.items
            .iter()
            .map(|i| {
                g.item_names
                    .get(i)
                    .map_or_else(|| i.clone(), |n| lower_first(n))
            })
            .collect::<Vec<_>>(),
    );
    let orgs_with = |roles: &[&str]| {
        and_list(
            &c.organisations
                .iter()
                .filter(|o| roles.contains(&o.role.as_str()))
                .map(|o| o.name.clone())
                .collect::<Vec<_>>(),
        )
    };
    let firms = orgs_with(&["target", "subject", "affected", "party"]);
    let where_ = if !c.locations.is_empty() {
        countries(&c.locations)
    } else if !target.is_empty() {
        target.clone()
    } else {
        countries(&c.countries)
    };
    let on_items = |prefix: &str| {
        if items.is_empty() {
            String::new()
        } else {
            format!(" {prefix} {items}")
        }
    };
    // Several imposing countries take the plural verb ("Japan and South Korea ease ...").
    let many = c.actors.imposing.len() > 1;
    let v = |one: &'static str, several: &'static str| if many { several } else { one };
    let who = if imposing.is_empty() {
        "A government".to_string()
    } else {
        capitalise(&imposing)
    };
    let affecting = if target.is_empty() {
        String::new()
    } else {
        format!(", affecting {target}")
    };
    let et = c.event_type.as_str();
    let core = match et {
        "export_control" => format!(
            "{who} {} export controls{}{affecting}",
            v("imposes", "impose"),
            on_items("on")
        ),
        "export_control_relaxation" => {
            format!(
                "{who} {} export controls{}{affecting}",
                v("eases", "ease"),
                on_items("on")
            )
        }
        "licence_revocation" => format!(
            "{who} {} export licences{}{}",
            v("revokes", "revoke"),
            on_items("for"),
            if target.is_empty() {
                String::new()
            } else {
                format!(" to {target}")
            }
        ),
        "licence_grant" => format!(
            "{who} {} export licences{}{}",
            v("grants", "grant"),
            on_items("for"),
            if target.is_empty() {
                String::new()
            } else {
                format!(" to {target}")
            }
        ),
        "entity_listing" => format!(
            "{who} {} {} to a restricted-party list",
            v("adds", "add"),
            if firms.is_empty() {
                "organisations".to_string()
            } else {
                firms.clone()
            }
        ),
        "market_access_restriction" => format!(
            "{who} {} {} in its market",
            v("restricts", "restrict"),
            if firms.is_empty() {
                "products".to_string()
            } else {
                format!("{firms}'s products")
            }
        ),
        "tariff" => format!(
            "{who} {} tariffs{}{affecting}",
            v("imposes", "impose"),
            on_items("on")
        ),
        "investigation" => format!(
            "{who} {} an investigation{}",
            v("opens", "open"),
            if firms.is_empty() {
                String::new()
            } else {
                format!(" into {firms}")
            }
        ),
        "state_intervention" => format!(
            "{who} {} in {}",
            v("intervenes", "intervene"),
            if firms.is_empty() {
                "a chip firm".to_string()
            } else {
                firms.clone()
            }
        ),
        "factory_fire" | "earthquake" | "power_outage" | "extreme_weather" | "strike" => {
            let what = match et {
                "factory_fire" => "A fire",
                "earthquake" => "An earthquake",
                "power_outage" => "A power outage",
                "extreme_weather" => "Extreme weather",
                _ => "A strike",
            };
            format!(
                "{what}{}{} disrupts chip production{}",
                if firms.is_empty() {
                    String::new()
                } else {
                    format!(" at {firms}")
                },
                if where_.is_empty() {
                    String::new()
                } else {
                    format!(" in {where_}")
                },
                if items.is_empty() {
                    String::new()
                } else {
                    format!(" (items: {items})")
                }
            )
        }
        "shortage" => format!(
            "Shortage{}{}",
            if items.is_empty() {
                " of chips".to_string()
            } else {
                format!(" of {items}")
            },
            if where_.is_empty() {
                String::new()
            } else {
                format!(" in {where_}")
            }
        ),
        "price_spike" => format!(
            "Prices{} rise",
            if items.is_empty() {
                " of chips".to_string()
            } else {
                format!(" of {items}")
            }
        ),
        "capacity_expansion" => format!(
            "{} expands capacity{}{}",
            if firms.is_empty() {
                "A chipmaker".to_string()
            } else {
                firms.clone()
            },
            on_items("for"),
            if where_.is_empty() {
                String::new()
            } else {
                format!(" in {where_}")
            }
        ),
        "alliance_agreement" => {
            let parties = if imposing.is_empty() {
                countries(&c.countries)
            } else {
                imposing.clone()
            };
            format!(
                "{} agree to cooperate on semiconductor supply chains",
                if parties.is_empty() {
                    "Partners".to_string()
                } else {
                    capitalise(&parties)
                }
            )
        }
        "m_and_a" => {
            // Parties with no role found are still the firms the report names.
            let named = if firms.is_empty() {
                orgs_with(&["mentioned"])
            } else {
                firms.clone()
            };
            format!(
                "Merger or acquisition{}",
                if named.is_empty() {
                    String::new()
                } else {
                    format!(" involving {named}")
                }
            )
        }
        "diplomatic_statement" => format!(
            "{} issues a statement on chip measures{}",
            if imposing.is_empty() {
                "A government".to_string()
            } else {
                capitalise(&imposing)
            },
            if target.is_empty() {
                String::new()
            } else {
                format!(" concerning {target}")
            }
        ),
        other => format!("{} reported", capitalise(&other.replace('_', " "))),
    };
    let mut notes = Vec::new();
    // A status says where a measure stands; for a fire or a strike it says nothing.
    let measure = !matches!(
        et,
        "factory_fire"
            | "earthquake"
            | "power_outage"
            | "extreme_weather"
            | "strike"
            | "shortage"
            | "price_spike"
    );
    if let Some(s) = c.status.as_deref().filter(|s| measure || *s == "rumoured") {
        notes.push(if s == "rumoured" {
            "reported, unconfirmed".to_string()
        } else {
            s.to_string()
        });
    }
    if !c.dates.is_empty() {
        notes.push(format!("dates named: {}", c.dates.join(", ")));
    }
    Some(if notes.is_empty() {
        format!("{core}.")
    } else {
        format!("{core} ({}).", notes.join("; "))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_and_case() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(super::and_list(&v(&["a"])), "a");
        assert_eq!(super::and_list(&v(&["a", "b", "c"])), "a, b and c");
        assert_eq!(super::lower_first("Photoresists"), "photoresists");
        assert_eq!(super::lower_first("ArF immersion"), "ArF immersion");
        assert_eq!(super::lower_first("KrF (DUV) tools"), "KrF (DUV) tools");
        assert_eq!(super::lower_first("EUV tools"), "EUV tools");
    }
}
