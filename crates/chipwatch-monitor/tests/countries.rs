//! Country inference on the patterns real reporting uses: a day (`12日`, `この日`) is not Japan,
//! `中国台湾` is Taiwan, a newspaper named as the source and a time-zone remark name no country,
//! language switchers are page furniture, a site names its country and a firm stands for its home
//! country where no site is named.

use chipwatch_monitor::{Article, Classified, Classifier, RawArticle};
use std::sync::OnceLock;

fn classify(title: &str, body: &str) -> Classified {
    static C: OnceLock<Classifier> = OnceLock::new();
    let c = C.get_or_init(|| Classifier::new(&chipwatch_data::default_model()).unwrap());
    let mut raw = RawArticle::new("test");
    raw.title = title.to_string();
    raw.body = body.to_string();
    c.classify(&Article::from_raw(raw))
}

fn has(c: &Classified, iso: &str) -> bool {
    c.countries.iter().any(|x| x == iso)
}

#[test]
fn a_day_is_not_japan() {
    let c = classify(
        "荷兰收紧光刻机出口管制",
        "荷兰政府12日宣布，自9月1日起，ASML部分浸润式光刻机出口需申请许可证。\n荷兰外贸大臣表示，该措施出于国家安全考虑。",
    );
    assert!(has(&c, "NLD") && !has(&c, "JPN"), "{:?}", c.countries);
    let c = classify(
        "韓国、半導体素材の輸出規制に対抗",
        "韓国政府はこの日、半導体材料の国産化支援策を発表した。\n同日、産業通商資源部の長官が記者会見した。",
    );
    assert!(has(&c, "KOR") && !has(&c, "JPN"), "{:?}", c.countries);
}

#[test]
fn chinese_taiwan_is_taiwan() {
    let c = classify(
        "中国台湾地区一晶圆厂发生火灾",
        "据报道，中国台湾地区新竹科学园区内一家晶圆代工厂周二凌晨发生火灾，部分生产线停工。",
    );
    assert!(has(&c, "TWN") && !has(&c, "CHN"), "{:?}", c.countries);
}

#[test]
fn sources_time_zones_and_page_furniture_name_no_country() {
    let c = classify(
        "三星平泽工厂停电 部分产线停摆",
        "据日本经济新闻报道，三星电子位于平泽的半导体工厂周三发生停电事故，部分晶圆报废。\n北京时间当天下午，三星方面表示正在恢复供电。",
    );
    assert!(has(&c, "KOR"), "{:?}", c.countries);
    assert!(!has(&c, "JPN") && !has(&c, "CHN"), "{:?}", c.countries);
    let c = classify(
        "미국, 네덜란드 장비 수출통제 확대 촉구",
        "한국시간 12일 미국 상무부는 네덜란드 정부에 반도체 장비 수출통제 확대를 요청했다고 밝혔다.\n한국어 | English | 日本語",
    );
    assert!(has(&c, "USA") && has(&c, "NLD"), "{:?}", c.countries);
    assert!(!has(&c, "KOR") && !has(&c, "JPN"), "{:?}", c.countries);
}

#[test]
fn a_site_names_its_country_and_a_firm_its_home_where_no_site_is_named() {
    let c = classify(
        "Fire halts output at TSMC fab",
        "A fire broke out at a TSMC wafer fab on Tuesday, halting some production lines, the chipmaker said.\nThe company is assessing the damage to its chip output.",
    );
    assert!(c.relevant, "{c:?}");
    assert!(has(&c, "TWN"), "the firm's home: {:?}", c.countries);
    let c = classify(
        "Power cut at TSMC's Arizona plant",
        "A power outage hit TSMC's chip plant in Arizona on Monday, halting wafer production for several hours.",
    );
    assert!(has(&c, "USA"), "{:?}", c.countries);
    assert_eq!(
        c.locations,
        vec!["USA".to_string()],
        "the site, not the owner"
    );
}

/// A disruption located only by a place lands on that country's provider in the model (the
/// location is an ISO code; the model's shares name the country's provider id).
#[test]
fn a_located_disruption_maps_to_the_country_provider() {
    let vc = chipwatch_data::default_model();
    let c = classify(
        "Earthquake halts chip plants in Ishikawa",
        "A strong earthquake struck Ishikawa on Monday, halting production at several semiconductor plants in the prefecture.",
    );
    assert!(c.relevant && c.event_type == "earthquake", "{c:?}");
    assert_eq!(c.locations, vec!["JPN".to_string()]);
    let (shocks, notes) = chipwatch_monitor::impact::shocks_for(&c, &vc).expect("a shock");
    let jpn = vc.provider(vc.country_provider("JPN").unwrap()).id.clone();
    match &shocks[0] {
        chipwatch_analysis::scenario::Shock::CapacityLoss {
            provider, items, ..
        } => {
            assert_eq!(provider, &jpn);
            assert!(!items.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(notes.iter().any(|n| n.contains(&jpn)), "{notes:?}");
}
