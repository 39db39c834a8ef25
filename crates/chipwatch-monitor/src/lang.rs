//! Language detection on the body (the title alone is too short): script heuristics first
//! (Hangul means Korean, kana means Japanese, Han-only text is Chinese, traditional when enough
//! characters change under traditional-to-simplified conversion), then `whatlang` restricted to
//! the Latin-script languages news about chips comes in, for Latin text.

use crate::normalize::{is_han, is_hangul, is_kana};
use whatlang::{Detector, Lang};

/// Detect the language of an article. Returns a BCP 47-style code: `zh`, `zh-Hant`, `ko`, `ja`,
/// `en`, `nl`, `de`, `fr`, ... or `und` when there is too little text.
pub fn detect(text: &str, title: &str) -> &'static str {
    let sample = if text.chars().filter(|c| c.is_alphabetic()).take(20).count() >= 20 {
        text
    } else if text.is_empty() {
        title
    } else {
        // Short body: use both.
        return detect_joined(text, title);
    };
    detect_sample(sample)
}

fn detect_joined(text: &str, title: &str) -> &'static str {
    let joined = format!("{title}\n{text}");
    detect_sample(&joined)
}

fn detect_sample(s: &str) -> &'static str {
    // Look at up to 4,000 characters: enough for a stable ratio, bounded cost.
    let (mut han, mut hangul, mut kana, mut latin) = (0usize, 0, 0, 0);
    let mut han_text = String::new();
    for c in s.chars().take(4000) {
        if is_han(c) {
            han += 1;
            han_text.push(c);
        } else if is_hangul(c) {
            hangul += 1;
        } else if is_kana(c) {
            kana += 1;
        } else if c.is_alphabetic() {
            latin += 1;
        }
    }
    // One conversion of all Han characters; count those that change (traditional forms).
    let trad = if han > 0 {
        fast2s::convert(&han_text)
            .chars()
            .zip(han_text.chars())
            .filter(|(a, b)| a != b)
            .count()
    } else {
        0
    };
    let cjk = han + hangul + kana;
    if cjk == 0 && latin == 0 {
        return "und";
    }
    if cjk * 2 >= latin / 3 && cjk > 0 {
        if hangul * 4 >= cjk {
            return "ko";
        }
        if kana * 10 >= cjk {
            return "ja";
        }
        if hangul > kana && hangul > 0 && han == 0 {
            return "ko";
        }
        // Simplified text hardly changes under conversion; traditional text changes at ~15-30%
        // of characters. 5% separates them with margin on news-length text.
        return if trad * 20 >= han && trad >= 2 {
            "zh-Hant"
        } else {
            "zh"
        };
    }
    latin_lang(s)
}

fn latin_lang(s: &str) -> &'static str {
    let detector = Detector::with_allowlist(vec![
        Lang::Eng,
        Lang::Nld,
        Lang::Deu,
        Lang::Fra,
        Lang::Spa,
        Lang::Ita,
        Lang::Por,
    ]);
    let sample: String = s.chars().take(2000).collect();
    match detector.detect_lang(&sample) {
        Some(Lang::Eng) => "en",
        Some(Lang::Nld) => "nl",
        Some(Lang::Deu) => "de",
        Some(Lang::Fra) => "fr",
        Some(Lang::Spa) => "es",
        Some(Lang::Ita) => "it",
        Some(Lang::Por) => "pt",
        _ => "und",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_languages() {
        assert_eq!(
            detect(
                "荷兰政府吊销了阿斯麦部分光刻机的出口许可证，这将影响少数中国客户。",
                ""
            ),
            "zh"
        );
        assert_eq!(
            detect(
                "荷蘭政府撤銷了艾司摩爾部分曝光機的出口許可證，這將影響少數中國客戶。",
                ""
            ),
            "zh-Hant"
        );
        assert_eq!(
            detect(
                "네덜란드 정부는 ASML의 일부 노광장비 수출 허가를 취소했다고 밝혔다.",
                ""
            ),
            "ko"
        );
        assert_eq!(
            detect(
                "オランダ政府はASMLの一部の露光装置の輸出許可を取り消したと発表した。",
                ""
            ),
            "ja"
        );
        assert_eq!(detect("The Dutch government has revoked some export licences for ASML lithography machines.", ""), "en");
        assert_eq!(detect("De Nederlandse regering heeft enkele exportvergunningen voor ASML-machines ingetrokken.", ""), "nl");
        assert_eq!(detect("", ""), "und");
    }
}
