//! How things look on Discord: embeds, buttons and mention rules, built from core values.
//!
//! Every text from the bank or from users is fitted to its place here (see `crate::text`) so
//! Discord never rejects a message for length, and every message carries an explicit
//! `allowed_mentions` so bank text can never ping anyone.

pub mod quiz;

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter,
};

use super::custom_id::{self, CustomId};
use crate::bank::{Difficulty, Question};
use crate::text::{limits, split, truncate};

/// Mentions allowed in a message: none at all (no @everyone/@here, roles, users, or the
/// replied-to author).
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .replied_user(false)
}

/// Mentions allowed in a daily post that pings a role: exactly that role.
pub fn only_role(role: u64) -> CreateAllowedMentions {
    no_mentions().roles([serenity::RoleId::new(role)])
}

/// "ask-the-interviewer" → "Ask the interviewer".
pub fn display_name(kebab: &str) -> String {
    let words = kebab.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn difficulty_label(d: Option<Difficulty>) -> &'static str {
    match d {
        Some(Difficulty::Easy) => "🟢 easy",
        Some(Difficulty::Medium) => "🟡 medium",
        Some(Difficulty::Hard) => "🔴 hard",
        None => "unrated",
    }
}

pub fn difficulty_colour(d: Option<Difficulty>) -> serenity::Colour {
    serenity::Colour::new(match d {
        Some(Difficulty::Easy) => 0x2ECC71,
        Some(Difficulty::Medium) => 0xF1C40F,
        Some(Difficulty::Hard) => 0xE74C3C,
        None => 0x5865F2,
    })
}

fn how_to_reveal(emoji: &str) -> String {
    format!("React with {emoji} or press “Reveal answer” to see the model answer")
}

/// The embed of a question asked with `/ask`.
pub fn question_embed(q: &Question, emoji: &str, private: bool) -> CreateEmbed {
    let footer = if private {
        "Press “Reveal answer” to see the model answer".to_string()
    } else {
        how_to_reveal(emoji)
    };
    CreateEmbed::new()
        .title("Interview question")
        .description(q.question.clone())
        .colour(difficulty_colour(q.difficulty))
        .field("Category", display_name(&q.category), true)
        .field("Difficulty", difficulty_label(q.difficulty), true)
        .field("ID", format!("`{}`", q.id), true)
        .footer(CreateEmbedFooter::new(footer))
}

/// The footer of a daily post; also how a post is recognised in the channel after a crash.
pub fn daily_footer(number: i64, local_date: &str) -> String {
    format!("Question of the day #{number} · {local_date}")
}

/// The embed of a daily post.
pub fn daily_embed(q: &Question, number: i64, local_date: &str, emoji: &str) -> CreateEmbed {
    CreateEmbed::new()
        .title(format!("Question of the day · {local_date}"))
        .description(q.question.clone())
        .colour(difficulty_colour(q.difficulty))
        .field("Category", display_name(&q.category), true)
        .field("Difficulty", difficulty_label(q.difficulty), true)
        .field("ID", format!("`{}`", q.id), true)
        .field("How to reveal", how_to_reveal(emoji), false)
        .footer(CreateEmbedFooter::new(daily_footer(number, local_date)))
}

/// A thread name for a daily post: the date and the start of the question.
pub fn thread_name(local_date: &str, q: &Question) -> String {
    let first_line = q.question.lines().next().unwrap_or_default();
    truncate(&format!("{local_date} · {first_line}"), limits::THREAD_NAME)
}

/// The first message of a daily post's discussion thread: the question's follow-ups as
/// prompts. `None` when there is nothing to open with.
pub fn thread_opening(_q: &Question) -> Option<String> {
    None
}

pub fn reveal_custom_id(question_id: &str) -> String {
    custom_id::render(&CustomId::Reveal(question_id.to_string()))
}

/// The row with the "Reveal answer" button.
pub fn reveal_row(question_id: &str) -> CreateActionRow {
    CreateActionRow::Buttons(vec![CreateButton::new(reveal_custom_id(question_id))
        .label("Reveal answer")
        .emoji('💡')
        .style(ButtonStyle::Secondary)])
}

