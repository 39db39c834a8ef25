//! The failure patterns of issue 15, one case per pattern and language family: passing mentions
//! that are not events (a fire or quake without effect, a drill, a stock rally), and events the
//! lexicons used to miss (eased controls, state stakes and forced sales, regulators summoning a
//! firm, market-research price reports, licence grants in Dutch).

use chipwatch_monitor::{Article, Classified, Classifier, RawArticle};
use std::sync::OnceLock;

fn classify(title: &str, body: &str) -> Classified {
    static C: OnceLock<Classifier> = OnceLock::new();
    let c = C.get_or_init(|| Classifier::new(&chipwatch_data::default_model()).unwrap());
    let mut raw = RawArticle::new("pattern");
    raw.title = title.into();
    raw.body = body.into();
    c.classify(&Article::from_raw(raw))
}

fn not_relevant(title: &str, body: &str) {
    let c = classify(title, body);
    assert!(!c.relevant, "{title}: {} {:?}", c.event_type, c.evidence);
}

fn is(title: &str, body: &str, want: &str) {
    let c = classify(title, body);
    assert!(
        c.relevant && c.event_type == want,
        "{title}: {} (want {want}) {:?}",
        c.event_type,
        c.evidence
    );
}

#[test]
fn no_effect_and_drills_are_not_events() {
    not_relevant(
        "晶圆厂附属建筑起火 公司称生产未受影响",
        "某晶圆代工厂园区内一栋仓库周二下午起火，消防部门迅速扑灭。\n公司表示，晶圆生产线运作正常，生产未受影响。",
    );
    not_relevant(
        "반도체 공장서 지진 대피 훈련 실시",
        "삼성전자 평택캠퍼스에서 15일 지진 대피 훈련을 실시했다.\n임직원 3천여 명이 참여했으며 생산라인은 정상 가동됐다.",
    );
    not_relevant(
        "Small fire at chip plant, production not affected",
        "A small fire broke out in a storage building at a semiconductor plant on Monday.\nThe company said production was not affected.",
    );
    not_relevant(
        "Esports team wins Counter-Strike final at chipmaker-sponsored event",
        "Team Vitality won the Counter-Strike tournament at Intel Extreme Masters on Sunday.",
    );
    not_relevant(
        "半導体工場で防災訓練",
        "大手半導体メーカーは10日、熊本工場で地震を想定した防災訓練を実施した。",
    );
}

#[test]
fn events_real_outlets_phrase_their_way() {
    is(
        "日本、対韓輸出管理の優遇対象国に再指定　規制を緩和",
        "経済産業省は韓国をホワイト国に再指定し、半導体材料の輸出規制を緩和すると発表した。",
        "export_control_relaxation",
    );
    is(
        "美国政府将入股英特尔约10%",
        "美国政府宣布将入股芯片制造商英特尔，持股比例约为10%，成为最大股东。",
        "state_intervention",
    );
    is(
        "Britse regering dwingt verkoop van chipfabriek af",
        "De Britse regering beveelt de eigenaar om de chipfabriek in Newport van de hand te doen.",
        "state_intervention",
    );
    is(
        "网信办约谈英伟达",
        "国家网信办就H20芯片安全风险约谈英伟达公司，要求其说明情况。",
        "investigation",
    );
    is(
        "TrendForce: DRAM contract prices to rise 20% next quarter",
        "Memory chip contract prices are expected to rise by up to 20% in the next quarter, market researcher TrendForce said.",
        "price_spike",
    );
    is(
        "Peking keurt eerste exportaanvragen voor gallium goed",
        "Chinese bedrijven hebben de eerste vergunningen binnen om gallium voor de chipindustrie te exporteren.",
        "licence_grant",
    );
}

