//! The trade page (`/trade`): the loaded trade dataset's strategic dependencies, one importer's
//! partner shares over time (chart and table), and the short-term alerts, computed by the same
//! functions as `/api/v1/trade/*` ([`crate::routes::trade`]). Needs a session: an operator may
//! load licensed statistics.

use super::{error_page, options, page_response, session, to_login, Nav, Params};
use crate::routes::trade::{self as api, AlertsQuery, ScopeQuery, TradeData};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chipwatch_monitor::trade::money as value;
use chipwatch_report::svg::{escape, line_chart, LineOptions, Series};
use chipwatch_trade::indicators::{self as ind, DependenceThresholds};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

fn num(r: &Map<String, Value>, k: &str) -> Option<f64> {
    r.get(k).and_then(Value::as_f64)
}

fn text<'a>(r: &'a Map<String, Value>, k: &str) -> &'a str {
    r.get(k).and_then(Value::as_str).unwrap_or("")
}

/// What a code is, from the HS mapping.
fn code_label(d: &TradeData, code: &str) -> String {
    match d.mapping.entries_of(code).first() {
        Some(e) => format!(
            r#"{} <span class="hint">{}</span>"#,
            escape(code),
            escape(&e.label)
        ),
        None => escape(code),
    }
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login("/trade");
    };
    let Some(d) = s.trade.as_deref() else {
        let body = r#"<div class="panel"><p>No trade dataset is loaded on this server. Import published statistics (<code>chipwatch trade import --layout baci|comtrade|comext FILES --out DIR</code>) or generate a synthetic dataset (<code>chipwatch trade gen --out DIR</code>), then start the server with <code>chipwatch serve --trade DIR</code>. See docs/trade.md.</p></div>"#;
        return page_response(StatusCode::OK, "Trade", Nav::Trade, Some(&p), body);
    };
    let f = Params::from_query(&q);
    let get = |n: &str| {
        f.get(n)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let sq = ScopeQuery {
        source: get("source"),
        level: None,
        code: get("code"),
        from_year: get("from_year").and_then(|v| v.parse().ok()),
        to_year: get("to_year").and_then(|v| v.parse().ok()),
    };
    let importer = get("importer").map(|v| v.to_ascii_uppercase());
    let mut errors: Vec<String> = Vec::new();
    for (n, v) in [("from_year", "from_year"), ("to_year", "to_year")] {
        if get(v).is_some_and(|x| x.parse::<i32>().is_err()) {
            errors.push(format!("{n}: not a year"));
        }
    }
    if let (Some(a), Some(b)) = (sq.from_year, sq.to_year) {
        if a > b {
            errors.push(format!("from year {a} is after to year {b}"));
        }
    }
    if let Some(i) = &importer {
        if let Err(e) = chipwatch_controls::country::check("importer", i) {
            errors.push(e.to_string());
        }
    }
    let sources = d.engine.sources().await.unwrap_or_default();
    let scope = match sq.scope(&d.engine).await {
        Ok(sc) => Some(sc),
        Err(e) => {
            errors.push(e.message.clone());
            None
        }
    };

    let mut b = String::new();
    for e in &errors {
        let _ = write!(
            b,
            r#"<div class="error" role="alert"><p>{}</p></div>"#,
            escape(e)
        );
    }
    let v = |n: &str| escape(f.get(n).unwrap_or(""));
    let src_opts: Vec<(String, String)> = sources.iter().map(|x| (x.clone(), x.clone())).collect();
    let chosen = scope
        .as_ref()
        .map(|sc| sc.source.clone())
        .unwrap_or_default();
    let _ = write!(
        b,
        r#"<form class="panel" method="get" action="/trade" aria-label="Choose the trade scope"><div class="fields">
<div><label for="t-source">Source</label><select id="t-source" name="source">{src}</select></div>
<div><label for="t-code">Codes <span class="hint">(HS prefixes, comma-separated: 8486,8112.92)</span></label><input type="text" id="t-code" name="code" size="22" value="{code}"></div>
<div><label for="t-imp">Importer <span class="hint">(ISO alpha-3)</span></label><input type="text" id="t-imp" name="importer" size="5" maxlength="3" value="{imp}"></div>
<div><label for="t-from">From year</label><input type="number" id="t-from" name="from_year" min="1900" max="2200" value="{from}"></div>
<div><label for="t-to">To year</label><input type="number" id="t-to" name="to_year" min="1900" max="2200" value="{to}"></div>
<div><button type="submit">Show</button> <a href="/trade">Clear</a></div></div></form>"#,
        src = options(&src_opts, &[chosen]),
        code = v("code"),
        imp = v("importer"),
        from = v("from_year"),
        to = v("to_year"),
    );
    let Some(scope) = scope.filter(|_| errors.is_empty()) else {
        return page_response(StatusCode::BAD_REQUEST, "Trade", Nav::Trade, Some(&p), &b);
    };
    let dataset = d
        .engine
        .dir()
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let _ = write!(
        b,
        r#"<p class="provenance">Dataset <b>{ds}</b>, source <b>{src}</b>{vin}; codes at {lvl} digits{codes}{years}. Flows as the importer declares them (BACI: reconciled flows). Formulas and sources: docs/trade.md; HS-to-model mapping: data/hs/mapping.toml ({n} codes, {nom}).</p>"#,
        ds = escape(&dataset),
        src = escape(&scope.source),
        vin = d
            .vintage
            .as_deref()
            .map(|v| format!(", vintage {}", escape(v)))
            .unwrap_or_default(),
        lvl = scope.level,
        codes = if scope.codes.is_empty() {
            ", all codes".to_string()
        } else {
            format!(", codes {}", escape(&scope.codes.join(", ")))
        },
        years = scope
            .years
            .map(|(a, b)| format!(", years {a}-{b}"))
            .unwrap_or_default(),
        n = d.mapping.codes.len(),
        nom = escape(&d.mapping.meta.nomenclature),
    );

    // Strategic dependencies.
    let th = DependenceThresholds::default();
    let dep = match ind::dependence(&scope, importer.as_deref(), &th) {
        Ok(q0) => {
            let sql = format!(
                "SELECT * FROM ({q0}) d WHERE dependent ORDER BY year DESC, import_hhi DESC LIMIT 201"
            );
            d.engine.query(&sql).await.map(|t| t.to_records())
        }
        Err(e) => Err(e),
    };
    match dep {
        Ok(rows) => {
            let _ = write!(
                b,
                r#"<h2 id="dependencies">Strategic dependencies</h2><p class="hint">GeoDep (CEPII) flag: import HHI above {ih:.0}, world export HHI above {eh:.0} and imports over exports above {ra} in at least {y} of three years.</p><div class="scroll"><table><caption>{n} dependent (importer, code, year){more}</caption><thead><tr><th scope="col">Importer</th><th scope="col">Code</th><th scope="col">Year</th><th scope="col" class="n">Import HHI</th><th scope="col" class="n">World export HHI</th><th scope="col" class="n">Imports / exports</th><th scope="col">Top partner</th><th scope="col" class="n">Years met</th></tr></thead><tbody>"#,
                ih = th.import_hhi,
                eh = th.export_hhi,
                ra = th.ratio,
                y = th.years,
                n = rows.len().min(200),
                more = if rows.len() > 200 {
                    " (the first 200)"
                } else {
                    ""
                },
            );
            for r in rows.iter().take(200) {
                let ratio = num(r, "ratio").unwrap_or(f64::NAN);
                let _ = write!(
                    b,
                    r#"<tr><th scope="row"><a href="/trade?{qs}">{imp}</a></th><td>{code}</td><td>{year}</td><td class="n">{ih:.0}</td><td class="n">{eh:.0}</td><td class="n">{ratio}</td><td>{top} {share:.0}%</td><td class="n">{met}</td></tr>"#,
                    qs = escape(&super::query_string(&[
                        ("source".into(), scope.source.clone()),
                        ("code".into(), text(r, "code").to_string()),
                        ("importer".into(), text(r, "reporter").to_string()),
                    ])),
                    imp = escape(text(r, "reporter")),
                    code = code_label(d, text(r, "code")),
                    year = r.get("year").map(|v| v.to_string()).unwrap_or_default(),
                    ih = num(r, "import_hhi").unwrap_or(f64::NAN),
                    eh = num(r, "world_export_hhi").unwrap_or(f64::NAN),
                    ratio = if ratio >= 9999.0 {
                        "no exports".to_string()
                    } else {
                        format!("{ratio:.1}")
                    },
                    top = escape(text(r, "top1")),
                    share = num(r, "top1_share").unwrap_or(f64::NAN),
                    met = r
                        .get("years_met")
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                );
            }
            if rows.is_empty() {
                b.push_str(r#"<tr><td colspan="8">No (importer, code, year) in this scope meets the flag.</td></tr>"#);
            }
            b.push_str("</tbody></table></div>");
        }
        Err(e) => {
            tracing::error!(error = %e, "trade page: dependence failed");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Trade",
                "The dependency indicators could not be computed; see the server log.",
                Some(&p),
            );
        }
    }

    // One importer's partners over time.
    if let Some(imp) = &importer {
        // One importer's rows are a small part of the data: filtered inside the scan, as the
        // CLI's `dependence --reporter` does.
        let rows = match ind::partner_shares(&scope, imp) {
            Ok(sql) => d.engine.query_selective(&sql).await.map(|t| t.to_records()),
            Err(e) => Err(e),
        };
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                // Never "no imports": say the figures could not be computed.
                tracing::error!(error = %e, "trade page: partner shares failed");
                b.push_str(r#"<div class="error" role="alert"><p>The partner shares could not be computed; see the server log.</p></div>"#);
                return page_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Trade",
                    Nav::Trade,
                    Some(&p),
                    &b,
                );
            }
        };
        // The five partners with the largest value over the scope, each a series of shares.
        let mut total: BTreeMap<String, f64> = BTreeMap::new();
        for r in &rows {
            *total.entry(text(r, "exporter").to_string()).or_default() +=
                num(r, "value").unwrap_or(0.0);
        }
        let mut top: Vec<(String, f64)> = total.into_iter().collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(5);
        let _ = write!(
            b,
            r#"<h2 id="partners">Partners of {imp}</h2>"#,
            imp = escape(imp)
        );
        if rows.is_empty() {
            b.push_str(r#"<p>No imports of this importer in the scope.</p>"#);
        } else {
            let series: Vec<Series> = top
                .iter()
                .map(|(exp, _)| Series {
                    label: exp.clone(),
                    points: rows
                        .iter()
                        .filter(|r| text(r, "exporter") == exp)
                        .filter_map(|r| {
                            Some((
                                r.get("year")?.as_f64()?,
                                num(r, "share").unwrap_or(0.0) / 100.0,
                            ))
                        })
                        .collect(),
                })
                .collect();
            let chart = line_chart(
                &format!(
                    "{imp}: partner shares of imports of {}, by year",
                    if scope.codes.is_empty() {
                        "all codes".to_string()
                    } else {
                        scope.codes.join(", ")
                    }
                ),
                &series,
                &LineOptions {
                    x_label: "year".into(),
                    y_label: "share of imports".into(),
                    y_range: Some((0.0, 1.0)),
                    ..LineOptions::default()
                },
            );
            let _ = write!(b, r#"<figure class="chart">{chart}</figure>"#);
            let mut years: Vec<i64> = rows
                .iter()
                .filter_map(|r| r.get("year").and_then(Value::as_i64))
                .collect();
            years.sort_unstable();
            years.dedup();
            let _ = write!(
                b,
                r#"<div class="scroll"><table><caption>Share of {imp}'s imports by partner (the five largest over the scope)</caption><thead><tr><th scope="col">Partner</th>"#,
                imp = escape(imp)
            );
            for y in &years {
                let _ = write!(b, r#"<th scope="col" class="n">{y}</th>"#);
            }
            b.push_str("</tr></thead><tbody>");
            for (exp, _) in &top {
                let _ = write!(b, r#"<tr><th scope="row">{}</th>"#, escape(exp));
                for y in &years {
                    let cell = rows
                        .iter()
                        .find(|r| {
                            text(r, "exporter") == exp
                                && r.get("year").and_then(Value::as_i64) == Some(*y)
                        })
                        .and_then(|r| num(r, "share"))
                        .map(|s| format!("{s:.1}%"))
                        .unwrap_or_else(|| "–".into());
                    let _ = write!(b, r#"<td class="n">{cell}</td>"#);
                }
                b.push_str("</tr>");
            }
            b.push_str("</tbody></table></div>");
        }
    }

    // Alerts.
    let aq = AlertsQuery {
        importer: importer.clone(),
        threshold: None,
        window: None,
        min_change: None,
        since_year: None,
        source: Some(scope.source.clone()),
        level: None,
        code: sq.code.clone(),
        from_year: sq.from_year,
        to_year: sq.to_year,
    };
    let alerts = match api::alert_settings(d, &aq).await {
        Ok((sc, st)) => api::alert_list(d, &sc, &st, &aq).await,
        Err(e) => Err(e),
    };
    match alerts {
        Ok(list) => {
            let _ = write!(
                b,
                r#"<h2 id="alerts">Alerts</h2><p class="hint">Robust year-on-year test (median and MAD of the previous 36 months, z above 3.5, change of at least 50%); a stop is a month without trade after twelve with trade. Stored as monitor events with <code>chipwatch trade alerts --db</code>, where watchlists see them.</p><div class="scroll"><table><caption>{n} alert{s}, newest first{more}</caption><thead><tr><th scope="col">Month</th><th scope="col">Kind</th><th scope="col">Importer</th><th scope="col">Exporter</th><th scope="col">Code</th><th scope="col" class="n">Value</th><th scope="col" class="n">Year before</th><th scope="col" class="n">Share</th><th scope="col">What the statistics show</th></tr></thead><tbody>"#,
                n = list.len(),
                s = if list.len() == 1 { "" } else { "s" },
                more = if list.len() > 100 {
                    " (the latest 100)"
                } else {
                    ""
                },
            );
            for a in list.iter().take(100) {
                let Some(a) = a.as_object() else { continue };
                let cur = text(a, "currency");
                let _ = write!(
                    b,
                    r#"<tr><td>{y}-{m:02}</td><td><span class="badge">{kind}</span></td><td>{imp}</td><td>{exp}</td><td>{code}</td><td class="n">{v}</td><td class="n">{vb}</td><td class="n">{share}</td><td>{sum}</td></tr>"#,
                    y = a.get("year").and_then(Value::as_i64).unwrap_or(0),
                    m = a.get("month").and_then(Value::as_i64).unwrap_or(0),
                    kind = escape(&text(a, "kind").replace('_', " ")),
                    imp = escape(text(a, "importer")),
                    exp = escape(text(a, "exporter")),
                    code = code_label(d, text(a, "code")),
                    v = value(num(a, "value").unwrap_or(0.0), cur),
                    vb = value(num(a, "value_year_before").unwrap_or(0.0), cur),
                    share = num(a, "share_of_imports")
                        .map(|s| format!("{:.0}%", s * 100.0))
                        .unwrap_or_else(|| "unknown".into()),
                    sum = escape(text(a, "summary")),
                );
            }
            if list.is_empty() {
                b.push_str(r#"<tr><td colspan="9">No alert in this scope.</td></tr>"#);
            }
            b.push_str("</tbody></table></div>");
        }
        Err(e) => {
            tracing::error!(error = %e.message, "trade page: alerts failed");
            b.push_str(r#"<div class="error" role="alert"><p>The alerts could not be computed; see the server log.</p></div>"#);
        }
    }
    page_response(StatusCode::OK, "Trade", Nav::Trade, Some(&p), &b)
}
