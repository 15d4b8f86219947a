//! The daily-post driver: one task for all guilds of this process's shards (see
//! `crate::shards`), sleeping until the earliest next post.
//!
//! When a post is due (see `crate::daily::schedule::plan`), it is sent exactly once per guild
//! and local date, and finished:
//!
//! 1. The intent is recorded first (`daily_posts`, unique per guild and date) with a nonce
//!    derived from guild and date, so every attempt for that date, before or after a crash,
//!    carries the same nonce, and `enforce_nonce` makes Discord return the first message
//!    instead of creating a second.
//! 2. When an earlier attempt's outcome is unknown (the bot died mid-send, and the nonce
//!    window of a few minutes may have passed), the channel is searched for the post's footer
//!    before sending again: every message since the intent was recorded, paged forward with
//!    `after=` from a snowflake made of the intent's time, up to [`MAX_SCAN_PAGES`] pages.
//! 3. After a success the message id is recorded and the post's finishing steps become
//!    pending in the store: the reveal reaction, the discussion thread and its opening message
//!    (the follow-up questions). Each step is recorded when done, so a post cut by a kill is
//!    finished after the restart, and each is idempotent (a reaction is a PUT; Discord refuses
//!    a second thread on a message; the opening message carries a nonce). A step Discord
//!    refuses for good settles the post as `failed`, shown in `/daily show`.
//! 4. A missing channel or permission settles the date as failed (retried at the next post
//!    time, not in a loop); 5xx and 429 are retried by the delivery helper and then with a
//!    backoff while the day's lateness allows.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use super::deliver::DeliveryError;
use super::driver::{horizon, sleep_until, Attempts, TaskSlot};
use super::errors::log_failure;
use super::events::add_reveal_reaction;
use super::tasks::spawn_guarded;
use super::{render, App, Error};
use crate::bank::{Filter, Question};
use crate::daily::schedule::{self, LocalTime, Plan, PlanInput};
use crate::store::{
    FinishState, PostKind, PostRow, PostState, QuestionMessage, ScheduleRow, Source,
};

/// How many pages of 100 messages the search for an earlier attempt's post reads at most:
/// 2000 messages posted between the intent and the restart. A busier channel than that is
/// not worth a longer startup; the nonce still protects retries within Discord's window.
pub const MAX_SCAN_PAGES: usize = 20;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds, for making snowflakes.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;

/// Handle to the scheduler task.
#[derive(Default)]
pub struct Scheduler {
    slot: TaskSlot,
    attempts: Attempts,
}

impl Scheduler {
    /// Starts the task (once; later calls, e.g. after a gateway reconnect, do nothing).
    pub fn spawn(&self, app: Arc<App>, bot_id: serenity::UserId) {
        let attempts = self.attempts.clone();
        self.slot.spawn("daily scheduler", move |wake| {
            run(app, wake, attempts, bot_id.get())
        });
    }

    /// Re-plans at once: a schedule was set, changed, paused, resumed or skipped.
    pub fn rearm(&self) {
        self.slot.rearm();
    }

    pub fn stop(&self) {
        self.slot.stop();
    }

    /// Waits up to `within` for the posts being sent or finished to end (shutdown: a post on
    /// its way gets to record its message id), and returns how many are still going.
    pub async fn drain(&self, within: Duration) -> usize {
        self.attempts.drain(within).await
    }

