//! Component custom ids: the one place that writes them and reads them back.
//!
//! Discord hands a button's custom id back verbatim with every click, but anyone can send a
//! click carrying any custom id (see tests/e2e_hardening.rs), so [`parse`] accepts exactly
//! the shapes [`render`] writes and nothing else: `render(&parse(s)?) == s` for every
//! accepted `s` (tests/fuzz.rs checks this on mutated and random ids). A number `str::parse`
//! would take but we never write (`+1`, `007`, `-0`) or an extra `:part` is refused rather
//! than read as some other button.

use std::str::FromStr;

use super::practice::buttons::Button;

/// Prefix of the "Reveal answer" button: `reveal:{question id}`.
pub const REVEAL_PREFIX: &str = "reveal:";

/// Prefix of a quiz A–D button: `quiz:{round}:{question index}:{choice}`.
pub const QUIZ_PREFIX: &str = "quiz:";

/// Prefix of the /forget-me confirmation buttons: `forget:{user}:{yes|no}`.
pub const FORGET_PREFIX: &str = "forget:";

/// What a button of ours does, as its custom id says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomId {
    /// Shows the model answer of this question (a bank id) to the clicker.
    Reveal(String),
    /// Answers question `index` (0-based) of quiz round `round` with `choice` (0 = A).
    Quiz {
        round: i64,
        index: usize,
        choice: usize,
    },
    /// Deletes (`confirmed`) or keeps the data of member `user`, who asked with /forget-me.
    Forget { user: u64, confirmed: bool },
    /// A practice card's button: `p<action>:…`, encoded by [`Button`] (see its module).
    Practice(Button),
}

/// Reads a custom id written by [`render`]; `None` for anything else (a button of an older
/// version, or a forged id).
pub fn parse(s: &str) -> Option<CustomId> {
    if let Some(question_id) = s.strip_prefix(REVEAL_PREFIX) {
        // Bank ids are kebab-case: never empty, never a `:` (that would be an extra part).
        let ok = !question_id.is_empty() && !question_id.contains(':');
        return ok.then(|| CustomId::Reveal(question_id.to_string()));
    }
    if let Some(rest) = s.strip_prefix(FORGET_PREFIX) {
        let (user, answer) = rest.split_once(':')?;
        // A user id is a snowflake, never 0.
        let user = canonical(user).filter(|&u: &u64| u > 0)?;
        let confirmed = match answer {
            "yes" => true,
            "no" => false,
            _ => return None,
        };
        return Some(CustomId::Forget { user, confirmed });
    }
    if let Some(b) = Button::parse(s) {
        return Some(CustomId::Practice(b));
    }
    let mut parts = s.strip_prefix(QUIZ_PREFIX)?.split(':');
    let round = canonical(parts.next()?)?;
    let index = canonical(parts.next()?)?;
    let choice = canonical(parts.next()?)?;
    parts.next().is_none().then_some(CustomId::Quiz {
        round,
        index,
        choice,
    })
}

/// The custom id of a button. A `Reveal` takes a bank id (kebab-case, so without `:`), a
/// `Forget` a user id (never 0) and a `Practice` button a review count below
/// `practice::buttons::REV_MOD` (it is written modulo that); any other value would give an id
/// that [`parse`] refuses or reads back differently.
pub fn render(id: &CustomId) -> String {
    match id {
        CustomId::Reveal(question_id) => format!("{REVEAL_PREFIX}{question_id}"),
        CustomId::Quiz {
            round,
            index,
            choice,
        } => format!("{QUIZ_PREFIX}{round}:{index}:{choice}"),
        CustomId::Forget { user, confirmed } => {
            format!(
                "{FORGET_PREFIX}{user}:{}",
                if *confirmed { "yes" } else { "no" }
            )
        }
        CustomId::Practice(b) => b.id(),
    }
}

/// A number written exactly as `Display` writes it. `str::parse` alone also takes a leading
/// `+` and leading zeros, and such an id could not be given back by [`render`].
fn canonical<T: FromStr + ToString>(s: &str) -> Option<T> {
    let n = s.parse::<T>().ok()?;
    (n.to_string() == s).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz(round: i64, index: usize, choice: usize) -> CustomId {
        CustomId::Quiz {
            round,
            index,
            choice,
        }
    }

    #[test]
    fn what_render_writes_parses_back() {
        for id in [
            CustomId::Reveal("sql-vs-nosql".into()),
            quiz(42, 3, 1),
            quiz(0, 0, 0),
            quiz(i64::MIN, usize::MAX, usize::MAX),
            CustomId::Forget {
                user: 42,
                confirmed: true,
            },
            CustomId::Forget {
                user: u64::MAX,
                confirmed: false,
            },
        ] {
            let s = render(&id);
            assert_eq!(parse(&s), Some(id), "{s}");
        }
        assert_eq!(render(&quiz(42, 3, 1)), "quiz:42:3:1");
        assert_eq!(render(&CustomId::Reveal("a".into())), "reveal:a");
        let forget = CustomId::Forget {
            user: 42,
            confirmed: false,
        };
        assert_eq!(render(&forget), "forget:42:no");
        let practice = "pr:c0j5l6gk4ad9:0:a:sql-vs-nosql";
        let parsed = parse(practice);
        assert!(matches!(parsed, Some(CustomId::Practice(_))), "{parsed:?}");
        assert_eq!(render(&parsed.expect("a practice id")), practice);
    }

    #[test]
    fn anything_else_is_refused() {
        for s in [
            "",
            "quiz:",
            "quiz:1:2",
            "quiz:1:2:3:4",
            "quiz:1:2:3:",
            "quiz:x:2:3",
            "quiz:+1:2:3",
            "quiz:01:2:3",
            "quiz:-0:2:3",
            "quiz:1:2:-3",
            "quiz: 1:2:3",
            "quiz:1:2:3 ",
            "quiz:1:2:99999999999999999999999",
            "Quiz:1:2:3",
            "reveal:",
            "reveal:a:b",
            "reveal:a:",
            "reveal",
            "forget:42",
            "forget:0:yes",
            "forget:x:yes",
            "forget:042:yes",
            "forget:42:maybe",
            "forget:42:Yes",
            "forget:42:yes:",
            "forget:42:no:x",
            "poll:7:yes",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
