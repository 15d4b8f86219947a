//! Practice reminders: one task for all members, sleeping until the earliest next reminder.
//! Reminders belong to members, not guilds: with the bot split across processes, only the
//! process that runs shard 0 sends them (see `crate::shards`), as Discord sends DMs there. A
//! member may change their reminder through another process, whose wake-up does not reach
//! this one, so a split bot's reminder task also looks again every [`SPLIT_RELOOK`].
//!
//! A member who opted in (`/practice remind:HH:MM timezone:…`) gets a DM at that local time
//! when they have cards waiting (due reviews, or new cards left today).await, at most once per
//! local date. It is the daily post's shape, per member instead of per guild:
//!
//! 1. The date is recorded first (`reminder_sends`, unique per member and local date): as
//!    `pending` with a nonce derived from member and date, or as `skipped` when nothing is
//!    due. Every attempt for the date, before or after a crash, carries the same nonce, and
//!    `enforce_nonce` makes Discord return the first message instead of creating a second.
//! 2. When an earlier attempt's outcome is unknown and Discord's nonce window may have
//!    passed, the DM channel is searched for the reminder of that date before sending again.
//! 3. The message id is recorded after the send.
//! 4. Closed DMs (Discord's code 50007) switch the member's reminders off, with one info log
//!    line: retrying cannot help, and the member can turn them on again. Another refusal for
//!    good settles the date. 5xx and 429 are retried by the delivery helper, then with a
//!    bounded backoff while the date's lateness allows (`daily.max_late_hours`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use poise::serenity_prelude as serenity;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use super::daily::snowflake_at;
use super::deliver::DeliveryError;
use super::driver::{horizon, sleep_until, Attempts, TaskSlot};
use super::errors::log_failure;
use super::tasks::spawn_guarded;
use super::{render, App, Error};
use crate::bank::Filter;
use crate::daily::schedule::{self, LocalTime, Plan, PlanInput};
use crate::practice::{select, QueueInput};
use crate::shards::Shards;
use crate::store::{ReminderRow, ReminderSend, ReminderState};

/// Pages of 100 DM messages searched for an earlier attempt's reminder. A DM with the bot
/// holds little besides reminders; two pages cover weeks of them.
const MAX_SCAN_PAGES: usize = 2;

/// Handle to the reminder task.
#[derive(Default)]
pub struct Scheduler {
    slot: TaskSlot,
    /// Members with a reminder being sent, and members waiting out a failure (pruned of
    /// members without reminders on every pass).
    attempts: Attempts,
}

impl Scheduler {
    /// Starts the task (once; later calls, e.g. after a gateway reconnect, do nothing).
    pub fn spawn(&self, app: Arc<App>, bot_id: serenity::UserId) {
        let attempts = self.attempts.clone();
        self.slot.spawn("practice reminders", move |wake| {
            run(app, wake, attempts, bot_id.get())
        });
    }

    /// Re-plans at once: a member turned reminders on, off, or changed them.
    pub fn rearm(&self) {
        self.slot.rearm();
    }

    pub fn stop(&self) {
        self.slot.stop();
    }
}

/// A reminder setting turned into typed values.
pub struct Parsed {
    pub tz: TimeZone,
    pub time: LocalTime,
}

pub fn parse_row(row: &ReminderRow) -> Result<Parsed, String> {
    Ok(Parsed {
        tz: schedule::parse_zone(&row.tz).map_err(|e| e.to_string())?,
        time: LocalTime::parse(&row.time).map_err(|e| e.to_string())?,
    })
}

/// When the member's next reminder can come, at `now`.
pub async fn plan_for(app: &App, row: &ReminderRow, p: &Parsed, now: Timestamp) -> Plan {
    let last = log_failure(
        app.store.last_reminder_date(row.user_id).await,
        "reading the last reminder date",
    )
    .flatten()
    .and_then(|d| d.parse().ok());
    schedule::plan(&PlanInput {
        now,
        tz: &p.tz,
        time: p.time,
        armed_from: Timestamp::from_millisecond(row.armed_from).unwrap_or(Timestamp::MIN),
        last_posted: last,
        skip_date: None,
        max_late: SignedDuration::from_hours(i64::from(app.config.daily.max_late_hours)),
    })
}

/// How often the reminder task of a bot split across processes looks again without being
/// woken: reminder times are whole minutes, so a change made through another process is
/// late by a minute at most.
pub const SPLIT_RELOOK: Duration = Duration::from_secs(60);

/// The latest the reminder task looks again after `now`, before any reminder's own time.
pub fn first_look(now: Timestamp, shards: Shards) -> Timestamp {
    let relook = now
        .checked_add(SignedDuration::from_secs(SPLIT_RELOOK.as_secs() as i64))
        .unwrap_or(now);
    if shards.is_whole() {
        horizon(now)
    } else {
        horizon(now).min(relook)
    }
}

