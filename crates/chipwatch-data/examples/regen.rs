//! Regenerate `data/default-model.toml` from the ETO reference copy:
//! `cargo run -p chipwatch-data --example regen -- ../shared/data/eto data/default-model.toml`
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let imp = chipwatch_data::eto::import_dir(
        std::path::Path::new(&args[1]),
        &chipwatch_data::eto::ImportOptions::default(),
    )
    .unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    std::fs::write(&args[2], chipwatch_data::format::to_toml_string(&imp.model)).unwrap();
    for d in &imp.diagnostics {
        eprintln!("{d}");
    }
    eprintln!("{:?}", imp.counts);
}
