//! JSON output of a determination written straight from a [`Draft`]'s buffers (batch mode),
//! without building the owned [`Determination`](crate::Determination) first. The bytes are those
//! `serde_json::to_writer` writes for the `Determination` the same draft gives (field order,
//! compact form, string escapes); the tests in `crate::batch` compare the two on every shipment
//! of a mixed batch.

use crate::engine::Draft;
use crate::engine::Shipment;

/// What serde_json writes after a backslash for each ASCII byte that needs escaping (0 = none;
/// `u` = `\u00XX`).
const ESCAPE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether any byte of `s` needs escaping. No early exit, so that it vectorises: most lines
/// need no escape at all and are then copied whole.
fn any_escape(s: &[u8]) -> bool {
    s.iter().fold(0u8, |a, &b| {
        a | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    }) != 0
}

/// Append `s` as a JSON string (quotes included), escaped as serde_json escapes it: `"`, `\` and
/// control characters only; non-ASCII text is written as is.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.push(b'"');
    if !any_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut run = 0; // start of the bytes not yet copied
    for (i, &b) in bytes.iter().enumerate() {
        let e = if b < 0x80 { ESCAPE[b as usize] } else { 0 };
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        out.push(b'\\');
        out.push(e);
        if e == b'u' {
            out.extend_from_slice(&[b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Append `s` as a JSON string known to need no escape.
fn push_clean(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn push_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Append the determination `d` (drafted for shipment `s`) as one JSON object, given the item
/// report and the end-user screening hits already serialised.
pub(crate) fn write_determination(
    out: &mut Vec<u8>,
    d: &Draft<'_>,
    s: &Shipment,
    item_json: &[u8],
    hits_json: &[u8],
    parties_json: &[u8],
    ruleset_json: &[u8],
) {
    let ids = &d.ids;
    let o = &d.out;
    let text = |r: &std::ops::Range<usize>| &o.text[r.clone()];
    // One scan of the whole text (explanations and jurisdiction names) is cheaper than one per
    // line; when it finds something to escape, each line is escaped on its own.
    let push_text: fn(&mut Vec<u8>, &str) = if any_escape(o.text.as_bytes()) {
        push_str
    } else {
        push_clean
    };
    let mut date = String::with_capacity(10);
    s.date.push_to(&mut date);
    out.extend_from_slice(b"{\"date\":");
    push_str(out, &date);
    out.extend_from_slice(b",\"from\":");
    push_str(out, &ids[d.from.clone()]);
    out.extend_from_slice(b",\"to\":");
    push_str(out, &ids[d.to.clone()]);
    out.extend_from_slice(b",\"origin\":");
    push_opt(out, d.origin.clone().map(|r| &ids[r]));
    out.extend_from_slice(b",\"end_user\":");
    push_opt(out, s.end_user.as_deref());
    out.extend_from_slice(b",\"end_use\":");
    push_opt(out, s.end_use.as_deref());
    out.extend_from_slice(b",\"item\":");
    out.extend_from_slice(item_json);
    out.extend_from_slice(b",\"end_user_screening\":");
    out.extend_from_slice(hits_json);
    out.extend_from_slice(b",\"party_screening\":");
    out.extend_from_slice(parties_json);
    out.extend_from_slice(b",\"verdicts\":[");
    for (i, v) in o.verdicts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"jurisdiction\":");
        push_text(out, text(&v.jurisdiction));
        out.extend_from_slice(b",\"outcome\":");
        push_str(out, v.outcome.as_str());
        out.extend_from_slice(b",\"review_policy\":");
        push_opt(out, v.review_policy.map(|p| p.as_str()));
        out.extend_from_slice(b",\"authorisation\":");
        push_opt(out, v.authorisation);
        match v.measure {
            // Serialised once, when the engine was built.
            Some((_, json)) => out.extend_from_slice(json),
            None => out.extend_from_slice(
                b",\"measure_id\":null,\"instrument\":null,\"version\":null,\"citation\":null",
            ),
        }
        out.extend_from_slice(b",\"missing_parameters\":[");
        for (k, m) in o.missing[v.missing.clone()].iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            push_str(out, m);
        }
        out.push(b']');
        out.extend_from_slice(b",\"explanation\":[");
        for (k, l) in o.lines[v.lines.clone()].iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            push_text(out, text(l));
        }
        out.extend_from_slice(b"]}");
    }
    let first = o.winners().next();
    out.extend_from_slice(b"],\"overall\":{\"outcome\":");
    push_str(
        out,
        first
            .map_or(crate::OutcomeKind::NotRequired, |v| v.outcome)
            .as_str(),
    );
    out.extend_from_slice(b",\"review_policy\":");
    push_opt(out, first.and_then(|v| v.review_policy).map(|p| p.as_str()));
    out.extend_from_slice(b",\"authorisation\":");
    push_opt(out, first.and_then(|v| v.authorisation));
    out.extend_from_slice(b",\"jurisdictions\":[");
    for (k, v) in o.winners().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        push_text(out, text(&v.jurisdiction));
    }
    out.extend_from_slice(b"],\"measure_ids\":[");
    for (k, (m, _)) in o.winners().filter_map(|v| v.measure).enumerate() {
        if k > 0 {
            out.push(b',');
        }
        push_str(out, &m.id);
    }
    out.extend_from_slice(b"],\"undetermined\":[");
    for (k, v) in o.undetermined().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        push_text(out, text(&v.jurisdiction));
    }
    out.extend_from_slice(b"],\"missing_parameters\":[");
    if !o.missing.is_empty() {
        for (k, m) in o.all_missing().iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            push_str(out, m);
        }
    }
    out.extend_from_slice(b"],\"not_reached\":[");
    for (k, l) in o.not_reached.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        push_text(out, text(l));
    }
    out.extend_from_slice(b"]},\"ruleset\":");
    out.extend_from_slice(ruleset_json);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_serde(s: &str) {
        let mut out = Vec::new();
        push_str(&mut out, s);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(s).unwrap()
        );
    }

    #[test]
    fn escapes_like_serde_json() {
        let all_ascii: String = (0u8..128).map(char::from).collect();
        same_as_serde(&all_ascii);
        same_as_serde("");
        same_as_serde("item caught: 3B001.f.1.a [wavelength_nm = 193 <= 193: met] — \"x\"");
        same_as_serde("华为技术有限公司\u{7f}\u{80}\u{2028}\\\n");
        same_as_serde("0123456789abcde\"0123456789abcdef\n0123456789abcdef\\");
    }

    proptest! {
        #[test]
        fn escapes_any_string_like_serde_json(s in "\\PC*|[\\x00-\\x7f]{0,64}") {
            same_as_serde(&s);
        }
    }
}
