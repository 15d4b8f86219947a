//! Slash commands. Each command's doc comment is its description on Discord and its line in
//! `/help`; parameter descriptions come from `#[description]`.

pub mod ask;
pub mod bank;
pub mod daily;
pub mod help;
pub mod practice;
pub mod privacy;
pub mod quiz;
pub mod stats;

use poise::serenity_prelude as serenity;

use super::errors::{member_has, user};
use super::{Context, Data, Error};

/// A reply that pings nobody; `private` makes it ephemeral (only the caller sees it).
pub fn reply(private: bool) -> poise::CreateReply {
    poise::CreateReply::default()
        .ephemeral(private)
        .allowed_mentions(super::render::no_mentions())
}

/// Every command the bot registers.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        ask::ask(),
        bank::bank(),
        daily::daily(),
        quiz::quiz(),
        practice::practice(),
        stats::stats(),
        privacy::forget_me(),
        help::help(),
    ]
}

/// The check behind every admin command: Manage Server, from the permissions Discord sent
/// with the interaction. Discord hides these commands from others (`default_member_permissions`),
/// but a server can override that, so the bot checks as well.
pub async fn require_manage_guild(ctx: Context<'_>) -> Result<bool, Error> {
    let member = match ctx {
        poise::Context::Application(a) => a.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    if ctx.guild_id().is_none() {
        return user("This command works in a server, not in DMs.");
    }
    if member_has(member, serenity::Permissions::MANAGE_GUILD) {
        Ok(true)
    } else {
        user("You need the **Manage Server** permission to use this command.")
    }
}

/// Up to `limit` of `candidates` that look like `word`: substring matches first, then close
/// spellings. For "did you mean" lists.
pub fn close_matches<'a>(word: &str, candidates: &[&'a str], limit: usize) -> Vec<&'a str> {
    let w = word.trim().to_lowercase();
    let mut out: Vec<&'a str> = candidates
        .iter()
        .copied()
        .filter(|c| !w.is_empty() && (c.contains(&w) || w.contains(*c)))
        .collect();
    if let Some(c) = crate::bank::load::closest(&w, candidates.iter().copied()) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out.truncate(limit);
    out
}

/// Autocomplete choices: names containing what was typed, prefix matches first, at most 25
/// (Discord's limit).
pub fn autocomplete_from<'a>(
    partial: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let p = partial.trim().to_lowercase();
    let mut prefix = Vec::new();
    let mut inner = Vec::new();
    for n in names {
        if n.starts_with(&p) {
            prefix.push(n.to_string());
        } else if n.contains(&p) {
            inner.push(n.to_string());
        }
    }
    prefix.extend(inner);
    prefix.truncate(25);
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches_finds_substrings_and_typos() {
        let cats = ["technical", "role", "skills", "behavioral"];
        assert_eq!(close_matches("tech", &cats, 5), vec!["technical"]);
        assert_eq!(close_matches("behavorial", &cats, 5), vec!["behavioral"]);
        assert!(close_matches("zzz", &cats, 5).is_empty());
    }

    #[test]
    fn autocomplete_prefers_prefixes_and_caps_at_25() {
        let names = ["sql-vs-nosql", "nosql-x", "acid"];
        assert_eq!(
            autocomplete_from("sql", names),
            vec!["sql-vs-nosql", "nosql-x"]
        );
        let many: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
        assert_eq!(
            autocomplete_from("", many.iter().map(String::as_str)).len(),
            25
        );
    }
}
