//! The one error policy of the edge, and the central handler that applies it.
//!
//! - [`Error`] is typed: a [`UserError`] is what a member reads (a bad argument, a missing
//!   permission, "try again"); every other variant is a fault on our side, logged with the
//!   command or event it happened in, while the member is told briefly.
//! - A failure that must not stop the work at hand (a bookkeeping write after a message went
//!   out) is passed to [`log_failure`], never dropped: `let _ =` on a `Result` is denied by
//!   the crate's lints outside tests.
//! - Every interaction gets an answer: the handler below replies to every framework error,
//!   and `events` answers clicks and commands poise does not know.

use poise::serenity_prelude as serenity;
use poise::FrameworkError;
use tracing::{error, warn};

use super::deliver::DeliveryError;
use super::{render, Data};
use crate::store::StoreError;

/// Why a command or handler failed.
#[derive(Debug)]
pub enum Error {
    /// The member can fix this; the text is shown to them as is.
    User(UserError),
    /// The database failed.
    Store(StoreError),
    /// A send through our delivery client failed (after its retries).
    Delivery(DeliveryError),
    /// serenity (a REST call through it, or a model it could not parse).
    Discord(Box<serenity::Error>),
    /// A payload that should have been valid JSON was not.
    Json(serde_json::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::User(u) => write!(f, "{u}"),
            Error::Store(e) => write!(f, "{e}"),
            Error::Delivery(e) => write!(f, "{e}"),
            Error::Discord(e) => write!(f, "Discord: {e}"),
            Error::Json(e) => write!(f, "JSON: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<UserError> for Error {
    fn from(e: UserError) -> Self {
        Error::User(e)
    }
}
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}
impl From<DeliveryError> for Error {
    fn from(e: DeliveryError) -> Self {
        Error::Delivery(e)
    }
}
impl From<serenity::Error> for Error {
    fn from(e: serenity::Error) -> Self {
        Error::Discord(Box::new(e))
    }
}
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

impl Error {
    /// What the member reads: their own mistake verbatim, a "try again" for a busy database,
    /// and a short apology for everything else (the detail goes to the log).
    pub fn for_member(&self) -> String {
        match self {
            Error::User(u) => u.0.clone(),
            Error::Store(e) if e.is_busy() => BUSY.to_string(),
            _ => OUR_FAULT.to_string(),
        }
    }

    pub fn is_user(&self) -> bool {
        matches!(self, Error::User(_))
    }
}

/// Logs a failure that the caller deliberately does not propagate (the main work is done
/// and this step is bookkeeping), with what was being done.
pub fn log_failure<T, E: std::fmt::Display>(result: Result<T, E>, doing: &str) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            error!("{doing} failed: {e}");
            None
        }
    }
}

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
    Err(Error::User(UserError(msg.into())))
}

pub const OUR_FAULT: &str =
    "Something went wrong on our side; it has been logged. Please try again in a moment.";

pub const BUSY: &str = "The bot's database is busy right now. Please try again in a few seconds.";

/// When a command started, kept in poise's per-invocation data for [`finished`].
struct Started(std::time::Instant);

/// poise's `pre_command`: notes the start, for the interaction latency histogram.
pub async fn started(ctx: super::Context<'_>) {
    ctx.set_invocation_data(Started(std::time::Instant::now()))
        .await;
}

/// poise's `post_command` (the command returned `Ok`).
pub async fn finished(ctx: super::Context<'_>) {
    count(ctx, "ok").await;
}

/// Counts one finished command by name and outcome, with its duration when it got as far
/// as starting (a failed check stops it before).
async fn count(ctx: super::Context<'_>, outcome: &'static str) {
    let took = ctx
        .invocation_data::<Started>()
        .await
        .map(|s| s.0.elapsed());
    crate::metrics::interaction(&ctx.command().qualified_name, outcome, took);
}

