//! Copied by before.sh into an old checkout as an example: the rules' decision, as they stood
//! at that commit, on the development articles whose file name starts with PREFIX.
//! usage: dump_before LABELS.toml PREFIX OUT.jsonl
use chipwatch_monitor::eval::Labels;
use chipwatch_monitor::{input, Article, Classifier};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [labels_path, prefix, out] = &a[..] else {
        return Err("usage: dump_before LABELS.toml PREFIX OUT.jsonl".into());
    };
    let labels_path = Path::new(labels_path);
    let labels = Labels::from_toml_str(&std::fs::read_to_string(labels_path)?, "labels")?;
    let c = Classifier::new(&chipwatch_data::default_model())?;
    let base = labels_path.parent().unwrap_or(Path::new("."));
    let mut s = String::new();
    for l in labels.articles {
        let name = l.file.rsplit('/').next().unwrap_or(&l.file);
        if !name.starts_with(prefix.as_str()) {
            continue;
        }
        let raw = input::read_file(&base.join(&l.file), input::DEFAULT_MAX_BYTES)?
            .into_iter()
            .next()
            .ok_or("no article in file")?;
        let r = c.classify(&Article::from_raw(raw));
        let line = serde_json::json!({"file": l.file, "rule_relevant": r.relevant, "rule_event_type": r.event_type});
        s.push_str(&line.to_string());
        s.push('\n');
    }
    std::fs::write(out, s)?;
    Ok(())
}