/// Phrasings found in real Korean and Dutch reporting (session 6): a licence requirement put as
/// "must obtain the government's permission", a service licence not renewed (expected, not yet
/// effective), a fire the company says did not touch production.
#[test]
fn licence_requirements_non_renewals_and_untouched_production() {
    is(
        "네덜란드, 노광장비 수출 직접 관리",
        "네덜란드 정부는 액침식 노광장비를 중국에 수출할 때 정부 허가를 받도록 규정을 바꿨다.",
        "export_control",
    );
    let c = classify(
        "네덜란드, 중국 내 장비 정비 라이선스 갱신 안 해",
        "네덜란드 당국이 중국에 설치된 노광장비의 정비 서비스 라이선스를 갱신하지 않을 전망이다.",
    );
    assert_eq!(c.event_type, "licence_revocation", "{:?}", c.evidence);
    assert_eq!(c.status.as_deref(), Some("rumoured"));
    not_relevant(
        "Brand bij chipfabriek snel geblust",
        "Bij een chipfabriek in Nijmegen brak brand uit in een opslag.\nDe productie is niet geraakt, aldus een woordvoerder.",
    );
}

/// The imposing state of a measure whose headline names only a department ("Commerce eases
/// curbs ... China fabs"): the government named in the body, not the country of the fabs.
#[test]
fn imposing_state_comes_from_the_government_named_in_the_body() {
    let c = classify(
        "Commerce eases curbs on tool shipments to Korean makers' China fabs",
        "The US Commerce Department granted two Korean memory makers waivers to bring American \
         equipment into their plants in China without separate licences.",
    );
    assert!(c.relevant, "{:?}", c.evidence);
    assert_eq!(c.actors.imposing, vec!["USA".to_string()], "{:?}", c.actors);
}

/// Eased controls in Japanese (a tightening lifted, no more case-by-case review), regulators'
/// on-site inspections in Japanese and Korean, and Dutch chip compounds as domain words.
#[test]
fn easing_inspections_and_dutch_compounds() {
    is(
        "対韓輸出の厳格化を解除",
        "経済産業省は韓国向け半導体材料の個別審査をやめ、包括的な許可で輸出できるようにした。",
        "export_control_relaxation",
    );
    is(
        "公取委、半導体装置大手に立ち入り検査",
        "公正取引委員会は下請け企業に不当な値下げを求めた疑いで装置大手に立ち入り検査に入った。",
        "investigation",
    );
    is(
        "공정위, 반도체 장비업체 현장조사",
        "공정거래위원회가 하도급 대금 부당 감액 혐의로 반도체 장비업체를 현장조사했다.",
        "investigation",
    );
    is(
        "Nederland en Japan bewaken samen chiptoeleveringen",
        "Beide landen hebben afgesproken informatie uit te wisselen over verstoringen in de \
         toelevering van chipmaterialen.",
        "alliance_agreement",
    );
    // A bag of crisps is still not a chip.
    not_relevant(
        "Chipsfabriek breidt uit",
        "De chipsfabriek in Broek op Langedijk bouwt een nieuwe productiehal voor zakken chips.",
    );
}

/// A headline opposing another state's measure reports the statement; the measure it answers
/// stays among the other event types. Without opposition wording in the headline, the measure
/// is the event.
#[test]
fn reactions_to_measures_are_statements() {
    let c = classify(
        "Beijing firmly opposes Tokyo's chip equipment curbs",
        "A commerce ministry spokesperson said the export controls on chipmaking equipment \
         abuse trade rules and urged Japan to correct its wrong practice.",
    );
    assert_eq!(c.event_type, "diplomatic_statement", "{:?}", c.evidence);
    assert!(c.other_event_types.iter().any(|t| t == "export_control"));
    is(
        "중국, 일본 반도체 장비 수출규제에 강한 불만",
        "중국 상무부 대변인은 일본의 반도체 장비 수출 통제가 무역 규칙을 훼손한다며 단호히 반대한다고 밝혔다.",
        "diplomatic_statement",
    );
    is(
        "Japan adds 23 chip equipment items to export controls",
        "A commerce ministry spokesperson in Beijing later criticised the export controls on chipmaking equipment.",
        "export_control",
    );
}

