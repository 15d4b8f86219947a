//! How personal practice looks on Discord: a `/practice` card and its buttons, the line that
//! says when a graded card comes back, the empty queue, and the `/stats` embed.
//!
//! Times are Discord timestamps (`<t:…:R>`), so each member reads them in their own zone and
//! language.

use jiff::Timestamp;
use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter};

use super::{difficulty_colour, difficulty_label, display_name};
use crate::bank::{Filter, Question};
use crate::discord::practice::buttons::{Action, Button, Origin};
use crate::practice::stats::{Stats, RETENTION_DAYS};
use crate::practice::{Grade, Queue};
use crate::text::{limits, truncate};

/// The colour of practice messages that show no particular question.
const PRACTICE_COLOUR: u32 = 0x5865F2;

/// "3 due · 5 new today".
pub fn queue_status(q: &Queue<'_>) -> String {
    format!("{} due · {} new today", q.due, q.new_left)
}

/// A `/practice` card: the question, its topic and difficulty, and the queue's status.
pub fn card_embed(q: &Question, new: bool, status: &str) -> CreateEmbed {
    let kind = if new { "new card" } else { "review" };
    CreateEmbed::new()
        .title(format!("🃏 Practice · {kind}"))
        .description(q.question.clone())
        .colour(difficulty_colour(q.difficulty))
        .field("Topic", display_name(&q.category), true)
        .field("Difficulty", difficulty_label(q.difficulty), true)
        .field("ID", format!("`{}`", q.id), true)
        .footer(CreateEmbedFooter::new(truncate(
            status,
            limits::EMBED_FOOTER,
        )))
}

fn grade_button(b: &Button, g: Grade) -> CreateButton {
    let style = match g {
        Grade::Again => ButtonStyle::Danger,
        Grade::Hard => ButtonStyle::Secondary,
        Grade::Good => ButtonStyle::Success,
        Grade::Easy => ButtonStyle::Primary,
    };
    CreateButton::new(b.with(Action::Grade(g)).id())
        .label(g.label())
        .style(style)
}

/// Again / Hard / Good / Easy for the card of `b`.
pub fn grade_row(b: &Button) -> CreateActionRow {
    CreateActionRow::Buttons(Grade::ALL.into_iter().map(|g| grade_button(b, g)).collect())
}

/// The Next button alone.
pub fn next_row(b: &Button) -> CreateActionRow {
    CreateActionRow::Buttons(vec![next_button(b)])
}

fn next_button(b: &Button) -> CreateButton {
    CreateButton::new(b.with(Action::Next).id())
        .label("Next")
        .emoji('⏭')
        .style(ButtonStyle::Secondary)
}

/// A card's buttons: Reveal (until revealed) and Next, then the four grades.
pub fn card_rows(b: &Button, revealed: bool) -> Vec<CreateActionRow> {
    let mut first = Vec::new();
    if !revealed {
        first.push(
            CreateButton::new(b.with(Action::Reveal).id())
                .label("Reveal")
                .emoji('💡')
                .style(ButtonStyle::Secondary),
        );
    }
    first.push(next_button(b));
    vec![CreateActionRow::Buttons(first), grade_row(b)]
}

/// What a grade did: "Graded Good · this card comes back in 3 days". Under a revealed
/// `/ask` or daily answer (`origin` not practice), it also points to `/practice`.
pub fn graded_embed(g: Grade, due: Timestamp, origin: Origin) -> CreateEmbed {
    let t = due.as_second();
    let mark = if g.is_right() { "✅" } else { "🔁" };
    let mut text = format!(
        "{mark} Graded **{}** · this card comes back <t:{t}:R> (<t:{t}:D>).",
        g.label()
    );
    if !matches!(origin, Origin::Practice(_)) {
        text.push_str("\nIt is in your `/practice` deck now.");
    }
    CreateEmbed::new().description(text).colour(PRACTICE_COLOUR)
}

/// Said when a grade button of a card that was graded meanwhile is clicked.
pub fn already_graded(due: Option<Timestamp>) -> String {
    match due {
        Some(d) => format!(
            "You already graded this card; it comes back <t:{0}:R> (<t:{0}:D>). \
             Press Next or run `/practice` for your next card.",
            d.as_second()
        ),
        None => "This card changed since it was shown. Run `/practice` for your next card.".into(),
    }
}

/// Nothing to show: when the next review is due, and why there is no new card.
pub fn empty_queue_embed(q: &Queue<'_>, filter: &Filter, new_per_day: u32) -> CreateEmbed {
    let mut text = String::from("Nothing to practise right now");
    if !filter.is_empty() {
        text.push_str(&format!(" ({})", filter.describe()));
    }
    text.push('.');
    if let Some(t) = q.next_due {
        let t = t.as_second();
        text.push_str(&format!("\nYour next review is due <t:{t}:R> (<t:{t}:f>)."));
    }
    if new_per_day == 0 {
        text.push_str("\nNew cards are turned off on this bot: only reviews come up.");
    } else if q.unseen == 0 {
        text.push_str("\nYou have met every matching question: only reviews are left.");
    } else {
        text.push_str(&format!(
            "\nThat was today's {new_per_day} new cards; {} more are waiting for the next days.",
            q.unseen
        ));
    }
    CreateEmbed::new()
        .title("🃏 Practice")
        .description(text)
        .colour(PRACTICE_COLOUR)
}

