//! The production data readers (data/fabs): the embedded files parse and cross-check, the
//! needs name items of the embedded model, coverage is reported against the cited world total,
//! and malformed inputs give errors naming the file, the line and the field.

use chipwatch_data::fabs::{embedded, parse, parse_fabs_csv, parse_trade_matrix, Texts};
use chipwatch_model::production::{FabStatus, Segment};

fn texts() -> Texts<'static> {
    Texts {
        dir: "data/fabs",
        fabs: embedded::FABS_CSV,
        sources: embedded::SOURCES_TOML,
        totals: embedded::TOTALS_TOML,
        atp: embedded::ATP_CSV,
        demand: embedded::DEMAND_TOML,
        demand_sources: embedded::DEMAND_SOURCES_TOML,
        segments: embedded::SEGMENTS_TOML,
    }
}

#[test]
fn embedded_data_is_valid_and_linked() {
    let p = parse(texts()).unwrap();
    let vc = chipwatch_data::default_model();
    for n in &p.needs {
        assert!(
            vc.find_item(&n.item).is_ok(),
            "segments.toml names {}",
            n.item
        );
    }
    // Every segment has producing capacity and every partition economy an overall demand share
    // summing to 100.
    for s in Segment::ALL {
        let cap: f64 = p
            .fabs
            .iter()
            .filter(|f| f.segment == s && f.producing_in(2025))
            .filter_map(|f| f.capacity_300eq())
            .sum();
        assert!(cap > 0.0, "{s} has no capacity");
    }
    let all: f64 = p
        .demand
        .iter()
        .filter(|d| d.segment.is_none())
        .filter(|d| {
            p.economies
                .iter()
                .any(|e| e.code == d.consumer && e.part_of.is_none())
        })
        .map(|d| d.share_pct)
        .sum();
    assert!((all - 100.0).abs() < 0.5, "partition demand sums to {all}");
    for code in [
        "USA", "CHN", "TWN", "KOR", "JPN", "EU27", "SGP", "MYS", "VNM", "IND", "MEX", "ROW",
    ] {
        assert!(p.economies.iter().any(|e| e.code == code), "no {code}");
    }
    // Firms of the ETO model link to their fabs: a shock on TSMC, Samsung or SMIC has sites.
    for firm in ["TSMC", "Samsung", "SMIC"] {
        let pr = vc.provider(vc.find_provider(firm).unwrap());
        assert!(
            p.fabs
                .iter()
                .any(|f| f.owner == pr.name && f.status == FabStatus::Operating),
            "{firm}"
        );
    }
    // A world total to measure coverage against.
    assert!(p.totals.iter().any(|t| t.scope == "all"));
}

fn fabs_err(body: &str) -> String {
    let head = "fab_id,owner,owner_country,site,country,wafer_mm,capacity_wspm,segment,status,start_year,capacity_year,source,note\n";
    parse_fabs_csv(&format!("{head}{body}"), "fabs.csv")
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_fab_rows_name_file_line_and_field() {
    let ok = "a,X,TWN,s,TWN,300,1000,dram,operating,2010,2024,src,\"n\"\n";
    let cases = [
        (
            "a,X,TWN,s,TWN,300,1000,dramm,operating,2010,2024,src,\n",
            "fabs.csv:2: field `segment`: unknown segment `dramm`",
        ),
        (
            "a,X,TWN,s,TW,300,1000,dram,operating,2010,2024,src,\n",
            "fabs.csv:2: field `country`",
        ),
        (
            "a,X,TWN,s,TWN,250,1000,dram,operating,2010,2024,src,\n",
            "field `wafer_mm`: 250 is not a wafer size",
        ),
        (
            "a,X,TWN,s,TWN,300,-5,dram,operating,2010,2024,src,\n",
            "field `capacity_wspm`",
        ),
        (
            "a,X,TWN,s,TWN,300,lots,dram,operating,2010,2024,src,\n",
            "field `capacity_wspm`: `lots` is not a number",
        ),
        (
            "a,X,TWN,s,TWN,300,1000,dram,open,2010,2024,src,\n",
            "field `status`: unknown status `open`",
        ),
        (
            "a,X,TWN,s,TWN,300,1000,dram,operating,201O,2024,src,\n",
            "field `start_year`",
        ),
        (
            "a,X,TWN,s,TWN,300,1000,dram,operating,2010,2024,,\n",
            "field `source`: every row needs a source id",
        ),
        (
            "a,,TWN,s,TWN,300,1000,dram,operating,2010,2024,src,\n",
            "field `owner`: must not be empty",
        ),
    ];
    for (row, want) in cases {
        let e = fabs_err(row);
        assert!(e.contains(want), "{row}: {e}");
    }
    // Two rows for one fab and segment; a short row.
    let e = fabs_err(&format!("{ok}{ok}"));
    assert!(e.contains("fabs.csv:3: field `fab_id`"), "{e}");
    let e = fabs_err("a,X,TWN\n");
    assert!(e.starts_with("fabs.csv:2:"), "{e}");
    let e = parse_fabs_csv("fab_id,owner\n", "fabs.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing column `owner_country`"), "{e}");
    // A BOM and quoted fields are fine.
    let head = "\u{feff}fab_id,owner,owner_country,site,country,wafer_mm,capacity_wspm,segment,status,start_year,capacity_year,source,note\n";
    let f = parse_fabs_csv(
        &format!("{head}a,X,TWN,\"Hsinchu, Fab 12\",TWN,200,\"9000\",dram,operating,,,src,\n"),
        "fabs.csv",
    )
    .unwrap();
    assert_eq!(f[0].site, "Hsinchu, Fab 12");
    assert!((f[0].capacity_300eq().unwrap() - 4000.0).abs() < 1e-9);
}

