//! The quiz-round driver: one task per running round feeds the pure state machine
//! (`crate::quiz::Round`) with clicks and deadlines and renders what it decides.
//!
//! Clicks are answered straight from the click handler (lock the round, `answer`, reply
//! ephemerally), so a click never waits for the driver. The driver sleeps until the deadline
//! and wakes early on a click (to check the early-close rule and refresh the "N answered"
//! count, at most every [`COUNT_EDIT_INTERVAL`]), on `/quiz skip` and on `/quiz stop`.
//! Scores are saved after every question, so a restart keeps what was played.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poise::serenity_prelude as serenity;
use rand::seq::SliceRandom;
use reqwest::Method;
use serde_json::json;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponse, CreateInteractionResponseMessage,
};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{info, warn};

use super::events::to_body;
use super::{render, App};
use crate::bank::{Bank, Filter};
use crate::quiz::{
    build_item, format_points, letter, AnswerOutcome, Asked, Final, Millis, QuestionResult,
    QuizItem, Round, RoundSettings, Standing, CHOICES,
};
use crate::store::ScoreRow;
use crate::text::{limits, truncate};

/// Prefix of quiz buttons' custom ids: `quiz:{round}:{question}:{choice}`.
pub const BUTTON_PREFIX: &str = "quiz:";

/// The question message's "N answered" is edited at most this often.
pub const COUNT_EDIT_INTERVAL: Duration = Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// Close question `Some(index)` now; `None`: end the pause between questions. A skip
    /// names its target so that one arriving late never closes the next question.
    Skip(Option<usize>),
    Stop,
}

/// One running round.
pub struct Live {
    pub round_id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub starter_id: u64,
    round: Mutex<Round>,
    started: Instant,
    wake: Notify,
    control: Mutex<Option<Control>>,
    answers_changed: AtomicBool,
}

impl Live {
    fn now(&self) -> Millis {
        self.started.elapsed().as_millis() as Millis
    }

    fn round(&self) -> std::sync::MutexGuard<'_, Round> {
        self.round.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running rounds of this process.
#[derive(Default)]
pub struct Rounds {
    live: Mutex<HashMap<i64, Arc<Live>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Rounds {
    pub fn get(&self, round_id: i64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&round_id)
            .cloned()
    }

    pub fn in_channel(&self, channel_id: u64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .find(|l| l.channel_id == channel_id)
            .cloned()
    }

    fn remove(&self, round_id: i64) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&round_id);
    }

    /// Stops every driver (shutdown). Their rounds stay `running` in the store and are closed
    /// with their standings at the next start.
    pub fn abort_all(&self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }

    /// Asks a round to skip its open question or stop. A pending stop is never replaced.
    fn control(&self, live: &Live, c: Control) {
        {
            let mut slot = live.control.lock().unwrap_or_else(|p| p.into_inner());
            if *slot != Some(Control::Stop) {
                *slot = Some(c);
            }
        }
        live.wake.notify_one();
    }

    /// Reveals the open question now, or ends the pause between questions. Returns whether
    /// a question was open.
    pub fn skip(&self, live: &Live) -> bool {
        let open = live.round().open_question().map(|(index, _)| index);
        self.control(live, Control::Skip(open));
        open.is_some()
    }

    pub fn stop(&self, live: &Live) {
        self.control(live, Control::Stop);
    }
}

/// Picks `n` distinct questions for a round: ones the channel has not had in a quiz lately
/// first (its shuffle-bag), then the rest, each group in random order. Returns the built
/// items (questions whose choices cannot be built are left out).
pub fn pick_items<R: rand::Rng>(
    app: &App,
    bank: &Bank,
    filter: &Filter,
    channel_id: u64,
    n: usize,
    rng: &mut R,
) -> Vec<QuizItem> {
    let scope = format!("quiz:channel:{channel_id}");
    app.store
        .update_bag(&scope, |bag| {
            let used: HashSet<&str> = bag.used.iter().map(String::as_str).collect();
            let (mut fresh, mut seen): (Vec<_>, Vec<_>) = bank
                .matching(filter)
                .partition(|q| !used.contains(q.id.as_str()));
            fresh.shuffle(rng);
            seen.shuffle(rng);
            if fresh.is_empty() {
                bag.used.clear(); // every matching question was played: a new cycle
            }
            let mut items = Vec::new();
            for q in fresh.into_iter().chain(seen) {
                if items.len() == n {
                    break;
                }
                if let Some(item) = build_item(q, bank.questions(), rng) {
                    if !bag.used.contains(&q.id) {
                        bag.used.push(q.id.clone());
                    }
                    items.push(item);
                }
            }
            items
        })
        .unwrap_or_default()
}

