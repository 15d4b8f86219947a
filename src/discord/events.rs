//! Gateway events that are not slash commands: reveal reactions and button clicks.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use reqwest::Method;
use serde_json::{json, Value};
use serenity::{
    ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseMessage, FullEvent,
    Interaction, Reaction, ReactionType,
};
use tracing::{debug, info, warn};

use super::deliver::DeliveryError;
use super::{quiz, render, App, Data, Error};
use crate::config::RevealMode;

pub async fn handle(
    fw: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let app = fw.user_data.clone();
    let bot_id = fw.bot_id();
    match event {
        FullEvent::ReactionAdd { add_reaction } => {
            on_reaction(&app, bot_id, add_reaction).await;
        }
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(click),
        } => {
            on_click(fw.serenity_context, &app, click).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Emoji compare equal with or without the variation selector (U+FE0F), which some clients
/// add and others drop.
pub fn same_emoji(a: &str, b: &str) -> bool {
    let strip = |s: &str| s.replace('\u{FE0F}', "");
    strip(a) == strip(b)
}

/// Percent-encodes an emoji for a URL path segment.
pub fn encode_emoji(emoji: &str) -> String {
    let mut out = String::new();
    for b in emoji.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds the reveal emoji under a question message, so members see what to react with.
pub async fn add_reveal_reaction(
    app: &App,
    channel_id: u64,
    message_id: u64,
) -> Result<(), DeliveryError> {
    let path = format!(
        "/channels/{channel_id}/messages/{message_id}/reactions/{}/@me",
        encode_emoji(&app.config.reveal.emoji)
    );
    app.deliver.send_empty(Method::PUT, &path, None).await
}

async fn on_reaction(app: &Arc<App>, bot_id: serenity::UserId, r: &Reaction) {
    let ReactionType::Unicode(name) = &r.emoji else {
        return;
    };
    if !same_emoji(name, &app.config.reveal.emoji) {
        return;
    }
    let Some(user_id) = r.user_id else { return };
    let is_bot = user_id == bot_id || r.member.as_ref().is_some_and(|m| m.user.bot);
    if is_bot {
        return;
    }
    let Ok(Some(qm)) = app.store.question_message(r.message_id.get()) else {
        return; // not a question message of ours
    };
    let bank = app.bank();
    let Some(q) = bank.get(&qm.question_id).cloned() else {
        info!(question = %qm.question_id, "reaction on a question no longer in the bank");
        return;
    };
    let now = app.clock.now_ms();
    let result = match app.config.reveal.mode {
        RevealMode::Reply => {
            // One reply per message: claim first, so two reactions at once reveal once.
            match app.store.claim_reveal(qm.message_id, 0, now) {
                Ok(true) => {}
                _ => return,
            }
            reveal_reply(app, &qm, &q).await
        }
        RevealMode::Edit => {
            match app.store.claim_reveal(qm.message_id, 0, now) {
                Ok(true) => {}
                _ => return,
            }
            reveal_edit(app, &qm, &q).await
        }
        RevealMode::Dm => {
            match app.store.claim_reveal(qm.message_id, user_id.get(), now) {
                Ok(true) => {}
                _ => return,
            }
            reveal_dm(app, &qm, &q, user_id.get()).await
        }
    };
    let claimant = match app.config.reveal.mode {
        RevealMode::Dm => user_id.get(),
        _ => 0,
    };
    match result {
        Ok(reveal_id) => {
            let _ = app
                .store
                .set_reveal_message(qm.message_id, claimant, reveal_id);
        }
        Err(e) => {
            if e.is_dm_closed() {
                info!(
                    user = user_id.get(),
                    "cannot DM the answer: the member's DMs are closed"
                );
            } else {
                warn!(message = qm.message_id, "reveal failed: {e}");
            }
            // Give the claim back so a later reaction can try again.
            let _ = app.store.release_reveal(qm.message_id, claimant);
        }
    }
}

/// A nonce for a create that may be retried: Discord returns the first message for a
/// repeated nonce (with `enforce_nonce`), so a retry never duplicates. At most 25 chars.
pub fn nonce(kind: &str, a: u64, b: u64) -> String {
    // FNV-1a over both ids: stable across runs and builds, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.to_le_bytes().into_iter().chain(b.to_le_bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut s = format!("{kind}{h:016x}");
    s.truncate(25);
    s
}

async fn reveal_reply(
    app: &App,
    qm: &crate::store::QuestionMessage,
    q: &crate::bank::Question,
) -> Result<u64, DeliveryError> {
    let msg = serenity::CreateMessage::new()
        .embeds(render::answer_embeds(q))
        .reference_message(serenity::MessageReference::from((
            serenity::ChannelId::new(qm.channel_id),
            serenity::MessageId::new(qm.message_id),
        )))
        .allowed_mentions(render::no_mentions())
        .nonce(serenity::Nonce::String(nonce("r", qm.message_id, 0)))
        .enforce_nonce(true);
    let body = to_body(&msg);
    let sent: serenity::Message = app
        .deliver
        .send(
            Method::POST,
            &format!("/channels/{}/messages", qm.channel_id),
            Some(&body),
        )
        .await?;
    Ok(sent.id.get())
}

async fn reveal_edit(
    app: &App,
    qm: &crate::store::QuestionMessage,
    q: &crate::bank::Question,
) -> Result<u64, DeliveryError> {
    let path = format!("/channels/{}/messages/{}", qm.channel_id, qm.message_id);
    let current: serenity::Message = app.deliver.send(Method::GET, &path, None).await?;
    let used: usize = current.embeds.iter().map(render::embed_chars).sum();
    let answer = render::answer_embeds(q);
    let fits = used + render::answer_chars(q) <= crate::text::limits::EMBED_TOTAL
        && current.embeds.len() + answer.len() <= 10;
    if !fits {
        // Discord caps a message's embeds at 6000 characters: the answer goes where it fits,
        // a reply under the question.
        return reveal_reply(app, qm, q).await;
    }
    let mut embeds: Vec<Value> = current
        .embeds
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .filter(|v| !v.is_null())
        .collect();
    embeds.extend(answer.iter().map(to_body));
    let body = json!({
        "embeds": embeds,
        "allowed_mentions": to_body(&render::no_mentions()),
    });
    let edited: serenity::Message = app.deliver.send(Method::PATCH, &path, Some(&body)).await?;
    Ok(edited.id.get())
}

async fn reveal_dm(
    app: &App,
    qm: &crate::store::QuestionMessage,
    q: &crate::bank::Question,
    user_id: u64,
) -> Result<u64, DeliveryError> {
    let dm: serenity::PrivateChannel = app
        .deliver
        .send(
            Method::POST,
            "/users/@me/channels",
            Some(&json!({ "recipient_id": user_id.to_string() })),
        )
        .await?;
    let link = render::message_link(qm.guild_id, qm.channel_id, qm.message_id);
    let msg = serenity::CreateMessage::new()
        .embeds(render::dm_answer_embeds(q, &link))
        .allowed_mentions(render::no_mentions())
        .nonce(serenity::Nonce::String(nonce("d", qm.message_id, user_id)))
        .enforce_nonce(true);
    let sent: serenity::Message = app
        .deliver
        .send(
            Method::POST,
            &format!("/channels/{}/messages", dm.id),
            Some(&to_body(&msg)),
        )
        .await?;
    Ok(sent.id.get())
}

/// A serenity builder as a JSON body.
pub fn to_body<T: serde::Serialize>(builder: &T) -> Value {
    serde_json::to_value(builder).unwrap_or(Value::Null)
}

async fn on_click(
    ctx: &serenity::Context,
    app: &Arc<App>,
    click: &ComponentInteraction,
) -> Result<(), Error> {
    let id = click.data.custom_id.as_str();
    if let Some(question_id) = id.strip_prefix(render::REVEAL_PREFIX) {
        let bank = app.bank();
        let response = match bank.get(question_id) {
            Some(q) => CreateInteractionResponseMessage::new()
                .embeds(render::answer_embeds(q))
                .ephemeral(true)
                .allowed_mentions(render::no_mentions()),
            None => CreateInteractionResponseMessage::new()
                .content("That question is no longer in the bank, so its answer is gone too.")
                .ephemeral(true)
                .allowed_mentions(render::no_mentions()),
        };
        click
            .create_response(&ctx.http, CreateInteractionResponse::Message(response))
            .await?;
    } else if id.starts_with(quiz::BUTTON_PREFIX) {
        quiz::on_click(ctx, app, click).await?;
    } else {
        debug!(custom_id = id, "click on an unknown component");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_helpers() {
        assert!(same_emoji("💡", "💡\u{FE0F}"));
        assert!(!same_emoji("💡", "👍"));
        assert_eq!(encode_emoji("💡"), "%F0%9F%92%A1");
    }

    #[test]
    fn nonces_fit_discord_limit() {
        let n = nonce("r", u64::MAX, u64::MAX);
        assert!(n.len() <= 25);
        assert_ne!(nonce("r", 1, 0), nonce("d", 1, 0));
        assert_ne!(nonce("d", 1, 2), nonce("d", 1, 3));
    }
}
