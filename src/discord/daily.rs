//! The daily-post driver: one task for all guilds, sleeping until the earliest next post.
//!
//! When a post is due (see `crate::daily::schedule::plan`), it is sent exactly once per guild
//! and local date:
//!
//! 1. The intent is recorded first (`daily_posts`, unique per guild and date) with a nonce
//!    derived from guild and date, so every attempt for that date, before or after a crash,
//!    carries the same nonce, and `enforce_nonce` makes Discord return the first message
//!    instead of creating a second.
//! 2. When an earlier attempt's outcome is unknown (the bot died mid-send, or the nonce window
//!    of a few minutes has passed), the channel's recent messages are searched for the post's
//!    footer before sending again.
//! 3. After a success the message id is recorded; the date is settled. A missing channel or
//!    permission settles the date as failed (shown in `/daily show`, retried at the next post
//!    time); 5xx and 429 are retried by the delivery helper and then with a backoff while the
//!    day's lateness allows.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::json;
use tokio::sync::Notify;
use tracing::{error, info, warn};

use super::deliver::DeliveryError;
use super::events::{add_reveal_reaction, to_body};
use super::{render, App};
use crate::bank::{Filter, Question};
use crate::daily::schedule::{self, LocalTime, Plan, PlanInput};
use crate::store::{PostRow, QuestionMessage, ScheduleRow, Source};

/// The longest the scheduler sleeps without looking again, as a guard against wall-clock
/// jumps (suspend, NTP). Not polling: one wake-up an hour for all guilds.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// Handle to the scheduler task.
#[derive(Default)]
pub struct Scheduler {
    wake: Arc<Notify>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    state: Arc<Mutex<DriverState>>,
}

#[derive(Default)]
struct DriverState {
    /// Guilds with a post being sent right now.
    inflight: HashSet<u64>,
    /// Guilds whose last attempt failed transiently: (retry at, failures so far).
    retry: HashMap<u64, (Timestamp, u32)>,
}

impl Scheduler {
    /// Starts the task (once; later calls, e.g. after a gateway reconnect, do nothing).
    pub fn spawn(&self, app: Arc<App>, bot_id: serenity::UserId) {
        let mut task = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if task.is_some() {
            return;
        }
        let wake = self.wake.clone();
        let state = self.state.clone();
        *task = Some(tokio::spawn(run(app, wake, state, bot_id.get())));
    }

    /// Re-plans at once: a schedule was set, changed, paused, resumed or skipped.
    pub fn rearm(&self) {
        self.wake.notify_one();
    }

    pub fn stop(&self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
    }
}

/// A schedule row turned into typed values.
pub struct Parsed {
    pub tz: TimeZone,
    pub time: LocalTime,
    pub filter: Filter,
    pub skip_date: Option<Date>,
}

pub fn parse_row(row: &ScheduleRow) -> Result<Parsed, String> {
    let tz = schedule::parse_zone(&row.tz).map_err(|e| e.to_string())?;
    let time = LocalTime::parse(&row.time).map_err(|e| e.to_string())?;
    let filter = serde_json::from_str(&row.filter).unwrap_or_default();
    let skip_date = row.skip_date.as_deref().and_then(|d| d.parse().ok());
    Ok(Parsed {
        tz,
        time,
        filter,
        skip_date,
    })
}

/// The plan for one guild at `now`.
pub fn plan_for(app: &App, row: &ScheduleRow, p: &Parsed, now: Timestamp) -> Plan {
    let last_posted = app
        .store
        .last_posted_date(row.guild_id)
        .ok()
        .flatten()
        .and_then(|d| d.parse().ok());
    let input = PlanInput {
        now,
        tz: &p.tz,
        time: p.time,
        armed_from: Timestamp::from_millisecond(row.armed_from).unwrap_or(Timestamp::MIN),
        last_posted,
        skip_date: p.skip_date,
        max_late: SignedDuration::from_hours(i64::from(app.config.daily.max_late_hours)),
    };
    schedule::plan(&input)
}