/// Starts the driver of a round already recorded in the store.
#[allow(clippy::too_many_arguments)]
pub fn spawn_round(
    app: Arc<App>,
    round_id: i64,
    guild_id: u64,
    channel_id: u64,
    starter_id: u64,
    items: Vec<QuizItem>,
    settings: RoundSettings,
) -> Arc<Live> {
    let live = Arc::new(Live {
        round_id,
        guild_id,
        channel_id,
        starter_id,
        round: Mutex::new(Round::new(items, settings)),
        started: Instant::now(),
        wake: Notify::new(),
        control: Mutex::new(None),
        answers_changed: AtomicBool::new(false),
    });
    app.quiz
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(round_id, live.clone());
    let task = tokio::spawn(drive(app.clone(), live.clone()));
    let mut tasks = app.quiz.tasks.lock().unwrap_or_else(|p| p.into_inner());
    tasks.retain(|t| !t.is_finished());
    tasks.push(task);
    live
}

async fn drive(app: Arc<App>, live: Arc<Live>) {
    let intermission = Duration::from_secs(u64::from(app.config.quiz.intermission_seconds));
    let mut stopped = false;
    let fin = loop {
        let asked = live.round().open_next(live.now());
        let Some(asked) = asked else {
            break live.round().finish();
        };
        let message_id = post_question(&app, &live, &asked).await;
        match run_question(&app, &live, &asked, message_id).await {
            Outcome::Closed(result) => {
                close_question(&app, &live, &asked, message_id, &result).await;
                if !live.round().has_next() {
                    break live.round().finish();
                }
                // A pause to read the results; `/quiz stop` still works meanwhile, and
                // `/quiz skip` ends it. Controls first: a stop that came in while the results
                // were being posted ends the round before another question shows.
                let stop = tokio::select! {
                    biased;
                    c = wait_pause_control(&live) => c == Control::Stop,
                    _ = tokio::time::sleep(intermission) => false,
                };
                if stop {
                    stopped = true;
                    break live.round().finish();
                }
            }
            Outcome::Stopped(fin) => {
                if let Some(result) = &fin.stopped {
                    close_question(&app, &live, &asked, message_id, result).await;
                }
                stopped = true;
                break fin;
            }
        }
    };
    let status = if stopped { "stopped" } else { "finished" };
    save_scores(&app, &live, fin.questions_played, &fin.totals);
    let _ = app
        .store
        .end_round(live.round_id, status, app.clock.now_ms());
    // The round is over for everyone before its last message goes out: a `/quiz start` right
    // after the final standings appear must not be told a round is running.
    app.quiz.remove(live.round_id);
    let nonce = format!("x{:x}", live.round_id);
    send(
        &app,
        live.channel_id,
        final_message(&fin, stopped)
            .nonce(serenity::Nonce::String(nonce))
            .enforce_nonce(true),
    )
    .await;
    info!(
        round = live.round_id,
        played = fin.questions_played,
        status,
        "quiz round ended"
    );
}

enum Outcome {
    Closed(QuestionResult),
    Stopped(Final),
}

/// Between questions: waits for `/quiz stop`, or a `/quiz skip` given while no question was
/// open (it ends the pause). A skip aimed at a question that has closed meanwhile is dropped.
async fn wait_pause_control(live: &Live) -> Control {
    loop {
        live.wake.notified().await;
        let c = live
            .control
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match c {
            Some(c @ (Control::Stop | Control::Skip(None))) => return c,
            Some(Control::Skip(Some(_))) | None => {}
        }
    }
}

