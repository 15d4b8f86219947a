//! `/practice`: the member's next card, privately — due reviews first, then new questions.
//! The card's buttons (Reveal, the grades, Next) are answered in `discord::practice::clicks`.
//!
//! The same command turns practice reminders on and off (`remind`, `timezone`): Discord does
//! not allow plain options next to subcommands, and `/practice [category] [tag]
//! [difficulty]` stays as it is. With either option given, the command answers about the
//! reminder only.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::ask::{autocomplete_category, autocomplete_tag, build_filter, DifficultyChoice};
use super::daily::autocomplete_zone;
use super::reply;
use crate::daily::schedule::{self, LocalTime, Plan};
use crate::discord::errors::user;
use crate::discord::practice::next_card;
use crate::discord::reminders::{parse_row, plan_for};
use crate::discord::{App, Context, Error};
use crate::store::ReminderRow;

/// What a bad reminder value is answered with, after what was wrong.
const REMIND_EXAMPLE: &str = "For example `/practice remind:09:00 timezone:Europe/Berlin`; \
    `/practice remind:off` turns reminders off.";

/// Practise your own cards: due reviews first, then new questions (spaced repetition).
#[poise::command(slash_command)]
pub async fn practice(
    ctx: Context<'_>,
    #[description = "Only questions of this category"]
    #[autocomplete = "autocomplete_category"]
    category: Option<String>,
    #[description = "Only questions with this tag"]
    #[autocomplete = "autocomplete_tag"]
    tag: Option<String>,
    #[description = "Only questions of this difficulty"] difficulty: Option<DifficultyChoice>,
    #[description = "A DM when cards are due, daily at this time (24-hour HH:MM), or off"]
    remind: Option<String>,
    #[description = "Your IANA time zone for reminders, e.g. Europe/Berlin"]
    #[autocomplete = "autocomplete_zone"]
    timezone: Option<String>,
) -> Result<(), Error> {
    let app = ctx.data().clone();
    if remind.is_some() || timezone.is_some() {
        let text = set_reminder(&app, ctx.author().id.get(), remind, timezone).await?;
        ctx.send(reply(true).content(text)).await?;
        return Ok(());
    }
    let bank = app.bank();
    let filter = build_filter(&bank, category, tag, difficulty.map(Into::into), None)?;
    let view = next_card(
        &app,
        ctx.author().id.get(),
        &filter,
        ctx.guild_id().map(|g| g.get()),
        None,
    )
    .await?;
    let card = view
        .embeds
        .into_iter()
        .fold(reply(true), |r, e| r.embed(e))
        .components(view.components);
    ctx.send(card).await?;
    Ok(())
}

/// Turns the member's reminders on, changes or turns them off; returns the confirmation.
/// A value that cannot be understood is a `UserError` with an example.
async fn set_reminder(
    app: &App,
    user_id: u64,
    remind: Option<String>,
    timezone: Option<String>,
) -> Result<String, Error> {
    let current = app.store.reminder(user_id).await?;
    let remind = remind.as_deref().map(str::trim);
    if remind.is_some_and(|r| r.eq_ignore_ascii_case("off")) {
        let was_on = app.store.delete_reminder(user_id).await?;
        app.reminders.rearm();
        return Ok(if was_on {
            "Practice reminders are off. `/practice remind:09:00 timezone:Europe/Berlin` turns \
             them on again."
                .into()
        } else {
            "Practice reminders were not on; nothing changed.".into()
        });
    }
    let time = match (remind, &current) {
        (Some(r), _) => match LocalTime::parse(r) {
            Ok(t) => t,
            Err(e) => return user(format!("{e}, or `off`. {REMIND_EXAMPLE}")),
        },
        // Only a zone given: it moves the reminders that are on.
        (None, Some(c)) => {
            LocalTime::parse(&c.time).map_err(|e| crate::discord::UserError(e.to_string()))?
        }
        (None, None) => {
            return user(format!(
                "Reminders are not on yet: give the time too. {REMIND_EXAMPLE}"
            ))
        }
    };
    let zone = match (timezone.as_deref(), &current) {
        (Some(z), _) => match schedule::parse_zone(z) {
            Ok(tz) => tz.iana_name().unwrap_or(z.trim()).to_string(),
            Err(e) => return user(format!("{e}. {REMIND_EXAMPLE}")),
        },
        (None, Some(c)) => c.tz.clone(),
        (None, None) => {
            return user(format!(
                "Which time zone is {time} in? Give `timezone` too (it is remembered). \
                 {REMIND_EXAMPLE}"
            ))
        }
    };
    let now = app.clock.now();
    let row = ReminderRow {
        user_id,
        time: time.to_string(),
        tz: zone,
        // A time already past today does not remind at once; the next occurrence does.
        armed_from: now.as_millisecond(),
    };
    app.store.put_reminder(&row).await?;
    app.reminders.rearm();
    let p = parse_row(&row).map_err(crate::discord::UserError)?;
    let next = plan_for(app, &row, &p, now).await;
    Ok(format!(
        "Practice reminders are on: a DM at **{}** ({}) on days you have cards due, at most \
         once a day. The next one can come {}. Reminders need DMs from this server open; if \
         Discord refuses the DM, they switch off. `/practice remind:off` turns them off.",
        row.time,
        row.tz,
        when(&next, &p.tz, now)
    ))
}

/// "**2026-03-10 09:00 CET** (<t:…:R>)".
fn when(plan: &Plan, tz: &TimeZone, now: Timestamp) -> String {
    let at = plan.scheduled().max(now);
    format!(
        "**{}** (<t:{}:R>)",
        at.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z"),
        at.as_second()
    )
}
