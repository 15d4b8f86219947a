//! Answering the practice buttons: Reveal, the four grades and Next, on a `/practice` card
//! or under a revealed `/ask` or daily answer.
//!
//! Only the member whose card it is may click (the owner in the custom id: messages are
//! ephemeral, but a custom id can be forged); anyone else gets an ephemeral "not yours".
//! Reveal, a grade and Next update the card's own message (interaction response 7), so a
//! session stays one message; refusals and errors are a separate ephemeral answer, so the card
//! stays as it was.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{ComponentInteraction, CreateEmbed, CreateInteractionResponse};
use tracing::{info, warn};

use super::buttons::{Action, Button, Origin, REV_MOD};
use super::{next_card, View};
use crate::bank::Filter;
use crate::discord::errors::user;
use crate::discord::events::ephemeral;
use crate::discord::render::practice::{already_graded, card_rows, graded_embed, next_row};
use crate::discord::render::{answer_chars, answer_embeds, embed_chars, no_mentions};
use crate::discord::{App, Error};
use crate::practice::{scheduling, Grade, ReviewSource};
use crate::store::{ReviewEvent, Reviewed};
use crate::text::limits;

/// A click on a practice button (`b`, decoded from its custom id). Always answers.
pub async fn on_click(
    ctx: &serenity::Context,
    app: &Arc<App>,
    click: &ComponentInteraction,
    b: Button,
) -> Result<(), Error> {
    let response = match respond(app, click, &b).await {
        Ok(r) => r,
        Err(e) => {
            if !e.is_user() {
                warn!(question = %b.question_id, "practice click failed: {e}");
            }
            ephemeral(e.for_member())
        }
    };
    click.create_response(&ctx.http, response).await?;
    Ok(())
}

async fn respond(
    app: &App,
    click: &ComponentInteraction,
    b: &Button,
) -> Result<CreateInteractionResponse, Error> {
    if click.user.id.get() != b.owner {
        info!(
            clicker = click.user.id.get(),
            "refused a click on another member's practice card"
        );
        return Ok(ephemeral(
            "These buttons belong to another member's practice. Run `/practice` for your own \
             cards.",
        ));
    }
    match b.action {
        Action::Reveal => reveal(app, click, b),
        Action::Grade(g) => grade(app, click, b, g).await,
        Action::Next => next(app, click, b).await,
    }
}

fn update(view: View) -> CreateInteractionResponse {
    CreateInteractionResponse::UpdateMessage(
        serenity::CreateInteractionResponseMessage::new()
            .embeds(view.embeds)
            .components(view.components)
            .allowed_mentions(no_mentions()),
    )
}

/// The embeds of the clicked message, dropping from the end until `extra` more characters
/// and `extra_embeds` more embeds fit Discord's limits (6000 characters, 10 embeds).
fn kept_embeds(
    click: &ComponentInteraction,
    extra: usize,
    extra_embeds: usize,
) -> Vec<CreateEmbed> {
    let mut kept: Vec<&serenity::Embed> = click.message.embeds.iter().collect();
    while !kept.is_empty()
        && (kept.iter().map(|e| embed_chars(e)).sum::<usize>() + extra > limits::EMBED_TOTAL
            || kept.len() + extra_embeds > 10)
    {
        kept.pop();
    }
    kept.into_iter().cloned().map(CreateEmbed::from).collect()
}

/// Reveal: the card stays, the model answer joins it, the grades stay and Reveal goes.
fn reveal(
    app: &App,
    click: &ComponentInteraction,
    b: &Button,
) -> Result<CreateInteractionResponse, Error> {
    let bank = app.bank();
    let Some(q) = bank.get(&b.question_id) else {
        return user("That question is no longer in the bank. Press Next or run `/practice`.");
    };
    let answer = answer_embeds(q);
    let mut embeds = kept_embeds(click, answer_chars(q), answer.len());
    embeds.extend(answer);
    Ok(update(View {
        embeds,
        components: card_rows(b, true),
    }))
}

/// A grade: the card's schedule moves, and the message says when it comes back. Refused when
/// the card was reviewed since the button was shown (a double click, an old message).
async fn grade(
    app: &App,
    click: &ComponentInteraction,
    b: &Button,
    g: Grade,
) -> Result<CreateInteractionResponse, Error> {
    let event = ReviewEvent {
        user_id: b.owner,
        question_id: b.question_id.clone(),
        grade: Some(g),
        source: match b.origin {
            Origin::Practice(_) => ReviewSource::Practice,
            Origin::Ask => ReviewSource::Ask,
            Origin::Daily => ReviewSource::Daily,
        },
        at: app.clock.now(),
        guild_id: click.guild_id.map(|g| g.get()),
        message_id: Some(click.message.id.get()),
    };
    let outcome = app
        .store
        .review_card(&event, |before| {
            let shown = before.map_or(0, |c| c.reps) % REV_MOD == b.rev;
            shown.then(|| scheduling::review(before, g, event.at))
        })
        .await?;
    let card = match outcome {
        Reviewed::Done(card) => card,
        Reviewed::Refused(now) => {
            return Ok(ephemeral(already_graded(now.map(|c| c.due))));
        }
    };
    let graded = graded_embed(g, card.due, b.origin);
    let mut embeds = kept_embeds(click, GRADED_CHARS, 1);
    embeds.push(graded);
    let components = match b.origin {
        Origin::Practice(_) => vec![next_row(b)],
        // Under a revealed /ask or daily answer there is no session to go on with.
        Origin::Ask | Origin::Daily => Vec::new(),
    };
    Ok(update(View { embeds, components }))
}

/// Room for the graded line (its text is under 200 characters).
const GRADED_CHARS: usize = 200;

/// Next: the member's next card under the same filter, passing over this one.
async fn next(
    app: &App,
    click: &ComponentInteraction,
    b: &Button,
) -> Result<CreateInteractionResponse, Error> {
    let filter = match b.origin {
        Origin::Practice(code) => match code.resolve(&app.bank()) {
            Ok(f) => f,
            Err(what) => {
                return user(format!(
                    "The {what} this practice was filtered by is no longer in the bank. Run \
                     `/practice` again."
                ))
            }
        },
        Origin::Ask | Origin::Daily => Filter::default(),
    };
    let view = next_card(
        app,
        b.owner,
        &filter,
        click.guild_id.map(|g| g.get()),
        Some(&b.question_id),
    )
    .await?;
    Ok(update(view))
}
