//! The ETO importer on arbitrary bytes in one file (the others valid and tiny) never panics.
#![no_main]
use chipwatch_data::eto::{import, EtoFiles, ImportOptions};
use libfuzzer_sys::fuzz_target;

const STAGES: &[u8] = b"stage_id,stage_name,description,market_share_chart_global_market_size_info,market_share_chart_caption,market_share_chart_source\nS2,Fabrication,,,,\n";
const INPUTS: &[u8] = b"input_id,input_name,type,stage_name,stage_id,description,year,market_share_chart_global_market_size_info,market_share_chart_caption,market_share_chart_source\nN1,Thing,tool_resource,,,,2025,$1 billion (2025),,\nN2,Step,process,Fabrication,S2,,,,,\n";
const PROVIDERS: &[u8] = b"provider_name,alias,provider_id,provider_type,country\nNLD,Netherlands,P1,country,\nASML,,P2,organization,NLD\n";
const SEQUENCE: &[u8] = b"input_name,input_id,goes_into_name,goes_into_id,is_type_of_name,is_type_of_id\nThing,N1,Step,N2,,\n";
const PROVISION: &[u8] = b"provider_name,provider_id,provided_name,provided_id,share_provided,year,source\nNLD,P1,Thing,N1,100.0,2025,x\n";

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let which = data[0] % 5;
    let body = &data[1..];
    let mut files = EtoFiles {
        stages: ("stages.csv", STAGES),
        inputs: ("inputs.csv", INPUTS),
        providers: ("providers.csv", PROVIDERS),
        sequence: ("sequence.csv", SEQUENCE),
        provision: ("provision.csv", PROVISION),
    };
    match which {
        0 => files.stages.1 = body,
        1 => files.inputs.1 = body,
        2 => files.providers.1 = body,
        3 => files.sequence.1 = body,
        _ => files.provision.1 = body,
    }
    if let Ok(imp) = import(files, &ImportOptions::default()) {
        let _ = chipwatch_model::ValueChain::new(imp.model);
    }
});