/// Dutch reporting of the equipment controls: "aan banden leggen", a licence duty, permission
/// granted for a transition period, servicing no longer allowed (imposed by the Netherlands on
/// Chinese customers, not by China), and Beijing "fel gekant".
#[test]
fn dutch_phrasings_of_equipment_controls() {
    is(
        "Kabinet legt uitvoer van chipmachines verder aan banden",
        "Bedrijven moeten voortaan eerst een vergunning aanvragen voor export naar landen buiten de EU.",
        "export_control",
    );
    is(
        "Chipmachinemaker krijgt toestemming voor levering aan China",
        "De fabrikant heeft van het ministerie toestemming gekregen om nog enkele machines te leveren.",
        "licence_grant",
    );
    let c = classify(
        "Chipmachinemaker mag geen onderhoud meer doen aan machines in China",
        "Het kabinet heeft de vergunning voor onderhoud bij Chinese klanten niet verlengd.",
    );
    assert_eq!(c.event_type, "licence_revocation", "{:?}", c.evidence);
    assert!(
        !c.actors.imposing.contains(&"CHN".to_string()),
        "{:?}",
        c.actors
    );
    assert!(
        c.actors.target.contains(&"CHN".to_string()),
        "{:?}",
        c.actors
    );
    is(
        "Peking fel gekant tegen nieuwe Nederlandse chipregels",
        "Een woordvoerder in Peking zei dat China zich niet kan vinden in de beperkingen op de export van chipmachines.",
        "diplomatic_statement",
    );
}

/// Commentary, expert talk and market moves about controls are not reports of a measure; a
/// specific measure under a market headline still is.
#[test]
fn commentary_and_market_moves_are_not_measures() {
    not_relevant(
        "Chip stocks slide as investors weigh export curbs",
        "Shares of chipmakers fell as investors weighed the prospect of tighter export controls.",
    );
    not_relevant(
        "专家：芯片出口管制对我国影响有限",
        "多位专家在论坛上表示，芯片出口管制虽带来挑战，但也加速了国产替代。",
    );
    not_relevant(
        "Automaker says chip supply has normalised, raises outlook",
        "The carmaker said semiconductor supply had returned to normal after two years of shortages.",
    );
    is(
        "Chip stocks slide after US adds 140 Chinese firms to Entity List",
        "The Commerce Department added 140 Chinese chip companies to the Entity List on Monday. \
         The listed firms were added to the entity list for supporting military modernisation.",
        "entity_listing",
    );
}

/// A measure on chipmaking equipment "used to make advanced chips" is not about the chips.
#[test]
fn chips_an_equipment_measure_names_are_what_the_machines_make() {
    let c = classify(
        "経産省、半導体製造装置23品目を輸出管理の対象に追加",
        "経済産業省は、先端半導体の製造に使う装置23品目を規制対象に加える省令改正を公布した。輸出には経産相の許可が必要になる。",
    );
    assert_eq!(c.event_type, "export_control");
    assert!(!c.items.contains(&"N99".to_string()), "{:?}", c.items);
    // Chips themselves under control stay the item.
    let c = classify(
        "US tightens export controls on advanced chips to China",
        "The Commerce Department now requires licences for exports of advanced chips and logic chips to China.",
    );
    assert!(c.items.contains(&"N99".to_string()), "{:?}", c.items);
}

/// Taiwanese wording: a science park as the place (南科), microcontroller lead times as a
/// shortage, and "supply is stable, not tight as in past years" as no shortage.
#[test]
fn taiwanese_sites_lead_times_and_stable_supply() {
    let c = classify(
        "南科停電兩小時　多家晶圓廠產線受影響",
        "南部科學園區今日上午停電約兩小時，多家晶圓廠產線一度中斷，部分晶圓須報廢。",
    );
    assert_eq!(c.event_type, "power_outage");
    assert!(
        c.countries.contains(&"TWN".to_string()),
        "{:?}",
        c.countries
    );
    is(
        "缺貨潮再起　車用MCU交期拉長至40週",
        "車用微控制器供應再度吃緊，交期延長至40週以上。",
        "shortage",
    );
    not_relevant(
        "新車上市　車廠：車用晶片供貨穩定",
        "公司表示，目前主要晶片都有穩定供貨，不像前幾年晶片荒時期那樣吃緊。",
    );
}

