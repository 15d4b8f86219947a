//! Proves the fake Discord in `tests/support` is faithful enough to trust: serenity's own types
//! accept everything it sends, a bare serenity client runs against it (including reconnects),
//! its REST store and fault injection behave like Discord, and schema validation can fail.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use serenity::all::{
    ChannelId, Command, CommandDataOptionValue, CommandOptionType, ComponentInteractionDataKind,
    Context, CreateActionRow, CreateAutocompleteResponse, CreateButton, CreateCommand,
    CreateCommandOption, CreateEmbed, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, CreateThread, EditInteractionResponse, Event,
    EventHandler, GatewayIntents, GetMessages, GuildId, Http, HttpBuilder, Interaction, MessageId,
    Nonce, RawEventHandler, ReactionType, Ready, UserId,
};
use serenity::model::event::GatewayEvent;
use serenity::model::prelude::{Guild, Reaction};
use tokio::sync::mpsc;

use support::*;

const WAIT: Duration = Duration::from_secs(10);

/// Deserializes a gateway frame the way serenity's shard does and returns the dispatched event.
fn dispatched(frame: Value) -> Event {
    let text = frame.to_string();
    match serde_json::from_str::<GatewayEvent>(&text).expect("GatewayEvent") {
        GatewayEvent::Dispatch(_, Event::Unknown(u)) => {
            panic!("serenity did not understand {}: {:?}", u.kind, u.value)
        }
        GatewayEvent::Dispatch(_, event) => event,
        other => panic!("not a dispatch: {other:?}"),
    }
}

fn interaction_of(fake_data: Value) -> Interaction {
    match dispatched(frame(0, Some("INTERACTION_CREATE"), Some(1), fake_data)) {
        Event::InteractionCreate(e) => e.interaction,
        other => panic!("not an interaction: {other:?}"),
    }
}

fn serenity_http(fake: &FakeDiscord) -> Http {
    HttpBuilder::new(TOKEN)
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build()
}

// ---- 1. everything the fake sends or answers is accepted by serenity's own types -------------

