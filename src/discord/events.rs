//! Gateway events that are not slash commands: reveal reactions, button clicks, and the
//! interactions serenity could not parse. Reveals also feed personal practice: the answer
//! shown by the button comes with grade buttons, and revealing the daily question counts for
//! the member's streak (`practice::record`).
//!
//! Every interaction gets an answer here, even one we cannot act on: a stale or unknown
//! button, or an interaction whose payload serenity rejected (it hands those over as
//! `Event::Unknown`, see [`RawInteractions`]), so Discord never shows "This interaction
//! failed".

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serde_json::{json, Value};
use serenity::{
    ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseMessage, FullEvent,
    Interaction, Reaction, ReactionType,
};
use tracing::{info, warn};

use super::custom_id::{self, CustomId};
use super::deliver::{body, DeliveryError};
use super::errors::log_failure;
use super::{practice, quiz, render, App, Data, Error};
use crate::config::RevealMode;

pub async fn handle(
    fw: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let app = fw.user_data.clone();
    let bot_id = fw.bot_id();
    match event {
        FullEvent::Ready { .. } | FullEvent::Resume { .. } => app.gateway.connected(),
        FullEvent::ReactionAdd { add_reaction } => {
            on_reaction(&app, bot_id, add_reaction).await;
        }
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(click),
        } => {
            let since = std::time::Instant::now();
            let result = on_click(fw.serenity_context, &app, click).await;
            let outcome = if result.is_ok() { "ok" } else { "error" };
            crate::metrics::interaction(
                button_kind(&click.data.custom_id),
                outcome,
                Some(since.elapsed()),
            );
            result?;
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

/// Whether a reaction is the configured reveal emoji: a Unicode emoji, or a custom one
/// written `<:name:id>` (matched by id, as names can change).
pub fn is_reveal_emoji(configured: &str, emoji: &ReactionType) -> bool {
    match (crate::config::custom_emoji_id(configured), emoji) {
        (Some(id), ReactionType::Custom { id: got, .. }) => got.get() == id,
        (None, ReactionType::Unicode(name)) => same_emoji(name, configured),
        _ => false,
    }
}

/// The emoji as a reactions route wants it: the character itself, or `name:id`.
pub fn reaction_route_emoji(configured: &str) -> String {
    let t = configured.trim();
    match crate::config::custom_emoji_id(t) {
        Some(_) => t
            .trim_start_matches("<a:")
            .trim_start_matches("<:")
            .trim_end_matches('>')
            .to_string(),
        None => t.to_string(),
    }
}

/// Adds the reveal emoji under a question message, so members see what to react with.
pub async fn add_reveal_reaction(
    app: &App,
    channel_id: u64,
    message_id: u64,
) -> Result<(), DeliveryError> {
    app.deliver
        .react(
            channel_id,
            message_id,
            &reaction_route_emoji(&app.config.reveal.emoji),
        )
        .await
}

/// A taken reveal claim, given back when dropped unless the reveal went out. Dropping also
/// happens when the task panics or is cancelled, so a claim is never left stuck.
struct Claim<'a> {
    app: &'a App,
    message_id: u64,
    user_id: u64,
    keep: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.keep {
            log_failure(
                self.app
                    .store
                    .release_reveal_detached(self.message_id, self.user_id),
                "giving back a reveal claim",
            );
        }
    }
}

async fn on_reaction(app: &Arc<App>, bot_id: serenity::UserId, r: &Reaction) {
    if !is_reveal_emoji(&app.config.reveal.emoji, &r.emoji) {
        return;
    }
    let Some(user_id) = r.user_id else { return };
    let is_bot = user_id == bot_id || r.member.as_ref().is_some_and(|m| m.user.bot);
    if is_bot {
        return;
    }
    let qm = match app.store.question_message(r.message_id.get()).await {
        Ok(Some(qm)) => qm,
        Ok(None) => return, // not a question message of ours
        Err(e) => {
            warn!(message = r.message_id.get(), "cannot reveal: {e}");
            return;
        }
    };
    // A reaction arrives with its own channel: a stored message in another channel is not
    // this one (ids are global, so this only guards against a corrupt or foreign row).
    if qm.channel_id != r.channel_id.get() {
        warn!(
            message = qm.message_id,
            "reaction channel differs from the stored question message"
        );
        return;
    }
    let bank = app.bank();
    let Some(q) = bank.get(&qm.question_id).cloned() else {
        info!(question = %qm.question_id, "reaction on a question no longer in the bank");
        return;
    };
    // Revealing the daily question counts for the member's streak, whether or not this
    // reaction is the one that shows the answer.
    practice::record::reaction_reveal(app, user_id.get(), &qm).await;
    let now = app.clock.now_ms();
    // One reveal per message (reply, edit) or per member (dm): claim first, so two
    // reactions at once reveal once.
    let claimant = match app.config.reveal.mode {
        RevealMode::Dm => user_id.get(),
        RevealMode::Reply | RevealMode::Edit => 0,
    };
    match app.store.claim_reveal(qm.message_id, claimant, now).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            warn!(message = qm.message_id, "cannot claim a reveal: {e}");
            return;
        }
    }
    let mut claim = Claim {
        app,
        message_id: qm.message_id,
        user_id: claimant,
        keep: false,
    };
    let result = match app.config.reveal.mode {
        RevealMode::Reply => reveal_reply(app, &qm, &q).await,
        RevealMode::Edit => reveal_edit(app, &qm, &q).await,
        RevealMode::Dm => reveal_dm(app, &qm, &q, user_id.get()).await,
    };
    match result {
        Ok(reveal_id) => {
            claim.keep = true;
            log_failure(
                app.store
                    .set_reveal_message(qm.message_id, claimant, reveal_id)
                    .await,
                "recording a reveal message",
            );
        }
        Err(e) if e.is_dm_closed() => {
            info!(
                user = user_id.get(),
                "cannot DM the answer: the member's DMs are closed"
            );
        }
        // The claim is given back on drop, so a later reaction can try again.
        Err(e) => warn!(message = qm.message_id, "reveal failed: {e}"),
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
    let sent = app.deliver.create_message(qm.channel_id, &msg).await?;
    Ok(sent.id.get())
}

