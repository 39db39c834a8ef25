//! Screening every party of a shipment: exporter, consignee, end user, intermediate consignees,
//! purchaser. Each party keeps its role in the answer, so a hit on an intermediate consignee is
//! never reported as if it were the end user.

use crate::screening::{Hit, Screener};
use crate::Date;
use serde::{Deserialize, Serialize};

/// The role of a party in a shipment (the parties an export licence application names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Exporter,
    Purchaser,
    IntermediateConsignee,
    Consignee,
    EndUser,
}

impl PartyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exporter => "exporter",
            Self::Purchaser => "purchaser",
            Self::IntermediateConsignee => "intermediate_consignee",
            Self::Consignee => "consignee",
            Self::EndUser => "end_user",
        }
    }

    /// Parse a role name (`end_user`, `end-user`, `intermediate consignee`...).
    pub fn parse(s: &str) -> Option<PartyRole> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Some(match t.as_str() {
            "exporter" => Self::Exporter,
            "purchaser" => Self::Purchaser,
            "intermediate_consignee" | "intermediary" => Self::IntermediateConsignee,
            "consignee" | "ultimate_consignee" => Self::Consignee,
            "end_user" => Self::EndUser,
            _ => return None,
        })
    }
}

/// One party of a shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub role: PartyRole,
    pub name: String,
}

/// The screening of one party.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyScreening {
    pub role: PartyRole,
    pub name: String,
    pub hits: Vec<Hit>,
}

impl Screener {
    /// Screen every party, in the order given; with `date`, affiliate hits only while the
    /// affiliates rule is in force (see [`Screener::screen_on`]). Parties with an empty name get
    /// no hits. The same name in several roles is screened once.
    pub fn screen_parties(
        &self,
        parties: &[Party],
        threshold: f64,
        date: Option<Date>,
    ) -> Vec<PartyScreening> {
        let mut memo: Vec<(&str, Vec<Hit>)> = Vec::new();
        parties
            .iter()
            .map(|p| {
                let name = p.name.trim();
                let hits = match memo.iter().find(|(n, _)| *n == name) {
                    Some((_, h)) => h.clone(),
                    None => {
                        let h = if name.is_empty() {
                            Vec::new()
                        } else {
                            match date {
                                Some(d) => self.screen_on(name, threshold, d),
                                None => self.screen(name, threshold),
                            }
                        };
                        memo.push((name, h.clone()));
                        h
                    }
                };
                PartyScreening {
                    role: p.role,
                    name: p.name.clone(),
                    hits,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse() {
        assert_eq!(PartyRole::parse("End-User"), Some(PartyRole::EndUser));
        assert_eq!(
            PartyRole::parse("intermediate consignee"),
            Some(PartyRole::IntermediateConsignee)
        );
        assert_eq!(PartyRole::parse("broker"), None);
        for r in [
            PartyRole::Exporter,
            PartyRole::Purchaser,
            PartyRole::IntermediateConsignee,
            PartyRole::Consignee,
            PartyRole::EndUser,
        ] {
            assert_eq!(PartyRole::parse(r.as_str()), Some(r));
        }
    }
}
