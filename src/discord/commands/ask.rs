//! `/ask`: one question from the bank, answer one reaction or click away.

use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serenity::CreateAutocompleteResponse;
use tracing::warn;

use super::{autocomplete_from, close_matches};
use crate::bank::{Bank, Difficulty, Filter};
use crate::discord::errors::user;
use crate::discord::{events, render, Context, Error};
use crate::store::{QuestionMessage, Source};

/// A difficulty as a slash-command choice.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum DifficultyChoice {
    #[name = "easy"]
    Easy,
    #[name = "medium"]
    Medium,
    #[name = "hard"]
    Hard,
}

impl From<DifficultyChoice> for Difficulty {
    fn from(d: DifficultyChoice) -> Self {
        match d {
            DifficultyChoice::Easy => Difficulty::Easy,
            DifficultyChoice::Medium => Difficulty::Medium,
            DifficultyChoice::Hard => Difficulty::Hard,
        }
    }
}

pub async fn autocomplete_category(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let bank = ctx.data().bank();
    choices(autocomplete_from(partial, bank.categories()))
}

pub async fn autocomplete_tag(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let bank = ctx.data().bank();
    choices(autocomplete_from(partial, bank.tags()))
}

pub async fn autocomplete_id(ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    let bank = ctx.data().bank();
    let list = id_choices(&bank, partial)
        .into_iter()
        .map(|(name, id)| serenity::AutocompleteChoice::new(name, id))
        .collect();
    CreateAutocompleteResponse::new().set_choices(list)
}

/// Up to 25 `(name, id)` choices for `partial`, matching ids and question text, so typing
/// "index" finds `database-indexing`. In a bank of hundreds of questions a word matches many
/// question texts, so ids that start with it come first, then ids that contain it, then the
/// rest, each in bank order (the bank's index, so a keystroke does not scan the bank).
fn id_choices(bank: &Bank, partial: &str) -> Vec<(String, String)> {
    bank.search(partial.trim(), 25)
        .into_iter()
        .map(|(q, _)| {
            let name = crate::text::truncate(
                &format!("{} — {}", q.id, q.question),
                crate::text::limits::CHOICE_NAME,
            );
            (name, q.id.clone())
        })
        .collect()
}

fn choices(names: Vec<String>) -> CreateAutocompleteResponse {
    CreateAutocompleteResponse::new().set_choices(
        names
            .into_iter()
            .map(|n| serenity::AutocompleteChoice::new(n.clone(), n))
            .collect(),
    )
}

/// Checks filter values against the bank; an unknown one is a user error listing close
/// matches.
pub fn build_filter(
    bank: &Bank,
    category: Option<String>,
    tag: Option<String>,
    difficulty: Option<Difficulty>,
    id: Option<String>,
) -> Result<Filter, Error> {
    let norm = |s: Option<String>| s.map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty());
    let (category, tag, id) = (norm(category), norm(tag), norm(id));
    if let Some(c) = &category {
        let cats = bank.categories();
        if !cats.contains(&c.as_str()) {
            return user(unknown("category", c, &cats));
        }
    }
    if let Some(t) = &tag {
        let tags = bank.tags();
        if !tags.contains(&t.as_str()) {
            return user(unknown("tag", t, &tags));
        }
    }
    if let Some(i) = &id {
        if bank.get(i).is_none() {
            let ids: Vec<&str> = bank.questions().iter().map(|q| q.id.as_str()).collect();
            return user(unknown("question id", i, &ids));
        }
    }
    Ok(Filter {
        category,
        tag,
        difficulty,
        id,
    })
}

