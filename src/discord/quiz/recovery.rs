//! Rounds a restart cut: closed in their channels with their saved standings, which count
//! for the leaderboard. They are not resumed (their timers and open questions are gone). Each
//! process closes the rounds of the guilds it serves.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use tracing::{info, warn};

use super::driver::send;
use crate::discord::errors::log_failure;
use crate::discord::{render, App};
use crate::store::RoundStatus;

pub async fn close_interrupted_rounds(app: &Arc<App>) {
    let rounds = match app.store.running_rounds().await {
        Ok(r) => r,
        Err(e) => {
            warn!("cannot list interrupted quiz rounds: {e}");
            return;
        }
    };
    // A round lives in the process that serves its guild; another process's rounds are its
    // own to close when it restarts.
    for r in rounds.into_iter().filter(|r| app.owns_guild(r.guild_id)) {
        if app.quiz.get(r.id).is_some() {
            continue; // a live round of this process (a gateway reconnect, not a restart)
        }
        let scores = match app.store.round_scores(r.id).await {
            Ok(s) => s,
            Err(e) => {
                warn!(
                    round = r.id,
                    "cannot read an interrupted round's scores: {e}"
                );
                continue;
            }
        };
        let embed = render::quiz::interrupted_embed(&r, &scores);
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
        log_failure(
            app.store
                .end_round(r.id, RoundStatus::Interrupted, app.clock.now_ms())
                .await,
            "closing an interrupted quiz round",
        );
        info!(round = r.id, "closed a quiz round interrupted by a restart");
    }
}