async fn run(app: Arc<App>, wake: Arc<Notify>, attempts: Attempts, bot_id: u64) {
    info!("practice reminders started");
    loop {
        let now = app.clock.now();
        let mut next = first_look(now, app.shards());
        let rows = match app.store.reminders().await {
            Ok(r) => r,
            Err(e) => {
                error!("practice reminders cannot read the settings: {e}");
                Vec::new()
            }
        };
        let on: HashSet<u64> = rows.iter().map(|r| r.user_id).collect();
        attempts.retain(|u| on.contains(&u));
        for row in rows {
            let parsed = match parse_row(&row) {
                Ok(p) => p,
                Err(e) => {
                    warn!("bad stored reminder setting: {e}");
                    continue;
                }
            };
            match plan_for(&app, &row, &parsed, now).await {
                Plan::WaitUntil { at, .. } => next = next.min(at),
                Plan::PostNow { date, .. } => {
                    if let Some(at) = attempts.backoff_until(row.user_id, now) {
                        next = next.min(at);
                        continue;
                    }
                    let Some(guard) = attempts.take(row.user_id) else {
                        continue;
                    };
                    let (app, wake, attempts) = (app.clone(), wake.clone(), attempts.clone());
                    spawn_guarded("sending a practice reminder", async move {
                        let result = remind(&app, &row, &parsed, date, bot_id).await;
                        settle(&app, &attempts, row.user_id, result);
                        drop(guard);
                        wake.notify_one();
                    });
                }
            }
        }
        sleep_until(app.clock.now(), next, &wake).await;
    }
}

/// Records how a reminder attempt ended, with a log line for a failure (no member id: the
/// log of a reminder keeps nobody).
fn settle(app: &App, attempts: &Attempts, user_id: u64, result: Result<(), Error>) {
    let failed = result.as_ref().err().map(ToString::to_string);
    if let Some((at, failures)) = attempts.settle(user_id, failed.is_some(), app.clock.now()) {
        let e = failed.unwrap_or_default();
        warn!(failures, "practice reminder failed, retrying at {at}: {e}");
    }
}

/// The nonce of a member's reminder for a date: the same for every attempt, across
/// restarts (≤ 25 chars, Discord's limit).
pub fn reminder_nonce(user_id: u64, date: Date) -> String {
    let mut n = format!("r{}{user_id:x}", date.strftime("%Y%m%d"));
    n.truncate(25);
    n
}

/// The first line of a reminder: what finds it again in the DM after a crash.
fn heading(local_date: &str) -> String {
    format!("**Practice reminder · {local_date}**")
}

/// The reminder's text: how many cards wait and how to start.
pub fn reminder_text(local_date: &str, due: u32) -> String {
    let cards = if due == 1 { "card" } else { "cards" };
    format!(
        "{}\nYou have **{due}** practice {cards} waiting (reviews due and new questions).await. \
         Run `/practice` in a server with prepbot to start.\n\
         -# You asked for this reminder; `/practice remind:off` turns it off.",
        heading(local_date)
    )
}

/// Cards waiting for the member now: due reviews plus the new cards left today (in the
/// reminder's zone), over the whole bank.
async fn waiting(app: &App, user_id: u64, tz: &TimeZone) -> Result<u32, Error> {
    let bank = app.bank();
    let cards = app.store.practice_cards(user_id).await?;
    let filter = Filter::default();
    let queue = select(
        &bank,
        &cards,
        &QueueInput {
            user_id,
            now: app.clock.now(),
            zone: tz,
            new_per_day: app.config.practice.new_per_day,
            filter: &filter,
            skip: None,
        },
    );
    Ok(queue.due + queue.new_left)
}