#[test]
fn cross_file_errors_name_the_file() {
    let mut t = texts();
    let bad = format!(
        "{}z1,X,TWN,s,TWN,300,1,dram,operating,2010,2024,no-such-source,\n",
        embedded::FABS_CSV
    );
    t.fabs = &bad;
    let e = parse(t).unwrap_err().to_string();
    assert!(
        e.contains("data/fabs/fabs.csv:") && e.contains("unknown source id `no-such-source`"),
        "{e}"
    );
    let mut t = texts();
    t.demand = "[[consumer]]\ncode = \"USA\"\nname = \"x\"\n[[demand]]\nconsumer = \"XYZ\"\nsegment = \"all\"\nshare_pct = 5\n";
    let e = parse(t).unwrap_err().to_string();
    assert!(
        e.contains("data/fabs/demand.toml") && e.contains("demand[0].consumer"),
        "{e}"
    );
    let mut t = texts();
    t.segments = "[[need]]\nsegment = \"dram\"\nitem = \"N20\"\nkind = \"tool\"\ndependence = 1.5\nsource = \"x\"\n";
    let e = parse(t).unwrap_err().to_string();
    assert!(e.contains("need[0].dependence"), "{e}");
    let mut t = texts();
    t.totals = "[[total]]\nsegment = \"all\"\ncapacity_wspm_300eq = \"many\"\n";
    let e = parse(t).unwrap_err().to_string();
    assert!(
        e.contains("data/fabs/totals.toml") && e.contains("line 3"),
        "{e}"
    );
    let mut t = texts();
    t.atp = "country,share_pct,year,source\nCHN,30,2022,eto-cset\n";
    let e = parse(t).unwrap_err().to_string();
    assert!(e.contains("shares sum to 30.0%"), "{e}");
}

#[test]
fn trade_matrix_rows() {
    let m = parse_trade_matrix(
        "segment,from,to,value,currency,period,source\nall,TWN,USA,10,USD,2024,test\ndram,KOR,EU27,5,USD,2024,test\n",
        "m.csv",
    )
    .unwrap();
    assert_eq!(m.flows.len(), 2);
    assert_eq!(m.flows[1].segment, Some(Segment::Dram));
    assert!(m.origin.contains("period 2024"), "{}", m.origin);
    for (body, want) in [
        (
            "memory,TWN,USA,1\n",
            "m.csv:2: field `segment`: unknown segment `memory`",
        ),
        ("all,Taiwan,USA,1\n", "m.csv:2: field `from`"),
        ("all,TWN,USA,-1\n", "m.csv:2: field `value`"),
        (
            "all,TWN,USA,x\n",
            "m.csv:2: field `value`: `x` is not a number",
        ),
    ] {
        let e = parse_trade_matrix(&format!("segment,from,to,value\n{body}"), "m.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{body}: {e}");
    }
    let e = parse_trade_matrix("segment,from,to,value\n", "m.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no flows"), "{e}");
}
