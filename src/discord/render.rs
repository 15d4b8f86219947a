//! How things look on Discord: embeds, buttons and mention rules, built from core values.
//!
//! Every text from the bank or from users is fitted to its place here (see `crate::text`) so
//! Discord never rejects a message for length, and every message carries an explicit
//! `allowed_mentions` so bank text can never ping anyone.

pub mod practice;
pub mod quiz;
pub mod stats_png;

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

const ANSWER_TITLE: &str = "💡 Model answer";
const KEY_POINTS_TITLE: &str = "Key points";
const DM_CONTEXT_TITLE: &str = "You asked for the model answer to";

/// The model answer as embeds, followed by the question's key points (a bulleted field) when
/// it has any. The bank guarantees an answer fits one description, but a bank loaded by older
/// rules or a future limit change must still never be rejected by Discord, so longer text is
/// split across embeds at line or word breaks.
pub fn answer_embeds(q: &Question) -> Vec<CreateEmbed> {
    answer_embeds_beside(q, 0)
}

/// [`answer_embeds`] in a message whose other embeds already use `beside` of the
/// 6000-character total: the key points get what is left, at most one field.
fn answer_embeds_beside(q: &Question, beside: usize) -> Vec<CreateEmbed> {
    let key_points = key_points_field(q, beside);
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
                e = e.title(ANSWER_TITLE);
            }
            if i + 1 == n {
                if let Some(points) = &key_points {
                    e = e.field(KEY_POINTS_TITLE, points.clone(), false);
                }
                e = e.footer(CreateEmbedFooter::new(answer_footer(q)));
            }
            e
        })
        .collect()
}

fn answer_footer(q: &Question) -> String {
    format!("Question `{}`", q.id)
}

/// The key points as one bulleted field value, shortened to what is left of the message's
/// 6000 characters after the answer and `beside`, and to a field's 1024. `None` without key
/// points, or when too little room is left for a readable list.
fn key_points_field(q: &Question, beside: usize) -> Option<String> {
    if q.key_points.is_empty() {
        return None;
    }
    let used = beside + answer_text_chars(q) + KEY_POINTS_TITLE.chars().count();
    let room = limits::EMBED_TOTAL
        .saturating_sub(used)
        .min(limits::EMBED_FIELD_VALUE);
    // Below this a list is an ellipsis and a word; better none than that.
    if room < 40 {
        return None;
    }
    let list = q
        .key_points
        .iter()
        .map(|p| format!("• {}", p.trim()))
        .collect::<Vec<_>>()
        .join("\n");
    Some(truncate(&list, room))
}

/// The answer for a DM: the question (shortened to fit) for context, then the answer.
pub fn dm_answer_embeds(q: &Question, link: &str) -> Vec<CreateEmbed> {
    let question = truncate(&q.question, limits::EMBED_FIELD_VALUE);
    let beside = DM_CONTEXT_TITLE.chars().count() + question.chars().count();
    let mut embeds = answer_embeds_beside(q, beside);
    let context = CreateEmbed::new()
        .title(DM_CONTEXT_TITLE)
        .description(question)
        .url(link.to_string())
        .colour(difficulty_colour(q.difficulty));
    embeds.insert(0, context);
    embeds
}