fn unknown(what: &str, value: &str, known: &[&str]) -> String {
    let value = crate::text::truncate(value, 64);
    let near = close_matches(&value, known, 5);
    let mut msg = format!("There is no {what} `{value}` in the question bank.");
    if !near.is_empty() {
        msg.push_str(&format!(
            " Did you mean {}?",
            near.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if known.len() <= 12 {
        msg.push_str(&format!(" Known: {}.", known.join(", ")));
    }
    msg
}

/// Ask an interview question; react 💡 or press Reveal to see the model answer.
#[poise::command(slash_command)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Only questions of this category"]
    #[autocomplete = "autocomplete_category"]
    category: Option<String>,
    #[description = "Only questions with this tag"]
    #[autocomplete = "autocomplete_tag"]
    tag: Option<String>,
    #[description = "Only questions of this difficulty"] difficulty: Option<DifficultyChoice>,
    #[description = "This exact question"]
    #[autocomplete = "autocomplete_id"]
    id: Option<String>,
    #[description = "Only you see the question (default: false)"] private: Option<bool>,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    let bank = app.bank();
    let filter = build_filter(&bank, category, tag, difficulty.map(Into::into), id)?;
    let private = private.unwrap_or(false);
    // Private questions get a bag per member: their practice, not the channel's.
    let scope = if private {
        format!("ask:user:{}", ctx.author().id)
    } else {
        format!("ask:channel:{}", ctx.channel_id())
    };
    let mut rng = StdRng::seed_from_u64(app.with_rng(|r| r.random()));
    let drawn = app
        .store
        .update_bag_at(&scope, app.clock.now_ms(), |bag| {
            bag.draw(&bank, &filter, &mut rng)
                .map(|d| d.question.clone())
        })
        .await?;
    let Some(q) = drawn else {
        return user(format!(
            "No question matches all of: {}. Try fewer filters.",
            filter.describe()
        ));
    };
    let emoji = &app.config.reveal.emoji;
    let message = serenity::CreateInteractionResponseMessage::new()
        .embed(render::question_embed(&q, emoji, private))
        .components(vec![render::reveal_row(&q.id)])
        .ephemeral(private)
        .allowed_mentions(render::no_mentions());
    let Some(shown) = respond_with_message(&ctx, &app, message).await? else {
        // Private: nobody else sees an ephemeral message, and it cannot take reactions.
        return Ok(());
    };
    // Remember which message shows which question, so a reaction reveals it, even after a
    // restart.
    let msg = shown;
    app.store
        .record_question_message(
            &QuestionMessage {
                message_id: msg.id,
                channel_id: msg.channel_id,
                guild_id: ctx.guild_id().map(|g| g.get()),
                question_id: q.id.clone(),
            },
            Source::Ask,
            app.clock.now_ms(),
        )
        .await?;
    // The reaction waits its turn under Discord's global limit (50 sends a second), which in
    // a burst is seconds: it goes on in a task of its own, so this interaction's handler (and
    // the ~30 KiB poise keeps for it, see `gate`) ends with the answer.
    crate::discord::tasks::spawn_guarded("adding the reveal reaction", async move {
        if let Err(e) = events::add_reveal_reaction(&app, msg.channel_id, msg.id).await {
            warn!("could not add the reveal reaction: {e}");
        }
    });
    Ok(())
}

/// What `/ask` needs of the message its answer created.
struct Shown {
    id: u64,
    channel_id: u64,
}

/// The part of a `?with_response=true` callback response `/ask` reads.
#[derive(serde::Deserialize)]
struct CallbackResponse {
    resource: Option<Resource>,
}

#[derive(serde::Deserialize)]
struct Resource {
    message: Option<CreatedMessage>,
}

#[derive(serde::Deserialize)]
struct CreatedMessage {
    id: serenity::MessageId,
    channel_id: serenity::ChannelId,
    flags: Option<u64>,
}

/// Answers the interaction with `message` and returns the message it created, in one
/// round trip: the callback is sent with `?with_response=true`, so Discord returns the
/// message instead of a 204 that would need a `GET …/@original` to learn its id. (serenity
/// 0.12.5 cannot ask for that, hence our own request.) Returns `None` for ephemeral replies.
async fn respond_with_message(
    ctx: &Context<'_>,
    app: &crate::discord::App,
    message: serenity::CreateInteractionResponseMessage,
) -> Result<Option<Shown>, Error> {
    let poise::Context::Application(actx) = ctx else {
        return crate::discord::errors::user("This command works as a slash command.");
    };
    let ix = actx.interaction;
    let response: CallbackResponse = app
        .deliver
        .interaction_callback(
            ix.id.get(),
            &ix.token,
            &serenity::CreateInteractionResponse::Message(message),
        )
        .await?;
    // poise must not answer this interaction a second time (its error replies become
    // follow-ups).
    actx.has_sent_initial_response
        .store(true, std::sync::atomic::Ordering::SeqCst);
    const EPHEMERAL: u64 = 1 << 6;
    Ok(response
        .resource
        .and_then(|r| r.message)
        .filter(|m| m.flags.unwrap_or(0) & EPHEMERAL == 0)
        .map(|m| Shown {
            id: m.id.get(),
            channel_id: m.channel_id.get(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Question;

    fn q(id: &str, question: &str) -> Question {
        Question {
            id: id.into(),
            category: "c".into(),
            question: question.into(),
            answer: "a".into(),
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
    fn id_choices_rank_ids_before_question_text_and_cap_at_25() {
        let mut qs: Vec<Question> = (0..300)
            .map(|i| {
                q(
                    &format!("q{i}"),
                    &format!("How does an index help query {i}?"),
                )
            })
            .collect();
        qs.push(q("database-indexing", "What is an index?"));
        qs.push(q("index-types", "Which kinds are there?"));
        let bank = Bank::from_questions(qs, vec![]);
        let choices = id_choices(&bank, " Index ");
        assert_eq!(choices.len(), 25);
        let ids: Vec<&str> = choices.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids[..4], ["index-types", "database-indexing", "q0", "q1"]);
        assert!(choices
            .iter()
            .all(|(name, _)| name.chars().count() <= crate::text::limits::CHOICE_NAME));
        assert_eq!(choices[0].0, "index-types — Which kinds are there?");
        assert!(id_choices(&bank, "no-such-thing").is_empty());
    }
}