async fn reveal_edit(
    app: &App,
    qm: &crate::store::QuestionMessage,
    q: &crate::bank::Question,
) -> Result<u64, DeliveryError> {
    let current = app
        .deliver
        .get_message(qm.channel_id, qm.message_id)
        .await?;
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
        .map(body)
        .filter(|v| !v.is_null())
        .collect();
    embeds.extend(answer.iter().map(body));
    let edit = json!({
        "embeds": embeds,
        "allowed_mentions": body(&render::no_mentions()),
    });
    let edited = app
        .deliver
        .edit_message(qm.channel_id, qm.message_id, &edit)
        .await?;
    Ok(edited.id.get())
}

async fn reveal_dm(
    app: &App,
    qm: &crate::store::QuestionMessage,
    q: &crate::bank::Question,
    user_id: u64,
) -> Result<u64, DeliveryError> {
    let dm = app.deliver.create_dm(user_id).await?;
    let link = render::message_link(qm.guild_id, qm.channel_id, qm.message_id);
    let msg = serenity::CreateMessage::new()
        .embeds(render::dm_answer_embeds(q, &link))
        .allowed_mentions(render::no_mentions())
        .nonce(serenity::Nonce::String(nonce("d", qm.message_id, user_id)))
        .enforce_nonce(true);
    let sent = app.deliver.create_message(dm.id.get(), &msg).await?;
    Ok(sent.id.get())
}

/// An ephemeral text answer to an interaction that pings nobody.
pub fn ephemeral(text: impl Into<String>) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(render::no_mentions()),
    )
}

/// A click's "command" label for metrics: the kind of button, never the custom id itself (a
/// forged id must not make a new time series).
fn button_kind(custom_id: &str) -> &'static str {
    match custom_id::parse(custom_id) {
        Some(CustomId::Reveal(_)) => "button:reveal",
        Some(CustomId::Quiz { .. }) => "button:quiz",
        Some(CustomId::Forget { .. }) => "button:forget",
        Some(CustomId::Practice(_)) => "button:practice",
        None => "button:unknown",
    }
}

async fn on_click(
    ctx: &serenity::Context,
    app: &Arc<App>,
    click: &ComponentInteraction,
) -> Result<(), Error> {
    let id = click.data.custom_id.as_str();
    match custom_id::parse(id) {
        Some(CustomId::Reveal(question_id)) => {
            let bank = app.bank();
            let response = match bank.get(&question_id) {
                Some(q) => {
                    let mut answer = CreateInteractionResponseMessage::new()
                        .embeds(render::answer_embeds(q))
                        .ephemeral(true)
                        .allowed_mentions(render::no_mentions());
                    // The clicker can grade their recall: it feeds their practice schedule. A
                    // store failure costs the buttons, not the answer.
                    let grades = practice::record::reveal_grades(
                        app,
                        click.user.id.get(),
                        click.guild_id.map(|g| g.get()),
                        click.message.id.get(),
                        &q.id,
                    )
                    .await;
                    if let Some(row) = log_failure(grades, "preparing grade buttons for a reveal") {
                        answer = answer.components(vec![row]);
                    }
                    CreateInteractionResponse::Message(answer)
                }
                None => {
                    ephemeral("That question is no longer in the bank, so its answer is gone too.")
                }
            };
            click.create_response(&ctx.http, response).await?;
        }
        Some(CustomId::Quiz {
            round,
            index,
            choice,
        }) => quiz::on_click(ctx, app, click, (round, index, choice)).await?,
        Some(CustomId::Forget { user, confirmed }) => {
            super::commands::privacy::on_click(ctx, app, click, (user, confirmed)).await?;
        }
        Some(CustomId::Practice(b)) => practice::clicks::on_click(ctx, app, click, b).await?,
        None => {
            // A button of an older version of the bot, or a forged custom id: answer anyway.
            info!(custom_id = %crate::text::truncate(id, 100), "click on an unknown component");
            click
                .create_response(
                    &ctx.http,
                    ephemeral("This button is no longer in use. Try the command again."),
                )
                .await?;
        }
    }
    Ok(())
}

