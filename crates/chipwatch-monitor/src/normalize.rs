//! Text normalisation for matching: Unicode NFKC (which also folds full-width Latin letters and
//! digits to ASCII and half-width katakana to full width), lower case, and traditional Chinese
//! to simplified. The original text is kept elsewhere for display; only analysis uses this form.

use unicode_normalization::UnicodeNormalization;

/// NFKC + lower case + traditional-to-simplified, with runs of whitespace collapsed to one space.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    let ascii = s.is_ascii();
    if ascii {
        // Fast path: NFKC is the identity on ASCII.
        for c in s.chars() {
            push_folded(&mut out, c, &mut space);
        }
    } else {
        for c in s.nfkc() {
            push_folded(&mut out, c, &mut space);
        }
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if !ascii && out.chars().any(is_han) {
        fast2s::replace(&mut out);
    }
    out
}

fn push_folded(out: &mut String, c: char, space: &mut bool) {
    if c.is_whitespace() {
        if !*space && !out.is_empty() {
            out.push(' ');
        }
        *space = true;
        return;
    }
    *space = false;
    // Typographic quotes and dashes fold to ASCII so lexicon entries need one spelling.
    let c = match c {
        '‘' | '’' | '`' => '\'',
        '“' | '”' => '"',
        '–' | '—' | '‐' => '-',
        _ => c,
    };
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

/// CJK unified ideograph (basic block and extension A, plus compatibility ideographs).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F)
}

/// Hiragana or katakana (full width; NFKC turns half-width katakana into these).
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x309F | 0x30A0..=0x30FF | 0x31F0..=0x31FF)
}

/// Split text into sentences: at CJK and Latin sentence ends and at line breaks. Latin `.` ends a
/// sentence only before whitespace, so `NXT:2050i`, `3.5%` and `U.S.` stay whole.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = match c {
            '\n' => Some(i),
            '。' | '！' | '？' | '；' | '!' | '?' => Some(i + c.len_utf8()),
            '.' => match it.peek() {
                Some((_, n)) if n.is_whitespace() => {
                    // Keep abbreviations like "U.S." or "Mr." together with what follows.
                    let prev = &text[start..i];
                    let last_word = prev
                        .rsplit(|c: char| c.is_whitespace())
                        .next()
                        .unwrap_or("");
                    if last_word.len() <= 3
                        && last_word.chars().next().is_some_and(|c| c.is_uppercase())
                    {
                        None
                    } else {
                        Some(i + 1)
                    }
                }
                None => Some(i + 1),
                _ => None,
            },
            _ => None,
        };
        if let Some(e) = end {
            // Closing quotes belong to the sentence they end.
            let mut e = e;
            while let Some(&(j, q)) = it.peek() {
                if matches!(q, '”' | '"' | '’' | '」' | '』' | ')' | '）') && c != '\n' {
                    e = j + q.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            let s = text[start..e].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = e;
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_script() {
        assert_eq!(fold("ＡＳＭＬ  艾司摩爾 曝光機"), "asml 艾司摩尔 曝光机");
        assert_eq!(fold("NXT：２０５０ｉ"), "nxt:2050i");
        assert_eq!(fold("ﾌｯ化水素"), "フッ化水素");
        assert_eq!(fold("  Hello\tWorld "), "hello world");
    }

    #[test]
    fn splits_sentences() {
        let s = sentences("荷兰政府吊销了许可证，“这将影响少数中国客户”。吕特还说：“我们必须确保。”\nThe U.S. added SMIC. NXT:2050i ships 3.5% more.");
        assert_eq!(
            s,
            vec![
                "荷兰政府吊销了许可证，“这将影响少数中国客户”。",
                "吕特还说：“我们必须确保。”",
                "The U.S. added SMIC.",
                "NXT:2050i ships 3.5% more."
            ]
        );
    }
}