/// The first message of a daily post's discussion thread: the question's follow-ups as
/// prompts, within a message's 2000 characters; `None` when it has none. Bank text: send it
/// with [`no_mentions`].
pub fn thread_opening(q: &Question) -> Option<String> {
    if q.follow_ups.is_empty() {
        return None;
    }
    let mut text = String::from("**Discuss here.** Questions an interviewer might ask next:");
    for f in &q.follow_ups {
        text.push_str("\n• ");
        text.push_str(f.trim());
    }
    Some(truncate(&text, limits::MESSAGE_CONTENT))
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

/// The answer's share of the 6000-character budget when shown in one message: the answer,
/// and its key points as [`answer_embeds`] shows them.
pub fn answer_chars(q: &Question) -> usize {
    answer_text_chars(q)
        + key_points_field(q, 0).map_or(0, |points| {
            KEY_POINTS_TITLE.chars().count() + points.chars().count()
        })
}

/// Title, answer and footer: what the answer embeds hold besides the key points.
fn answer_text_chars(q: &Question) -> usize {
    ANSWER_TITLE.chars().count() + q.answer.chars().count() + answer_footer(q).chars().count()
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
            key_points: vec![],
            follow_ups: vec![],
            quiz_answer: None,
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

    /// What an embed counts towards Discord's 6000-character total, from the JSON we send.
    fn sent_chars(e: &CreateEmbed) -> usize {
        let v = serde_json::to_value(e).unwrap();
        let text = |v: &serde_json::Value| v.as_str().map_or(0, |s| s.chars().count());
        let mut n = text(&v["title"]) + text(&v["description"]) + text(&v["footer"]["text"]);
        for f in v["fields"].as_array().into_iter().flatten() {
            n += text(&f["name"]) + text(&f["value"]);
        }
        n
    }

    fn fields(e: &CreateEmbed) -> Vec<(String, String)> {
        let v = serde_json::to_value(e).unwrap();
        v["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    f["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn key_points_follow_the_answer_as_a_list() {
        let mut question = q("The answer.");
        question.key_points = vec!["First".into(), " Second ".into(), "Third".into()];
        let embeds = answer_embeds(&question);
        assert_eq!(embeds.len(), 1);
        let v = serde_json::to_value(&embeds[0]).unwrap();
        assert_eq!(v["description"], "The answer.");
        assert_eq!(
            fields(&embeds[0]),
            [(
                "Key points".to_string(),
                "• First\n• Second\n• Third".to_string()
            )]
        );
        assert_eq!(answer_chars(&question), sent_chars(&embeds[0]));
        // In a DM, after the context embed.
        let dm = dm_answer_embeds(&question, "https://discord.com/channels/1/2/3");
        assert_eq!(dm.len(), 2);
        assert_eq!(fields(&dm[1]).len(), 1);

        // Without key points, no field.
        let plain = q("The answer.");
        assert!(fields(&answer_embeds(&plain)[0]).is_empty());
        assert_eq!(answer_chars(&plain), sent_chars(&answer_embeds(&plain)[0]));
    }

    #[test]
    fn key_points_stay_within_discords_limits() {
        // Longer than the bank allows, to show rendering holds on its own.
        let mut question = q(&"a".repeat(4096));
        question.question = "q".repeat(3000);
        question.key_points = (0..6).map(|i| format!("{i}").repeat(400)).collect();

        let embeds = answer_embeds(&question);
        let (_, value) = &fields(embeds.last().unwrap())[0];
        assert!(
            value.chars().count() <= limits::EMBED_FIELD_VALUE,
            "{value}"
        );
        assert!(value.ends_with('…'), "shortened visibly");
        let total: usize = embeds.iter().map(sent_chars).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        assert_eq!(answer_chars(&question), total);

        // The DM's context embed leaves less room: the list gets shorter, the total fits.
        let dm = dm_answer_embeds(&question, "https://discord.com/channels/1/2/3");
        let total: usize = dm.iter().map(sent_chars).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        let (_, dm_value) = &fields(dm.last().unwrap())[0];
        assert!(dm_value.chars().count() < value.chars().count());

        // No room left at all: no field rather than a stub.
        let dm_context = DM_CONTEXT_TITLE.chars().count() + limits::EMBED_FIELD_VALUE;
        question.answer = "a".repeat(limits::EMBED_TOTAL - dm_context - 60);
        let dm = dm_answer_embeds(&question, "https://discord.com/channels/1/2/3");
        assert!(fields(dm.last().unwrap()).is_empty());
        let total: usize = dm.iter().map(sent_chars).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
    }

    #[test]
    fn thread_opening_lists_the_follow_ups() {
        let mut question = q("a");
        assert_eq!(thread_opening(&question), None);
        question.follow_ups = vec!["How would you test it?".into(), "What breaks first?".into()];
        assert_eq!(
            thread_opening(&question).unwrap(),
            "**Discuss here.** Questions an interviewer might ask next:\n\
             • How would you test it?\n• What breaks first?"
        );
        question.follow_ups = (0..3).map(|_| "f".repeat(1000)).collect();
        let long = thread_opening(&question).unwrap();
        assert!(long.chars().count() <= limits::MESSAGE_CONTENT);
        assert!(long.ends_with('…'));
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
