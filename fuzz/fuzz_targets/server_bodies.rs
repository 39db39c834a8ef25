//! Fuzz the JSON request bodies of the HTTP API (records, agreements, requests, federation
//! batches, licence determination): decoding arbitrary bytes never panics.
#![no_main]
use chipwatch_server::routes::{controls, exchange, federation, requests};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<exchange::NewRecordBody>(data);
    let _ = serde_json::from_slice::<exchange::NewAgreementBody>(data);
    let _ = serde_json::from_slice::<requests::NewRequestBody>(data);
    let _ = serde_json::from_slice::<federation::Batch>(data);
    let _ = serde_json::from_slice::<controls::DetermineBody>(data);
});
