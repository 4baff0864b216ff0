//! Text that people type and other people read: which characters popug refuses in what it
//! stores (titles, names, token names, passwords), and how input is echoed in messages.
//!
//! A stored text that holds a control character or an invisible format character can make
//! a table or a terminal lie about what it shows: a right-to-left override (U+202E) reverses
//! what follows it (the "Trojan Source" characters of CVE-2021-42574), a zero-width space
//! hides a difference between two titles. Those are refused wherever control characters are.
//! Zero-width joiners (U+200C, U+200D) stay allowed: scripts and emoji sequences need them.

/// Whether `c` may not appear in a stored text: a control character (Unicode Cc), a format
/// character (Unicode Cf: bidi controls such as U+202E, zero-width spaces, the BOM, tag
/// characters, invisible operators, Arabic and other number signs), a line or paragraph
/// separator (Zl, Zp), or a filler that shows as nothing (Hangul fillers). Zero-width
/// joiners (U+200C, U+200D) are allowed: scripts and emoji sequences need them.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() || (is_format(c) && !matches!(c, '\u{200C}' | '\u{200D}')) || is_invisible(c)
}

/// Unicode's format characters (General_Category = Cf), Unicode 16.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Separators and fillers that render as nothing or break a line inside a cell.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
    )
}

/// `s` as typed, for an error message: printable characters (accents, any script) as they
/// are, and every character [`is_forbidden`] escaped (`\u{202e}`, `\n`, `\u{1b}`), so input
/// can never drive the terminal that shows the message.
pub fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_forbidden(c) || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes that may not be UTF-8 (an input file's cell), shown as [`shown`] does; invalid
/// sequences as U+FFFD.
pub fn shown_bytes(b: &[u8]) -> String {
    shown(&String::from_utf8_lossy(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_invisible_characters_are_refused_joiners_are_not() {
        for c in [
            '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{1b}', '\n', '\u{7f}',
        ] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['é', 'ж', '中', '\u{200D}', '\u{200C}', ' ', '🦜'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }

    #[test]
    fn input_is_shown_as_typed_with_controls_escaped() {
        assert_eq!(shown("kesha é"), "kesha é");
        assert_eq!(shown("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(shown("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(shown("back\\slash"), "back\\\\slash");
    }
}
