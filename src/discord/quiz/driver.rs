//! The driver of one running round: a task that feeds the pure state machine
//! (`crate::quiz::Round`) with deadlines and controls and posts what it decides.
//!
//! It sleeps until the deadline and wakes early on a click (to check the early-close rule and
//! refresh the "N answered" count, at most every [`COUNT_EDIT_INTERVAL`]), on `/quiz skip`
//! and on `/quiz stop`. Scores are saved after every question, so a restart keeps what was
//! played.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

use super::{Control, Live, COUNT_EDIT_INTERVAL};
use crate::discord::deliver::body;
use crate::discord::errors::log_failure;
use crate::discord::render::quiz::{
    buttons, closed_question_embed, final_message, question_embed, result_embed,
};
use crate::discord::{practice, render, App};
use crate::quiz::{Asked, Final, QuestionResult};
use crate::store::{RoundStatus, ScoreRow};

pub(super) async fn drive(
    app: Arc<App>,
    live: Arc<Live>,
    mut controls: mpsc::UnboundedReceiver<Control>,
) {
    let intermission = Duration::from_secs(u64::from(app.config.quiz.intermission_seconds));
    let mut stopped = false;
    let fin = loop {
        let asked = live.round().open_next(live.now());
        let Some(asked) = asked else {
            break live.round().finish();
        };
        let message_id = post_question(&app, &live, &asked).await;
        match run_question(&app, &live, &asked, message_id, &mut controls).await {
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
                    c = wait_pause_control(&mut controls) => c == Control::Stop,
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
    let status = if stopped {
        RoundStatus::Stopped
    } else {
        RoundStatus::Finished
    };
    save_scores(&app, &live, fin.questions_played, &fin.totals).await;
    log_failure(
        app.store
            .end_round(live.round_id, status, app.clock.now_ms())
            .await,
        "ending a quiz round",
    );
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
        %status,
        "quiz round ended"
    );
}

enum Outcome {
    Closed(QuestionResult),
    Stopped(Final),
}

/// Between questions: waits for `/quiz stop`, or a `/quiz skip` given while no question was
/// open (it ends the pause). A skip aimed at a question that has closed meanwhile is dropped.
async fn wait_pause_control(controls: &mut mpsc::UnboundedReceiver<Control>) -> Control {
    loop {
        match controls.recv().await {
            Some(c @ (Control::Stop | Control::Skip(None))) => return c,
            Some(Control::Skip(Some(_))) => {}
            // Every sender is gone (cannot happen while the round is registered): no control
            // will come, so the pause simply runs out.
            None => std::future::pending::<()>().await,
        }
    }
}

async fn run_question(
    app: &App,
    live: &Live,
    asked: &Asked,
    message_id: Option<u64>,
    controls: &mut mpsc::UnboundedReceiver<Control>,
) -> Outcome {
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
            Some(control) = controls.recv() => match control {
                Control::Stop => return Outcome::Stopped(live.round().stop(live.now())),
                Control::Skip(Some(index)) if index == asked.index => {
                    if let Some(r) = live.round().close(live.now()) {
                        return Outcome::Closed(r);
                    }
                }
                // A skip meant for an earlier question or for the pause before this one.
                Control::Skip(_) => {}
            },
            _ = live.wake.notified() => {
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
                        let closes = app.clock.now().as_second() + remaining_secs(live, asked);
                        let edit = json!({
                            "embeds": [body(&question_embed(asked, count, Some(closes)))],
                            "allowed_mentions": body(&render::no_mentions()),
                        });
                        // A missed count refresh is cosmetic; the next one or the close fixes it.
                        if let Err(e) = app.deliver.edit_message(live.channel_id, m, &edit).await {
                            warn!(round = live.round_id, "could not refresh the answer count: {e}");
                        }
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
    match app.deliver.create_message(live.channel_id, &msg).await {
        Ok(m) => Some(m.id.get()),
        Err(e) => {
            warn!(round = live.round_id, "could not post a quiz question: {e}");
            None
        }
    }
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
    save_scores(app, live, played, &totals).await;
    // Each answer is a review of this question in its player's practice schedule.
    practice::record::quiz_answers(app, live.guild_id, message_id, r).await;
    if let Some(m) = message_id {
        let edit = json!({
            "embeds": [body(&closed_question_embed(asked, r))],
            "components": [body(&buttons(live.round_id, asked.index, Some(r)))],
            "allowed_mentions": body(&render::no_mentions()),
        });
        if let Err(e) = app.deliver.edit_message(live.channel_id, m, &edit).await {
            warn!(
                round = live.round_id,
                "could not close the question message: {e}"
            );
        }
    }
    let embed = result_embed(asked, r);
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

async fn save_scores(app: &App, live: &Live, played: usize, totals: &[crate::quiz::Tally]) {
    let rows: Vec<ScoreRow> = totals
        .iter()
        .map(|t| ScoreRow {
            user_id: t.user,
            points_milli: t.points,
            correct: i64::from(t.correct),
            answered: i64::from(t.answered),
        })
        .collect();
    if let Err(e) = app
        .store
        .save_round_scores(live.round_id, played, &rows)
        .await
    {
        warn!(round = live.round_id, "could not save quiz scores: {e}");
    }
}

/// Posts a round message (with a nonce, so a retry cannot duplicate it); a failure is
/// logged and the round goes on.
pub(super) async fn send(app: &App, channel_id: u64, msg: serenity::CreateMessage) {
    if let Err(e) = app.deliver.create_message(channel_id, &msg).await {
        warn!(channel = channel_id, "could not post a quiz message: {e}");
    }
}
