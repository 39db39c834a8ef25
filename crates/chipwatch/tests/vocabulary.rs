//! One vocabulary across CLI, API and dashboard (docs/vocabulary.md).
//!
//! Reads the table of docs/vocabulary.md and walks what users meet against it: the CLI help of
//! the real binary (every command and subcommand), the server's route table, the dashboard's
//! navigation, and the dashboard paths of the table on a running `chipwatch serve`. The former
//! names must be hidden, deprecated, and named in the docs only as former names.

mod e2e;
use assert_cmd::cargo::cargo_bin;
use e2e::{cli, start_server, workspace};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

#[derive(Debug)]
struct Row {
    concept: String,
    cli: Vec<String>,
    api: Vec<String>,
    dash: Vec<String>,
}

impl Row {
    /// The concept's name: the text before any parenthesis.
    fn name(&self) -> String {
        self.concept
            .split(" (")
            .next()
            .unwrap_or("")
            .trim()
            .to_lowercase()
    }
    /// The key word every name in the row carries (singular).
    fn key(&self) -> String {
        stem(self.name().split(' ').next().unwrap_or(""))
    }
}

fn stem(w: &str) -> String {
    let w = w.to_lowercase();
    w.strip_suffix('s').map(str::to_string).unwrap_or(w)
}

/// The backticked entries of a table cell.
fn entries(cell: &str) -> Vec<String> {
    cell.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// Rows of the first table under `heading` in docs/vocabulary.md (cells split on `|`).
fn table(heading: &str) -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(workspace().join("docs/vocabulary.md")).unwrap();
    doc.split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("docs/vocabulary.md has no `{heading}`"))
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

fn rows() -> Vec<Row> {
    table("## The table")
        .into_iter()
        .map(|c| {
            assert_eq!(c.len(), 4, "a row of four cells: {c:?}");
            Row {
                concept: c[0].clone(),
                cli: entries(&c[1]),
                api: entries(&c[2]),
                dash: entries(&c[3]),
            }
        })
        .collect()
}

/// The former names: `(former, current)` as written in the "Former names" table.
fn former_names() -> Vec<(String, String)> {
    table("## Former names")
        .into_iter()
        .map(|c| (entries(&c[0])[0].clone(), entries(&c[1])[0].clone()))
        .collect()
}