/// Sends (or skips) the member's reminder of `date`. `Err` is a transient failure that the
/// task retries later; refusals for good are recorded and return `Ok`.
async fn remind(
    app: &App,
    row: &ReminderRow,
    p: &Parsed,
    date: Date,
    bot_id: u64,
) -> Result<(), Error> {
    let user_id = row.user_id;
    let date_str = date.to_string();
    let intent = match app.store.reminder_send(user_id, &date_str).await? {
        Some(s) if s.state != ReminderState::Pending => return Ok(()),
        Some(s) => s,
        None => {
            let due = waiting(app, user_id, &p.tz).await?;
            let intent = app
                .store
                .begin_reminder(&ReminderSend {
                    id: 0,
                    user_id,
                    local_date: date_str.clone(),
                    nonce: reminder_nonce(user_id, date),
                    state: if due == 0 {
                        ReminderState::Skipped
                    } else {
                        ReminderState::Pending
                    },
                    due,
                    channel_id: None,
                    message_id: None,
                    attempts: 0,
                    error: None,
                    created_at: app.clock.now_ms(),
                    sent_at: None,
                })
                .await?;
            if intent.state != ReminderState::Pending {
                return Ok(());
            }
            intent
        }
    };

    let channel_id = match app.deliver.create_dm(user_id).await {
        Ok(c) => c.id.get(),
        Err(e) => return refused(app, &intent, e).await,
    };
    // An earlier attempt may have reached Discord after the nonce window: look first.
    if intent.attempts > 0 {
        let found = find_existing(app, channel_id, bot_id, &intent).await?;
        if let Some(message_id) = found {
            info!("found the practice reminder of an earlier attempt");
            app.store
                .mark_reminder_sent(intent.id, message_id, app.clock.now_ms())
                .await?;
            return Ok(());
        }
    }
    app.store.reminder_attempt(intent.id, channel_id).await?;
    let msg = serenity::CreateMessage::new()
        .content(reminder_text(&intent.local_date, intent.due))
        .allowed_mentions(render::no_mentions())
        .nonce(serenity::Nonce::String(intent.nonce.clone()))
        .enforce_nonce(true);
    match app.deliver.create_message(channel_id, &msg).await {
        Ok(m) => {
            app.store
                .mark_reminder_sent(intent.id, m.id.get(), app.clock.now_ms())
                .await?;
            info!(date = %intent.local_date, due = intent.due, "practice reminder sent");
            Ok(())
        }
        Err(e) => refused(app, &intent, e).await,
    }
}

/// What a failed DM means: closed DMs switch the member's reminders off; another refusal
/// for good settles the date; anything else is retried.
async fn refused(app: &App, intent: &ReminderSend, e: DeliveryError) -> Result<(), Error> {
    if e.is_dm_closed() {
        app.store
            .mark_reminder_failed(intent.id, &e.summary())
            .await?;
        app.store.delete_reminder(intent.user_id).await?;
        info!("a member's DMs are closed: their practice reminders are switched off");
        return Ok(());
    }
    if e.is_permanent() {
        warn!(date = %intent.local_date, "Discord refused a practice reminder: {}", e.summary());
        app.store
            .mark_reminder_failed(intent.id, &e.summary())
            .await?;
        return Ok(());
    }
    app.store
        .note_reminder_error(intent.id, &e.summary())
        .await?;
    Err(e.into())
}

/// Our reminder of the intent's date in the DM channel, among the messages since the intent
/// was recorded (less a minute for clock skew).
async fn find_existing(
    app: &App,
    channel_id: u64,
    bot_id: u64,
    intent: &ReminderSend,
) -> Result<Option<u64>, DeliveryError> {
    let heading = heading(&intent.local_date);
    let mut after = snowflake_at(intent.created_at.saturating_sub(60_000));
    for _ in 0..MAX_SCAN_PAGES {
        let page = app.deliver.messages_after(channel_id, after, 100).await?;
        let found = page
            .iter()
            .find(|m| m.author.id.get() == bot_id && m.content.starts_with(&heading));
        if let Some(m) = found {
            return Ok(Some(m.id.get()));
        }
        match page.iter().map(|m| m.id.get()).max() {
            Some(last) if page.len() == 100 => after = last,
            _ => return Ok(None),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_stable_per_member_and_date_and_fits() {
        let d: Date = "2026-11-28".parse().unwrap();
        let u = 1_576_264_034_611_757_059;
        let n = reminder_nonce(u, d);
        assert!(n.len() <= 25, "{n}");
        assert_eq!(n, reminder_nonce(u, d));
        assert_ne!(n, reminder_nonce(u, d.tomorrow().unwrap()));
        assert_ne!(n, reminder_nonce(u + 1, d));
        // Never the daily post's nonce for the same id and date.
        assert_ne!(n, super::super::daily::post_nonce(u, d));
    }

    #[test]
    fn a_split_bot_looks_again_within_a_minute_a_whole_one_within_the_hour() {
        let now: Timestamp = "2026-03-10T08:00:00Z".parse().unwrap();
        let whole = Shards::all(2);
        assert_eq!(first_look(now, whole), horizon(now));
        let split = Shards::new(2, 0, 0).unwrap();
        assert_eq!(
            first_look(now, split),
            "2026-03-10T08:01:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn text_counts_cards_and_says_how_to_start() {
        let t = reminder_text("2026-03-10", 3);
        assert!(t.starts_with(&heading("2026-03-10")), "{t}");
        assert!(t.contains("**3** practice cards"), "{t}");
        assert!(t.contains("`/practice`"), "{t}");
        assert!(reminder_text("2026-03-10", 1).contains("practice card "));
    }
}