#[tokio::test]
async fn gateway_payloads_are_serenity_events() {
    let fake = FakeDiscord::start().await;

    assert!(matches!(
        dispatched(frame(0, Some("READY"), Some(1), fake.ready_payload())),
        Event::Ready(_)
    ));
    match dispatched(frame(
        0,
        Some("GUILD_CREATE"),
        Some(2),
        fake.guild_create_payload(),
    )) {
        Event::GuildCreate(e) => {
            assert_eq!(e.guild.id.get(), GUILD_ID);
            assert!(e.guild.channels.contains_key(&ChannelId::new(CHANNEL_ID)));
            assert!(e
                .guild
                .channels
                .contains_key(&ChannelId::new(OTHER_CHANNEL_ID)));
            assert!(e
                .guild
                .roles
                .values()
                .any(|r| r.id.get() == ROLE_ID && r.name != "@everyone"));
            let admin = &e.guild.members[&UserId::new(ADMIN.id)];
            assert!(e.guild.member_permissions(admin).manage_guild());
            let member = &e.guild.members[&UserId::new(MEMBER.id)];
            assert!(!e.guild.member_permissions(member).manage_guild());
            assert!(!e.guild.member_permissions(member).manage_messages());
        }
        other => panic!("{other:?}"),
    }
    for (op, d) in [
        (10, hello()["d"].clone()),
        (11, Value::Null),
        (7, Value::Null),
        (9, json!(false)),
    ] {
        serde_json::from_value::<GatewayEvent>(frame(op, None, None, d))
            .expect("non-dispatch frame");
    }

    // A slash command with every basic option type, inside a subcommand group.
    let options = json!({
        "text": "hi", "n": 3, "flag": true, "x": 1.5,
        "where": {"type": 7, "value": OTHER_CHANNEL_ID.to_string()},
        "role": {"type": 8, "value": ROLE_ID.to_string()},
        "who": {"type": 6, "value": ADMIN.id.to_string()},
    });
    let cmd = fake.slash_command("quiz", &["admin", "start"], options, &MEMBER, CHANNEL_ID);
    let Interaction::Command(cmd) = interaction_of(cmd) else {
        panic!("not a command")
    };
    assert_eq!(cmd.data.name, "quiz");
    assert_eq!(cmd.member.as_ref().unwrap().user.id.get(), MEMBER.id);
    assert!(!cmd
        .member
        .as_ref()
        .unwrap()
        .permissions
        .unwrap()
        .manage_guild());
    let CommandDataOptionValue::SubCommandGroup(group) = &cmd.data.options[0].value else {
        panic!("group")
    };
    assert_eq!(
        (cmd.data.options[0].name.as_str(), group[0].name.as_str()),
        ("admin", "start")
    );
    let CommandDataOptionValue::SubCommand(leaf) = &group[0].value else {
        panic!("subcommand")
    };
    let get = |name: &str| &leaf.iter().find(|o| o.name == name).unwrap().value;
    assert_eq!(get("text"), &CommandDataOptionValue::String("hi".into()));
    assert_eq!(get("n"), &CommandDataOptionValue::Integer(3));
    assert_eq!(get("flag"), &CommandDataOptionValue::Boolean(true));
    assert_eq!(get("x"), &CommandDataOptionValue::Number(1.5));
    assert_eq!(
        get("where"),
        &CommandDataOptionValue::Channel(ChannelId::new(OTHER_CHANNEL_ID))
    );
    assert!(matches!(get("role"), CommandDataOptionValue::Role(r) if r.get() == ROLE_ID));
    assert!(matches!(get("who"), CommandDataOptionValue::User(u) if u.get() == ADMIN.id));
    assert!(cmd
        .data
        .resolved
        .channels
        .contains_key(&ChannelId::new(OTHER_CHANNEL_ID)));
    assert!(cmd.data.resolved.roles.keys().any(|r| r.get() == ROLE_ID));
    assert!(cmd.data.resolved.users.contains_key(&UserId::new(ADMIN.id)));
    assert_eq!(cmd.data.options().len(), 1, "resolving options works");

    // Admin permissions arrive as a string of bits.
    let Interaction::Command(admin_cmd) =
        interaction_of(fake.slash_command("ping", &[], json!({}), &ADMIN, CHANNEL_ID))
    else {
        panic!()
    };
    assert!(admin_cmd
        .member
        .unwrap()
        .permissions
        .unwrap()
        .manage_guild());

    // In a DM the invoker is `user`, and there is no guild or member.
    let http = serenity_http(&fake);
    let dm = UserId::new(MEMBER.id)
        .create_dm_channel(&http)
        .await
        .unwrap();
    let Interaction::Command(in_dm) =
        interaction_of(fake.slash_command("ping", &[], json!({}), &MEMBER, dm.id.get()))
    else {
        panic!()
    };
    assert_eq!(
        (in_dm.user.id.get(), in_dm.guild_id, in_dm.member.is_none()),
        (MEMBER.id, None, true)
    );

    let ac = fake.autocomplete(
        "quiz",
        &["start"],
        json!({"topic": "ru", "n": 2}),
        "topic",
        &MEMBER,
        CHANNEL_ID,
    );
    let Interaction::Autocomplete(ac) = interaction_of(ac) else {
        panic!("not autocomplete")
    };
    let focused = ac.data.autocomplete().expect("focused option");
    assert_eq!((focused.name, focused.value), ("topic", "ru"));

    // A button on a message the fake stored.
    let button = CreateButton::new("next").label("Next");
    let msg = ChannelId::new(CHANNEL_ID)
        .send_message(
            &http,
            CreateMessage::new()
                .content("q1")
                .components(vec![CreateActionRow::Buttons(vec![button])]),
        )
        .await
        .unwrap();
    let click = fake.button_click(
        "next",
        &fake.message(msg.id.get()).unwrap(),
        &MEMBER,
        CHANNEL_ID,
    );
    let Interaction::Component(click) = interaction_of(click) else {
        panic!("not a component")
    };
    assert_eq!(click.data.custom_id, "next");
    assert!(matches!(
        click.data.kind,
        ComponentInteractionDataKind::Button
    ));
    assert_eq!(click.message.id, msg.id);

    let reaction = fake.reaction_add(CHANNEL_ID, msg.id.get(), &MEMBER, "💡");
    match dispatched(frame(0, Some("MESSAGE_REACTION_ADD"), Some(1), reaction)) {
        Event::ReactionAdd(e) => {
            assert_eq!(e.reaction.emoji, ReactionType::Unicode("💡".into()));
            assert_eq!(e.reaction.user_id.unwrap().get(), MEMBER.id);
            assert_eq!(e.reaction.message_author_id.unwrap().get(), BOT_USER_ID);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rest_answers_are_serenity_types() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    // A running client learns this from READY; a bare Http needs it for command routes.
    http.set_application_id(serenity::all::ApplicationId::new(APP_ID));

    assert_eq!(http.get_gateway().await.unwrap().url, fake.gateway_url());
    assert_eq!(http.get_bot_gateway().await.unwrap().shards, 1);
    let app = http.get_current_application_info().await.unwrap();
    assert_eq!(
        (app.id.get(), app.owner.unwrap().id.get()),
        (APP_ID, OWNER.id)
    );
    assert_eq!(http.get_current_user().await.unwrap().id.get(), BOT_USER_ID);

    let commands = vec![
        CreateCommand::new("ping").description("Ping"),
        CreateCommand::new("quiz").description("Quiz").add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "start", "Start a round")
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::String, "topic", "Topic")
                        .required(true),
                ),
        ),
    ];
    let registered = Command::set_global_commands(&http, commands.clone())
        .await
        .unwrap();
    assert_eq!(registered.len(), 2);
    assert_eq!(registered[0].application_id.get(), APP_ID);
    // Re-registering keeps the ids, as on Discord.
    let again = Command::set_global_commands(&http, commands.clone())
        .await
        .unwrap();
    assert_eq!(again[1].id, registered[1].id);
    let guild_cmds = GuildId::new(GUILD_ID)
        .set_commands(&http, commands)
        .await
        .unwrap();
    assert_eq!(guild_cmds[0].guild_id.unwrap().get(), GUILD_ID);

    let roles = http.get_guild_roles(GuildId::new(GUILD_ID)).await.unwrap();
    assert!(roles.iter().any(|r| r.id.get() == ROLE_ID));
    let member = http
        .get_member(GuildId::new(GUILD_ID), UserId::new(ADMIN.id))
        .await
        .unwrap();
    assert_eq!(member.user.id.get(), ADMIN.id);
    assert!(http
        .get_member(GuildId::new(GUILD_ID), UserId::new(42))
        .await
        .is_err());
    let channel = http
        .get_channel(ChannelId::new(CHANNEL_ID))
        .await
        .unwrap()
        .guild()
        .unwrap();
    assert_eq!(channel.name, "general");
    // Two text channels, their category, and the voice channel `/daily set` must refuse.
    assert_eq!(
        http.get_channels(GuildId::new(GUILD_ID))
            .await
            .unwrap()
            .len(),
        4,
        "two text channels, their category and a voice channel"
    );

    let general = ChannelId::new(CHANNEL_ID);
    let embed = CreateEmbed::new()
        .title("Question")
        .description("What is a monad?")
        .field("Topic", "fp", true);
    let first = general
        .send_message(&http, CreateMessage::new().content("hello").embed(embed))
        .await
        .unwrap();
    assert_eq!(first.author.id.get(), BOT_USER_ID);
    assert_eq!(first.embeds[0].title.as_deref(), Some("Question"));
    let reply = general
        .send_message(
            &http,
            CreateMessage::new().content("re").reference_message(&first),
        )
        .await
        .unwrap();
    assert_eq!(reply.referenced_message.as_ref().unwrap().id, first.id);
    let edited = general
        .edit_message(
            &http,
            first.id,
            serenity::all::EditMessage::new().content("edited"),
        )
        .await
        .unwrap();
    assert_eq!(edited.content, "edited");
    assert!(edited.edited_timestamp.is_some());
    first.react(&http, '💡').await.unwrap();
    let fetched = general.message(&http, first.id).await.unwrap();
    assert!(fetched.reactions[0].me);
    assert!(
        fake.count(|r| r.path.ends_with("/reactions/💡/@me")) == 1,
        "emoji is percent-decoded"
    );
    let listed = general
        .messages(&http, GetMessages::new().limit(1))
        .await
        .unwrap();
    assert_eq!(listed[0].id, reply.id, "newest first");

    let thread = general
        .create_thread_from_message(&http, first.id, CreateThread::new("discussion"))
        .await
        .unwrap();
    assert_eq!(
        (thread.id.get(), thread.parent_id.unwrap()),
        (first.id.get(), general)
    );
    thread.id.say(&http, "in thread").await.unwrap();

    let dm = UserId::new(MEMBER.id)
        .create_dm_channel(&http)
        .await
        .unwrap();
    assert_eq!(dm.recipient.id.get(), MEMBER.id);
    assert_eq!(dm.say(&http, "psst").await.unwrap().channel_id, dm.id);
    assert!(http.get_channel(dm.id).await.unwrap().private().is_some());
    fake.close_dms(&MEMBER);
    let refused = dm.say(&http, "again").await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("Cannot send messages to this user"),
        "{refused}"
    );

    general.delete_message(&http, reply.id).await.unwrap();
    assert!(fake.message(reply.id.get()).is_none());
    assert!(general
        .message(&http, MessageId::new(reply.id.get()))
        .await
        .is_err());

    // An unknown route is a recorded 404, not a silent success.
    assert!(http.get_guild(GuildId::new(GUILD_ID)).await.is_err());
    assert_eq!(
        fake.count(|r| r.path == format!("/guilds/{GUILD_ID}") && r.status == 404),
        1
    );
    fake.assert_no_schema_violations();
}