async fn run_question(app: &App, live: &Live, asked: &Asked, message_id: Option<u64>) -> Outcome {
    let deadline = live.started + Duration::from_millis(asked.deadline);
    let mut next_count_edit = Instant::now();
    let mut shown_count = 0usize;
    loop {
        let pending_edit = live.answers_changed.load(Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                let r = live.round().on_deadline(asked.index, live.now());
                if let Some(r) = r {
                    return Outcome::Closed(r);
                }
            }
            _ = live.wake.notified() => {
                let control = live.control.lock().unwrap_or_else(|p| p.into_inner()).take();
                match control {
                    Some(Control::Stop) => return Outcome::Stopped(live.round().stop(live.now())),
                    Some(Control::Skip(Some(index))) if index == asked.index => {
                        if let Some(r) = live.round().close(live.now()) {
                            return Outcome::Closed(r);
                        }
                    }
                    // A skip meant for an earlier question or for the pause before this one.
                    Some(Control::Skip(_)) | None => {}
                }
                // A click may have woken us together with a control (one wake for both).
                let early = {
                    let mut round = live.round();
                    if round.should_close_early() { round.close(live.now()) } else { None }
                };
                if let Some(r) = early {
                    return Outcome::Closed(r);
                }
            }
            _ = tokio::time::sleep_until(next_count_edit), if pending_edit => {
                live.answers_changed.store(false, Ordering::Relaxed);
                let count = live.round().answered_count();
                if count != shown_count {
                    shown_count = count;
                    if let Some(m) = message_id {
                        let body = json!({
                            "embeds": [to_body(&question_embed(asked, count, Some(app.clock.now().as_second() + remaining_secs(live, asked))))],
                            "allowed_mentions": to_body(&render::no_mentions()),
                        });
                        let path = format!("/channels/{}/messages/{m}", live.channel_id);
                        let _ = app.deliver.send::<serde_json::Value>(Method::PATCH, &path, Some(&body)).await;
                    }
                }
                next_count_edit = Instant::now() + COUNT_EDIT_INTERVAL;
            }
        }
    }
}

fn remaining_secs(live: &Live, asked: &Asked) -> i64 {
    (asked.deadline.saturating_sub(live.now()) as i64 + 999) / 1000
}

fn button_id(round_id: i64, index: usize, choice: usize) -> String {
    format!("{BUTTON_PREFIX}{round_id}:{index}:{choice}")
}

/// Parses `quiz:{round}:{question}:{choice}`.
pub fn parse_button(id: &str) -> Option<(i64, usize, usize)> {
    let mut parts = id.strip_prefix(BUTTON_PREFIX)?.split(':');
    let round = parts.next()?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    let choice = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((round, index, choice))
}

/// The question embed; texts are shortened so the whole message stays within Discord's
/// 6000-character embed budget. `closes_at_unix` is `None` once the question has closed.
fn question_embed(asked: &Asked, answered: usize, closes_at_unix: Option<i64>) -> CreateEmbed {
    let prompt = truncate(&asked.item.prompt, 2400);
    let per_choice = ((5600 - prompt.chars().count()) / CHOICES).min(limits::EMBED_FIELD_VALUE);
    let mut e = CreateEmbed::new()
        .title(format!(
            "Quiz · question {}/{}",
            asked.index + 1,
            asked.total
        ))
        .description(prompt)
        .colour(render::difficulty_colour(asked.item.difficulty));
    for (i, choice) in asked.item.choices.iter().enumerate() {
        e = e.field(letter(i).to_string(), truncate(choice, per_choice), false);
    }
    let status = match closes_at_unix {
        Some(t) => format!("Closes <t:{t}:R> · {answered} answered"),
        None => format!("Closed · {answered} answered"),
    };
    e.field("⏱", status, false)
        .footer(CreateEmbedFooter::new(format!(
            "{} · pick A–D below; your answer stays hidden",
            render::display_name(&asked.item.category)
        )))
}

fn buttons(round_id: i64, index: usize, closed: Option<&QuestionResult>) -> CreateActionRow {
    CreateActionRow::Buttons(
        (0..CHOICES)
            .map(|i| {
                let b = CreateButton::new(button_id(round_id, index, i));
                match closed {
                    None => b.label(letter(i).to_string()).style(ButtonStyle::Primary),
                    Some(r) => {
                        let mark = if i == r.item.correct { " ✓" } else { "" };
                        b.label(format!("{}{mark} · {}", letter(i), r.split[i]))
                            .style(if i == r.item.correct {
                                ButtonStyle::Success
                            } else {
                                ButtonStyle::Secondary
                            })
                            .disabled(true)
                    }
                }
            })
            .collect(),
    )
}

async fn post_question(app: &App, live: &Live, asked: &Asked) -> Option<u64> {
    let closes = app.clock.now().as_second() + remaining_secs(live, asked);
    let msg = serenity::CreateMessage::new()
        .embed(question_embed(asked, 0, Some(closes)))
        .components(vec![buttons(live.round_id, asked.index, None)])
        .allowed_mentions(render::no_mentions())
        .nonce(serenity::Nonce::String(format!(
            "z{:x}-{:x}",
            live.round_id, asked.index
        )))
        .enforce_nonce(true);
    let path = format!("/channels/{}/messages", live.channel_id);
    match app
        .deliver
        .send::<serenity::Message>(Method::POST, &path, Some(&to_body(&msg)))
        .await
    {
        Ok(m) => Some(m.id.get()),
        Err(e) => {
            warn!(round = live.round_id, "could not post a quiz question: {e}");
            None
        }
    }
}

