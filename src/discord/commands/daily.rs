//! `/daily …`: the question-of-the-day schedule of a server (Manage Server only).

use jiff::Timestamp;
use poise::serenity_prelude as serenity;
use serenity::{CreateAutocompleteResponse, CreateEmbed};

use super::ask::{autocomplete_category, autocomplete_tag, build_filter, DifficultyChoice};
use super::require_manage_guild;
use crate::daily::schedule::{self, LocalTime, Plan};
use crate::discord::daily::{parse_row, plan_for, post_now};
use crate::discord::errors::user;
use crate::discord::{render, App, Context, Error};
use crate::store::{FinishState, PostState, ScheduleRow};

/// The question of the day: a daily post in a channel, at your time, in your time zone.
#[poise::command(
    slash_command,
    subcommands("set", "show", "pause", "resume", "skip", "post", "off"),
    subcommand_required,
    guild_only,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn daily(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// IANA zone names containing what was typed (also for `/practice timezone`).
pub async fn autocomplete_zone(_ctx: Context<'_>, partial: &str) -> CreateAutocompleteResponse {
    CreateAutocompleteResponse::new().set_choices(
        schedule::zone_suggestions(partial, 25)
            .into_iter()
            .map(|z| serenity::AutocompleteChoice::new(z.clone(), z))
            .collect(),
    )
}

async fn say(ctx: Context<'_>, embed: CreateEmbed) -> Result<(), Error> {
    ctx.send(super::reply(true).embed(embed)).await?;
    Ok(())
}

fn guild(ctx: &Context<'_>) -> Result<u64, Error> {
    match ctx.guild_id() {
        Some(g) => Ok(g.get()),
        None => user("This command works in a server, not in DMs."),
    }
}

/// The daily channel must be a text or announcement channel of this server. Discord only
/// offers those (`channel_types`), but an interaction can be forged, and a post in a voice
/// channel, a category or another server's channel must never be scheduled.
async fn check_channel(
    ctx: &Context<'_>,
    app: &App,
    guild_id: u64,
    channel: &serenity::PartialChannel,
) -> Result<(), Error> {
    use serenity::ChannelType;
    if !matches!(channel.kind, ChannelType::Text | ChannelType::News) {
        return user(format!(
            "<#{}> is not a text or announcement channel; pick one where messages can be posted.",
            channel.id
        ));
    }
    let cached = ctx
        .cache()
        .guild(serenity::GuildId::new(guild_id))
        .map(|g| g.channels.contains_key(&channel.id));
    let in_guild = match cached {
        Some(known) => known,
        // Not cached (yet): ask Discord which server the channel belongs to.
        None => match app.deliver.get_channel(channel.id.get()).await {
            Ok(serenity::Channel::Guild(c)) => c.guild_id.get() == guild_id,
            Ok(_) => false,
            Err(e) if e.is_permanent() => false,
            Err(e) => return Err(e.into()),
        },
    };
    if !in_guild {
        return user("That channel is not in this server; pick one of this server's channels.");
    }
    Ok(())
}

async fn current(app: &App, guild_id: u64) -> Result<ScheduleRow, Error> {
    match app.store.schedule(guild_id).await? {
        Some(s) => Ok(s),
        None => user(
            "This server has no daily question yet. Set one up with \
             `/daily set channel:#practice time:09:00 timezone:Europe/Berlin`.",
        ),
    }
}

/// Schedule the daily question: channel, time (24-hour HH:MM) and IANA time zone.
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
#[allow(clippy::too_many_arguments)]
pub async fn set(
    ctx: Context<'_>,
    #[description = "Channel to post in"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "Time of day, 24-hour HH:MM, e.g. 09:00"] time: String,
    #[description = "IANA time zone, e.g. Europe/Berlin or America/New_York"]
    #[autocomplete = "autocomplete_zone"]
    timezone: String,
    #[description = "Role to ping with each post"] role: Option<serenity::RoleId>,
    #[description = "Only questions of this category"]
    #[autocomplete = "autocomplete_category"]
    category: Option<String>,
    #[description = "Only questions with this tag"]
    #[autocomplete = "autocomplete_tag"]
    tag: Option<String>,
    #[description = "Only questions of this difficulty"] difficulty: Option<DifficultyChoice>,
    #[description = "Open a discussion thread on each post (default: true)"] thread: Option<bool>,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    let guild_id = guild(&ctx)?;
    check_channel(&ctx, &app, guild_id, &channel).await?;
    let time = match LocalTime::parse(&time) {
        Ok(t) => t,
        Err(e) => return user(format!("{e}.")),
    };
    let tz = match schedule::parse_zone(&timezone) {
        Ok(z) => z,
        Err(e) => return user(format!("{e}.")),
    };
    let zone_name = tz.iana_name().unwrap_or(timezone.trim()).to_string();
    let bank = app.bank();
    let filter = build_filter(&bank, category, tag, difficulty.map(Into::into), None)?;
    if bank.matching(&filter).next().is_none() {
        return user(format!(
            "No question matches all of: {}. Try fewer filters.",
            filter.describe()
        ));
    }
    let now = app.clock.now();
    let previous = app.store.schedule(guild_id).await?;
    let row = ScheduleRow {
        guild_id,
        channel_id: channel.id.get(),
        time: time.to_string(),
        tz: zone_name,
        role_id: role.map(|r| r.get()),
        filter: serde_json::to_string(&filter)?,
        thread: thread.unwrap_or(true),
        paused: false,
        skip_date: None,
        // Occurrences already past today are not posted at once; a later one today is.
        armed_from: now.as_millisecond(),
        last_error: None,
    };
    app.store.put_schedule(&row).await?;
    app.daily.rearm();
    let mut embed = show_embed(&app, &row, now).await?;
    embed = embed.title(if previous.is_some() {
        "Daily question updated"
    } else {
        "Daily question scheduled"
    });
    say(ctx, embed).await
}

/// Show the schedule, the next post time, what is left in the cycle and any problem.
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn show(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let row = current(&app, guild(&ctx)?).await?;
    let embed = show_embed(&app, &row, app.clock.now()).await?;
    say(ctx, embed).await
}

/// Pause the daily question (the schedule is kept).
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn pause(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let mut row = current(&app, guild(&ctx)?).await?;
    if row.paused {
        return user("The daily question is already paused. `/daily resume` restarts it.");
    }
    row.paused = true;
    app.store.put_schedule(&row).await?;
    app.daily.rearm();
    say(
        ctx,
        CreateEmbed::new()
            .title("Daily question paused")
            .description("No posts until `/daily resume`. The schedule and the cycle are kept."),
    )
    .await
}

/// Resume a paused daily question (posts missed while paused are not sent).
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn resume(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let mut row = current(&app, guild(&ctx)?).await?;
    if !row.paused {
        return user("The daily question is not paused.");
    }
    let now = app.clock.now();
    row.paused = false;
    row.armed_from = now.as_millisecond();
    app.store.put_schedule(&row).await?;
    app.daily.rearm();
    let embed = show_embed(&app, &row, now)
        .await?
        .title("Daily question resumed");
    say(ctx, embed).await
}

/// Skip the next daily post only.
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn skip(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let mut row = current(&app, guild(&ctx)?).await?;
    let p = parse_row(&row).map_err(crate::discord::UserError)?;
    let now = app.clock.now();
    // Plan without the current skip, so `/daily skip` twice skips the same (next) post.
    row.skip_date = None;
    let next = plan_for(
        &app,
        &row,
        &parse_row(&row).map_err(crate::discord::UserError)?,
        now,
    )
    .await;
    let date = next.date();
    row.skip_date = Some(date.to_string());
    app.store.put_schedule(&row).await?;
    app.daily.rearm();
    let at = next.scheduled().to_zoned_datetime(p.tz.clone());
    let after = plan_for(
        &app,
        &row,
        &parse_row(&row).map_err(crate::discord::UserError)?,
        now,
    )
    .await;
    say(
        ctx,
        CreateEmbed::new()
            .title("Next daily post skipped")
            .description(format!(
                "The post of **{date}** ({}) will not go out. The one after is {}.",
                at.strftime("%H:%M %Z"),
                when(&after, &p.tz)
            )),
    )
    .await
}

/// Post a daily question now (extra; the scheduled one still goes out).
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn post(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let row = current(&app, guild(&ctx)?).await?;
    ctx.defer_ephemeral().await?;
    let (_, number) = post_now(&app, &row).await?;
    say(
        ctx,
        CreateEmbed::new()
            .title(format!("Posted question #{number}"))
            .description(format!(
                "In <#{}>. The scheduled post still goes out as usual.",
                row.channel_id
            )),
    )
    .await
}

/// Turn the daily question off and forget its schedule.
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn off(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let guild_id = guild(&ctx)?;
    if !app.store.delete_schedule(guild_id).await? {
        return user("This server has no daily question to turn off.");
    }
    app.daily.rearm();
    say(
        ctx,
        CreateEmbed::new()
            .title("Daily question turned off")
            .description("Set it up again any time with `/daily set`."),
    )
    .await
}

/// "**2026-11-29 09:00 CET** (08:00 UTC, <t:…:R>)".
fn when(plan: &Plan, tz: &jiff::tz::TimeZone) -> String {
    let at = plan.scheduled();
    let local = at.to_zoned_datetime(tz.clone());
    let utc = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let late = match plan {
        Plan::PostNow { .. } => " — due now",
        Plan::WaitUntil { .. } => "",
    };
    format!(
        "**{}** ({} UTC, <t:{}:R>){late}",
        local.strftime("%Y-%m-%d %H:%M %Z"),
        utc.strftime("%Y-%m-%d %H:%M"),
        at.as_second()
    )
}

async fn show_embed(app: &App, row: &ScheduleRow, now: Timestamp) -> Result<CreateEmbed, Error> {
    let p = parse_row(row).map_err(crate::discord::UserError)?;
    let bank = app.bank();
    let bag = app.store.bag(&format!("daily:{}", row.guild_id)).await?;
    let left = bag.remaining(&bank, &p.filter);
    let total = bank.matching(&p.filter).count();
    let mut embed = CreateEmbed::new()
        .title("Daily question")
        .colour(serenity::Colour::new(0x5865F2))
        .field("Channel", format!("<#{}>", row.channel_id), true)
        .field("Time", format!("{} {}", row.time, row.tz), true)
        .field(
            "Ping",
            match row.role_id {
                Some(r) if r == row.guild_id => "@everyone".to_string(),
                Some(r) => format!("<@&{r}>"),
                None => "nobody".into(),
            },
            true,
        )
        .field("Questions", p.filter.describe(), true)
        .field("Thread", if row.thread { "yes" } else { "no" }, true)
        .field(
            "Status",
            if row.paused {
                "⏸ paused"
            } else {
                "▶ active"
            },
            true,
        );
    if !row.paused {
        let plan = plan_for(app, row, &p, now).await;
        let mut next = when(&plan, &p.tz);
        if row.skip_date.as_deref() == Some(&plan.date().to_string()) {
            next.push_str(" (skipped)");
        }
        embed = embed.field("Next post", next, false);
        if let Some(skip) = &row.skip_date {
            embed = embed.field("Skipping", skip.clone(), true);
        }
    }
    let mut cycle = format!("{left} of {total} left before the cycle restarts");
    if left < 3 {
        cycle.push_str(" — fewer than 3 remain; then questions repeat in a new order");
    }
    embed = embed.field("Cycle", cycle, false);
    if let Some(last) = app.store.last_post(row.guild_id).await? {
        let mut state = match (last.state, last.message_id) {
            (PostState::Sent, Some(m)) => format!(
                "[sent]({})",
                render::message_link(Some(row.guild_id), last.channel_id, m)
            ),
            (other, _) => other.to_string(),
        };
        if last.state == PostState::Sent {
            match last.finish {
                FinishState::Done => {}
                FinishState::Pending => state.push_str(" · reaction/thread still to come"),
                FinishState::Failed => state.push_str(&format!(
                    " · ⚠ not finished: {}",
                    last.finish_error.as_deref().unwrap_or("unknown error")
                )),
            }
        }
        embed = embed.field(
            "Last post",
            format!(
                "#{} · {} · `{}` · {state}",
                last.number, last.local_date, last.question_id
            ),
            false,
        );
    }
    if let Some(err) = &row.last_error {
        embed = embed.field(
            "⚠ Delivery problem",
            crate::text::truncate(err, crate::text::limits::EMBED_FIELD_VALUE),
            false,
        );
    }
    Ok(embed)
}