async fn run(app: Arc<App>, wake: Arc<Notify>, state: Arc<Mutex<DriverState>>, bot_id: u64) {
    info!("daily scheduler started");
    loop {
        let now = app.clock.now();
        let mut next = now
            .checked_add(SignedDuration::try_from(MAX_SLEEP).unwrap_or(SignedDuration::MAX))
            .unwrap_or(now);
        let rows = match app.store.schedules() {
            Ok(r) => r,
            Err(e) => {
                error!("daily scheduler cannot read schedules: {e}");
                Vec::new()
            }
        };
        for row in rows.into_iter().filter(|r| !r.paused) {
            let parsed = match parse_row(&row) {
                Ok(p) => p,
                Err(e) => {
                    warn!(guild = row.guild_id, "bad stored schedule: {e}");
                    continue;
                }
            };
            match plan_for(&app, &row, &parsed, now) {
                Plan::WaitUntil { at, .. } => next = next.min(at),
                Plan::PostNow { date, late, .. } => {
                    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                    if st.inflight.contains(&row.guild_id) {
                        continue;
                    }
                    if let Some((at, _)) = st.retry.get(&row.guild_id) {
                        if *at > now {
                            next = next.min(*at);
                            continue;
                        }
                    }
                    st.inflight.insert(row.guild_id);
                    drop(st);
                    if late {
                        info!(guild = row.guild_id, %date, "posting the daily question late");
                    }
                    let (app, wake, state) = (app.clone(), wake.clone(), state.clone());
                    tokio::spawn(async move {
                        let result = post_scheduled(&app, &row, &parsed, date, bot_id).await;
                        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                        st.inflight.remove(&row.guild_id);
                        match result {
                            Ok(()) => {
                                st.retry.remove(&row.guild_id);
                            }
                            Err(e) => {
                                let failures = st.retry.get(&row.guild_id).map_or(0, |r| r.1) + 1;
                                let backoff = SignedDuration::from_secs(
                                    (30 * 2i64.pow(failures.min(6))).min(1800),
                                );
                                let at = app.clock.now().checked_add(backoff).unwrap_or(now);
                                warn!(
                                    guild = row.guild_id,
                                    failures, "daily post failed, retrying at {at}: {e}"
                                );
                                st.retry.insert(row.guild_id, (at, failures));
                            }
                        }
                        drop(st);
                        wake.notify_one();
                    });
                }
            }
        }
        let sleep = next
            .duration_since(app.clock.now())
            .max(SignedDuration::ZERO);
        let sleep = Duration::try_from(sleep)
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = wake.notified() => {}
        }
    }
}

/// The nonce of a guild's scheduled post for a date: the same for every attempt, across
/// restarts (≤ 25 chars, Discord's limit).
pub fn post_nonce(guild_id: u64, date: Date) -> String {
    let mut n = format!("q{}{guild_id:x}", date.strftime("%Y%m%d"));
    n.truncate(25);
    n
}