fn help(path: &[String]) -> String {
    let out = Command::new(cargo_bin("chipwatch"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "chipwatch {path:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Every command path of the CLI and whether it is a leaf (no subcommands), from `--help`.
fn cli_commands() -> Vec<(String, bool)> {
    fn walk(path: Vec<String>, out: &mut Vec<(String, bool)>) {
        let h = help(&path);
        let subs: Vec<String> = h
            .lines()
            .skip_while(|l| l.trim() != "Commands:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect();
        if !path.is_empty() {
            out.push((path.join(" "), subs.is_empty()));
        }
        for s in subs {
            let mut p = path.clone();
            p.push(s);
            walk(p, out);
        }
    }
    let mut out = Vec::new();
    walk(Vec::new(), &mut out);
    out
}

fn covers(entry: &str, name: &str, sep: char) -> bool {
    name == entry
        || name
            .strip_prefix(entry)
            .is_some_and(|rest| rest.starts_with(sep))
}

#[test]
fn every_name_in_the_cli_api_and_navigation_is_in_the_table_and_each_row_has_one_word() {
    let rows = rows();
    assert!(rows.len() > 20, "{rows:?}");

    // One key word per row.
    for r in &rows {
        let key = r.key();
        for e in r.cli.iter().chain(&r.api) {
            assert!(
                e.to_lowercase().contains(&key),
                "`{e}` in row `{}` does not carry its key word `{key}`",
                r.concept
            );
        }
        for e in &r.dash {
            let label = chipwatch_server::web::NAV
                .iter()
                .find(|(_, href, _)| href == e)
                .map(|(_, _, l)| l.to_lowercase());
            assert!(
                e.to_lowercase().contains(&key) || label.as_deref() == Some(&r.name()),
                "`{e}` in row `{}` carries neither its key word `{key}` nor its name",
                r.concept
            );
        }
    }

    // The CLI: every command is in the table, every table entry is a command.
    let cmds = cli_commands();
    let names: BTreeSet<&str> = cmds.iter().map(|(c, _)| c.as_str()).collect();
    for r in &rows {
        for e in &r.cli {
            assert!(
                names.contains(e.as_str()),
                "`chipwatch {e}` (row `{}`) is not a command",
                r.concept
            );
        }
    }
    for (c, leaf) in &cmds {
        if *leaf {
            assert!(
                rows.iter().any(|r| r.cli.iter().any(|e| covers(e, c, ' '))),
                "`chipwatch {c}` is not in docs/vocabulary.md"
            );
        }
    }

    // The API: every route is in the table (or a system route or a deprecated one), every
    // table entry is a route.
    let routes: Vec<String> = chipwatch_server::route_table()
        .iter()
        .map(|r| r.path.to_string())
        .collect();
    for r in &rows {
        for e in &r.api {
            assert!(
                routes.iter().any(|p| covers(e, p, '/')),
                "`{e}` (row `{}`) is not an API path",
                r.concept
            );
        }
    }
    for p in &routes {
        if ["/healthz", "/metrics", "/api/v1/openapi.json"].contains(&p.as_str())
            || chipwatch_server::vocabulary::DEPRECATED_ROUTES
                .iter()
                .any(|d| d.path == p)
        {
            continue;
        }
        assert!(
            rows.iter().any(|r| r.api.iter().any(|e| covers(e, p, '/'))),
            "`{p}` is not in docs/vocabulary.md"
        );
    }

    // The navigation: every entry is a row's dashboard path, labelled with the row's name.
    for (_, href, label) in chipwatch_server::web::NAV {
        let row = rows
            .iter()
            .find(|r| r.dash.iter().any(|e| e == href))
            .unwrap_or_else(|| panic!("navigation entry {href} is not in docs/vocabulary.md"));
        assert_eq!(
            label.to_lowercase(),
            row.name(),
            "navigation label of {href}"
        );
    }
}

#[test]
fn former_names_are_hidden_deprecated_and_documented_only_as_such() {
    let former = former_names();
    assert!(!former.is_empty());
    let cmds = cli_commands();
    let doc = chipwatch_server::openapi();
    for (old, new) in &former {
        // Former forms with arguments (`licence register show|ship|revoke FILE`) are run by
        // their command's own tests (tests/controls.rs); here, renamed top-level commands.
        if old.starts_with("chipwatch ") && old.trim_start_matches("chipwatch ").contains(' ') {
            continue;
        }
        if let Some(old_cmd) = old.strip_prefix("chipwatch ") {
            let new_cmd = new.strip_prefix("chipwatch ").unwrap();
            assert!(
                !cmds.iter().any(|(c, _)| c == old_cmd),
                "`{old}` is still listed in the help"
            );
            assert!(cmds.iter().any(|(c, _)| c == new_cmd), "`{new}` exists");
            // Still works, with a note naming the new name.
            let out = Command::new(cargo_bin("chipwatch"))
                .args([old_cmd, "--help"])
                .output()
                .unwrap();
            assert!(out.status.success(), "`{old} --help` still works");
            let out = Command::new(cargo_bin("chipwatch"))
                .args(["--json", old_cmd, "Huawei Technologies"])
                .output()
                .unwrap();
            assert!(out.status.success(), "`{old}` still runs");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(&format!("`{new}`")), "{err}");
            let same = Command::new(cargo_bin("chipwatch"))
                .args(["--json", new_cmd, "Huawei Technologies"])
                .output()
                .unwrap();
            assert_eq!(out.stdout, same.stdout, "`{old}` answers as `{new}`");
            assert!(same.stderr.is_empty(), "no note on the current name");
        } else {
            let (method, path) = old.split_once(' ').unwrap();
            let (_, new_path) = new.split_once(' ').unwrap();
            let d = chipwatch_server::vocabulary::deprecated(method, path)
                .unwrap_or_else(|| panic!("{old} is in DEPRECATED_ROUTES"));
            assert_eq!(d.successor, new_path);
            assert_eq!(
                doc["paths"][path][method.to_lowercase()]["deprecated"],
                serde_json::Value::Bool(true),
                "{old} is deprecated in the OpenAPI document"
            );
            assert!(
                !chipwatch_server::web::NAV
                    .iter()
                    .any(|(_, href, _)| path.contains(href.trim_start_matches('/'))
                        && *href != "/"),
                "{old}"
            );
        }
    }
    // The README and docs name a former name only as such.
    let mut files = vec![workspace().join("README.md")];
    for e in std::fs::read_dir(workspace().join("docs")).unwrap() {
        let p = e.unwrap().path();
        // docs/vocabulary.md is where the former names are listed as such.
        if p.extension().is_some_and(|x| x == "md") && !p.ends_with("vocabulary.md") {
            files.push(p);
        }
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            for (old, _) in &former {
                // A CLI name as written (`chipwatch screen`), an API one by its path.
                let needle = if old.starts_with("chipwatch ") {
                    old.as_str()
                } else {
                    old.split_once(' ').map_or(old.as_str(), |(_, p)| p)
                };
                // `chipwatch screen` must not match `chipwatch screening`.
                let hit = line.match_indices(needle).any(|(at, _)| {
                    !line[at + needle.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
                });
                let l = line.to_lowercase();
                assert!(
                    !hit || l.contains("former") || l.contains("deprecated"),
                    "{}:{}: uses the former name `{old}`: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn every_dashboard_path_of_the_table_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("v.db").display().to_string();
    cli(&db, &["admin", "org", "create", "Ministry"]);
    cli(
        &db,
        &[
            "admin", "user", "create", "--org", "Ministry", "--name", "kim", "--role", "admin",
        ],
    );
    let token = cli(
        &db,
        &[
            "admin", "token", "create", "--org", "Ministry", "--user", "kim",
        ],
    );
    let srv = start_server(&db);
    let addr = srv.addr.clone();

    // Sign in with the token (the login form), keep the session cookie.
    let mut s = TcpStream::connect(&addr).unwrap();
    let body = format!("token={token}&next=%2F");
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let cookie = resp
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {resp}"))
        .to_string();

    let model = chipwatch_data::default_model();
    let item = model.items().next().map(|(_, i)| i.id.clone()).unwrap();
    let firm = model
        .providers()
        .find(|(_, p)| p.provider_type == chipwatch_model::ProviderType::Organisation)
        .map(|(_, p)| p.id.clone())
        .unwrap();
    for r in rows() {
        for e in &r.dash {
            let (path, anchor) = e.split_once('#').unwrap_or((e.as_str(), ""));
            let path = path
                .replace("/item/{id}", &format!("/item/{item}"))
                .replace("/firms/{id}", &format!("/firms/{firm}"))
                .replace("{iso}", "NLD");
            let resp = e2e::http(&addr, "GET", &path, &[("Cookie", &cookie)], None).unwrap();
            let (status, body) = (resp.status, resp.body);
            // A form target answers GET with 405 (it exists); a page with 200.
            assert!(
                status == 200 || status == 405,
                "{e} (row `{}`): {status}",
                r.concept
            );
            if !anchor.is_empty() {
                assert!(
                    body.contains(&format!("id=\"{anchor}\"")),
                    "{e}: no element with id `{anchor}`"
                );
            }
        }
    }
}