/// Interactions whose payload serenity could not parse (an option with a null value, an
/// unknown option type) reach no handler: serenity turns them into `Event::Unknown`. This
/// raw handler answers them, so the member learns what was wrong instead of seeing
/// "This interaction failed".
pub struct RawInteractions {
    pub app: Arc<App>,
}

#[serenity::async_trait]
impl serenity::RawEventHandler for RawInteractions {
    async fn raw_event(&self, _ctx: serenity::Context, event: serenity::Event) {
        let serenity::Event::Unknown(unknown) = event else {
            return;
        };
        if unknown.kind != "INTERACTION_CREATE" {
            return;
        }
        answer_unparsed(&self.app, &unknown.value).await;
    }
}

/// What was wrong with an interaction serenity rejected, in words for the member.
pub fn explain_unparsed(value: &Value) -> String {
    fn find_null(options: &Value) -> Option<String> {
        for o in options.as_array().into_iter().flatten() {
            let name = o["name"].as_str().unwrap_or("?");
            let nested = o.get("options").is_some_and(|n| n.is_array());
            if nested {
                if let Some(n) = find_null(&o["options"]) {
                    return Some(n);
                }
            } else if o.get("value").is_none_or(Value::is_null) {
                return Some(name.to_string());
            }
        }
        None
    }
    match find_null(&value["data"]["options"]) {
        Some(name) => format!(
            "The option `{}` arrived without a value. Fill it in (or leave it out) and try again.",
            crate::text::truncate(&name, 32)
        ),
        None => "Discord sent this command in a form the bot cannot read. Try again; if it \
                 keeps happening, tell a server admin."
            .to_string(),
    }
}

async fn answer_unparsed(app: &App, value: &Value) {
    let id = value["id"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .or_else(|| value["id"].as_u64());
    let (Some(id), Some(token)) = (id, value["token"].as_str()) else {
        warn!("an interaction serenity could not parse has no id or token; cannot answer it");
        return;
    };
    let kind = value["type"].as_u64().unwrap_or(0);
    let response = if kind == 4 {
        // Autocomplete: the only valid answer is a (here empty) list of choices.
        CreateInteractionResponse::Autocomplete(serenity::CreateAutocompleteResponse::new())
    } else {
        ephemeral(explain_unparsed(value))
    };
    warn!(
        interaction = id,
        "answered an interaction serenity could not parse"
    );
    log_failure(
        app.deliver
            .interaction_callback::<serde::de::IgnoredAny>(id, token, &response)
            .await,
        "answering an unparsed interaction",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_helpers() {
        assert!(same_emoji("💡", "💡\u{FE0F}"));
        assert!(!same_emoji("💡", "👍"));
        let bulb = ReactionType::Unicode("💡".into());
        assert!(is_reveal_emoji("💡", &bulb));
        assert!(!is_reveal_emoji("<:idea:123>", &bulb));
        let custom = ReactionType::Custom {
            animated: false,
            id: serenity::EmojiId::new(123),
            name: Some("renamed".into()),
        };
        assert!(is_reveal_emoji("<:idea:123>", &custom));
        assert!(!is_reveal_emoji("<:idea:124>", &custom));
        assert_eq!(reaction_route_emoji("<:idea:123>"), "idea:123");
        assert_eq!(reaction_route_emoji("💡"), "💡");
    }

    #[test]
    fn unparsed_interactions_are_explained() {
        let v = json!({"data": {"options": [{"name": "start", "type": 1, "options": [
            {"name": "questions", "type": 4, "value": null}]}]}});
        assert!(
            explain_unparsed(&v).contains("`questions`"),
            "{}",
            explain_unparsed(&v)
        );
        let other = json!({"data": {"options": [{"name": "x", "type": 99, "value": 1}]}});
        assert!(explain_unparsed(&other).contains("cannot read"));
    }

    #[test]
    fn nonces_fit_discord_limit() {
        let n = nonce("r", u64::MAX, u64::MAX);
        assert!(n.len() <= 25);
        assert_ne!(nonce("r", 1, 0), nonce("d", 1, 0));
        assert_ne!(nonce("d", 1, 2), nonce("d", 1, 3));
    }
}
