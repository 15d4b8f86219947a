//! `/stats`: a member's practice numbers, privately — cards seen, reviews due, retention,
//! accuracy per topic and streaks (computed by `practice::stats`) — with `stats.png`, a
//! 12-week activity heatmap and accuracy bars per topic (drawn by `render::stats_png`).

use poise::serenity_prelude as serenity;
use tracing::warn;

use super::reply;
use crate::discord::practice::member_stats;
use crate::discord::render::practice::stats_embed;
use crate::discord::render::{display_name, stats_png};
use crate::discord::{Context, Error};
use crate::practice::stats::Stats;

/// Your practice: cards seen, reviews due, retention, accuracy by topic, streak, and a picture.
#[poise::command(slash_command)]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let (stats, zone) =
        member_stats(&app, ctx.author().id.get(), ctx.guild_id().map(|g| g.get())).await?;
    let zone_name = zone.iana_name().unwrap_or("UTC");
    let mut embed = stats_embed(&stats, zone_name);
    let picture = picture_of(&stats);
    // Drawing takes a few milliseconds of CPU: off the async threads.
    let png = tokio::task::spawn_blocking(move || stats_png::render(&picture)).await;
    let mut message = reply(true);
    match png {
        Ok(Ok(bytes)) => {
            embed = embed.image(format!("attachment://{FILE_NAME}"));
            message = message.attachment(serenity::CreateAttachment::bytes(bytes, FILE_NAME));
        }
        // The numbers still go out; the picture is a nicety.
        Ok(Err(e)) => warn!("could not draw stats.png: {e}"),
        Err(e) => warn!("drawing stats.png failed: {e}"),
    }
    ctx.send(message.embed(embed)).await?;
    Ok(())
}

pub const FILE_NAME: &str = "stats.png";

/// What the picture shows, from the member's numbers.
pub fn picture_of(stats: &Stats) -> stats_png::StatsPicture {
    stats_png::StatsPicture {
        days: stats.days.clone(),
        topics: stats
            .topics
            .iter()
            .map(|(topic, right, answered)| (display_name(topic), *right, *answered))
            .collect(),
        caption: format!(
            "12 weeks to {} · accuracy by topic",
            stats.today.strftime("%b %-d, %Y")
        ),
    }
}
