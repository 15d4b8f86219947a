//! `/quiz …`: timed multiple-choice rounds with scores and an all-time leaderboard.

use poise::serenity_prelude as serenity;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serenity::{CreateEmbed, CreateEmbedFooter};

use super::ask::{autocomplete_category, autocomplete_tag, build_filter, DifficultyChoice};
use crate::discord::errors::{log_failure, member_has, user};
use crate::discord::quiz::{pick_items, spawn_round, Live};
use crate::discord::{Context, Error};
use crate::quiz::{
    accuracy_percent, competition_ranks, format_points, RoundSettings, QUESTIONS_DEFAULT,
    QUESTIONS_MAX, SECONDS_DEFAULT, SECONDS_MAX,
};
use crate::store::RoundStatus;

/// Quiz rounds: timed multiple-choice questions with points and a leaderboard.
#[poise::command(
    slash_command,
    subcommands("start", "stop", "skip", "leaderboard"),
    subcommand_required,
    guild_only
)]
pub async fn quiz(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Start a quiz round in this channel.
#[poise::command(slash_command, guild_only)]
#[allow(clippy::too_many_arguments)]
pub async fn start(
    ctx: Context<'_>,
    #[description = "How many questions (1–50, default 5)"]
    #[min = 1]
    #[max = 50]
    questions: Option<u32>,
    // The range and default are added at registration, from `quiz.min_seconds` and the
    // quiz core's bounds (see `registration_body`): one source for the limits.
    #[description = "Seconds per question"] seconds: Option<u32>,
    #[description = "Only questions of this category"]
    #[autocomplete = "autocomplete_category"]
    category: Option<String>,
    #[description = "Only questions with this tag"]
    #[autocomplete = "autocomplete_tag"]
    tag: Option<String>,
    #[description = "Only questions of this difficulty"] difficulty: Option<DifficultyChoice>,
    #[description = "Faster correct answers earn more points (default: off)"] speed_bonus: Option<
        bool,
    >,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    let Some(guild_id) = ctx.guild_id() else {
        return user("Quiz rounds run in a server channel.");
    };
    let n = questions.unwrap_or(QUESTIONS_DEFAULT);
    if !(1..=QUESTIONS_MAX).contains(&n) {
        return user(format!(
            "`questions` must be between 1 and {QUESTIONS_MAX}; you gave {n}."
        ));
    }
    let min_s = app.config.quiz.min_seconds;
    let secs = seconds.unwrap_or(SECONDS_DEFAULT.max(min_s));
    if !(min_s..=SECONDS_MAX).contains(&secs) {
        return user(format!(
            "`seconds` must be between {min_s} and {SECONDS_MAX}; you gave {secs}."
        ));
    }
    let bank = app.bank();
    let filter = build_filter(&bank, category, tag, difficulty.map(Into::into), None)?;
    let channel_id = ctx.channel_id().get();
    if let Some(live) = app.quiz.in_channel(channel_id) {
        return user(format!(
            "A round is running in this channel (started by <@{}>). Wait for it to end, or \
             `/quiz stop` it.",
            live.starter_id
        ));
    }
    let mut rng = StdRng::seed_from_u64(app.with_rng(|r| r.random()));
    let items = pick_items(&app, &bank, &filter, channel_id, n as usize, &mut rng).await?;
    if items.is_empty() {
        return user(format!(
            "No quiz question can be made from: {}. A question needs three wrong answers \
             (its distractors or other answers in the bank); try fewer filters.",
            filter.describe()
        ));
    }
    let count = items.len();
    let Some(round_id) = app
        .store
        .create_round(
            guild_id.get(),
            channel_id,
            ctx.author().id.get(),
            count,
            app.clock.now_ms(),
        )
        .await?
    else {
        return user("A round is running in this channel. Wait for it to end, or `/quiz stop` it.");
    };
    let settings = RoundSettings {
        seconds_per_question: secs,
        speed_bonus: speed_bonus.unwrap_or(false),
    };
    let mut note = String::new();
    if count < n as usize {
        note = format!(
            " (only {} {})",
            count,
            if count == 1 {
                "question matches"
            } else {
                "questions match"
            }
        );
    }
    let embed = CreateEmbed::new()
        .title("🧠 Quiz round starting")
        .description(format!(
            "**{}**{note}, **{secs} s** each{}. Pick A–D with the buttons; \
             your answer stays hidden until the question closes. First answer counts.",
            crate::text::count(count, "question"),
            if settings.speed_bonus {
                ", faster right answers score more"
            } else {
                ""
            }
        ))
        .field("Questions", filter.describe(), true)
        .field("Started by", format!("<@{}>", ctx.author().id), true)
        .footer(CreateEmbedFooter::new(
            "/quiz stop ends it early · /quiz skip reveals and moves on",
        ));
    let sent = ctx.send(super::reply(false).embed(embed)).await;
    if let Err(e) = sent {
        // No driver will run this round: end it, or the channel stays blocked until a restart.
        log_failure(
            app.store
                .end_round(round_id, RoundStatus::Stopped, app.clock.now_ms())
                .await,
            "ending a round whose announcement failed",
        );
        return Err(e.into());
    }
    spawn_round(
        app.clone(),
        round_id,
        guild_id.get(),
        channel_id,
        ctx.author().id.get(),
        items,
        settings,
    );
    Ok(())
}

/// The round running in this channel, if the caller may control it: its starter, or a
/// member with Manage Messages.
fn controllable(ctx: &Context<'_>) -> Result<std::sync::Arc<Live>, Error> {
    let app = ctx.data();
    let Some(live) = app.quiz.in_channel(ctx.channel_id().get()) else {
        return user("No quiz round is running in this channel.");
    };
    let member = match ctx {
        poise::Context::Application(a) => a.interaction.member.as_deref(),
        poise::Context::Prefix(_) => None,
    };
    if live.starter_id == ctx.author().id.get()
        || member_has(member, serenity::Permissions::MANAGE_MESSAGES)
    {
        Ok(live)
    } else {
        user(format!(
            "Only the member who started this round (<@{}>) or someone with Manage Messages \
             can do that.",
            live.starter_id
        ))
    }
}

/// End the running round now and show the standings (starter or Manage Messages).
#[poise::command(slash_command, guild_only)]
pub async fn stop(ctx: Context<'_>) -> Result<(), Error> {
    let live = controllable(&ctx)?;
    ctx.data().quiz.stop(&live);
    ctx.send(super::reply(false).content("⏹ Stopping the round; final standings follow."))
        .await?;
    Ok(())
}

/// Reveal the current question now and move on (starter or Manage Messages).
#[poise::command(slash_command, guild_only)]
pub async fn skip(ctx: Context<'_>) -> Result<(), Error> {
    let live = controllable(&ctx)?;
    let text = if ctx.data().quiz.skip(&live) {
        "⏭ Skipping: the answer comes now."
    } else {
        "⏭ Skipping the pause: the next question comes now."
    };
    ctx.send(super::reply(true).content(text)).await?;
    Ok(())
}

/// The server's all-time quiz table: points, rounds, correct answers, accuracy.
#[poise::command(slash_command, guild_only)]
pub async fn leaderboard(
    ctx: Context<'_>,
    #[description = "How many places to show (1–25, default 10)"]
    #[min = 1]
    #[max = 25]
    top: Option<u32>,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    let Some(guild_id) = ctx.guild_id() else {
        return user("The leaderboard belongs to a server.");
    };
    let top = top.unwrap_or(10).clamp(1, 25) as usize;
    let rows = app.store.leaderboard(guild_id.get(), top).await?;
    let body = if rows.is_empty() {
        "No rounds played yet. Start one with `/quiz start`.".to_string()
    } else {
        let ranks = competition_ranks(&rows, |r| (r.points_milli, r.correct));
        rows.iter()
            .zip(ranks)
            .map(|(r, rank)| {
                let acc = accuracy_percent(r.correct.max(0) as u64, r.answered.max(0) as u64);
                format!(
                    "**{rank}.** <@{}> · **{}** pts · {} round{} · {}/{} correct · {acc}%",
                    r.user_id,
                    format_points(r.points_milli),
                    r.rounds,
                    if r.rounds == 1 { "" } else { "s" },
                    r.correct,
                    r.answered
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let embed = CreateEmbed::new()
        .title("🏆 Quiz leaderboard")
        .description(crate::text::truncate(
            &body,
            crate::text::limits::EMBED_DESCRIPTION,
        ))
        .colour(serenity::Colour::new(0xF1C40F))
        .footer(CreateEmbedFooter::new(
            "All-time, this server · accuracy = correct / answered",
        ));
    ctx.send(super::reply(false).embed(embed)).await?;
    Ok(())
}
