//! How a quiz round looks on Discord: the question with its A–D choices and buttons, the
//! result after each question, the final standings and the note for a round a restart cut.
//! Every text is fitted to Discord's limits here.

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use crate::discord::quiz::clicks::button_id;
use crate::quiz::{
    competition_ranks, format_points, letter, Asked, Final, QuestionResult, Standing, CHOICES,
};
use crate::store::{RoundRow, ScoreRow};
use crate::text::{limits, truncate};

pub fn question_embed(asked: &Asked, answered: usize, closes_at_unix: Option<i64>) -> CreateEmbed {
    let prompt = truncate(&asked.item.prompt, 2400);
    let per_choice = ((5600 - prompt.chars().count()) / CHOICES).min(limits::EMBED_FIELD_VALUE);
    let mut e = CreateEmbed::new()
        .title(format!(
            "Quiz · question {}/{}",
            asked.index + 1,
            asked.total
        ))
        .description(prompt)
        .colour(super::difficulty_colour(asked.item.difficulty));
    for (i, choice) in asked.item.choices.iter().enumerate() {
        e = e.field(letter(i).to_string(), truncate(choice, per_choice), false);
    }
    let status = match closes_at_unix {
        Some(t) => format!("Closes <t:{t}:R> · {answered} answered"),
        None => format!("Closed · {answered} answered"),
    };
    e.field("⏱", status, false)
        .footer(CreateEmbedFooter::new(format!(
            "{} · pick A–D below; your answer stays hidden",
            super::display_name(&asked.item.category)
        )))
}

pub fn buttons(round_id: i64, index: usize, closed: Option<&QuestionResult>) -> CreateActionRow {
    CreateActionRow::Buttons(
        (0..CHOICES)
            .map(|i| {
                let b = CreateButton::new(button_id(round_id, index, i));
                match closed {
                    None => b.label(letter(i).to_string()).style(ButtonStyle::Primary),
                    Some(r) => {
                        let mark = if i == r.item.correct { " ✓" } else { "" };
                        b.label(format!("{}{mark} · {}", letter(i), r.split[i]))
                            .style(if i == r.item.correct {
                                ButtonStyle::Success
                            } else {
                                ButtonStyle::Secondary
                            })
                            .disabled(true)
                    }
                }
            })
            .collect(),
    )
}

fn mention_list(users: &[(u64, i64)]) -> String {
    if users.is_empty() {
        return "nobody".into();
    }
    users
        .iter()
        .map(|(u, p)| format!("<@{u}> +{}", format_points(*p)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn standings_text(standings: &[Standing], limit: usize) -> String {
    if standings.is_empty() {
        return "No answers yet.".into();
    }
    let mut lines: Vec<String> = standings
        .iter()
        .take(limit)
        .map(|s| {
            format!(
                "**{}.** <@{}> · {} pts · {}/{} right",
                s.rank,
                s.user,
                format_points(s.points),
                s.correct,
                s.answered
            )
        })
        .collect();
    if standings.len() > limit {
        lines.push(format!("… and {} more", standings.len() - limit));
    }
    truncate(&lines.join("\n"), limits::EMBED_FIELD_VALUE)
}

fn podium_text(podium: &[Standing]) -> String {
    if podium.is_empty() {
        return "Nobody scored this time.".into();
    }
    podium
        .iter()
        .map(|s| {
            let medal = match s.rank {
                1 => "🥇",
                2 => "🥈",
                _ => "🥉",
            };
            format!("{medal} <@{}> · {} pts", s.user, format_points(s.points))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn final_message(fin: &Final, stopped: bool) -> serenity::CreateMessage {
    let title = if stopped {
        format!(
            "Quiz stopped after {} of {} questions",
            fin.questions_played, fin.questions_total
        )
    } else {
        format!("Quiz over · {} questions", fin.questions_total)
    };
    let everyone = fin
        .standings
        .iter()
        .take(20)
        .map(|s| {
            format!(
                "**{}.** <@{}> · {} pts · {}% accuracy",
                s.rank,
                s.user,
                format_points(s.points),
                s.accuracy_percent()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let embed = CreateEmbed::new()
        .title(format!("🏆 {title}"))
        .colour(serenity::Colour::new(0xF1C40F))
        .field(
            "Podium",
            truncate(&podium_text(&fin.podium), limits::EMBED_FIELD_VALUE),
            false,
        )
        .field(
            "Scores",
            if everyone.is_empty() {
                "No answers.".to_string()
            } else {
                truncate(&everyone, limits::EMBED_FIELD_VALUE)
            },
            false,
        )
        .footer(CreateEmbedFooter::new(
            "Points go to the all-time table: /quiz leaderboard",
        ));
    serenity::CreateMessage::new()
        .embed(embed)
        .allowed_mentions(super::no_mentions())
}

/// The question message once closed: the count, and which choice was right.
pub fn closed_question_embed(asked: &Asked, r: &QuestionResult) -> CreateEmbed {
    question_embed(asked, r.answered.len(), None).field(
        "Answer",
        format!("**{}** is correct", r.item.correct_letter()),
        false,
    )
}

/// The message after a question closes: the answer, the split, who was right, why, and the
/// standings so far.
pub fn result_embed(asked: &Asked, r: &QuestionResult) -> CreateEmbed {
    let split = (0..CHOICES)
        .map(|i| format!("{} {}", letter(i), r.split[i]))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut embed = CreateEmbed::new()
        .title(format!(
            "Question {}/{}: the answer is {}",
            asked.index + 1,
            asked.total,
            r.item.correct_letter()
        ))
        .description(truncate(&r.item.choices[r.item.correct], 2000))
        .colour(serenity::Colour::new(0x2ECC71))
        .field("Picks", split, false)
        .field(
            "Right",
            truncate(&mention_list(&r.correct_users), limits::EMBED_FIELD_VALUE),
            false,
        );
    if let Some(x) = &r.item.explanation {
        embed = embed.field("Why", truncate(x, limits::EMBED_FIELD_VALUE), false);
    }
    embed.field("Standings", standings_text(&r.standings, 10), false)
}

/// The note posted in the channel of a round a restart cut, with its saved standings (best
/// first, as the store returns them).
pub fn interrupted_embed(round: &RoundRow, scores: &[ScoreRow]) -> CreateEmbed {
    let ranks = competition_ranks(scores, |s| (s.points_milli, s.correct));
    let lines = scores
        .iter()
        .zip(ranks)
        .take(20)
        .map(|(s, rank)| {
            format!(
                "**{rank}.** <@{}> · {} pts · {}/{} right",
                s.user_id,
                format_points(s.points_milli),
                s.correct,
                s.answered
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    CreateEmbed::new()
        .title("⏹ Quiz round interrupted by a restart")
        .description(format!(
            "The bot restarted after {} of {} questions; the round is not resumed. \
             Scores of the finished questions count for /quiz leaderboard.",
            round.questions_played, round.questions_total
        ))
        .field(
            "Standings",
            if lines.is_empty() {
                "No answers were scored.".to_string()
            } else {
                truncate(&lines, limits::EMBED_FIELD_VALUE)
            },
            false,
        )
}
