//! Benchmarks of the rules engine: determinations per second on one core (batch mode: owned
//! `Determination`s, and JSON lines as the CLI writes them) and screening 10,000 names against
//! 5,000 entries with aliases. The screening data are generated here deterministically and
//! written to `target/bench-screening/` so that `bench/screening_rapidfuzz.py` runs on exactly
//! the same data (see docs/benchmarks.md).

use chipwatch_controls::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;

/// Mixed shipments: catalogue products and parameter-only items, many exporters, destinations
/// and dates, some with end users (screened).
fn shipments(n: usize) -> Vec<Shipment> {
    let products = [
        "NXT:2000i",
        "NXT:1980i",
        "NXT:1470",
        "NXE:3800E",
        "H100",
        "H800",
        "H20",
        "RTX 4090",
        "gallium",
        "graphite",
        "antimony",
        "A100",
    ];
    let from = ["NLD", "USA", "CHN", "JPN", "DEU", "KOR"];
    let to = [
        "CHN", "USA", "DEU", "KOR", "TWN", "VNM", "JPN", "MAC", "GBR", "SGP",
    ];
    let dates = [
        "2022-06-01",
        "2023-10-01",
        "2024-09-07",
        "2025-11-20",
        "2026-11-21",
    ];
    let users = [
        None,
        None,
        None,
        Some("Huawei Technologies"),
        Some("Acme Trading Ltd"),
    ];
    let mut x: u64 = 42;
    let mut next = |m: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % m
    };
    (0..n)
        .map(|i| {
            let mut params = BTreeMap::new();
            let product = if i % 4 == 3 {
                params.insert("tpp".to_string(), Value::Num(1000.0 + next(8000) as f64));
                params.insert(
                    "die_area_mm2".to_string(),
                    Value::Num(300.0 + next(600) as f64),
                );
                params.insert("us_content_pct".to_string(), Value::Num(next(40) as f64));
                None
            } else {
                Some(products[next(products.len())].to_string())
            };
            Shipment {
                product,
                params,
                from: from[next(from.len())].into(),
                to: to[next(to.len())].into(),
                origin: None,
                end_user: users[next(users.len())].map(str::to_string),
                end_use: None,
                date: Date::parse(dates[next(dates.len())]).unwrap(),
                parties: Vec::new(),
            }
        })
        .collect()
}

fn bench_determination(c: &mut Criterion) {
    let engine = default_engine().unwrap();
    let batch = shipments(1000);
    let mut g = c.benchmark_group("determination");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("batch_1000_mixed", |b| {
        b.iter(|| black_box(engine.determine_batch(&batch)))
    });
    // Same, written as JSON lines as `licence check --batch` does: straight from the engine's
    // buffers. A new `Batch` per iteration, so its memos start empty every time, as in one run
    // of the command.
    g.bench_function("batch_1000_mixed_jsonl", |b| {
        let mut buf = Vec::with_capacity(8 << 20);
        b.iter(|| {
            buf.clear();
            let mut run = Batch::new(&engine);
            for s in &batch {
                run.write_json_line(s, &mut buf).unwrap();
            }
            black_box(buf.len())
        })
    });
    g.finish();
}

// ---- screening data --------------------------------------------------------------------------

