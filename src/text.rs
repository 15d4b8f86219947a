//! Fitting text into Discord's places: the limits, and cutting or splitting at char boundaries.
//!
//! Discord rejects a whole message when one embed part is too long, so every text that comes
//! from the bank or from users passes through here before it is rendered. Cuts never split a
//! character (Rust would panic on a byte index inside one) and prefer a line or word break.

/// Discord's limits, in characters (Unicode scalar values, as Discord counts them).
pub mod limits {
    pub const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub const EMBED_FIELD_NAME: usize = 256;
    pub const EMBED_FIELD_VALUE: usize = 1024;
    pub const EMBED_FOOTER: usize = 2048;
    pub const EMBED_FIELDS: usize = 25;
    /// The sum of all texts across a message's embeds.
    pub const EMBED_TOTAL: usize = 6000;
    pub const MESSAGE_CONTENT: usize = 2000;
    pub const BUTTON_LABEL: usize = 80;
    pub const THREAD_NAME: usize = 100;
    pub const CHOICE_NAME: usize = 100;
}

/// `s` cut to at most `max` characters, ending in `…` when something was cut. Prefers to cut
/// at a whitespace boundary when one is reasonably close.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1; // room for the ellipsis
    let cut = byte_index_of_char(s, keep);
    let head = &s[..cut];
    // Back up to a word boundary if one is within the last fifth (unless the cut already
    // falls on one).
    let at_break = s[cut..].starts_with(char::is_whitespace);
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if !at_break && head[..i].chars().count() >= keep * 4 / 5 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end())
}

/// Splits `s` into pieces of at most `max` characters each, at paragraph, line or word breaks
/// where possible and at a char boundary otherwise. Concatenating the pieces (with the
/// whitespace at the cuts) gives back the text.
pub fn split(s: &str, max: usize) -> Vec<String> {
    assert!(max > 0, "split needs room for at least one character");
    let mut out = Vec::new();
    let mut rest = s.trim();
    while rest.chars().count() > max {
        let hard = byte_index_of_char(rest, max);
        let window = &rest[..hard];
        let cut = ["\n\n", "\n", ". ", " "]
            .iter()
            .filter_map(|sep| window.rfind(sep).map(|i| i + sep.len()))
            .find(|&i| i > hard / 2)
            .unwrap_or(hard);
        out.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// "1 question", "2 questions": a count with its noun, for messages people read.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// The byte index where the `n`th character starts (or the length when there are fewer).
fn byte_index_of_char(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_short_text() {
        assert_eq!(truncate("hello", 5), "hello");
    }

    #[test]
    fn truncate_cuts_at_char_boundary_with_ellipsis() {
        let s = "ééééé"; // 2 bytes each
        let t = truncate(s, 3);
        assert_eq!(t, "éé…");
        assert_eq!(t.chars().count(), 3);
    }

    #[test]
    fn truncate_prefers_word_boundary() {
        let t = truncate("the quick brown fox jumps", 20);
        assert_eq!(t, "the quick brown fox…");
        assert!(t.chars().count() <= 20);
    }

    #[test]
    fn split_respects_limit_and_round_trips_words() {
        let s = "word ".repeat(1000);
        let parts = split(&s, 1024);
        assert!(parts.len() >= 5);
        assert!(parts.iter().all(|p| p.chars().count() <= 1024));
        assert_eq!(parts.join(" "), s.trim());
    }

    #[test]
    fn split_multibyte_without_spaces() {
        let s = "😀".repeat(2500);
        let parts = split(&s, 1024);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= 1024));
        assert_eq!(parts.concat(), s);
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "question"), "1 question");
        assert_eq!(count(0, "question"), "0 questions");
        assert_eq!(count(6, "category"), "6 categories");
        assert_eq!(count(1, "category"), "1 category");
    }

    #[test]
    fn split_short_text_is_one_piece() {
        assert_eq!(split("short", 10), vec!["short".to_string()]);
    }
}