/// Taiwan's own licence requirements ("must apply in advance for an export permit", 輸出許可)
/// are export controls; a wafer fab (晶圓廠) is not the wafer material N26.
#[test]
fn taiwanese_licence_requirements_and_wafer_fabs() {
    let c = classify(
        "經濟部公告：出口至特定國家之晶片須事先申請許可",
        "國際貿易署公告修正規定，將部分晶片列入管制，廠商出口前必須事先申請輸出許可。",
    );
    assert_eq!(c.event_type, "export_control", "{:?}", c.evidence);
    let c = classify(
        "台積電新晶圓廠第四季動工",
        "台積電規劃在科學園區興建新的晶圓廠，初期月產能約五萬片十二吋晶圓。",
    );
    assert_eq!(c.event_type, "capacity_expansion", "{:?}", c.evidence);
    assert!(
        !c.items.iter().any(|i| i == "N26"),
        "a wafer fab is not the wafer material: {:?}",
        c.items
    );
}

/// A headline that leads with the market move reports the price, even when it names the quake
/// or outage behind it; a headline that leads with the disruption reports the disruption.
#[test]
fn market_headlines_report_the_price() {
    is(
        "DRAM価格、最大18%上昇へ　台湾地震で供給懸念",
        "調査会社は、地震で工場の装置が止まったことを反映し、DRAMの契約価格が上昇すると予測した。",
        "price_spike",
    );
    is(
        "Earthquake halts fabs in Taiwan; DRAM prices jump",
        "A strong earthquake stopped production lines at several chip fabs; spot prices rose.",
        "earthquake",
    );
    is(
        "D램 고정가 한 달 새 50% 뛰어",
        "DDR4 D램 가격이 가파르게 오르고 있다. 반도체 업체들이 생산을 줄였다.",
        "price_spike",
    );
}

/// Dutch: machines put still during a quake stop production even when the report adds that some
/// tools took no damage.
#[test]
fn dutch_machines_put_still_are_a_stoppage() {
    is(
        "Aardbeving in Taiwan: chipfabrikant zet machines stil",
        "De chipfabrikant legde uit voorzorg machines stil. Volgens het bedrijf liepen de EUV-machines geen schade op.",
        "earthquake",
    );
}

/// Lifted restrictions are an easing, a scrapped exemption a revocation, in every language.
#[test]
fn lifted_curbs_and_scrapped_exemptions() {
    is(
        "Design software makers free to sell to China again as U.S. drops curbs",
        "The companies said export restrictions on chip design software to China have been lifted.",
        "export_control_relaxation",
    );
    is(
        "美方撤销对华EDA出口限制 软件企业恢复供货",
        "芯片设计软件企业表示，此前针对中国客户的出口限制已撤销。",
        "export_control_relaxation",
    );
    is(
        "Washington schrapt vrijstelling voor Koreaanse chipfabrieken in China",
        "De Verenigde Staten trekken de vrijstelling in waarmee chipmachines zonder vergunning naar de fabrieken konden.",
        "licence_revocation",
    );
}

/// Session 10 patterns, from realistic articles (datelines, background paragraphs, kickers):
/// each case failed before the rule or lexicon entry named beside it.
#[test]
fn longer_trigger_wins_over_the_one_inside_it() {
    // "ontnemen ... vrijstelling" is a revocation, not the exemption word inside it.
    is(
        "VS ontnemen chipmaker vrijstelling voor fabriek in China",
        "WASHINGTON (ANP) - De Amerikaanse regering trekt de vrijstelling in waarmee een Taiwanese chipfabrikant zonder aparte vergunning apparatuur naar zijn fabriek in Nanjing mocht sturen.\nDe maatregel gaat over 120 dagen in.",
        "licence_revocation",
    );
}

