//! Screening with variant spellings in several scripts: case, width, punctuation, legal forms,
//! aliases, traditional/simplified Chinese, pinyin, Japanese and Korean forms, word order, typos;
//! and no match for unrelated names.

use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::*;
use std::sync::OnceLock;

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| Screener::new(default_normaliser(), vec![default_list().unwrap()]))
}

fn best(q: &str) -> Option<Hit> {
    screener().screen(q, DEFAULT_THRESHOLD).into_iter().next()
}

fn assert_hit(q: &str, entry_contains: &str) {
    let h = best(q).unwrap_or_else(|| panic!("no match for `{q}`"));
    assert!(
        h.entry_name.contains(entry_contains),
        "`{q}` matched `{}` ({}), expected {entry_contains}",
        h.entry_name,
        h.score
    );
}

#[test]
fn case_width_punctuation_and_legal_forms() {
    for q in [
        "Huawei Technologies Co., Ltd.",
        "HUAWEI TECHNOLOGIES CO LTD",
        "huawei technologies company limited",
        "Ｈｕａｗｅｉ Ｔｅｃｈｎｏｌｏｇｉｅｓ",
        "Huawei-Technologies, Inc.",
    ] {
        assert_hit(q, "Huawei Technologies");
    }
    assert_eq!(best("Huawei Technologies Co., Ltd.").unwrap().score, 1.0);
}

#[test]
fn chinese_scripts_and_romanisation() {
    assert_hit("华为技术有限公司", "Huawei Technologies");
    assert_hit("華為技術有限公司", "Huawei Technologies");
    assert_hit("华为技术股份有限公司", "Huawei Technologies");
    assert_hit("中芯國際", "Semiconductor Manufacturing International");
    assert_hit(
        "Zhongxin Guoji",
        "Semiconductor Manufacturing International",
    );
    assert_hit(
        "zhong xin guo ji",
        "Semiconductor Manufacturing International",
    );
    assert_hit("長江存儲科技有限責任公司", "Yangtze Memory");
    assert_hit("Changjiang Cunchu", "Yangtze Memory");
    assert_hit("長鑫存儲", "ChangXin");
    assert_hit("changxin cunchu", "ChangXin");
    // Pinyin of an entry given only in Chinese characters.
    assert_hit("Tuojing Keji", "Piotech");
    assert_hit("Xinkailai", "SiCarrier");
}

#[test]
fn japanese_and_korean_forms() {
    assert_hit("華為技術株式会社", "Huawei Technologies");
    assert_hit("ファーウェイ", "Huawei Technologies");
    assert_hit("ﾌｧｰｳｪｲ", "Huawei Technologies"); // half-width katakana, NFKC
    assert_hit("화웨이", "Huawei Technologies");
}

#[test]
fn word_order_and_typos() {
    assert_hit("Technologies Huawei", "Huawei Technologies");
    assert_hit("Huawei Technolgies", "Huawei Technologies");
    assert_hit(
        "Semiconductor Manufacturing Internationl Corp",
        "Semiconductor Manufacturing International",
    );
    assert_hit(
        "International Semiconductor Manufacturing Corporation",
        "Semiconductor Manufacturing International",
    );
    assert_hit("Yangtze Memory Technology", "Yangtze Memory");
    assert_hit(
        "Shanghai Micro-Electronics Equipment Group",
        "Shanghai Micro Electronics",
    );
}

#[test]
fn aliases_and_entry_data() {
    let h = best("SMIC").unwrap();
    assert_eq!(h.matched_name, "SMIC");
    assert_eq!(h.list, "US-EL");
    assert_eq!(h.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
    assert!(h.citation.contains("85 FR 83416"));
    assert!(!h.licence_requirement.is_empty());
}

#[test]
fn unrelated_names_do_not_match() {
    for q in [
        "Samsung Electronics Co., Ltd.",
        "Taiwan Semiconductor Manufacturing Company",
        "ASML Holding N.V.",
        "Tokyo Electron Limited",
        "Technologies",
        "Semiconductor",
        "中国电子科技集团",
        "Acme",
    ] {
        assert!(best(q).is_none(), "`{q}` matched {:?}", best(q));
    }
}

#[test]
fn scores_are_ordered_and_bounded() {
    let exact = best("Yangtze Memory Technologies Co., Ltd.").unwrap().score;
    let typo = best("Yangtse Memory Technologies").unwrap().score;
    assert!(exact >= typo && typo >= DEFAULT_THRESHOLD && exact <= 1.0);
}

#[test]
fn normaliser_steps() {
    let n = default_normaliser();
    assert_eq!(
        n.primary("Huawei Technologies Co., Ltd."),
        "huawei technologies"
    );
    assert_eq!(n.primary("Société Générale S.A."), "societe generale");
    assert_eq!(n.primary("華為技術有限公司"), "华为技术");
    assert_eq!(n.primary("ＡＢＣ株式会社"), "abc");
    assert_eq!(n.variants("中芯国际"), vec!["中芯国际", "zhong xin guo ji"]);
    // Nothing but legal words: kept rather than emptied.
    assert_eq!(n.primary("The Company Ltd"), "the company ltd");
}

#[test]
fn empty_and_odd_queries() {
    assert!(screener().screen("", DEFAULT_THRESHOLD).is_empty());
    assert!(screener().screen("   ,.;", DEFAULT_THRESHOLD).is_empty());
    let long = "x".repeat(100_000);
    assert!(screener().screen(&long, DEFAULT_THRESHOLD).is_empty());
}