const SYL: &[(&str, &str)] = &[
    ("华", "hua"),
    ("为", "wei"),
    ("中", "zhong"),
    ("芯", "xin"),
    ("国", "guo"),
    ("际", "ji"),
    ("长", "chang"),
    ("江", "jiang"),
    ("存", "cun"),
    ("储", "chu"),
    ("海", "hai"),
    ("光", "guang"),
    ("飞", "fei"),
    ("腾", "teng"),
    ("新", "xin"),
    ("凯", "kai"),
    ("来", "lai"),
    ("盛", "sheng"),
    ("美", "mei"),
    ("武", "wu"),
    ("汉", "han"),
    ("微", "wei"),
    ("电", "dian"),
    ("子", "zi"),
    ("科", "ke"),
    ("技", "ji"),
    ("天", "tian"),
    ("津", "jin"),
    ("北", "bei"),
    ("京", "jing"),
    ("上", "shang"),
    ("深", "shen"),
    ("圳", "zhen"),
    ("成", "cheng"),
    ("都", "du"),
    ("智", "zhi"),
    ("能", "neng"),
    ("算", "suan"),
    ("通", "tong"),
    ("讯", "xun"),
    ("网", "wang"),
    ("络", "luo"),
    ("精", "jing"),
    ("密", "mi"),
    ("晶", "jing"),
    ("圆", "yuan"),
    ("半", "ban"),
    ("导", "dao"),
    ("体", "ti"),
    ("材", "cai"),
    ("料", "liao"),
    ("化", "hua"),
    ("学", "xue"),
    ("光", "guang"),
    ("刻", "ke"),
    ("创", "chuang"),
    ("维", "wei"),
    ("达", "da"),
    ("兴", "xing"),
    ("泰", "tai"),
    ("和", "he"),
    ("丰", "feng"),
    ("源", "yuan"),
    ("瑞", "rui"),
    ("宏", "hong"),
    ("明", "ming"),
    ("星", "xing"),
    ("辰", "chen"),
    ("恒", "heng"),
    ("润", "run"),
    ("鹏", "peng"),
    ("龙", "long"),
];
const WORDS: &[&str] = &[
    "Technologies",
    "Semiconductor",
    "Electronics",
    "Microelectronics",
    "Materials",
    "Equipment",
    "Information",
    "Intelligent",
    "Precision",
    "Optics",
    "Memory",
    "Integrated Circuit",
    "Computing",
    "Photonics",
    "Instruments",
    "Trading",
    "Industrial",
    "Systems",
    "Devices",
    "Manufacturing",
];
const CITIES: &[&str] = &[
    "Beijing",
    "Shanghai",
    "Shenzhen",
    "Wuhan",
    "Hefei",
    "Tianjin",
    "Chengdu",
    "Xian",
    "Suzhou",
    "Hangzhou",
    "Nanjing",
    "Xiamen",
    "Dalian",
    "Qingdao",
    "Guangzhou",
    "Changsha",
    "Zhuhai",
];
const FORMS: &[&str] = &[
    "Co., Ltd.",
    "Co. Ltd",
    "Limited",
    "Inc.",
    "Corporation",
    "Group Co., Ltd.",
    "Ltd",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self, m: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % m
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// (entries: name, aliases) and queries with the index of the entry they should hit (or none).
#[allow(clippy::type_complexity)]
fn screening_data() -> (Vec<(String, Vec<String>)>, Vec<(String, Option<usize>)>) {
    let mut r = Rng(7);
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while entries.len() < 5000 {
        let n = 2 + r.next(2);
        let syl: Vec<usize> = (0..n).map(|_| r.next(SYL.len())).collect();
        let brand = syl.iter().map(|&i| SYL[i].1).collect::<String>();
        let city = CITIES[r.next(CITIES.len())];
        let w1 = WORDS[r.next(WORDS.len())];
        let w2 = WORDS[r.next(WORDS.len())];
        let name = format!(
            "{city} {} {w1} {w2} {}",
            cap(&brand),
            FORMS[r.next(FORMS.len())]
        );
        if !seen.insert(name.clone()) {
            continue;
        }
        let cjk: String = syl.iter().map(|&i| SYL[i].0).collect::<String>() + "科技有限公司";
        let acronym: String = brand.chars().take(3).collect::<String>().to_uppercase() + "TEC";
        entries.push((name, vec![cjk, format!("{} {w1}", cap(&brand)), acronym]));
    }
    let mut queries = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            let e = r.next(entries.len());
            let (name, aliases) = &entries[e];
            let q = match r.next(5) {
                0 => name.to_uppercase(),
                1 => {
                    // One typo: swap two adjacent letters.
                    let mut c: Vec<char> = name.chars().collect();
                    let p = 3 + r.next(c.len().saturating_sub(6).max(1));
                    c.swap(p, p + 1);
                    c.into_iter().collect()
                }
                2 => {
                    // Word order and legal form changed.
                    let mut w: Vec<&str> = name.split_whitespace().collect();
                    w.truncate(w.len().saturating_sub(1));
                    w.reverse();
                    format!("{} Ltd", w.join(" "))
                }
                3 => aliases[0].clone(),
                _ => aliases[1].to_lowercase(),
            };
            queries.push((q, Some(e)));
        } else {
            let brand: String = (0..3).map(|_| SYL[r.next(SYL.len())].1).collect();
            let q = format!(
                "{} {} {}",
                ["Nordic", "Atlantic", "Pacific", "Alpine", "Global", "Royal"][r.next(6)],
                cap(&brand),
                [
                    "Foods",
                    "Logistics",
                    "Textiles",
                    "Consulting",
                    "Hotels",
                    "Shipping"
                ][r.next(6)]
            );
            queries.push((q, None));
        }
    }
    (entries, queries)
}