    /// How many guilds have a transient failure waiting for a retry (for tests of retention).
    pub fn pending_retries(&self) -> usize {
        self.attempts.pending_retries()
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
pub async fn plan_for(app: &App, row: &ScheduleRow, p: &Parsed, now: Timestamp) -> Plan {
    let last_posted = log_failure(
        app.store.last_posted_date(row.guild_id).await,
        "reading the last posted date",
    )
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

async fn run(app: Arc<App>, wake: Arc<Notify>, attempts: Attempts, bot_id: u64) {
    info!("daily scheduler started");
    // Why this pass runs; with the pass's work, one debug line each (`benches/daily_scale.rs`
    // counts the passes that found nothing to do).
    let mut woke = "start";
    loop {
        let mut started = 0usize;
        let now = app.clock.now();
        let mut next = horizon(now);
        let rows = match app.store.schedules().await {
            Ok(r) => r,
            Err(e) => {
                error!("daily scheduler cannot read schedules: {e}");
                Vec::new()
            }
        };
        // Only the guilds of this process's shards; other processes post for theirs.
        let rows: Vec<ScheduleRow> = rows
            .into_iter()
            .filter(|r| app.owns_guild(r.guild_id))
            .collect();
        let scheduled: HashSet<u64> = rows.iter().map(|r| r.guild_id).collect();
        attempts.retain(|g| scheduled.contains(&g));
        // Posts a kill or a transient error left unfinished (no reaction or thread yet).
        let unfinished = log_failure(
            app.store.unfinished_posts().await,
            "listing unfinished posts",
        )
        .unwrap_or_default();
        for post in unfinished
            .into_iter()
            .filter(|p| app.owns_guild(p.guild_id))
        {
            if let Some(at) = attempts.backoff_until(post.guild_id, now) {
                next = next.min(at);
                continue;
            }
            let Some(guard) = attempts.take(post.guild_id) else {
                continue;
            };
            started += 1;
            let (app, wake, attempts) = (app.clone(), wake.clone(), attempts.clone());
            spawn_guarded("finishing a daily post", async move {
                let guild_id = post.guild_id;
                let result = finish_post(&app, &post).await;
                settle(&app, &attempts, guild_id, result);
                drop(guard);
                wake.notify_one();
            });
        }
        for row in rows.into_iter().filter(|r| !r.paused) {
            let parsed = match parse_row(&row) {
                Ok(p) => p,
                Err(e) => {
                    warn!(guild = row.guild_id, "bad stored schedule: {e}");
                    continue;
                }
            };
            match plan_for(&app, &row, &parsed, now).await {
                Plan::WaitUntil { at, .. } => next = next.min(at),
                Plan::PostNow {
                    date,
                    late,
                    scheduled,
                } => {
                    if let Some(at) = attempts.backoff_until(row.guild_id, now) {
                        next = next.min(at);
                        continue;
                    }
                    let Some(guard) = attempts.take(row.guild_id) else {
                        continue;
                    };
                    let lag = now.duration_since(scheduled).max(SignedDuration::ZERO);
                    crate::metrics::daily_lag(Duration::try_from(lag).unwrap_or_default());
                    if late {
                        info!(guild = row.guild_id, %date, "posting the daily question late");
                    }
                    started += 1;
                    let (app, wake, attempts) = (app.clone(), wake.clone(), attempts.clone());
                    spawn_guarded("posting the daily question", async move {
                        let result = post_scheduled(&app, &row, &parsed, date, bot_id).await;
                        settle(&app, &attempts, row.guild_id, result);
                        drop(guard);
                        wake.notify_one();
                    });
                }
            }
        }
        debug!(woke, schedules = scheduled.len(), started, %next, "daily scheduler pass");
        woke = sleep_until(app.clock.now(), next, &wake).await.as_str();
    }
}

/// Records how a post or finishing task ended, with a log line for a failure.
fn settle(app: &App, attempts: &Attempts, guild_id: u64, result: Result<(), Error>) {
    let failed = result.as_ref().err().map(ToString::to_string);
    if let Some((at, failures)) = attempts.settle(guild_id, failed.is_some(), app.clock.now()) {
        let e = failed.unwrap_or_default();
        warn!(
            guild = guild_id,
            failures, "daily post failed, retrying at {at}: {e}"
        );
    }
}

/// The nonce of a guild's scheduled post for a date: the same for every attempt, across
/// restarts (≤ 25 chars, Discord's limit).
pub fn post_nonce(guild_id: u64, date: Date) -> String {
    let mut n = format!("q{}{guild_id:x}", date.strftime("%Y%m%d"));
    n.truncate(25);
    n
}

/// Sends the scheduled post of `date` and finishes it. `Err` is a transient failure (Discord
/// or the database) that the scheduler retries later; permanent failures are recorded and
/// return `Ok`.
async fn post_scheduled(
    app: &App,
    row: &ScheduleRow,
    p: &Parsed,
    date: Date,
    bot_id: u64,
) -> Result<(), Error> {
    let date_str = date.to_string();
    let bank = app.bank();
    let intent = match app.store.post(row.guild_id, &date_str).await? {
        Some(post) if post.state != PostState::Pending => return Ok(()),
        Some(post) => post,
        None => {
            let Some(question) = draw(app, row.guild_id, &p.filter).await? else {
                let msg = format!(
                    "no question in the bank matches this schedule's filter ({})",
                    p.filter.describe()
                );
                warn!(guild = row.guild_id, "{msg}");
                app.store
                    .set_schedule_error(row.guild_id, Some(&msg))
                    .await?;
                crate::metrics::daily_post("no_question");
                return Ok(());
            };
            let number = app.store.next_post_number(row.guild_id).await?;
            let intent = PostRow {
                id: 0,
                guild_id: row.guild_id,
                local_date: date_str.clone(),
                number,
                question_id: question.id.clone(),
                channel_id: row.channel_id,
                nonce: post_nonce(row.guild_id, date),
                state: PostState::Pending,
                message_id: None,
                thread_id: None,
                attempts: 0,
                error: None,
                created_at: app.clock.now_ms(),
                sent_at: None,
                kind: PostKind::Scheduled,
                thread_wanted: row.thread,
                reaction_done: false,
                opening_done: false,
                finish: FinishState::Pending,
                finish_error: None,
            };
            app.store.begin_post(&intent).await?
        }
    };
    let question = match bank.get(&intent.question_id).cloned() {
        Some(q) => q,
        // The drawn question left the bank before it went out: draw another.
        None => match draw(app, row.guild_id, &p.filter).await? {
            Some(q) => {
                app.store.set_post_question(intent.id, &q.id).await?;
                q
            }
            None => {
                app.store
                    .set_schedule_error(row.guild_id, Some("no question in the bank matches"))
                    .await?;
                crate::metrics::daily_post("no_question");
                return Ok(());
            }
        },
    };

    // An earlier attempt may have reached Discord: look before sending again.
    let footer = render::daily_footer(intent.number, &intent.local_date);
    let mut sent = None;
    if intent.attempts > 0 {
        sent = find_existing(app, intent.channel_id, bot_id, &footer, intent.created_at).await?;
        if sent.is_some() {
            info!(
                guild = row.guild_id,
                "found the daily post of an earlier attempt"
            );
            crate::metrics::daily_post("found");
        }
    }
    let message_id = match sent {
        Some(id) => id,
        None => {
            app.store.post_attempt(intent.id).await?;
            match send_post(app, row, &intent, &question).await {
                Ok(id) => {
                    crate::metrics::daily_post("sent");
                    id
                }
                Err(e) if e.is_permanent() => {
                    crate::metrics::daily_post("failed");
                    let msg = format!(
                        "{date_str}: could not post in <#{}>: {} — check that the channel exists \
                         and the bot can view it, send messages, embed links and add reactions",
                        intent.channel_id,
                        e.summary()
                    );
                    warn!(guild = row.guild_id, "{msg}");
                    app.store.mark_post_failed(intent.id, &e.summary()).await?;
                    app.store
                        .set_schedule_error(row.guild_id, Some(&msg))
                        .await?;
                    return Ok(());
                }
                Err(e) => {
                    crate::metrics::daily_post("retry");
                    app.store.note_post_error(intent.id, &e.summary()).await?;
                    app.store
                        .set_schedule_error(
                            row.guild_id,
                            Some(&format!("{date_str}: {} (retrying)", e.summary())),
                        )
                        .await?;
                    return Err(e.into());
                }
            }
        }
    };
    let now = app.clock.now_ms();
    app.store
        .mark_post_sent(intent.id, message_id, now, row.thread)
        .await?;
    app.store.set_schedule_error(row.guild_id, None).await?;
    app.store
        .record_question_message(
            &QuestionMessage {
                message_id,
                channel_id: intent.channel_id,
                guild_id: Some(row.guild_id),
                question_id: question.id.clone(),
            },
            Source::Daily,
            now,
        )
        .await?;
    info!(guild = row.guild_id, date = %date_str, number = intent.number, question = %question.id, "daily question posted");
    let sent = PostRow {
        state: PostState::Sent,
        message_id: Some(message_id),
        thread_wanted: row.thread,
        reaction_done: false,
        opening_done: false,
        finish: FinishState::Pending,
        question_id: question.id.clone(),
        ..intent
    };
    finish_post(app, &sent).await
}

/// Discord's "a thread has already been created for this message".
const THREAD_ALREADY_CREATED: i64 = 160004;

/// A finishing step failed: transient errors go back to the caller (retried later); a refusal
/// for good settles the post's finishing steps as failed, with the reason for `/daily show`.
async fn step_failed(app: &App, post: &PostRow, what: &str, e: DeliveryError) -> Result<(), Error> {
    if !e.is_permanent() {
        return Err(e.into());
    }
    let msg = match what {
        "thread" => format!(
            "{}: posted, but could not open the discussion thread: {} — give the bot \
             Create Public Threads, or turn threads off with /daily set",
            post.local_date,
            e.summary()
        ),
        _ => format!(
            "{}: posted, but could not finish it ({what}): {} — check the bot's \
             permissions in <#{}>",
            post.local_date,
            e.summary(),
            post.channel_id
        ),
    };
    warn!(guild = post.guild_id, "{msg}");
    app.store
        .set_post_finish(post.id, FinishState::Failed, Some(&e.summary()))
        .await?;
    app.store
        .set_schedule_error(post.guild_id, Some(&msg))
        .await?;
    Ok(())
}

/// Runs the finishing steps of a sent post that are not done yet, recording each: the reveal
/// reaction, the thread, the thread's opening message. `Err` is transient (retried later);
/// a step Discord refuses for good settles the post as failed, with the reason in
/// `/daily show`.
pub async fn finish_post(app: &App, post: &PostRow) -> Result<(), Error> {
    let Some(message_id) = post.message_id else {
        return Ok(());
    };
    if !post.reaction_done {
        match add_reveal_reaction(app, post.channel_id, message_id).await {
            Ok(()) => app.store.mark_post_reaction_done(post.id).await?,
            Err(e) => return step_failed(app, post, "reveal reaction", e).await,
        }
    }
    if post.thread_wanted {
        let thread_id = match post.thread_id {
            Some(t) => t,
            None => {
                let q = app.bank().get(&post.question_id).cloned();
                let name = match &q {
                    Some(q) => render::thread_name(&post.local_date, q),
                    None => format!("{} · discussion", post.local_date),
                };
                let made = app
                    .deliver
                    .start_thread(post.channel_id, message_id, &name, 1440)
                    .await;
                let id = match made {
                    Ok(t) => t.id.get(),
                    // An earlier attempt made it; a thread started from a message has the
                    // message's id.
                    Err(e) if e.code == Some(THREAD_ALREADY_CREATED) => message_id,
                    Err(e) => return step_failed(app, post, "thread", e).await,
                };
                app.store.set_post_thread(post.id, id).await?;
                id
            }
        };
        if !post.opening_done {
            let opening = app
                .bank()
                .get(&post.question_id)
                .and_then(render::thread_opening);
            if let Some(text) = opening {
                let msg = serenity::CreateMessage::new()
                    .content(text)
                    .allowed_mentions(render::no_mentions())
                    .nonce(serenity::Nonce::String(super::events::nonce(
                        "o",
                        post.id as u64,
                        message_id,
                    )))
                    .enforce_nonce(true);
                if let Err(e) = app.deliver.create_message(thread_id, &msg).await {
                    return step_failed(app, post, "thread opening", e).await;
                }
            }
            app.store.mark_post_opening_done(post.id).await?;
        }
    }
    app.store
        .set_post_finish(post.id, FinishState::Done, None)
        .await?;
    Ok(())
}

async fn draw(app: &App, guild_id: u64, filter: &Filter) -> Result<Option<Question>, Error> {
    let bank = app.bank();
    let mut rng = StdRng::seed_from_u64(app.with_rng(|r| r.random()));
    let drawn = app
        .store
        .update_bag_at(&format!("daily:{guild_id}"), app.clock.now_ms(), |bag| {
            bag.draw(&bank, filter, &mut rng)
                .map(|d| d.question.clone())
        })
        .await?;
    Ok(drawn)
}

/// The smallest snowflake of a message created at `ms` (Unix milliseconds).
pub fn snowflake_at(ms: i64) -> u64 {
    u64::try_from(ms.saturating_sub(DISCORD_EPOCH_MS)).unwrap_or(0) << 22
}

/// The message of ours in `channel_id` whose first embed has `footer`, among every message
/// since `since_ms` (less a minute for clock skew between us and Discord), paging forward.
async fn find_existing(
    app: &App,
    channel_id: u64,
    bot_id: u64,
    footer: &str,
    since_ms: i64,
) -> Result<Option<u64>, DeliveryError> {
    let mut after = snowflake_at(since_ms.saturating_sub(60_000));
    for _ in 0..MAX_SCAN_PAGES {
        let page = app.deliver.messages_after(channel_id, after, 100).await?;
        let found = page.iter().find(|m| {
            m.author.id.get() == bot_id
                && m.embeds
                    .first()
                    .and_then(|e| e.footer.as_ref())
                    .is_some_and(|f| f.text == footer)
        });
        if let Some(m) = found {
            return Ok(Some(m.id.get()));
        }
        match page.iter().map(|m| m.id.get()).max() {
            Some(last) if page.len() == 100 => after = last,
            _ => return Ok(None),
        }
    }
    warn!(
        channel = channel_id,
        pages = MAX_SCAN_PAGES,
        "gave up looking for an earlier attempt's daily post"
    );
    Ok(None)
}

/// The message of a daily post, with the role ping when configured.
fn post_message(
    app: &App,
    guild_id: u64,
    role_id: Option<u64>,
    number: i64,
    local_date: &str,
    q: &Question,
    nonce: &str,
) -> serenity::CreateMessage {
    let msg = serenity::CreateMessage::new()
        .embed(render::daily_embed(
            q,
            number,
            local_date,
            &app.config.reveal.emoji,
        ))
        .components(vec![render::reveal_row(&q.id)])
        .nonce(serenity::Nonce::String(nonce.to_string()))
        .enforce_nonce(true);
    match role_id {
        // The @everyone role has the guild's id; pinging it was the admin's explicit choice.
        Some(r) if r == guild_id => msg
            .content("@everyone")
            .allowed_mentions(render::no_mentions().everyone(true)),
        Some(r) => msg
            .content(format!("<@&{r}>"))
            .allowed_mentions(render::only_role(r)),
        None => msg.allowed_mentions(render::no_mentions()),
    }
}

async fn send_post(
    app: &App,
    row: &ScheduleRow,
    intent: &PostRow,
    q: &Question,
) -> Result<u64, DeliveryError> {
    let msg = post_message(
        app,
        row.guild_id,
        row.role_id,
        intent.number,
        &intent.local_date,
        q,
        &intent.nonce,
    );
    let m = app.deliver.create_message(intent.channel_id, &msg).await?;
    Ok(m.id.get())
}

/// `/daily post`: one extra post now, numbered, not replacing the scheduled one. Returns the
/// message id and number; a `UserError` says what to fix.
pub async fn post_now(app: &App, row: &ScheduleRow) -> Result<(u64, i64), Error> {
    let p = parse_row(row).map_err(|e| Error::User(super::UserError(e)))?;
    let Some(q) = draw(app, row.guild_id, &p.filter).await? else {
        return super::errors::user(format!(
            "No question in the bank matches this schedule's filter ({}).",
            p.filter.describe()
        ));
    };
    let now = app.clock.now();
    let date = schedule::local_date(now, &p.tz).to_string();
    let number = app.store.next_post_number(row.guild_id).await?;
    let nonce = format!("m{:x}{:x}", row.guild_id % (1 << 32), now.as_millisecond());
    let msg = post_message(app, row.guild_id, row.role_id, number, &date, &q, &nonce);
    let m = match app.deliver.create_message(row.channel_id, &msg).await {
        Ok(m) => m,
        Err(e) if e.is_permanent() => {
            return super::errors::user(format!("Discord refused the post: {}", e.summary()))
        }
        Err(e) => return Err(e.into()),
    };
    let id = m.id.get();
    let mut post = PostRow {
        id: 0,
        guild_id: row.guild_id,
        local_date: date.clone(),
        number,
        question_id: q.id.clone(),
        channel_id: row.channel_id,
        nonce,
        state: PostState::Sent,
        message_id: Some(id),
        thread_id: None,
        attempts: 1,
        error: None,
        created_at: now.as_millisecond(),
        sent_at: Some(now.as_millisecond()),
        kind: PostKind::Manual,
        thread_wanted: row.thread,
        reaction_done: false,
        opening_done: false,
        finish: FinishState::Pending,
        finish_error: None,
    };
    post.id = app.store.record_manual_post(&post).await?;
    app.store
        .record_question_message(
            &QuestionMessage {
                message_id: id,
                channel_id: row.channel_id,
                guild_id: Some(row.guild_id),
                question_id: q.id.clone(),
            },
            Source::Daily,
            now.as_millisecond(),
        )
        .await?;
    // A transient failure here leaves the steps pending; the scheduler finishes them.
    log_failure(finish_post(app, &post).await, "finishing a /daily post");
    Ok((id, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_from_times() {
        // 2015-01-01T00:00:00Z is snowflake 0; ids grow with time, 22 bits below the ms.
        assert_eq!(snowflake_at(DISCORD_EPOCH_MS), 0);
        assert_eq!(snowflake_at(DISCORD_EPOCH_MS + 1), 1 << 22);
        assert_eq!(snowflake_at(0), 0, "before the epoch clamps to 0");
        // A real message id: 1576264034611757059 was made at 1795870289744 ms.
        let id: u64 = 1_576_264_034_611_757_059;
        let ms = (id >> 22) as i64 + DISCORD_EPOCH_MS;
        assert!(snowflake_at(ms) <= id && id < snowflake_at(ms + 1));
    }

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
