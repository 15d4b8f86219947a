//! Personal practice on Discord: the member's next card, and the numbers of `/stats`.
//!
//! The parts live apart: [`buttons`] encodes the state a click needs into custom ids,
//! [`clicks`] answers the practice buttons, [`record`] turns what happens elsewhere (a quiz
//! answer, a revealed `/ask` or daily answer) into reviews. This file builds what several of
//! them show: the next card of a member's queue, and their stats.
//!
//! Cost: a card is two indexed reads (the server's daily zone, the member's cards) and one
//! interaction callback, the same as `/ask`.

pub mod buttons;
pub mod clicks;
pub mod record;

use std::collections::HashMap;

use jiff::tz::TimeZone;
use poise::serenity_prelude as serenity;
use serenity::{CreateActionRow, CreateEmbed};

use self::buttons::{Action, Button, FilterCode, Origin, REV_MOD};
use super::render::practice::{card_embed, card_rows, empty_queue_embed, queue_status};
use super::{App, Error};
use crate::bank::Filter;
use crate::practice::stats::{compute, Stats, StatsInput};
use crate::practice::{select, Activity, QueueInput};
use crate::store::StoreError;

/// The zone a server's days are counted in: its daily-post zone, else UTC (also in DMs).
pub async fn zone(app: &App, guild_id: Option<u64>) -> Result<TimeZone, StoreError> {
    let Some(g) = guild_id else {
        return Ok(TimeZone::UTC);
    };
    Ok(app
        .store
        .schedule(g)
        .await?
        .map_or(TimeZone::UTC, |s| zone_named(Some(&s.tz))))
}

/// A stored zone name as a zone; UTC for none, or for a name this build's time zone database
/// does not know (a schedule saved by a newer release).
fn zone_named(name: Option<&str>) -> TimeZone {
    name.and_then(|n| crate::daily::schedule::parse_zone(n).ok())
        .unwrap_or(TimeZone::UTC)
}

/// What a message shows: its embeds and button rows.
pub struct View {
    pub embeds: Vec<CreateEmbed>,
    pub components: Vec<CreateActionRow>,
}

/// The member's next card under `filter` (or the empty queue), as a message. `skip` passes
/// over the card shown before (Next without a grade).
pub async fn next_card(
    app: &App,
    owner: u64,
    filter: &Filter,
    guild_id: Option<u64>,
    skip: Option<&str>,
) -> Result<View, Error> {
    let bank = app.bank();
    let zone = zone(app, guild_id).await?;
    let cards = app.store.practice_cards(owner).await?;
    let new_per_day = app.config.practice.new_per_day;
    let queue = select(
        &bank,
        &cards,
        &QueueInput {
            user_id: owner,
            now: app.clock.now(),
            zone: &zone,
            new_per_day,
            filter,
            skip,
        },
    );
    let Some(pick) = &queue.next else {
        return Ok(View {
            embeds: vec![empty_queue_embed(&queue, filter, new_per_day)],
            components: Vec::new(),
        });
    };
    let q = pick.question();
    let button = Button {
        action: Action::Reveal,
        owner,
        rev: pick.reps() % REV_MOD,
        origin: Origin::Practice(FilterCode::of(filter)),
        question_id: q.id.clone(),
    };
    Ok(View {
        embeds: vec![card_embed(q, pick.is_new(), &queue_status(&queue))],
        components: card_rows(&button, false),
    })
}

/// A member's practice numbers, seen from `guild_id` ("today" in its zone), and the name of
/// that zone. Each logged event counts for the local day of the server it happened in.
pub async fn member_stats(
    app: &App,
    user_id: u64,
    guild_id: Option<u64>,
) -> Result<(Stats, TimeZone), Error> {
    let here = zone(app, guild_id).await?;
    let cards = app.store.practice_cards(user_id).await?;
    let rows = app.store.practice_activity(user_id).await?;
    let mut zones: HashMap<Option<String>, TimeZone> = HashMap::new();
    let activity: Vec<Activity> = rows
        .into_iter()
        .map(|r| {
            let zone = zones
                .entry(r.tz.clone())
                .or_insert_with(|| zone_named(r.tz.as_deref()))
                .clone();
            Activity {
                question_id: r.question_id,
                grade: r.grade,
                source: r.source,
                at: r.at,
                zone,
            }
        })
        .collect();
    let bank = app.bank();
    let stats = compute(&StatsInput {
        now: app.clock.now(),
        zone: &here,
        bank: &bank,
        cards: &cards,
        activity: &activity,
    });
    Ok((stats, here))
}