/// Sends (or finishes) the scheduled post of `date`. `Err` means a transient failure that
/// the scheduler should retry later; permanent failures are recorded and return `Ok`.
async fn post_scheduled(
    app: &App,
    row: &ScheduleRow,
    p: &Parsed,
    date: Date,
    bot_id: u64,
) -> Result<(), DeliveryError> {
    let date_str = date.to_string();
    let bank = app.bank();
    let existing = app.store.post(row.guild_id, &date_str).ok().flatten();
    let intent = match existing {
        Some(post) if post.state != "pending" => return Ok(()),
        Some(post) => post,
        None => {
            let Some(question) = draw(app, row.guild_id, &p.filter) else {
                let msg = format!(
                    "no question in the bank matches this schedule's filter ({})",
                    p.filter.describe()
                );
                warn!(guild = row.guild_id, "{msg}");
                let _ = app.store.set_schedule_error(row.guild_id, Some(&msg));
                return Ok(());
            };
            let number = app.store.next_post_number(row.guild_id).unwrap_or(1);
            let intent = PostRow {
                id: 0,
                guild_id: row.guild_id,
                local_date: date_str.clone(),
                number,
                question_id: question.id.clone(),
                channel_id: row.channel_id,
                nonce: post_nonce(row.guild_id, date),
                state: "pending".into(),
                message_id: None,
                thread_id: None,
                attempts: 0,
                error: None,
                created_at: app.clock.now_ms(),
                sent_at: None,
                kind: "scheduled".into(),
            };
            match app.store.begin_post(&intent) {
                Ok(row) => row,
                Err(e) => {
                    error!("cannot record the daily post intent: {e}");
                    return Err(DeliveryError {
                        what: "recording the post".into(),
                        status: None,
                        code: None,
                        message: e.to_string(),
                    });
                }
            }
        }
    };
    let Some(question) = bank.get(&intent.question_id).cloned().or_else(|| {
        // The drawn question left the bank before it went out: draw another.
        let q = draw(app, row.guild_id, &p.filter)?;
        let _ = app.store.set_post_question(intent.id, &q.id);
        Some(q)
    }) else {
        let _ = app
            .store
            .set_schedule_error(row.guild_id, Some("no question in the bank matches"));
        return Ok(());
    };

    // An earlier attempt may have reached Discord: look before sending again.
    let footer = render::daily_footer(intent.number, &intent.local_date);
    let mut sent = None;
    if intent.attempts > 0 {
        sent = find_existing(app, intent.channel_id, bot_id, &footer).await;
        if sent.is_some() {
            info!(
                guild = row.guild_id,
                "found the daily post of an earlier attempt"
            );
        }
    }
    let message_id = match sent {
        Some(id) => id,
        None => {
            let _ = app.store.post_attempt(intent.id);
            match send_post(app, row, &intent, &question).await {
                Ok(id) => id,
                Err(e) if e.is_permanent() => {
                    let msg = format!(
                        "{date_str}: could not post in <#{}>: {} — check that the channel exists \
                         and the bot can view it, send messages, embed links and add reactions",
                        intent.channel_id,
                        e.summary()
                    );
                    warn!(guild = row.guild_id, "{msg}");
                    let _ = app.store.mark_post_failed(intent.id, &e.summary());
                    let _ = app.store.set_schedule_error(row.guild_id, Some(&msg));
                    return Ok(());
                }
                Err(e) => {
                    let _ = app.store.note_post_error(intent.id, &e.summary());
                    let _ = app.store.set_schedule_error(
                        row.guild_id,
                        Some(&format!("{date_str}: {} (retrying)", e.summary())),
                    );
                    return Err(e);
                }
            }
        }
    };
    let now = app.clock.now_ms();
    let _ = app.store.mark_post_sent(intent.id, message_id, now);
    let _ = app.store.set_schedule_error(row.guild_id, None);
    let _ = app.store.record_question_message(
        &QuestionMessage {
            message_id,
            channel_id: intent.channel_id,
            guild_id: Some(row.guild_id),
            question_id: question.id.clone(),
        },
        Source::Daily,
        now,
    );
    info!(guild = row.guild_id, date = %date_str, number = intent.number, question = %question.id, "daily question posted");
    finish_post(
        app,
        row.guild_id,
        intent.channel_id,
        message_id,
        row.thread,
        Some(intent.id),
        &intent.local_date,
        &question,
    )
    .await;
    Ok(())
}

/// Adds the reveal reaction and opens the discussion thread; problems here do not undo the
/// post, they are logged and shown in `/daily show`.
#[allow(clippy::too_many_arguments)]
async fn finish_post(
    app: &App,
    guild_id: u64,
    channel_id: u64,
    message_id: u64,
    thread: bool,
    post_id: Option<i64>,
    local_date: &str,
    q: &Question,
) {
    if let Err(e) = add_reveal_reaction(app, channel_id, message_id).await {
        warn!(guild = guild_id, "could not add the reveal reaction: {e}");
    }
    if thread {
        let body = json!({
            "name": render::thread_name(local_date, q),
            "auto_archive_duration": 1440,
        });
        let res: Result<serenity::GuildChannel, _> = app
            .deliver
            .send(
                Method::POST,
                &format!("/channels/{channel_id}/messages/{message_id}/threads"),
                Some(&body),
            )
            .await;
        match res {
            Ok(t) => {
                if let Some(id) = post_id {
                    let _ = app.store.set_post_thread(id, t.id.get());
                }
            }
            Err(e) => {
                let msg = format!(
                    "{local_date}: posted, but could not open the discussion thread: {} — give \
                     the bot Create Public Threads, or turn threads off with /daily set",
                    e.summary()
                );
                warn!(guild = guild_id, "{msg}");
                let _ = app.store.set_schedule_error(guild_id, Some(&msg));
            }
        }
    }
}

fn draw(app: &App, guild_id: u64, filter: &Filter) -> Option<Question> {
    let bank = app.bank();
    let mut rng = StdRng::seed_from_u64(app.with_rng(|r| r.random()));
    app.store
        .update_bag(&format!("daily:{guild_id}"), |bag| {
            bag.draw(&bank, filter, &mut rng)
                .map(|d| d.question.clone())
        })
        .ok()
        .flatten()
}