/// A message created by the response to a button click (an ephemeral reply with its own
/// buttons) is a serenity `Message`, and a click on one of its buttons a component
/// interaction: Discord's metadata of a component interaction names the clicked message, and
/// serenity refuses the metadata (and with it the whole interaction) without it.
#[tokio::test]
async fn a_reply_to_a_click_and_a_click_on_it_are_serenity_types() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let row = CreateActionRow::Buttons(vec![CreateButton::new("first")]);
    let posted = ChannelId::new(CHANNEL_ID)
        .send_message(
            &http,
            CreateMessage::new().content("q").components(vec![row]),
        )
        .await
        .unwrap();
    let posted = fake.message(posted.id.get()).unwrap();
    let click = fake.button_click("first", &posted, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let Interaction::Component(got) = interaction_of(click.clone()) else {
        panic!("not a component interaction")
    };
    let reply = CreateInteractionResponseMessage::new()
        .content("answer")
        .ephemeral(true)
        .components(vec![CreateActionRow::Buttons(vec![CreateButton::new(
            "second",
        )])]);
    got.create_response(&http, CreateInteractionResponse::Message(reply))
        .await
        .unwrap();
    let answer = fake
        .messages(CHANNEL_ID)
        .into_iter()
        .find(|m| m["content"] == "answer")
        .expect("the reply");
    assert_eq!(
        answer["interaction_metadata"]["interacted_message_id"],
        posted["id"]
    );
    let parsed: serenity::all::Message = serde_json::from_value(answer.clone()).unwrap();
    assert!(parsed.interaction_metadata.is_some());
    let second = fake.button_click("second", &answer, &MEMBER, CHANNEL_ID);
    assert!(matches!(interaction_of(second), Interaction::Component(_)));
}

// ---- 2. a bare serenity client against the fake ---------------------------------------------------

#[derive(Debug)]
enum Seen {
    Ready(Box<Ready>),
    GuildCreate(Box<Guild>),
    Interaction(Box<Interaction>),
    Reaction(Box<Reaction>),
    Unknown(String),
}

struct Forward(mpsc::UnboundedSender<Seen>);

