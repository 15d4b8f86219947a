//! The central error handler: users get a short ephemeral explanation, the log gets the
//! detail.
//!
//! Commands return [`UserError`] for anything the user can fix (a bad argument, a missing
//! permission); its text is shown to them as is. Any other error is a fault on our side: the
//! user is told so briefly and the log gets the full error.

use poise::serenity_prelude as serenity;
use poise::FrameworkError;
use tracing::{error, warn};

use super::{render, Data};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// An error meant for the person who typed the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Shorthand for returning a [`UserError`].
pub fn user<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Box::new(UserError(msg.into())))
}

const OUR_FAULT: &str =
    "Something went wrong on our side; it has been logged. Please try again in a moment.";

pub async fn on_error(err: FrameworkError<'_, Data, Error>) {
    match err {
        FrameworkError::Command { error, ctx, .. } => {
            let msg = match error.downcast_ref::<UserError>() {
                Some(u) => u.0.clone(),
                None => {
                    error!(command = %ctx.command().qualified_name, "command failed: {error}");
                    OUR_FAULT.to_string()
                }
            };
            reply(ctx, &msg).await;
        }
        FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            let msg = match error {
                Some(e) => match e.downcast_ref::<UserError>() {
                    Some(u) => u.0.clone(),
                    None => {
                        error!(command = %ctx.command().qualified_name, "check failed: {e}");
                        OUR_FAULT.to_string()
                    }
                },
                None => "You can't use this command here.".to_string(),
            };
            reply(ctx, &msg).await;
        }
        FrameworkError::ArgumentParse {
            error, input, ctx, ..
        } => {
            let msg = match input {
                Some(i) => format!(
                    "`{}` isn't a valid value here: {error}",
                    crate::text::truncate(&i, 100)
                ),
                None => format!("One of the values isn't valid: {error}"),
            };
            reply(ctx, &msg).await;
        }
        FrameworkError::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            let msg = match missing_permissions {
                Some(p) => format!("You need the {p} permission to use this command."),
                None => "Your permissions could not be checked; try again.".to_string(),
            };
            reply(ctx, &msg).await;
        }
        FrameworkError::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            reply(
                ctx,
                &format!("I need the {missing_permissions} permission in this channel for that."),
            )
            .await;
        }
        FrameworkError::GuildOnly { ctx, .. } => {
            reply(ctx, "This command works in a server, not in DMs.").await;
        }
        FrameworkError::CooldownHit {
            remaining_cooldown,
            ctx,
            ..
        } => {
            reply(
                ctx,
                &format!(
                    "Slow down a little: try again in {:.0} s.",
                    remaining_cooldown.as_secs_f32().ceil()
                ),
            )
            .await;
        }
        FrameworkError::CommandPanic { payload, ctx, .. } => {
            error!(command = %ctx.command().qualified_name, ?payload, "command panicked");
            reply(ctx, OUR_FAULT).await;
        }
        FrameworkError::CommandStructureMismatch {
            description, ctx, ..
        } => {
            warn!(command = %ctx.command().qualified_name, %description,
                "Discord's copy of the command differs from ours; registration may be stale");
            reply(
                poise::Context::Application(ctx),
                "This command changed since Discord last saw it; try again in a minute.",
            )
            .await;
        }
        FrameworkError::Setup { error, .. } => {
            error!("setup failed: {error}");
        }
        FrameworkError::EventHandler { error, event, .. } => {
            error!(
                event = event.snake_case_name(),
                "event handler failed: {error}"
            );
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                error!("error while handling an error: {e}");
            }
        }
    }
}

async fn reply(ctx: super::Context<'_>, msg: &str) {
    let reply = poise::CreateReply::default()
        .content(crate::text::truncate(
            msg,
            crate::text::limits::MESSAGE_CONTENT,
        ))
        .ephemeral(true)
        .allowed_mentions(render::no_mentions());
    if let Err(e) = ctx.send(reply).await {
        warn!("could not send an error reply: {e}");
    }
}

/// Whether the member behind an interaction has `perm`, from the permissions Discord computed
/// for the interaction (channel overwrites included). Fails closed: no member, no permission.
pub fn member_has(member: Option<&serenity::Member>, perm: serenity::Permissions) -> bool {
    member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.contains(perm) || p.administrator())
}