pub async fn on_error(err: FrameworkError<'_, Data, Error>) {
    // Every outcome is counted (`prepbot_interactions_total`) before it is answered.
    if let Some(ctx) = err.ctx() {
        let outcome = match &err {
            FrameworkError::Command { error, .. } if error.is_user() => "user_error",
            FrameworkError::Command { .. } => "error",
            FrameworkError::CommandPanic { .. } => "panic",
            FrameworkError::CommandCheckFailed { error: Some(e), .. } if !e.is_user() => "error",
            FrameworkError::CommandCheckFailed { .. }
            | FrameworkError::MissingUserPermissions { .. }
            | FrameworkError::MissingBotPermissions { .. }
            | FrameworkError::GuildOnly { .. }
            | FrameworkError::CooldownHit { .. } => "denied",
            _ => "bad_argument",
        };
        count(ctx, outcome).await;
    } else if let FrameworkError::UnknownInteraction { .. } = &err {
        // Not the name Discord sent: a forged one must not make a new time series.
        crate::metrics::interaction("(unknown command)", "unknown", None);
    }
    match err {
        FrameworkError::Command { error, ctx, .. } => {
            if !error.is_user() {
                error!(command = %ctx.command().qualified_name, "command failed: {error}");
            }
            reply(ctx, &error.for_member()).await;
        }
        FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            let msg = match error {
                Some(e) => {
                    if !e.is_user() {
                        error!(command = %ctx.command().qualified_name, "check failed: {e}");
                    }
                    e.for_member()
                }
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
            let msg = match explain_mismatch(ctx.command(), &ctx.interaction.data.options()) {
                Some(what) => what,
                None => {
                    warn!(command = %ctx.command().qualified_name, %description,
                        "Discord's copy of the command differs from ours; registration may be stale");
                    "This command changed since Discord last saw it; try again in a minute."
                        .to_string()
                }
            };
            reply(poise::Context::Application(ctx), &msg).await;
        }
        FrameworkError::UnknownInteraction {
            framework,
            interaction,
            ..
        } => {
            warn!(command = %interaction.data.name, "an interaction for a command we do not have");
            let answer = super::events::ephemeral(
                "This command no longer exists here. Type / to see the current commands.",
            );
            if let Err(e) = interaction
                .create_response(&framework.serenity_context.http, answer)
                .await
            {
                warn!("could not answer an unknown command: {e}");
            }
        }
        FrameworkError::SubcommandRequired { ctx } => {
            let subs = ctx
                .command()
                .subcommands
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ");
            reply(ctx, &format!("Pick one of: {subs}.")).await;
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

/// Which option Discord sent with the wrong type or out of range, in words for the member,
/// found by comparing each option to our declaration of its parameter (type, bounds).
pub fn explain_mismatch(
    command: &poise::Command<Data, Error>,
    options: &[serenity::ResolvedOption<'_>],
) -> Option<String> {
    use serenity::ResolvedValue as V;
    for o in options {
        if let V::SubCommand(inner) | V::SubCommandGroup(inner) = &o.value {
            // poise hands us the invoked subcommand itself, while the options still start
            // at the top-level command: descend until the names meet.
            let sub = command
                .subcommands
                .iter()
                .find(|c| c.name == o.name)
                .unwrap_or(command);
            return explain_mismatch(sub, inner);
        }
        let param = command.parameters.iter().find(|p| p.name == o.name)?;
        let spec = param
            .create_as_slash_command_option()
            .map(|b| super::deliver::body(&b))
            .unwrap_or_default();
        let kind = spec["type"].as_u64().unwrap_or(0);
        let name = crate::text::truncate(o.name, 32);
        let wrong_type = |expected: &str| Some(format!("`{name}` must be {expected}."));
        match (kind, &o.value) {
            (4, V::Integer(v)) => {
                let min = spec["min_value"].as_f64();
                let max = spec["max_value"].as_f64();
                // Without #[min]/#[max], poise declares the Rust type's bounds, which are also
                // the ones its conversion enforces.
                let out =
                    min.is_some_and(|m| (*v as f64) < m) || max.is_some_and(|m| (*v as f64) > m);
                if out {
                    return Some(match (min, max) {
                        (Some(a), Some(b)) => {
                            format!("`{name}` must be between {a} and {b}; you gave {v}.")
                        }
                        _ => format!("`{name}` is out of range: {v}."),
                    });
                }
            }
            (4, _) => return wrong_type("a whole number"),
            (5, V::Boolean(_)) => {}
            (5, _) => return wrong_type("true or false"),
            (3, V::String(_) | V::Autocomplete { .. }) => {}
            (3, _) => return wrong_type("text"),
            (10, V::Number(_) | V::Integer(_)) => {}
            (10, _) => return wrong_type("a number"),
            (7, V::Channel(_)) | (8, V::Role(_)) | (6, V::User(..)) => {}
            (7, _) => return wrong_type("a channel"),
            (8, _) => return wrong_type("a role"),
            (6, _) => return wrong_type("a member"),
            _ => {}
        }
    }
    None
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