/// The model answer as embeds. The bank guarantees an answer fits one description, but a
/// bank loaded by older rules or a future limit change must still never be rejected by
/// Discord, so longer text is split across embeds at line or word breaks.
pub fn answer_embeds(q: &Question) -> Vec<CreateEmbed> {
    let parts = split(&q.answer, limits::EMBED_DESCRIPTION);
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let mut e = CreateEmbed::new()
                .description(part)
                .colour(difficulty_colour(q.difficulty));
            if i == 0 {
                e = e.title("💡 Model answer");
            }
            if i + 1 == n {
                e = e.footer(CreateEmbedFooter::new(format!("Question `{}`", q.id)));
            }
            e
        })
        .collect()
}

/// The answer for a DM: the question (shortened to fit) for context, then the answer.
pub fn dm_answer_embeds(q: &Question, link: &str) -> Vec<CreateEmbed> {
    let mut embeds = answer_embeds(q);
    let context = CreateEmbed::new()
        .title("You asked for the model answer to")
        .description(truncate(&q.question, limits::EMBED_FIELD_VALUE))
        .url(link.to_string())
        .colour(difficulty_colour(q.difficulty));
    embeds.insert(0, context);
    embeds
}

/// Characters an embed contributes towards Discord's 6000-character total.
pub fn embed_chars(e: &serenity::Embed) -> usize {
    let mut n = e.title.as_deref().map_or(0, |s| s.chars().count())
        + e.description.as_deref().map_or(0, |s| s.chars().count());
    for f in &e.fields {
        n += f.name.chars().count() + f.value.chars().count();
    }
    if let Some(f) = &e.footer {
        n += f.text.chars().count();
    }
    if let Some(a) = &e.author {
        n += a.name.chars().count();
    }
    n
}

/// The answer's share of the 6000-character budget when shown in one message.
pub fn answer_chars(q: &Question) -> usize {
    "💡 Model answer".chars().count()
        + q.answer.chars().count()
        + format!("Question `{}`", q.id).chars().count()
}

/// A link to a message, for DMs and logs.
pub fn message_link(guild: Option<u64>, channel: u64, message: u64) -> String {
    match guild {
        Some(g) => format!("https://discord.com/channels/{g}/{channel}/{message}"),
        None => format!("https://discord.com/channels/@me/{channel}/{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(answer: &str) -> Question {
        Question {
            id: "x".into(),
            category: "ask-the-interviewer".into(),
            question: "Why?".into(),
            answer: answer.into(),
            tags: vec![],
            difficulty: None,
            distractors: vec![],
            explanation: None,
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("ask-the-interviewer"), "Ask the interviewer");
        assert_eq!(display_name("technical"), "Technical");
        assert_eq!(display_name(""), "");
    }

    #[test]
    fn no_mentions_serialises_to_nothing_allowed() {
        let v = serde_json::to_value(no_mentions()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"parse": [], "users": [], "roles": [], "replied_user": false})
        );
        let v = serde_json::to_value(only_role(42)).unwrap();
        assert_eq!(v["roles"], serde_json::json!(["42"]));
        assert_eq!(v["parse"], serde_json::json!([]));
    }

    #[test]
    fn long_answers_split_into_fitting_embeds() {
        let long = "word ".repeat(2000); // 10 000 chars
        let embeds = answer_embeds(&q(&long));
        assert_eq!(embeds.len(), 3);
        for e in &embeds {
            let v = serde_json::to_value(e).unwrap();
            let d = v["description"].as_str().unwrap();
            assert!(d.chars().count() <= 4096);
        }
    }

    #[test]
    fn thread_names_fit() {
        let mut question = q("a");
        question.question = "é".repeat(300);
        let name = thread_name("2026-11-28", &question);
        assert!(name.chars().count() <= 100);
        assert!(name.starts_with("2026-11-28 · é"));
    }
}