fn percent(right: u32, answered: u32) -> u32 {
    if answered == 0 {
        0
    } else {
        ((f64::from(right) * 100.0) / f64::from(answered)).round() as u32
    }
}

/// `/stats`: the member's numbers. `zone` names the zone days are counted in.
pub fn stats_embed(s: &Stats, zone: &str) -> CreateEmbed {
    let retention = match s.retention {
        Some(r) => format!(
            "{:.0}% of {} grade{}",
            r * 100.0,
            s.graded_recently,
            if s.graded_recently == 1 { "" } else { "s" }
        ),
        None => "no grades yet".into(),
    };
    let mut streak = format!(
        "🔥 {} day{} · best {}",
        s.streak.current,
        if s.streak.current == 1 { "" } else { "s" },
        s.streak.longest
    );
    if s.streak.current > 0 && !s.streak.today_done {
        streak.push_str("\nPractise today to keep it going.");
    }
    let mut topics = String::new();
    for (name, right, answered) in &s.topics {
        let line = format!(
            "{} — {right}/{answered} ({}%)\n",
            display_name(name),
            percent(*right, *answered)
        );
        if topics.chars().count() + line.chars().count() > limits::EMBED_FIELD_VALUE - 2 {
            topics.push('…');
            break;
        }
        topics.push_str(&line);
    }
    if topics.is_empty() {
        topics = "Nothing answered yet: `/practice`, a quiz, or grade a revealed answer.".into();
    }
    let active_days = s.days.iter().filter(|d| d.1 > 0).count();
    let total: u32 = s.days.iter().map(|d| d.1).sum();
    CreateEmbed::new()
        .title("📈 Your practice")
        .colour(PRACTICE_COLOUR)
        .field("Cards seen", s.cards_seen.to_string(), true)
        .field(
            "Due",
            format!("{} today · {} this week", s.due_today, s.due_week),
            true,
        )
        .field(
            format!("Retention ({RETENTION_DAYS} days)"),
            retention,
            true,
        )
        .field("Streak", streak, true)
        .field(
            "Last 12 weeks",
            format!(
                "active on {active_days} day{} · reviews and reveals: {total}",
                if active_days == 1 { "" } else { "s" }
            ),
            true,
        )
        .field("Accuracy by topic", topics.trim_end().to_string(), false)
        .footer(CreateEmbedFooter::new(truncate(
            &format!("Days are counted in {zone} · Good and Easy count as right"),
            limits::EMBED_FOOTER,
        )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::practice::{stats::ACTIVITY_DAYS, Streak};

    fn stats(topics: usize, name_len: usize) -> Stats {
        let today = jiff::civil::date(2026, 3, 10);
        Stats {
            today,
            cards_seen: 3,
            due_today: 1,
            due_week: 2,
            retention: Some(2.0 / 3.0),
            graded_recently: 3,
            topics: (0..topics)
                .map(|i| (format!("{i}-{}", "t".repeat(name_len)), 1, 3))
                .collect(),
            days: (0..ACTIVITY_DAYS).map(|_| (today, 0)).collect(),
            streak: Streak {
                current: 1,
                longest: 4,
                today_done: false,
            },
        }
    }

    fn json(e: &CreateEmbed) -> serde_json::Value {
        serde_json::to_value(e).unwrap()
    }

    #[test]
    fn stats_fit_discord_however_many_topics() {
        let v = json(&stats_embed(&stats(60, 64), "Europe/Berlin"));
        let fields = v["fields"].as_array().unwrap();
        let accuracy = fields
            .iter()
            .find(|f| f["name"] == "Accuracy by topic")
            .unwrap()["value"]
            .as_str()
            .unwrap();
        assert!(accuracy.chars().count() <= limits::EMBED_FIELD_VALUE);
        assert!(accuracy.ends_with('…'), "cut, and says so");
        let total: usize = fields
            .iter()
            .map(|f| {
                f["name"].as_str().unwrap().chars().count()
                    + f["value"].as_str().unwrap().chars().count()
            })
            .sum();
        assert!(total < limits::EMBED_TOTAL);
        let streak = fields.iter().find(|f| f["name"] == "Streak").unwrap();
        assert_eq!(
            streak["value"],
            "🔥 1 day · best 4\nPractise today to keep it going."
        );
        let retention = fields
            .iter()
            .find(|f| f["name"] == "Retention (30 days)")
            .unwrap();
        assert_eq!(retention["value"], "67% of 3 grades");
    }

    #[test]
    fn a_grade_says_when_the_card_comes_back() {
        let due: Timestamp = "2026-03-13T19:00:00Z".parse().unwrap();
        let t = due.as_second();
        let v = json(&graded_embed(Grade::Good, due, Origin::Ask));
        let text = v["description"].as_str().unwrap();
        assert!(text.contains(&format!("<t:{t}:R>")), "{text}");
        assert!(
            text.contains("Graded **Good**") && text.contains("/practice"),
            "{text}"
        );
        let v = json(&graded_embed(
            Grade::Again,
            due,
            Origin::Practice(Default::default()),
        ));
        assert!(!v["description"].as_str().unwrap().contains("/practice"));
    }
}