#[test]
fn a_disruption_without_effect_makes_no_other_event_either() {
    // The plant words around a fire without effect are no capacity news (생산라인).
    not_relevant(
        "반도체 공장 폐수처리시설서 불…\"생산라인 영향 없어\"",
        "경기도의 한 반도체 공장 폐수처리시설에서 3일 오후 불이 나 40분 만에 꺼졌다.\n회사 측은 생산라인에는 영향이 없다고 밝혔다.",
    );
    // A train line stopped for inspection is not output stopped.
    not_relevant(
        "Aardbeving voor kust van Taiwan voelbaar tot in Taipei",
        "TAIPEI (ANP) - Een aardbeving met een kracht van 5,6 heeft zondag het oosten van Taiwan opgeschrikt.\nEen treinverbinding werd enkele uren stilgelegd voor inspectie.\nChipfabrikanten meldden dat de productie normaal doorliep.",
    );
}

#[test]
fn a_late_all_clear_does_not_undo_a_drought() {
    is(
        "台湾、記録的な水不足　半導体工場に給水車",
        "台湾中部で記録的な水不足が続き、当局は工業用水の供給を2割減らした。\n半導体大手は給水車で工場に水を運び込んでいる。\n雨季の雨が少なく、ダムの貯水率は1割を切った。\n業界団体によると、一部の工場では生産に遅れが出始めた。\nある装置メーカーは、現時点で自社の生産に影響は出ていないと話した。",
        "extreme_weather",
    );
}

#[test]
fn kickers_and_anniversaries_are_not_news() {
    not_relevant(
        "'Elke nieuwe exportregel maakt de chipindustrie van China sterker'",
        "Interview | Drie jaar na de eerste Amerikaanse exportregels voor chiptechnologie blikt een hoogleraar terug.\nVolgens haar hebben de exportbeperkingen de Chinese industrie juist gestimuleerd.",
    );
    not_relevant(
        "那珂工場の火災から5年　止まらない工場へ備え進む",
        "半導体大手の那珂工場で起きた火災から5年がたった。\n当時は生産が約1カ月止まり、自動車生産にも影響が出た。",
    );
    not_relevant(
        "921大地震26週年 科技業耐震升級",
        "921大地震發生至今已26年，專家指出，半導體廠的耐震設計已大幅提升。",
    );
}

#[test]
fn food_chips_and_patent_suits_are_not_events() {
    not_relevant(
        "초코칩 쿠키 가격 오른다…카카오값 급등",
        "제과업체들이 다음 달부터 초코칩 쿠키 가격을 평균 8% 올린다.\n카카오 원두 가격이 1년 새 세 배로 뛰었기 때문이다.",
    );
    not_relevant(
        "中国メモリー大手、米社を特許侵害で提訴",
        "中国のメモリー大手は、米同業が3次元NANDの特許8件を侵害したとして米連邦地裁に提訴した。\n訴状では損害賠償を求めている。\n同社は相手の製品が自社の特許技術を使っていると主張した。\n米社はコメントを控えた。\n同社は数年前、米商務省のエンティティー・リストに追加されている。\n特許をめぐる両社の争いは続いている。",
    );
}

#[test]
fn years_before_the_lede_make_background() {
    // The 2022 listing recalled after a 2025 lede does not outweigh the 2025 news.
    is(
        "Chipmaker breaks ground on new fab in 2025",
        "The company broke ground on a new fab on Tuesday, its largest investment in 2025.\nProduction is due to start in 2027.\nThe plant will make memory chips.\nIt employs 2,000 people.\nIn 2022 the chipmaker was added to the Entity List.\nIn 2023 two more of the chipmaker's units were put on the entity list.",
        "capacity_expansion",
    );
}

#[test]
fn a_state_blocking_a_takeover_is_an_intervention_and_a_probe_of_a_deal_is_a_probe() {
    is(
        "President blocks $2 billion takeover of U.S. chip designer by Chinese-backed fund",
        "The president on Friday issued an order prohibiting the acquisition of a U.S. maker of \
         programmable chips by a fund backed by Chinese state capital, citing national security.\n\
         The companies were told to abandon the deal within 30 days.",
        "state_intervention",
    );
    is(
        "Berlijn trekt goedkeuring voor Chinese overname van chipmachinemaker in",
        "Het Duitse ministerie van Economische Zaken heeft zijn goedkeuring voor de overname van \
         een chipmachinebouwer door een Chinees investeringsfonds ingetrokken.\nDe regering wil \
         de gevolgen voor de nationale veiligheid opnieuw bekijken.",
        "state_intervention",
    );
    is(
        "中国当局、米半導体大手を独禁法違反の疑いで調査　買収の届け出怠る",
        "中国国家市場監督管理総局は、米半導体大手がイスラエルの半導体企業を買収した際に事前の届け出を怠ったとして、独禁法違反の疑いで調査を始めたと発表した。",
        "investigation",
    );
}