/// Forwards events to the test and answers interactions the way a bot would.
#[serenity::async_trait]
impl EventHandler for Forward {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.0.send(Seen::Ready(Box::new(ready)));
    }

    async fn guild_create(&self, _: Context, guild: Guild, _: Option<bool>) {
        let _ = self.0.send(Seen::GuildCreate(Box::new(guild)));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match &interaction {
            Interaction::Command(cmd) if cmd.data.name == "echo" => {
                let text = cmd
                    .data
                    .options
                    .iter()
                    .find(|o| o.name == "text")
                    .and_then(|o| o.value.as_str())
                    .unwrap_or("");
                let message = CreateInteractionResponseMessage::new()
                    .content(format!("echo: {text}"))
                    .components(vec![CreateActionRow::Buttons(vec![CreateButton::new(
                        "again",
                    )
                    .label("Again")])]);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(message))
                    .await
                    .unwrap();
            }
            Interaction::Command(cmd) => {
                // Deferred, then the real answer: type 5 + PATCH @original.
                cmd.defer_ephemeral(&ctx.http).await.unwrap();
                cmd.edit_response(&ctx.http, EditInteractionResponse::new().content("done"))
                    .await
                    .unwrap();
            }
            Interaction::Component(click) => {
                let update = CreateInteractionResponseMessage::new().content("clicked");
                click
                    .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(update))
                    .await
                    .unwrap();
            }
            Interaction::Autocomplete(ac) => {
                let choices = CreateAutocompleteResponse::new().add_string_choice("Rust", "rust");
                ac.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let _ = self.0.send(Seen::Interaction(Box::new(interaction)));
    }

    async fn reaction_add(&self, _: Context, reaction: Reaction) {
        let _ = self.0.send(Seen::Reaction(Box::new(reaction)));
    }
}

/// Reports events serenity could not parse (it would otherwise drop them silently).
struct Raw(mpsc::UnboundedSender<Seen>);

#[serenity::async_trait]
impl RawEventHandler for Raw {
    async fn raw_event(&self, _: Context, event: Event) {
        if let Event::Unknown(u) = event {
            let _ = self
                .0
                .send(Seen::Unknown(format!("{}: {}", u.kind, u.value)));
        }
    }
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(Seen::Unknown(what))) => {
            panic!("serenity turned an event into Event::Unknown: {what}")
        }
        Ok(Some(seen)) => seen,
        _ => panic!("no event from the client within {WAIT:?}"),
    }
}