fn write_screening_data(entries: &[(String, Vec<String>)], queries: &[(String, Option<usize>)]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-screening");
    std::fs::create_dir_all(&dir).unwrap();
    let mut w = csv::Writer::from_path(dir.join("list.csv")).unwrap();
    w.write_record([
        "_id",
        "source",
        "name",
        "license_requirement",
        "license_policy",
        "alt_names",
    ])
    .unwrap();
    for (i, (n, a)) in entries.iter().enumerate() {
        w.write_record([
            i.to_string().as_str(),
            "Entity List (EL) - Bureau of Industry and Security",
            n,
            "For all items subject to the EAR.",
            "Presumption of denial.",
            &a.join("; "),
        ])
        .unwrap();
    }
    w.flush().unwrap();
    let mut f = std::fs::File::create(dir.join("queries.tsv")).unwrap();
    for (q, e) in queries {
        writeln!(f, "{q}\t{}", e.map_or(-1, |e| e as i64)).unwrap();
    }
}

fn bench_screening(c: &mut Criterion) {
    let (entries, queries) = screening_data();
    write_screening_data(&entries, &queries);
    let list = RestrictedList {
        meta: screening::ListMeta {
            name: "synthetic".into(),
            source: "benches/controls.rs".into(),
            compiled: Some("2026-12-01".into()),
            ..Default::default()
        },
        file: "benches/controls.rs".into(),
        entries: entries
            .iter()
            .map(|(n, a)| ListEntry {
                list: "US-EL".into(),
                name: n.clone(),
                aliases: a.clone(),
                country: None,
                licence_requirement: String::new(),
                review_policy: None,
                citation: "synthetic".into(),
                listed_on: None,
                remarks: None,
            })
            .collect(),
    };
    let s = Screener::new(default_normaliser(), vec![list.clone()]);
    // Recall and false positives on the generated truth (printed once; not a test).
    let hits = s.screen_many(
        queries.iter().map(|(q, _)| q.as_str()),
        screening::DEFAULT_THRESHOLD,
    );
    let (mut tp, mut fnn, mut fp) = (0, 0, 0);
    for ((_, truth), h) in queries.iter().zip(&hits) {
        match truth {
            Some(e) if h.iter().any(|x| x.entry_name == entries[*e].0) => tp += 1,
            Some(_) => fnn += 1,
            None if !h.is_empty() => fp += 1,
            None => {}
        }
    }
    eprintln!(
        "screening quality: {} indexed names; recall {tp}/{} ; false-positive queries {fp}/{}",
        s.indexed_names(),
        tp + fnn,
        queries.len() - tp - fnn
    );
    let mut g = c.benchmark_group("screening");
    g.sample_size(10);
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("10k_names_vs_5k_entries", entries.len()),
        &queries,
        |b, q| {
            b.iter(|| {
                black_box(s.screen_many(
                    q.iter().map(|(q, _)| q.as_str()),
                    screening::DEFAULT_THRESHOLD,
                ))
            })
        },
    );
    g.finish();
    let mut g = c.benchmark_group("screening_index");
    g.sample_size(10);
    g.bench_function("build_5k_entries", |b| {
        b.iter(|| black_box(Screener::new(default_normaliser(), vec![list.clone()])))
    });
    g.finish();
}

criterion_group!(benches, bench_determination, bench_screening);
criterion_main!(benches);