/// The message of ours in `channel_id` whose first embed has `footer`, among the last 50.
async fn find_existing(app: &App, channel_id: u64, bot_id: u64, footer: &str) -> Option<u64> {
    let recent: Vec<serenity::Message> = app
        .deliver
        .send(
            Method::GET,
            &format!("/channels/{channel_id}/messages?limit=50"),
            None,
        )
        .await
        .ok()?;
    recent
        .into_iter()
        .find(|m| {
            m.author.id.get() == bot_id
                && m.embeds
                    .first()
                    .and_then(|e| e.footer.as_ref())
                    .is_some_and(|f| f.text == footer)
        })
        .map(|m| m.id.get())
}

/// The message body of a daily post, with the role ping when configured.
fn post_body(
    app: &App,
    guild_id: u64,
    role_id: Option<u64>,
    number: i64,
    local_date: &str,
    q: &Question,
    nonce: &str,
) -> serde_json::Value {
    let mut msg = serenity::CreateMessage::new()
        .embed(render::daily_embed(
            q,
            number,
            local_date,
            &app.config.reveal.emoji,
        ))
        .components(vec![render::reveal_row(&q.id)])
        .nonce(serenity::Nonce::String(nonce.to_string()))
        .enforce_nonce(true);
    msg = match role_id {
        // The @everyone role has the guild's id; pinging it was the admin's explicit choice.
        Some(r) if r == guild_id => msg
            .content("@everyone")
            .allowed_mentions(render::no_mentions().everyone(true)),
        Some(r) => msg
            .content(format!("<@&{r}>"))
            .allowed_mentions(render::only_role(r)),
        None => msg.allowed_mentions(render::no_mentions()),
    };
    to_body(&msg)
}

async fn send_post(
    app: &App,
    row: &ScheduleRow,
    intent: &PostRow,
    q: &Question,
) -> Result<u64, DeliveryError> {
    let body = post_body(
        app,
        row.guild_id,
        row.role_id,
        intent.number,
        &intent.local_date,
        q,
        &intent.nonce,
    );
    let m: serenity::Message = app
        .deliver
        .send(
            Method::POST,
            &format!("/channels/{}/messages", intent.channel_id),
            Some(&body),
        )
        .await?;
    Ok(m.id.get())
}

/// `/daily post`: one extra post now, numbered, not replacing the scheduled one.
pub async fn post_now(app: &App, row: &ScheduleRow) -> Result<(u64, i64), String> {
    let p = parse_row(row)?;
    let Some(q) = draw(app, row.guild_id, &p.filter) else {
        return Err(format!(
            "No question in the bank matches this schedule's filter ({}).",
            p.filter.describe()
        ));
    };
    let now = app.clock.now();
    let date = schedule::local_date(now, &p.tz).to_string();
    let number = app
        .store
        .next_post_number(row.guild_id)
        .map_err(|e| e.to_string())?;
    let nonce = format!("m{:x}{:x}", row.guild_id % (1 << 32), now.as_millisecond());
    let body = post_body(app, row.guild_id, row.role_id, number, &date, &q, &nonce);
    let m: serenity::Message = app
        .deliver
        .send(
            Method::POST,
            &format!("/channels/{}/messages", row.channel_id),
            Some(&body),
        )
        .await
        .map_err(|e| format!("Discord refused the post: {}", e.summary()))?;
    let id = m.id.get();
    let _ = app.store.record_manual_post(&PostRow {
        id: 0,
        guild_id: row.guild_id,
        local_date: date.clone(),
        number,
        question_id: q.id.clone(),
        channel_id: row.channel_id,
        nonce,
        state: "sent".into(),
        message_id: Some(id),
        thread_id: None,
        attempts: 1,
        error: None,
        created_at: now.as_millisecond(),
        sent_at: Some(now.as_millisecond()),
        kind: "manual".into(),
    });
    let _ = app.store.record_question_message(
        &QuestionMessage {
            message_id: id,
            channel_id: row.channel_id,
            guild_id: Some(row.guild_id),
            question_id: q.id.clone(),
        },
        Source::Daily,
        now.as_millisecond(),
    );
    finish_post(
        app,
        row.guild_id,
        row.channel_id,
        id,
        row.thread,
        None,
        &date,
        &q,
    )
    .await;
    Ok((id, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_nonce_is_stable_and_fits() {
        let d: Date = "2026-11-28".parse().unwrap();
        let n = post_nonce(1_576_264_034_611_757_059, d);
        assert!(n.len() <= 25, "{n}");
        assert_eq!(n, post_nonce(1_576_264_034_611_757_059, d));
        assert_ne!(
            n,
            post_nonce(1_576_264_034_611_757_059, d.tomorrow().unwrap())
        );
        assert_ne!(n, post_nonce(1_576_264_034_611_757_058, d));
    }
}