fn mention_list(users: &[(u64, i64)]) -> String {
    if users.is_empty() {
        return "nobody".into();
    }
    users
        .iter()
        .map(|(u, p)| format!("<@{u}> +{}", format_points(*p)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn standings_text(standings: &[Standing], limit: usize) -> String {
    if standings.is_empty() {
        return "No answers yet.".into();
    }
    let mut lines: Vec<String> = standings
        .iter()
        .take(limit)
        .map(|s| {
            format!(
                "**{}.** <@{}> · {} pts · {}/{} right",
                s.rank,
                s.user,
                format_points(s.points),
                s.correct,
                s.answered
            )
        })
        .collect();
    if standings.len() > limit {
        lines.push(format!("… and {} more", standings.len() - limit));
    }
    truncate(&lines.join("\n"), limits::EMBED_FIELD_VALUE)
}

async fn close_question(
    app: &App,
    live: &Live,
    asked: &Asked,
    message_id: Option<u64>,
    r: &QuestionResult,
) {
    // One lock for both values: the guard is a temporary and a second one would deadlock.
    let (played, totals) = {
        let round = live.round();
        (round.questions_played(), round.totals().to_vec())
    };
    save_scores(app, live, played, &totals);
    if let Some(m) = message_id {
        let answered = r.answered.len();
        let embed = question_embed(asked, answered, None).field(
            "Answer",
            format!("**{}** is correct", r.item.correct_letter()),
            false,
        );
        let body = json!({
            "embeds": [to_body(&embed)],
            "components": [to_body(&buttons(live.round_id, asked.index, Some(r)))],
            "allowed_mentions": to_body(&render::no_mentions()),
        });
        let path = format!("/channels/{}/messages/{m}", live.channel_id);
        if let Err(e) = app
            .deliver
            .send::<serde_json::Value>(Method::PATCH, &path, Some(&body))
            .await
        {
            warn!(
                round = live.round_id,
                "could not close the question message: {e}"
            );
        }
    }
    let split = (0..CHOICES)
        .map(|i| format!("{} {}", letter(i), r.split[i]))
        .collect::<Vec<_>>()
        .join(" · ");
    let mut embed = CreateEmbed::new()
        .title(format!(
            "Question {}/{}: the answer is {}",
            asked.index + 1,
            asked.total,
            r.item.correct_letter()
        ))
        .description(truncate(&r.item.choices[r.item.correct], 2000))
        .colour(serenity::Colour::new(0x2ECC71))
        .field("Picks", split, false)
        .field(
            "Right",
            truncate(&mention_list(&r.correct_users), limits::EMBED_FIELD_VALUE),
            false,
        );
    if let Some(x) = &r.item.explanation {
        embed = embed.field("Why", truncate(x, limits::EMBED_FIELD_VALUE), false);
    }
    embed = embed.field("Standings", standings_text(&r.standings, 10), false);
    send(
        app,
        live.channel_id,
        serenity::CreateMessage::new()
            .embed(embed)
            .allowed_mentions(render::no_mentions())
            .nonce(serenity::Nonce::String(format!(
                "y{:x}-{:x}",
                live.round_id, asked.index
            )))
            .enforce_nonce(true),
    )
    .await;
}

fn save_scores(app: &App, live: &Live, played: usize, totals: &[crate::quiz::Tally]) {
    let rows: Vec<ScoreRow> = totals
        .iter()
        .map(|t| ScoreRow {
            user_id: t.user,
            points_milli: t.points,
            correct: i64::from(t.correct),
            answered: i64::from(t.answered),
        })
        .collect();
    if let Err(e) = app.store.save_round_scores(live.round_id, played, &rows) {
        warn!(round = live.round_id, "could not save quiz scores: {e}");
    }
}

fn podium_text(podium: &[Standing]) -> String {
    if podium.is_empty() {
        return "Nobody scored this time.".into();
    }
    podium
        .iter()
        .map(|s| {
            let medal = match s.rank {
                1 => "🥇",
                2 => "🥈",
                _ => "🥉",
            };
            format!("{medal} <@{}> · {} pts", s.user, format_points(s.points))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn final_message(fin: &Final, stopped: bool) -> serenity::CreateMessage {
    let title = if stopped {
        format!(
            "Quiz stopped after {} of {} questions",
            fin.questions_played, fin.questions_total
        )
    } else {
        format!("Quiz over · {} questions", fin.questions_total)
    };
    let everyone = fin
        .standings
        .iter()
        .take(20)
        .map(|s| {
            format!(
                "**{}.** <@{}> · {} pts · {}% accuracy",
                s.rank,
                s.user,
                format_points(s.points),
                s.accuracy_percent()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let embed = CreateEmbed::new()
        .title(format!("🏆 {title}"))
        .colour(serenity::Colour::new(0xF1C40F))
        .field(
            "Podium",
            truncate(&podium_text(&fin.podium), limits::EMBED_FIELD_VALUE),
            false,
        )
        .field(
            "Scores",
            if everyone.is_empty() {
                "No answers.".to_string()
            } else {
                truncate(&everyone, limits::EMBED_FIELD_VALUE)
            },
            false,
        )
        .footer(CreateEmbedFooter::new(
            "Points go to the all-time table: /quiz leaderboard",
        ));
    serenity::CreateMessage::new()
        .embed(embed)
        .allowed_mentions(render::no_mentions())
}

async fn send(app: &App, channel_id: u64, msg: serenity::CreateMessage) {
    let path = format!("/channels/{channel_id}/messages");
    if let Err(e) = app
        .deliver
        .send::<serenity::Message>(Method::POST, &path, Some(&to_body(&msg)))
        .await
    {
        warn!(channel = channel_id, "could not post a quiz message: {e}");
    }
}

/// A click on an A–D button: lock in and answer ephemerally.
pub async fn on_click(
    ctx: &serenity::Context,
    app: &Arc<App>,
    click: &ComponentInteraction,
) -> Result<(), super::Error> {
    let reply = |text: String| {
        CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true)
                .allowed_mentions(render::no_mentions()),
        )
    };
    let Some((round_id, index, choice)) = parse_button(&click.data.custom_id) else {
        click
            .create_response(
                &ctx.http,
                reply("That button is not part of a quiz.".into()),
            )
            .await?;
        return Ok(());
    };
    let Some(live) = app.quiz.get(round_id) else {
        click
            .create_response(
                &ctx.http,
                reply("Too late: this quiz round is over.".into()),
            )
            .await?;
        return Ok(());
    };
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

/// At start: rounds the store still lists as running were cut by a restart. They are not
/// resumed; each is closed in its channel with the standings of its finished questions,
/// which count for the leaderboard.
pub async fn close_interrupted_rounds(app: &Arc<App>) {
    let rounds = match app.store.running_rounds() {
        Ok(r) => r,
        Err(e) => {
            warn!("cannot list interrupted quiz rounds: {e}");
            return;
        }
    };
    for r in rounds {
        if app.quiz.get(r.id).is_some() {
            continue; // a live round of this process (a gateway reconnect, not a restart)
        }
        // Best first (the store's order); equal points and correct answers share a rank, as
        // in the standings of a live round.
        let scores = app.store.round_scores(r.id).unwrap_or_default();
        let mut rank = 0;
        let lines = scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let tied = i > 0
                    && scores[i - 1].points_milli == s.points_milli
                    && scores[i - 1].correct == s.correct;
                if !tied {
                    rank = i + 1;
                }
                (rank, s)
            })
            .take(20)
            .map(|(rank, s)| {
                format!(
                    "**{rank}.** <@{}> · {} pts · {}/{} right",
                    s.user_id,
                    format_points(s.points_milli),
                    s.correct,
                    s.answered
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let embed = CreateEmbed::new()
            .title("⏹ Quiz round interrupted by a restart")
            .description(format!(
                "The bot restarted after {} of {} questions; the round is not resumed. \
                 Scores of the finished questions count for /quiz leaderboard.",
                r.questions_played, r.questions_total
            ))
            .field(
                "Standings",
                if lines.is_empty() {
                    "No answers were scored.".to_string()
                } else {
                    truncate(&lines, limits::EMBED_FIELD_VALUE)
                },
                false,
            );
        send(
            app,
            r.channel_id,
            serenity::CreateMessage::new()
                .embed(embed)
                .allowed_mentions(render::no_mentions())
                .nonce(serenity::Nonce::String(format!("w{:x}", r.id)))
                .enforce_nonce(true),
        )
        .await;
        let _ = app.store.end_round(r.id, "interrupted", app.clock.now_ms());
        info!(round = r.id, "closed a quiz round interrupted by a restart");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_ids_round_trip() {
        let id = button_id(42, 3, 1);
        assert!(id.len() <= 100);
        assert_eq!(parse_button(&id), Some((42, 3, 1)));
        assert_eq!(parse_button("quiz:1:2"), None);
        assert_eq!(parse_button("quiz:1:2:3:4"), None);
        assert_eq!(parse_button("quiz:x:2:3"), None);
        assert_eq!(parse_button("reveal:x"), None);
    }
}
