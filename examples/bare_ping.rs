//! The benchmarks' floor: a bare serenity + poise bot with one `/ping` command.
//!
//! `benches/ask_latency.rs` and `benches/burst.rs` run it next to prepbot against the same
//! fake Discord and print prepbot's figures as ratios of this one's. It does what any poise
//! bot does and nothing more: connect, register its one command in the guild at READY, and
//! answer each `/ping` with one interaction callback. It also answers any button click with
//! one ephemeral callback, so `burst` can time a click on prepbot's quiz message (whose
//! payload carries the whole message) against the same click on a bot that does nothing else. Its REST client is built the way
//! prepbot builds serenity's (the proxy URL, the rate limiter off, as serenity requires for a
//! proxy) but otherwise left at serenity's defaults, as a bare bot would have it.
//!
//! Usage: `DISCORD_TOKEN=… bare_ping API_BASE GUILD_ID` (the benches build it with
//! `cargo build --profile bench --example bare_ping`, the profile and features of the
//! prepbot binary they measure).

use poise::serenity_prelude as serenity;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, (), Error>;

/// Answers pong.
#[poise::command(slash_command)]
async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    ctx.say("pong").await?;
    Ok(())
}

/// Answers a button click with an ephemeral "ok".
async fn click(ctx: &serenity::Context, event: &serenity::FullEvent) -> Result<(), Error> {
    if let serenity::FullEvent::InteractionCreate {
        interaction: serenity::Interaction::Component(c),
    } = event
    {
        let ok = serenity::CreateInteractionResponseMessage::new()
            .content("ok")
            .ephemeral(true);
        c.create_response(&ctx.http, serenity::CreateInteractionResponse::Message(ok))
            .await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(guild)) = (args.next(), args.next()) else {
        return Err("usage: DISCORD_TOKEN=… bare_ping API_BASE GUILD_ID".into());
    };
    let guild = serenity::GuildId::new(guild.parse()?);
    let token = std::env::var("DISCORD_TOKEN")?;
    let http = serenity::HttpBuilder::new(&token)
        .proxy(base.trim_end_matches('/'))
        .ratelimiter_disabled(true)
        .build();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![ping()],
            event_handler: |fw, event| Box::pin(click(fw.serenity_context, event)),
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_in_guild(ctx, &framework.options().commands, guild)
                    .await?;
                Ok(())
            })
        })
        .build();
    let mut client = serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
        .framework(framework)
        .await?;
    client.start().await?;
    Ok(())
}
