//! The product catalogue (`data/products/*.toml`): named products with public specification
//! values and the source of each, so `licence check --product "NXT:2000i"` needs no hand-typed
//! parameters. `--param` values override catalogue values.

use crate::value::Value;
use crate::ControlsError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One product with its specification values.
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub name: String,
    pub aliases: Vec<String>,
    pub manufacturer: String,
    pub origin: Option<String>,
    pub category: String,
    pub parameters: BTreeMap<String, Value>,
    pub source: String,
    pub notes: Option<String>,
    /// Item of the value-chain model the product belongs to (e.g. N22).
    pub model_item: Option<String>,
    pub file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    product: Vec<RawProduct>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    manufacturer: String,
    #[serde(default)]
    origin: Option<String>,
    category: String,
    source: String,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    model_item: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, toml::Value>,
}

/// All products, searchable by name or alias (case, spaces and punctuation ignored).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    products: Vec<Product>,
    keys: Vec<(String, usize)>,
}

/// Lookup key: lowercase letters and digits only ("NXT:2000i" -> "nxt2000i").
pub fn product_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Catalogue {
    /// Parse catalogue files given as (file name, text).
    pub fn from_sources(files: &[(&str, &str)]) -> Result<Catalogue, ControlsError> {
        let mut products = Vec::new();
        for (file, text) in files {
            let raw: RawCatalogue = toml::from_str(text).map_err(|e| ControlsError::Toml {
                file: file.to_string(),
                message: e.to_string(),
            })?;
            for (i, p) in raw.product.into_iter().enumerate() {
                let field = |f: &str| format!("product[{i}].{f}");
                let err = |f: &str, m: String| ControlsError::Field {
                    file: file.to_string(),
                    field: field(f),
                    message: m,
                };
                if p.name.trim().is_empty() {
                    return Err(err("name", "must not be empty".into()));
                }
                if p.source.trim().is_empty() {
                    return Err(err("source", "every product needs its source".into()));
                }
                let origin = match p.origin {
                    None => None,
                    Some(o) => Some(crate::normalise_country(&o).ok_or_else(|| {
                        err("origin", format!("`{o}` is not an ISO 3166-1 alpha-3 code"))
                    })?),
                };
                let mut parameters = BTreeMap::new();
                for (k, v) in p.parameters {
                    let v = Value::from_toml(&v).ok_or_else(|| {
                        err(
                            &format!("parameters.{k}"),
                            "must be a number, boolean or string".into(),
                        )
                    })?;
                    parameters.insert(k, v);
                }
                products.push(Product {
                    name: p.name,
                    aliases: p.aliases,
                    manufacturer: p.manufacturer,
                    origin,
                    category: p.category,
                    parameters,
                    source: p.source,
                    notes: p.notes,
                    model_item: p.model_item,
                    file: file.to_string(),
                });
            }
        }
        products.sort_by(|a, b| a.name.cmp(&b.name));
        let mut keys: Vec<(String, usize)> = Vec::new();
        for (i, p) in products.iter().enumerate() {
            for n in std::iter::once(&p.name).chain(&p.aliases) {
                let k = product_key(n);
                if let Some((_, j)) = keys.iter().find(|(k2, _)| *k2 == k) {
                    if *j != i {
                        return Err(ControlsError::Field {
                            file: p.file.clone(),
                            field: format!("product `{}`", p.name),
                            message: format!(
                                "name or alias `{n}` is also used by `{}`",
                                products[*j].name
                            ),
                        });
                    }
                }
                keys.push((k, i));
            }
        }
        Ok(Catalogue { products, keys })
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Find a product by its name or a listed alias, compared on [`product_key`] (case, spaces
    /// and punctuation ignored) and nothing looser: `A10` is not `A100`, `H2` is not `H20`, and a
    /// product that is not in the catalogue is an error with the closest names as suggestions,
    /// never a guess (a determination on the wrong product is worse than none).
    pub fn find(&self, query: &str) -> Result<&Product, ControlsError> {
        let q = product_key(query);
        if let Some((_, i)) = self.keys.iter().find(|(k, _)| !q.is_empty() && *k == q) {
            return Ok(&self.products[*i]);
        }
        let mut scored: Vec<(f64, usize)> = self
            .keys
            .iter()
            .filter_map(|(k, i)| {
                let sim = strsim::jaro_winkler(&q, k);
                let part = !q.is_empty() && (k.contains(&q) || q.contains(k.as_str()));
                (sim >= 0.85 || part).then_some((if part { sim + 1.0 } else { sim }, *i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut candidates: Vec<String> = Vec::new();
        for (_, i) in scored {
            let n = &self.products[i].name;
            if !candidates.contains(n) {
                candidates.push(n.clone());
            }
        }
        candidates.truncate(6);
        Err(ControlsError::UnknownProduct {
            query: query.to_string(),
            candidates,
        })
    }
}