#[test]
fn licences_halted_are_revocations_not_grants() {
    is(
        "US stops approving export licences for Chinese telecom giant",
        "The Commerce Department has stopped approving licences for U.S. companies to ship chips \
         and other goods to the Chinese telecoms firm, people familiar with the matter said.\n\
         Existing licences will not be renewed when they expire.",
        "licence_revocation",
    );
    is(
        "美国停止批准对华为出口许可 既有许可到期后不再续发",
        "据知情人士透露，美国商务部已停止批准美国企业向华为出口许可的申请，已发放的许可到期后不再续发。",
        "licence_revocation",
    );
}

#[test]
fn other_kinds_of_chips_are_not_the_chip_supply_chain() {
    not_relevant(
        "Grote brand bij chipsfabriek in Brabant, productie ligt stil",
        "In een fabriek van een snackfabrikant in Brabant is dinsdagnacht een grote brand \
         uitgebroken.\nDe productie van chips en zoutjes ligt voorlopig stil.",
    );
    not_relevant(
        "Fish and chip shops warn of shortage as potato harvest fails",
        "Britain's fish and chip shops face a shortage of frying potatoes after a wet autumn cut \
         the harvest.\nPrices for a portion are expected to rise.",
    );
}

#[test]
fn no_casualties_is_not_no_effect_on_output() {
    // "인명 피해는 없었다" says no one was hurt; the fire still stopped the line.
    is(
        "충주 반도체 부품 공장서 화재…생산라인 가동 전면 중단",
        "충북 충주의 반도체 부품 공장에서 새벽에 불이 나 클린룸 일부가 탔다.\n\
         근무자들이 모두 대피해 인명 피해는 없었다.\n회사 측은 생산라인 가동을 전면 중단했다고 밝혔다.",
        "factory_fire",
    );
    // Without the qualifier the same words still say the plant was spared.
    not_relevant(
        "반도체 공장 인근 창고서 불…공장 피해는 없어",
        "반도체 공장 인근 물류 창고에서 불이 났다.\n회사 측은 공장 피해는 없었고 생산은 정상 가동 중이라고 밝혔다.",
    );
}

#[test]
fn a_drill_in_the_headline_simulates_its_outage() {
    // The body narrates the simulated outage with real stoppage words.
    not_relevant(
        "科学园区举行全园停电应急演练 模拟晶圆厂断电",
        "园区管理局与电力公司今天举行供电应急演练，模拟变电站故障导致全园区停电。\n\
         演练中，多家晶圆厂模拟机台停机、晶圆报废后的应变程序。",
    );
    not_relevant(
        "Chip park holds blackout drill with utility",
        "The science park and the grid operator held a drill simulating a substation failure.\n\
         In the scenario, tools at two fabs halted and wafers were scrapped.",
    );
}

#[test]
fn state_funds_sanctions_lifted_and_licences_not_renewed() {
    is(
        "政府系ファンド、半導体材料大手を買収へ　TOBで非公開化",
        "官民ファンドの産業革新投資機構（JIC）は、半導体材料大手に対するTOBを実施すると発表した。",
        "state_intervention",
    );
    is(
        "US lifts sanctions on Chinese telecom firm, clearing way for chip purchases",
        "The Commerce Department lifted sanctions on ZTE on Friday, allowing the company to buy \
         American semiconductors again.",
        "export_control_relaxation",
    );
    is(
        "Tokyo declines to renew chip-material export licences for two Chinese buyers",
        "Japan's trade ministry declined to renew export licences for photoresist shipments to two \
         Chinese chipmakers, people familiar with the matter said.",
        "licence_revocation",
    );
}

