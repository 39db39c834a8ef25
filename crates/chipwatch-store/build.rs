//! Embeds the SQL migrations of `migrations/sqlite` and `migrations/postgres` into the crate, so a
//! server binary carries its schema and needs no files at run time. A file is named
//! `NNNN_description.sql`; NNNN is its version (see the convention in `src/lib.rs`).

use std::fmt::Write as _;
use std::path::Path;

fn collect(dir: &Path) -> Vec<(i64, String, String)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable migrations dir").path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name");
        let (num, desc) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{}: name must be NNNN_description.sql", path.display()));
        let version: i64 = num
            .parse()
            .unwrap_or_else(|_| panic!("{}: `{num}` is not a version number", path.display()));
        out.push((version, desc.to_string(), path.display().to_string()));
    }
    out.sort();
    for pair in out.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "duplicate migration version {} in {}",
            pair[0].0,
            dir.display()
        );
    }
    out
}

fn main() {
    // Read the manifest dir when the script *runs*, not when it is compiled: several worktrees
    // share one target directory and cargo hashes path packages relative to the workspace, so a
    // script compiled in one worktree is reused in another and would embed that worktree's files.
    // For the same reason, rerun whenever cargo is started from another directory.
    println!("cargo:rerun-if-env-changed=PWD");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("migrations");
    let mut code = String::new();
    for (name, dir) in [("SQLITE", "sqlite"), ("POSTGRES", "postgres")] {
        let d = root.join(dir);
        println!("cargo:rerun-if-changed={}", d.display());
        writeln!(code, "pub static {name}: &[Migration] = &[").unwrap();
        for (version, desc, path) in collect(&d) {
            println!("cargo:rerun-if-changed={path}");
            writeln!(
                code,
                "    Migration {{ version: {version}, description: {desc:?}, sql: include_str!({path:?}) }},"
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(out, code).expect("write migrations.rs");
}
