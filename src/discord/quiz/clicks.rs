//! The A–D buttons of a quiz question: their custom ids, and answering a click (lock in,
//! reply ephemerally) straight from the handler, so a click never waits for the driver.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::ComponentInteraction;
use tracing::warn;

use crate::discord::custom_id::{self, CustomId};
use crate::discord::events::ephemeral;
use crate::discord::{App, Error};
use crate::quiz::{letter, AnswerOutcome};

/// The custom id of choice `choice` of question `index` in round `round_id`.
pub fn button_id(round_id: i64, index: usize, choice: usize) -> String {
    custom_id::render(&CustomId::Quiz {
        round: round_id,
        index,
        choice,
    })
}

/// A click on an A–D button, whose custom id `events` has parsed: lock in and answer
/// ephemerally.
pub async fn on_click(
    ctx: &serenity::Context,
    app: &Arc<App>,
    click: &ComponentInteraction,
    (round_id, index, choice): (i64, usize, usize),
) -> Result<(), Error> {
    let reply = |text: String| ephemeral(text);
    let Some(live) = app.quiz.get(round_id) else {
        click
            .create_response(
                &ctx.http,
                reply("Too late: this quiz round is over.".into()),
            )
            .await?;
        return Ok(());
    };
    // Discord only sends a button's clicks from its own message, but a custom id can be
    // forged: a click must come from the round's channel and guild, or a non-member could
    // score on this server's leaderboard.
    let here = click.channel_id.get() == live.channel_id
        && click.guild_id.map(|g| g.get()) == Some(live.guild_id);
    if !here {
        warn!(
            round = round_id,
            channel = click.channel_id.get(),
            "refused a quiz click from outside the round's channel"
        );
        click
            .create_response(
                &ctx.http,
                reply("That button belongs to a quiz in another channel.".into()),
            )
            .await?;
        return Ok(());
    }
    // One lock for the answer and what to say if it is refused.
    let (outcome, open, has_next) = {
        let mut round = live.round();
        let outcome = round.answer(click.user.id.get(), index, choice, live.now());
        (outcome, round.open_question(), round.has_next())
    };
    let text = match outcome {
        AnswerOutcome::LockedIn { choice } => {
            live.answers_changed.store(true, Ordering::Relaxed);
            live.wake.notify_one();
            format!("🔒 Locked in: **{}**", letter(choice))
        }
        AnswerOutcome::AlreadyAnswered { choice } => format!(
            "You already locked in **{}**; your first answer counts.",
            letter(choice)
        ),
        AnswerOutcome::NotOpen => match open {
            Some((open, _)) if open != index => format!(
                "Too late: that question is closed. Question {} is open now.",
                open + 1
            ),
            _ if has_next => {
                "Too late: this question is closed. Get ready for the next one!".into()
            }
            _ => "Too late: this question is closed, and it was the last one.".into(),
        },
        AnswerOutcome::InvalidChoice => "That button is not one of the choices.".into(),
    };
    click.create_response(&ctx.http, reply(text)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_ids_round_trip() {
        let id = button_id(42, 3, 1);
        assert_eq!(
            custom_id::parse(&id),
            Some(CustomId::Quiz {
                round: 42,
                index: 3,
                choice: 1
            })
        );
        // Discord refuses a custom id over 100 characters, even with the largest numbers.
        assert!(button_id(i64::MIN, usize::MAX, usize::MAX).len() <= 100);
    }
}