#[test]
fn the_lede_outweighs_revenue_words_further_down() {
    // A merger in the lede, revenue and an investor call after it: still the merger.
    is(
        "米半導体2社が合併で合意　通信用チップで規模拡大",
        "米国の半導体メーカー、ノースリッジ・デバイセズは4日、同業のベイサイド・シリコンを買収すると発表した。\n\
         買収額は約80億ドルで、規制当局の承認を経て来年前半の完了を目指す。\n\
         両社は通信用の高周波チップを手がける。\n\
         ノースリッジの前期の売上高は約40億ドルだった。\n\
         ベイサイドの売上高は約25億ドルで、スマートフォン向けが半分を占める。",
        "m_and_a",
    );
    // An earnings headline stays an earnings story.
    not_relevant(
        "半導体装置大手、売上高が過去最高　中国向けが好調",
        "半導体製造装置大手の決算は、売上高が前年同期比2割増えた。\n\
         中国の新工場向けの出荷が伸びた。\n売上高の見通しも引き上げた。",
    );
}

#[test]
fn a_headline_all_clear_outweighs_a_passing_stop_in_the_body() {
    not_relevant(
        "Grid dip hits chip park; fabs report no impact on production",
        "A momentary voltage dip struck the northern science park on Tuesday evening.\n\
         Two fabs said a handful of tools paused for seconds and restarted automatically.\n\
         Both companies said there was no impact on production and wafer output was normal.",
    );
    // Wafers scrapped in the headline beside the all-clear: the dip did cost output.
    is(
        "南科電壓驟降 晶圓廠數百片晶圓報廢 廠商稱營運不受影響",
        "南部科學園區昨晚發生電壓驟降，多家晶圓廠機台跳機。\n\
         業者估計數百片晶圓報廢，目前已恢復生產。",
        "power_outage",
    );
}

#[test]
fn a_probe_in_the_headline_is_the_news_of_its_tariff_or_price() {
    is(
        "Commerce opens security probe into wafer imports, a possible step toward tariffs",
        "The Commerce Department opened a national security investigation into imports of \
         silicon wafers on Monday.\nThe probe could lead to tariffs on chips and wafers.",
        "investigation",
    );
    is(
        "記憶體模組價格暴漲 公平會立案調查聯合漲價",
        "記憶體模組價格半年內上漲一倍，公平會今天宣布立案調查三家模組廠是否聯合漲價。\n\
         業者表示將配合調查，並強調漲價反映DRAM晶片成本。",
        "investigation",
    );
}

#[test]
fn a_specific_measure_in_the_headline_beats_the_control_words_it_governs() {
    is(
        "Japan versoepelt exportregels voor chipapparatuur naar India",
        "Japan versoepelt de exportregels voor chipmachines en materialen naar India.\n\
         Bedrijven hebben voor leveringen aan India niet langer voor elke zending een \
         exportvergunning nodig, meldt het Japanse ministerie van Economische Zaken.",
        "export_control_relaxation",
    );
    is(
        "美国将三家印度机构移出实体清单",
        "美国商务部宣布，将三家印度研究机构从实体清单中移除，美国企业向其出口芯片等物项不再需要许可证。",
        "export_control_relaxation",
    );
}

#[test]
fn a_deal_headline_that_also_names_the_share_resumption_is_the_deal() {
    is(
        "长芯科技拟发行股份收购晶源半导体100%股权 A股周一复牌",
        "长芯科技晚间公告，公司拟通过发行股份及支付现金方式收购晶源半导体100%股权，交易作价约42亿元。\n\
         晶源半导体主要从事12英寸晶圆代工，收购完成后公司月产能将增加2万片。\n\
         公司股票将于下周一复牌。",
        "m_and_a",
    );
    // A market wrap that names a deal in passing stays a market wrap.
    not_relevant(
        "A股三大指数集体收涨 半导体板块领涨",
        "今日A股三大指数集体收涨，半导体板块领涨，多只个股涨停。\n\
         消息面上，某芯片公司公告拟收购一家设计公司。",
    );
}