async fn next_interaction(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Interaction {
    loop {
        if let Seen::Interaction(i) = next_seen(rx).await {
            return *i;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_client_runs_against_the_fake() {
    let fake = FakeDiscord::start().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let intents = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::GUILD_MESSAGE_REACTIONS;
    let mut client = serenity::all::ClientBuilder::new_with_http(serenity_http(&fake), intents)
        .event_handler(Forward(tx.clone()))
        .raw_event_handler(Raw(tx))
        .await
        .expect("client");
    let http = client.http.clone();
    let runner = tokio::spawn(async move { client.start().await });

    fake.wait_ready(WAIT).await;
    assert!(matches!(next_seen(&mut rx).await, Seen::Ready(r) if r.user.id.get() == BOT_USER_ID));
    assert!(matches!(next_seen(&mut rx).await, Seen::GuildCreate(g) if g.id.get() == GUILD_ID));
    let identify = &fake.identifies()[0];
    assert_eq!(identify["intents"].as_u64(), Some(intents.bits()));
    assert_eq!(identify["token"], format!("Bot {TOKEN}"));
    assert_eq!(
        fake.requests()[0].path,
        "/gateway",
        "serenity asks for the gateway URL first"
    );

    // Register commands so the fake types options from them (channel, role given as plain ids).
    let echo = CreateCommand::new("echo")
        .description("Echo")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "text", "Text").required(true),
        )
        .add_option(CreateCommandOption::new(
            CommandOptionType::Channel,
            "where",
            "Where",
        ))
        .add_option(CreateCommandOption::new(
            CommandOptionType::Role,
            "role",
            "Role",
        ))
        .add_option(CreateCommandOption::new(
            CommandOptionType::Integer,
            "n",
            "N",
        ));
    let quiz = CreateCommand::new("quiz").description("Quiz").add_option(
        CreateCommandOption::new(CommandOptionType::SubCommand, "start", "Start").add_sub_option(
            CreateCommandOption::new(CommandOptionType::String, "topic", "Topic")
                .set_autocomplete(true),
        ),
    );
    Command::set_global_commands(&http, vec![echo, quiz])
        .await
        .unwrap();

    // Slash command → Interaction::Command with typed options → reply recorded with its body.
    let options = json!({"text": "hello", "where": OTHER_CHANNEL_ID.to_string(), "role": ROLE_ID.to_string(), "n": 7});
    let cmd = fake.slash_command("echo", &[], options, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let Interaction::Command(got) = next_interaction(&mut rx).await else {
        panic!("not a command")
    };
    let opts = got.data.options();
    assert_eq!(opts.len(), 4);
    assert!(got
        .data
        .options
        .iter()
        .any(|o| o.value == CommandDataOptionValue::Channel(ChannelId::new(OTHER_CHANNEL_ID))));
    assert!(got
        .data
        .options
        .iter()
        .any(|o| o.value == CommandDataOptionValue::Integer(7)));
    let callback = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(
        (callback.status, callback.body["type"].as_u64()),
        (204, Some(4))
    );
    assert_eq!(callback.body["data"]["content"], "echo: hello");
    let response = fake
        .messages(CHANNEL_ID)
        .into_iter()
        .find(|m| m["content"] == "echo: hello")
        .expect("stored reply");
    assert_eq!(
        response["interaction_metadata"]["user"]["id"],
        MEMBER.id.to_string()
    );

    // @original and a followup through serenity's own calls (answers parse as `Message`).
    assert_eq!(
        got.get_response(&http).await.unwrap().content,
        "echo: hello"
    );
    let followup = CreateInteractionResponseFollowup::new()
        .content("more")
        .ephemeral(true);
    let followup = got.create_followup(&http, followup).await.unwrap();
    assert!(followup
        .flags
        .unwrap()
        .contains(serenity::all::MessageFlags::EPHEMERAL));
    assert_eq!(fake.message(followup.id.get()).unwrap()["content"], "more");

    // A second response to the same interaction is refused, like Discord does.
    let again = got
        .create_response(&http, CreateInteractionResponse::Acknowledge)
        .await;
    assert!(again
        .unwrap_err()
        .to_string()
        .contains("already been acknowledged"));

    // Button on the reply → UpdateMessage edits the clicked message.
    let click = fake.button_click("again", &response, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    assert!(matches!(
        next_interaction(&mut rx).await,
        Interaction::Component(_)
    ));
    assert_eq!(fake.wait_callback(&click, WAIT).await.body["type"], 7);
    let id: u64 = response["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(fake.message(id).unwrap()["content"], "clicked");

    // Autocomplete and deferred subcommand.
    // In a DM the invoker is `user`, and there is no guild or member.
    let http = serenity_http(&fake);
    let dm = UserId::new(MEMBER.id)
        .create_dm_channel(&http)
        .await
        .unwrap();
    let Interaction::Command(in_dm) =
        interaction_of(fake.slash_command("ping", &[], json!({}), &MEMBER, dm.id.get()))
    else {
        panic!()
    };
    assert_eq!(
        (in_dm.user.id.get(), in_dm.guild_id, in_dm.member.is_none()),
        (MEMBER.id, None, true)
    );

    let ac = fake.autocomplete(
        "quiz",
        &["start"],
        json!({"topic": "ru"}),
        "topic",
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", ac.clone());
    assert!(matches!(
        next_interaction(&mut rx).await,
        Interaction::Autocomplete(_)
    ));
    assert_eq!(
        fake.wait_callback(&ac, WAIT).await.body["data"]["choices"][0]["value"],
        "rust"
    );
    let start = fake.slash_command(
        "quiz",
        &["start"],
        json!({"topic": "rust"}),
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", start.clone());
    next_interaction(&mut rx).await;
    let edit = fake
        .wait_for(
            |r| r.is("PATCH", "/webhooks/") && r.path.ends_with("/@original"),
            WAIT,
        )
        .await;
    assert_eq!(edit.status, 200);
    let done = fake
        .messages(CHANNEL_ID)
        .into_iter()
        .find(|m| m["content"] == "done")
        .expect("deferred reply");
    assert_eq!(done["flags"], 64, "ephemeral, no longer loading");

    // Reaction dispatch → reaction_add.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, id, &MEMBER, "💡"),
    );
    assert!(matches!(next_seen(&mut rx).await, Seen::Reaction(r) if r.message_id.get() == id));

    // Faults: the client resumes after a dropped socket and after op 7 …
    for fault in ["drop", "reconnect"] {
        let resumes = fake.resume_count();
        if fault == "drop" {
            fake.drop_gateway()
        } else {
            fake.send_reconnect()
        }
        fake.dispatch(
            "MESSAGE_REACTION_ADD",
            fake.reaction_add(CHANNEL_ID, id, &ADMIN, "✅"),
        );
        fake.wait_ready(WAIT).await;
        assert_eq!(fake.resume_count(), resumes + 1, "{fault}: resumed");
        assert!(
            matches!(next_seen(&mut rx).await, Seen::Reaction(r) if r.user_id.unwrap().get() == ADMIN.id),
            "{fault}"
        );
    }
    // … and re-identifies after a non-resumable INVALID_SESSION (serenity waits ~5 s first).
    fake.invalidate_session(false);
    fake.wait_ready(Duration::from_secs(20)).await;
    assert_eq!(fake.identify_count(), 2);
    let cmd = fake.slash_command(
        "echo",
        &[],
        json!({"text": "still here"}),
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    loop {
        if let Interaction::Command(c) = next_interaction(&mut rx).await {
            assert_eq!(
                c.data.options[0].value,
                CommandDataOptionValue::String("still here".into())
            );
            break;
        }
    }
    fake.wait_callback(&cmd, WAIT).await;

    fake.assert_no_schema_violations();
    let unknown: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.status == 404)
        .collect();
    assert!(unknown.is_empty(), "unexpected 404s: {unknown:?}");
    runner.abort();
}

#[tokio::test]
async fn wrong_token_fails_at_identify_without_leaving_localhost() {
    let fake = FakeDiscord::start().await;
    let http = HttpBuilder::new("not-the-token")
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::all::ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .await
        .unwrap();
    let result = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("serenity gives up");
    assert!(result.is_err(), "{result:?}");
    assert_eq!(fake.identify_count(), 1);
    // GET /gateway was answered (no token needed), so serenity never fell back to discord.gg.
    assert_eq!(
        (fake.requests()[0].path.as_str(), fake.requests()[0].status),
        ("/gateway", 200)
    );
}

// ---- 3. store semantics and fault injection ----------------------------------------------------------

#[tokio::test]
async fn nonce_and_fault_injection() {
    let fake = FakeDiscord::start().await;
    let http = serenity_http(&fake);
    let general = ChannelId::new(CHANNEL_ID);
    let send = || {
        CreateMessage::new()
            .content("once")
            .nonce(Nonce::String("n-1".into()))
            .enforce_nonce(true)
    };
    let a = general.send_message(&http, send()).await.unwrap();
    let b = general.send_message(&http, send()).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(fake.messages(CHANNEL_ID).len(), 1);
    // Without enforce_nonce the nonce does not deduplicate.
    general
        .send_message(
            &http,
            CreateMessage::new()
                .content("twice")
                .nonce(Nonce::String("n-1".into())),
        )
        .await
        .unwrap();
    assert_eq!(fake.messages(CHANNEL_ID).len(), 2);

    let client = reqwest::Client::new();
    let url = format!("{}/api/v10/channels/{CHANNEL_ID}/messages", fake.api_base());
    let post = || {
        client
            .post(&url)
            .header("Authorization", format!("Bot {TOKEN}"))
            .json(&json!({"content": "hi"}))
    };
    fake.fail_next("POST", "/messages", 500, 1);
    let first = post().send().await.unwrap();
    assert_eq!(first.status(), 500);
    assert_eq!(first.json::<Value>().await.unwrap()["code"], 0);
    assert_eq!(post().send().await.unwrap().status(), 200);

    fake.rate_limit_next("POST", &format!("/channels/{CHANNEL_ID}/"), 2.5, 1);
    let limited = post().send().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(
        (body["retry_after"].as_f64(), body["global"].as_bool()),
        (Some(2.5), Some(false))
    );
    assert_eq!(post().send().await.unwrap().status(), 200);

    // serenity sees the injected error as an HTTP error.
    fake.fail_next("POST", "/messages", 503, 1);
    assert!(general.say(&http, "x").await.is_err());
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", "/channels/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 500, 200, 429, 200, 503]);

    // Without the bot token: 401.
    let anon = client
        .post(&url)
        .json(&json!({"content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);

    // Unknown routes: 404 "Unknown route", recorded.
    let res = client
        .get(format!("{}/api/v10/nope", fake.api_base()))
        .header("Authorization", format!("Bot {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Unknown route"
    );
    assert_eq!(fake.count(|r| r.path == "/nope" && r.status == 404), 1);
}

/// `hold_next`: the create takes effect at once (the message is listed while the answer is
/// held back), the answer comes after the delay, and a client that gives up meanwhile leaves
/// the message behind, as a killed process does.
#[tokio::test]
async fn a_held_create_is_stored_at_once_and_answered_late() {
    let fake = FakeDiscord::start().await;
    let guild = 1_400_000_000_000_000_001;
    let channel = fake.add_text_channel(guild, "elsewhere-daily");
    assert_eq!(
        fake.channel(channel).unwrap()["guild_id"],
        json!(guild.to_string())
    );
    let url = format!("{}/api/v10/channels/{channel}/messages", fake.api_base());
    let client = reqwest::Client::new();
    let post = |content: &'static str| {
        client
            .post(&url)
            .header("Authorization", format!("Bot {TOKEN}"))
            .json(&json!({"content": content, "allowed_mentions": {"parse": []}}))
            .send()
    };
    fake.hold_next("POST", "/messages", Duration::from_millis(600), 2);
    let started = std::time::Instant::now();
    let answer = tokio::spawn(post("held"));
    let stored = tokio::time::timeout(Duration::from_millis(400), async {
        while fake.messages(channel).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        stored.is_ok(),
        "the message was not stored before the answer"
    );
    assert!(!answer.is_finished(), "answered before the hold ended");
    let answer = answer.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(600));
    // Given up on (the client "dies"): the message stays.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), post("abandoned"))
            .await
            .is_err()
    );
    assert_eq!(fake.messages(channel).len(), 2);
    let held: Vec<Option<Duration>> = fake.requests().iter().map(|r| r.held).collect();
    assert_eq!(held, [Some(Duration::from_millis(600)); 2]);
    // Used up: the next one is answered at once; a cleared hold holds nothing.
    fake.hold_next("POST", "/messages", Duration::from_secs(5), 10);
    fake.clear_holds();
    let quick = tokio::time::timeout(Duration::from_secs(1), post("quick")).await;
    assert_eq!(quick.unwrap().unwrap().status(), 200);
    assert_eq!(fake.requests().last().unwrap().held, None);
    // A thread on a message of another guild belongs to that guild.
    let id = fake.messages(channel)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let thread: Value = client
        .post(format!("{url}/{id}/threads"))
        .header("Authorization", format!("Bot {TOKEN}"))
        .json(&json!({"name": "t"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(thread["guild_id"], json!(guild.to_string()));
}

// ---- 4. schema validation can fail -------------------------------------------------------------------

#[tokio::test]
async fn schema_validation_catches_invalid_bodies() {
    let fake = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}/api/v10{path}", fake.api_base()))
            .header("Authorization", format!("Bot {TOKEN}"))
            .json(&body)
            .send()
    };
    let messages = format!("/channels/{CHANNEL_ID}/messages");

    // Valid bodies pass.
    post(
        &messages,
        json!({"content": "hi", "embeds": [{"title": "T", "description": "D"}]}),
    )
    .await
    .unwrap();
    assert!(
        fake.schema_violations().is_empty(),
        "{:?}",
        fake.schema_violations()
    );
    fake.assert_no_schema_violations();

    // A 300-character embed title breaks the spec's maxLength 256.
    post(&messages, json!({"embeds": [{"title": "x".repeat(300)}]}))
        .await
        .unwrap();
    let v = fake.schema_violations();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].template, "/channels/{channel_id}/messages");
    assert!(v[0].message.contains("/embeds/0/title"), "{}", v[0].message);
    let caught = std::panic::catch_unwind(|| fake.assert_no_schema_violations());
    assert!(caught.is_err(), "assert_no_schema_violations must fail now");

    // A 100-character button label in an interaction callback (limit 80).
    let cmd = fake.slash_command("ping", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let button = json!({"type": 2, "style": 1, "label": "b".repeat(100), "custom_id": "b"});
    let body = json!({"type": 4, "data": {"content": "x", "components": [{"type": 1, "components": [button]}]}});
    let path = format!(
        "/interactions/{}/{}/callback",
        cmd["id"].as_str().unwrap(),
        cmd["token"].as_str().unwrap()
    );
    post(&path, body).await.unwrap();
    let v = fake.schema_violations();
    assert!(
        v[1].message
            .contains("CreateMessageInteractionCallbackRequest")
            && v[1].message.contains("label"),
        "{v:?}"
    );

    // The rules the spec does not encode.
    post(&messages, json!({"content": "y".repeat(2001)}))
        .await
        .unwrap();
    post(&messages, json!({"content": ""})).await.unwrap();
    let big = |c: char| json!({"description": c.to_string().repeat(3500)});
    post(&messages, json!({"embeds": [big('a'), big('b')]}))
        .await
        .unwrap();
    let extra: Vec<String> = fake.schema_violations()[2..]
        .iter()
        .map(|v| v.message.clone())
        .collect();
    assert!(extra[0].contains("2001 characters"), "{extra:?}");
    assert!(extra[1].contains("empty"), "{extra:?}");
    assert!(extra[2].contains("7000 characters"), "{extra:?}");
    assert_eq!(extra.len(), 3);

    // Path templates: literal segments win over parameters.
    assert_eq!(
        schema::spec()
            .template_for("/webhooks/1/tok/messages/@original")
            .as_deref(),
        Some("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
    );
}

// ---- 3. shards: each guild's events on the session of (guild_id >> 22) % total ------------------

/// A guild of the test world on shard 1 of 2 (`GUILD_ID` is on shard 0 of 2).
const GUILD_ON_SHARD_1: u64 = GUILD_ID + (1 << 22);

/// A bare serenity client running `shard` of `total`, whose requests and gateway session are
/// labelled `label` (`api_base_via`), as one bot process among several.
async fn shard_client(
    fake: &FakeDiscord,
    label: &str,
    shard: u32,
    total: u32,
) -> (
    mpsc::UnboundedReceiver<Seen>,
    std::sync::Arc<Http>,
    std::sync::Arc<serenity::all::ShardManager>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let http = HttpBuilder::new(TOKEN)
        .proxy(fake.api_base_via(label))
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::all::ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .event_handler(Forward(tx.clone()))
        .raw_event_handler(Raw(tx))
        .await
        .expect("client");
    let http = client.http.clone();
    let manager = client.shard_manager.clone();
    tokio::spawn(async move {
        client.start_shard(shard, total).await.unwrap();
    });
    (rx, http, manager)
}

/// The guild ids of the GUILD_CREATEs seen so far (waits for `n`).
async fn guilds_created(rx: &mut mpsc::UnboundedReceiver<Seen>, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < n {
        if let Seen::GuildCreate(g) = next_seen(rx).await {
            out.push(g.id.get());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_guild_is_served_on_its_shard_and_dms_on_shard_0() {
    assert_eq!(GUILD_ID >> 22 & 1, 0);
    assert_eq!(GUILD_ON_SHARD_1 >> 22 & 1, 1);
    let fake = FakeDiscord::start().await;
    fake.set_bot_gateway(2, 16);
    let far_channel = fake.join_guild(GUILD_ON_SHARD_1, "Far Away");

    // Only shard 0 runs at first: the far guild's interaction waits for its shard.
    let (mut rx0, http0, run0) = shard_client(&fake, "p0", 0, 2).await;
    fake.wait_shards_live(&[0], 2, WAIT).await;
    let Seen::Ready(ready) = next_seen(&mut rx0).await else {
        panic!("READY first")
    };
    let listed: Vec<u64> = ready.guilds.iter().map(|g| g.id.get()).collect();
    assert_eq!(
        listed,
        vec![GUILD_ID],
        "READY lists the shard's guilds only"
    );
    assert_eq!(ready.shard.map(|s| (s.id.0, s.total)), Some((0, 2)));
    assert_eq!(guilds_created(&mut rx0, 1).await, vec![GUILD_ID]);
    let gateway = http0.get_bot_gateway().await.unwrap();
    assert_eq!(gateway.shards, 2);
    assert_eq!(gateway.session_start_limit.max_concurrency, 16);
    assert!(
        gateway.url.contains("/via/p0/"),
        "the gateway URL keeps the label: {}",
        gateway.url
    );
    let early = fake.slash_command("ask", &[], json!({}), &MEMBER, far_channel);
    assert_eq!(early["guild_id"], GUILD_ON_SHARD_1.to_string());
    fake.dispatch("INTERACTION_CREATE", early.clone());

    let (mut rx1, _http1, run1) = shard_client(&fake, "p1", 1, 2).await;
    fake.wait_shards_live(&[0, 1], 2, WAIT).await;
    assert_eq!(guilds_created(&mut rx1, 1).await, vec![GUILD_ON_SHARD_1]);
    let Interaction::Command(got) = next_interaction(&mut rx1).await else {
        panic!("not a command")
    };
    assert_eq!(got.guild_id.map(|g| g.get()), Some(GUILD_ON_SHARD_1));

    // Live: each guild's interaction reaches its own shard's session only.
    let near = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    let far = fake.slash_command("ask", &[], json!({}), &MEMBER, far_channel);
    fake.dispatch("INTERACTION_CREATE", near.clone());
    fake.dispatch("INTERACTION_CREATE", far.clone());
    let Interaction::Command(got0) = next_interaction(&mut rx0).await else {
        panic!("not a command")
    };
    let Interaction::Command(got1) = next_interaction(&mut rx1).await else {
        panic!("not a command")
    };
    assert_eq!(got0.id.to_string(), near["id"].as_str().unwrap());
    assert_eq!(got1.id.to_string(), far["id"].as_str().unwrap());

    // A DM (no guild) goes to shard 0, as on Discord.
    let dm = http0
        .create_private_channel(&json!({"recipient_id": MEMBER.id.to_string()}))
        .await
        .unwrap();
    let in_dm = fake.slash_command("ask", &[], json!({}), &MEMBER, dm.id.get());
    assert!(in_dm["guild_id"].is_null());
    fake.dispatch("INTERACTION_CREATE", in_dm.clone());
    let Interaction::Command(got_dm) = next_interaction(&mut rx0).await else {
        panic!("not a command")
    };
    assert_eq!(got_dm.id.to_string(), in_dm["id"].as_str().unwrap());

    // The record says which session (and labelled process) carried each dispatch.
    let went = |id: &Value| {
        let id: u64 = id.as_str().unwrap().parse().unwrap();
        let d: Vec<Delivery> = fake
            .deliveries()
            .into_iter()
            .filter(|d| d.id == Some(id))
            .collect();
        assert_eq!(d.len(), 1, "delivered once: {d:?}");
        (d[0].shard, d[0].via.clone().unwrap())
    };
    assert_eq!(went(&early["id"]), (1, "p1".to_string()));
    assert_eq!(went(&near["id"]), (0, "p0".to_string()));
    assert_eq!(went(&far["id"]), (1, "p1".to_string()));
    assert_eq!(went(&in_dm["id"]), (0, "p0".to_string()));
    let creates: Vec<(u64, u32)> = fake
        .deliveries()
        .into_iter()
        .filter(|d| d.event == "GUILD_CREATE")
        .map(|d| (d.guild_id.unwrap(), d.shard))
        .collect();
    assert_eq!(creates, vec![(GUILD_ID, 0), (GUILD_ON_SHARD_1, 1)]);
    // REST is recorded with the label of the process that sent it.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path == "/users/@me/channels" && r.via.as_deref() == Some("p0")));
    let mut live = fake.live_shards();
    live.sort();
    assert_eq!(
        live,
        vec![(0, 2, Some("p0".into())), (1, 2, Some("p1".into()))]
    );

    // A guild joined while its shard is live: GUILD_CREATE on that shard only.
    let third = GUILD_ID + (3 << 22);
    fake.join_guild(third, "Third");
    assert_eq!(guilds_created(&mut rx1, 1).await, vec![third]);

    // Shard 1's process goes away: its guilds' events wait, shard 0's still flow.
    run1.shutdown_all().await;
    fake.wait_until_shards_down(&[1]).await;
    let waits = fake.slash_command("ask", &[], json!({}), &MEMBER, far_channel);
    let flows = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", waits.clone());
    fake.dispatch("INTERACTION_CREATE", flows.clone());
    let Interaction::Command(got) = next_interaction(&mut rx0).await else {
        panic!("not a command")
    };
    assert_eq!(got.id.to_string(), flows["id"].as_str().unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waits_id: u64 = waits["id"].as_str().unwrap().parse().unwrap();
    assert!(
        !fake.deliveries().iter().any(|d| d.id == Some(waits_id)),
        "a dispatch for a shard without a session was sent somewhere"
    );
    run0.shutdown_all().await;
}

#[tokio::test]
async fn the_global_rate_limit_answers_429_global_and_spares_interactions() {
    let fake = FakeDiscord::start().await;
    fake.limit_global(5);
    let client = reqwest::Client::new();
    let get = |path: String| {
        client
            .get(format!("{}/api/v10{path}", fake.api_base()))
            .header("authorization", format!("Bot {TOKEN}"))
            .send()
    };
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..8 {
        let r = get(format!("/channels/{CHANNEL_ID}")).await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 && limited.is_none() {
            let global = r.headers()["x-ratelimit-global"]
                .to_str()
                .unwrap()
                .to_string();
            let retry = r.headers()["retry-after"].to_str().unwrap().to_string();
            let body: Value = r.json().await.unwrap();
            limited = Some((global, retry, body));
        }
    }
    // Eight requests well within a second: five pass, three are refused (no effect).
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429, 429]);
    let (global, retry, body) = limited.unwrap();
    assert_eq!(global, "true");
    assert_eq!(retry, "1");
    assert_eq!(body["global"], true);
    let wait = body["retry_after"].as_f64().unwrap();
    assert!(wait > 0.0 && wait <= 1.0, "{body}");
    // Interaction callbacks are not bound by the global limit.
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let callback = client
        .post(format!(
            "{}/api/v10/interactions/{}/{}/callback",
            fake.api_base(),
            cmd["id"].as_str().unwrap(),
            cmd["token"].as_str().unwrap()
        ))
        .header("authorization", format!("Bot {TOKEN}"))
        .json(&json!({"type": 4, "data": {"content": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status().as_u16(), 204);
    // The next second has a fresh budget.
    tokio::time::sleep(Duration::try_from_secs_f64(wait + 0.05).unwrap()).await;
    assert_eq!(
        get(format!("/channels/{CHANNEL_ID}"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    fake.assert_no_schema_violations();
}
