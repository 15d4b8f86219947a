//! What happens outside `/practice` that counts for it: a quiz answer is a review (right is
//! Good, wrong is Again), revealing the daily question counts for the streak, and an answer
//! revealed with the "Reveal answer" button gets the four grade buttons.
//!
//! These are bookkeeping next to the work at hand (the quiz goes on, the answer is shown): a
//! failure is logged, never shown to the member or allowed to stop that work.

use poise::serenity_prelude as serenity;
use serenity::CreateActionRow;

use super::buttons::{Action, Button, Origin, REV_MOD};
use crate::discord::errors::log_failure;
use crate::discord::render::practice::grade_row;
use crate::discord::App;
use crate::practice::{scheduling, Grade, ReviewSource};
use crate::quiz::QuestionResult;
use crate::store::{QuestionMessage, ReviewEvent, Source, StoreError};

/// A quiz question closed: every answer is a review of that question for who gave it.
pub async fn quiz_answers(app: &App, guild_id: u64, message_id: Option<u64>, r: &QuestionResult) {
    let at = app.clock.now();
    let events: Vec<ReviewEvent> = r
        .answered
        .iter()
        .map(|&(user_id, choice)| ReviewEvent {
            user_id,
            question_id: r.item.question_id.clone(),
            grade: Some(Grade::from_quiz(choice == r.item.correct)),
            source: ReviewSource::Quiz,
            at,
            guild_id: Some(guild_id),
            message_id,
        })
        .collect();
    if events.is_empty() {
        return;
    }
    log_failure(
        app.store
            .review_cards(&events, |before, e| {
                // Every event above has a grade; Again is the safe reading of a missing one.
                scheduling::review(before, e.grade.unwrap_or(Grade::Again), e.at)
            })
            .await,
        "recording quiz answers as practice reviews",
    );
}

/// The daily question revealed by `user_id` (a 💡 reaction or the button): a day of their
/// streak. Other question messages are not the daily question and count nothing.
pub async fn reaction_reveal(app: &App, user_id: u64, qm: &QuestionMessage) {
    let source = log_failure(
        app.store.question_source(qm.message_id).await,
        "looking up a revealed message",
    );
    if source.flatten() == Some(Source::Daily) {
        daily_reveal(app, user_id, qm.guild_id, qm.message_id, &qm.question_id).await;
    }
}

async fn daily_reveal(
    app: &App,
    user_id: u64,
    guild_id: Option<u64>,
    message_id: u64,
    question_id: &str,
) {
    let e = ReviewEvent {
        user_id,
        question_id: question_id.to_string(),
        grade: None,
        source: ReviewSource::Daily,
        at: app.clock.now(),
        guild_id,
        message_id: Some(message_id),
    };
    log_failure(
        app.store.record_reveal(&e).await,
        "recording a daily reveal",
    );
}

/// The grade buttons under an answer the "Reveal answer" button showed `user_id`, for their
/// card of `question_id`. A reveal on the daily post also counts for their streak.
pub async fn reveal_grades(
    app: &App,
    user_id: u64,
    guild_id: Option<u64>,
    message_id: u64,
    question_id: &str,
) -> Result<CreateActionRow, StoreError> {
    let origin = match app.store.question_source(message_id).await? {
        Some(Source::Daily) => {
            daily_reveal(app, user_id, guild_id, message_id, question_id).await;
            Origin::Daily
        }
        // `/ask`, in the channel or private (a private one is not recorded).
        Some(Source::Ask) | None => Origin::Ask,
    };
    let reps = app
        .store
        .practice_card(user_id, question_id)
        .await?
        .map_or(0, |c| c.reps);
    Ok(grade_row(&Button {
        action: Action::Reveal,
        owner: user_id,
        rev: reps % REV_MOD,
        origin,
        question_id: question_id.to_string(),
    }))
}
