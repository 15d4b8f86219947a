//! `/stats`: a member's practice numbers, privately — cards seen, reviews due, retention,
//! accuracy per topic and streaks (computed by `practice::stats`).

use super::reply;
use crate::discord::practice::member_stats;
use crate::discord::render::practice::stats_embed;
use crate::discord::{Context, Error};

/// Your practice: cards seen, reviews due, retention, accuracy by topic, streak.
#[poise::command(slash_command)]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let (stats, zone) = member_stats(&app, ctx.author().id.get(), ctx.guild_id().map(|g| g.get()))?;
    let zone_name = zone.iana_name().unwrap_or("UTC");
    ctx.send(reply(true).embed(stats_embed(&stats, zone_name)))
        .await?;
    Ok(())
}