#[test]
fn this_rounds_phrasings() {
    // An OSAT plant is a chip plant: its fire stops output even if the body says a
    // neighbouring line was unaffected.
    is(
        "苏州一封测厂深夜起火 三条封装线停产",
        "昨夜23时许，苏州工业园区一家半导体封装测试企业厂房起火，三条封装线停产。\n\
         公司称相邻的测试车间未受影响，预计受损产线两周后恢复。",
        "factory_fire",
    );
    is(
        "Grid fault blacks out chip park, halting wafer plants",
        "A transmission line tripped on Tuesday and cut electricity to an industrial park \
         where two wafer plants and a chip packaging site stopped production for three hours.",
        "power_outage",
    );
    is(
        "Toshio breaks ground on $2 billion chip packaging plant in Ohio",
        "Toshio Semiconductor broke ground on Thursday on a $2 billion advanced chip packaging \
         plant near Columbus, Ohio, its first factory in the United States.",
        "capacity_expansion",
    );
    is(
        "DDR5 blijft in prijs stijgen: spotprijs verdubbeld sinds de zomer",
        "Een DDR5-geheugenchip kost op de spotmarkt inmiddels twee keer zo veel als in juli, \
         meldt een Taiwanees marktonderzoeksbureau.",
        "price_spike",
    );
    // A "blue chip" recruit and a book review are no chip news.
    not_relevant(
        "「ブルーチップ」QBが名門大へ進学 強豪が争奪戦",
        "高校フットボールのブルーチップ選手が名門大学への進学を決めた。全米の強豪校が争奪戦を繰り広げた。",
    );
    not_relevant(
        "[새책] 메모리 반도체 50년…동맹과 수출통제의 역사",
        "메모리 반도체 산업 50년의 역사를 다룬 책이 나왔다.\n\
         저자는 미국의 수출통제와 동맹국의 보조금 경쟁이 메모리 산업의 규칙을 바꿨다고 설명한다.",
    );
}

#[test]
fn a_hazard_named_first_is_the_cause_of_its_blackout() {
    is(
        "台風14号が九州を直撃 半導体工場が停電で稼働停止",
        "台風14号の暴風で送電線が切れ、熊本県の半導体工場が停電し、稼働を停止した。\n\
         会社によると、復旧には数日かかる見通し。",
        "extreme_weather",
    );
    // A blackout named alone stays a blackout.
    is(
        "変電所の故障で半導体工場が停電 生産ライン停止",
        "変電所の設備故障で熊本県の半導体工場が停電し、生産ラインが停止した。",
        "power_outage",
    );
}

#[test]
fn buying_chips_is_no_takeover() {
    // "to buy" processors and "acquire" know-how are purchases and transfers, not deals.
    not_relevant(
        "Schools rush to buy laptops for the new term",
        "Shoppers and retailers rushed to buy laptops and phones this month.\n\
         Chipmakers said they would acquire more testing capacity next year.",
    );
    is(
        "Velora to buy rival chip designer Quantix for $1.2 billion",
        "Velora Semiconductor agreed on Tuesday to buy rival chip designer Quantix for \
         $1.2 billion in cash, adding power-management chips to its range.",
        "m_and_a",
    );
}

/// The learned layer decides nothing in a language it was never trained on: a German report the
/// lexicons do not read stays not relevant (the model alone would call it relevant), and says why.
#[test]
fn the_learned_layer_stays_out_of_languages_it_never_saw() {
    let c = classify(
        "Bundesregierung verschärft Exportkontrollen für Halbleiter",
        "Die Bundesregierung verschärft die Exportkontrollen für Halbleiter nach China. \
         Ausfuhren bestimmter Anlagen brauchen künftig eine Genehmigung.",
    );
    assert_eq!(c.language, "de");
    assert!(!c.relevant, "{} {:?}", c.event_type, c.evidence);
    let learned = c.learned.expect("the layer still reports what it read");
    assert_eq!(learned.decision, "outside its languages");
    let rescue = chipwatch_monitor::learned::TextModel::embedded()
        .unwrap()
        .thresholds
        .rescue;
    assert!(
        learned.relevant >= rescue,
        "the model alone would have found an event here: {learned:?}"
    );
}
