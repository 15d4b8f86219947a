//! JSON shapes the fake Discord sends (gateway dispatch data) and answers (REST bodies).
//!
//! Every shape here is copied from a payload that serenity 0.12.5's own types accept
//! (`/work/shared/discord-payloads/samples.json`), with the values filled in from arguments.
//! Keep them complete: serenity turns a known event that lacks a required field into
//! `Event::Unknown` without logging anything, so a missing field makes the bot silently ignore
//! the event. `tests/fake_selftest.rs` deserializes every builder's output with serenity's types.
//!
//! The functions are pure (no fake state); `fake.rs` decides ids, channels and users.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

// ---- fixed ids of the test world (snowflakes from 2024, older than any fresh id) ----------

/// The application id; like a modern Discord app, it equals the bot's user id.
pub const APP_ID: u64 = 1_300_000_000_000_000_001;
pub const BOT_USER_ID: u64 = APP_ID;
pub const GUILD_ID: u64 = 1_300_000_000_000_000_010;
/// Category holding the two text channels.
pub const CATEGORY_ID: u64 = 1_300_000_000_000_000_011;
/// A text channel ("general").
pub const CHANNEL_ID: u64 = 1_300_000_000_000_000_012;
/// A second text channel ("bot-commands").
pub const OTHER_CHANNEL_ID: u64 = 1_300_000_000_000_000_013;
/// A voice channel of the guild: no place for a daily post.
pub const VOICE_CHANNEL_ID: u64 = 1_300_000_000_000_000_014;
/// Another server the bot is not in, and a text channel of it.
pub const FOREIGN_GUILD_ID: u64 = 1_300_000_000_000_000_090;
pub const FOREIGN_CHANNEL_ID: u64 = 1_300_000_000_000_000_091;
/// The "Admin" role that `ADMIN` has.
pub const ADMIN_ROLE_ID: u64 = 1_300_000_000_000_000_020;
/// A plain, non-@everyone role ("Member", no permissions of its own) that `MEMBER` has.
pub const ROLE_ID: u64 = 1_300_000_000_000_000_021;
/// The bot's managed role.
pub const BOT_ROLE_ID: u64 = 1_300_000_000_000_000_022;
/// The @everyone role's id is the guild id, as on Discord.
pub const EVERYONE_ROLE_ID: u64 = GUILD_ID;
/// The bot token the fake accepts (REST `Authorization: Bot <TOKEN>`, gateway IDENTIFY).
pub const TOKEN: &str = "fake-bot-token";
/// Heartbeat interval sent in HELLO (Discord's usual value).
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

// ---- permission bits ------------------------------------------------------------------------

pub const MANAGE_CHANNELS: u64 = 1 << 4;
/// "Manage Server".
pub const MANAGE_GUILD: u64 = 1 << 5;
pub const MANAGE_MESSAGES: u64 = 1 << 13;
pub const MANAGE_ROLES: u64 = 1 << 28;
/// What @everyone may do on a fresh Discord server (no Manage Server / Manage Messages).
pub const EVERYONE_PERMISSIONS: u64 = 1_799_868_426_735_169;
/// Moderator-ish permissions, deliberately without ADMINISTRATOR (0x8) so that checks for
/// single permissions are really exercised.
pub const ADMIN_PERMISSIONS: u64 =
    EVERYONE_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES | MANAGE_CHANNELS | MANAGE_ROLES;
/// The bot's permissions in the guild (`app_permissions` of interactions).
pub const BOT_PERMISSIONS: u64 = 1_799_885_875_048_001;

// ---- users ------------------------------------------------------------------------------------

/// A guild member the tests act as. `permissions` are the member's computed guild permissions
/// (sent as the string `member.permissions` in interactions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestUser {
    pub id: u64,
    pub name: &'static str,
    pub permissions: u64,
    pub roles: &'static [u64],
}

impl TestUser {
    /// A further member with @everyone's permissions and no roles, e.g.
    /// `const CAROL: TestUser = TestUser::new(1_300_000_000_000_000_105, "carol");`
    pub const fn new(id: u64, name: &'static str) -> Self {
        Self {
            id,
            name,
            permissions: EVERYONE_PERMISSIONS,
            roles: &[],
        }
    }

    pub const fn with_permissions(mut self, permissions: u64) -> Self {
        self.permissions = permissions;
        self
    }

    pub const fn with_roles(mut self, roles: &'static [u64]) -> Self {
        self.roles = roles;
        self
    }
}

/// Has Manage Server (0x20) and Manage Messages, not Administrator.
pub const ADMIN: TestUser = TestUser::new(1_300_000_000_000_000_003, "alice")
    .with_permissions(ADMIN_PERMISSIONS)
    .with_roles(&[ADMIN_ROLE_ID]);
/// An ordinary member: no Manage Server / Manage Messages.
pub const MEMBER: TestUser = TestUser::new(1_300_000_000_000_000_004, "bob").with_roles(&[ROLE_ID]);
/// Owns the guild and the application (so poise treats them as bot owner). Tests rarely need it;
/// it is separate from `ADMIN` so that "admin" checks are not passed by ownership.
pub const OWNER: TestUser = TestUser::new(1_300_000_000_000_000_002, "olivia");
/// The bot itself as a member (for the guild member list).
pub const BOT: TestUser = TestUser::new(BOT_USER_ID, "PrepBot")
    .with_permissions(BOT_PERMISSIONS)
    .with_roles(&[BOT_ROLE_ID]);

// ---- ids and times ----------------------------------------------------------------------------

const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
static LAST_SNOWFLAKE: AtomicU64 = AtomicU64::new(0);

/// A fresh snowflake: current time in the high bits, strictly increasing within the process
/// (so sorting by id sorts by creation, as on Discord).
pub fn snowflake() -> u64 {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let candidate = (now_ms - DISCORD_EPOCH_MS) << 22;
    let mut last = LAST_SNOWFLAKE.load(Ordering::Relaxed);
    loop {
        let next = candidate.max(last + 1);
        match LAST_SNOWFLAKE.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

/// Now as an ISO-8601 timestamp, the format Discord uses.
pub fn now_iso() -> String {
    serenity::model::Timestamp::now().to_string()
}

/// Ids travel as strings in Discord JSON.
pub fn id(n: u64) -> Value {
    Value::String(n.to_string())
}

// ---- users, members, roles --------------------------------------------------------------------

pub fn user(u: &TestUser) -> Value {
    let mut v = json!({
        "id": id(u.id), "username": u.name, "avatar": null, "discriminator": "0",
        "public_flags": 0, "flags": 0, "banner": null, "accent_color": null,
        "global_name": u.name, "avatar_decoration_data": null, "collectibles": null,
        "primary_guild": null,
    });
    if u.id == BOT_USER_ID {
        v["bot"] = json!(true);
        v["global_name"] = Value::Null;
    }
    v
}

/// A guild member without `user` (the form used inside `resolved.members`).
pub fn member_bare(u: &TestUser) -> Value {
    json!({
        "avatar": null, "banner": null, "communication_disabled_until": null, "flags": 0,
        "joined_at": "2024-01-01T00:00:00.000000+00:00", "nick": null, "pending": false,
        "premium_since": null, "roles": u.roles.iter().map(|r| id(*r)).collect::<Vec<_>>(),
        "unusual_dm_activity_until": null, "deaf": false, "mute": false,
    })
}

/// A guild member with `user` (GET member, GUILD_CREATE members, reactions).
pub fn member(u: &TestUser) -> Value {
    let mut m = member_bare(u);
    m["user"] = user(u);
    m
}

/// An interaction's `member`: with `user` and the computed `permissions` string.
pub fn interaction_member(u: &TestUser) -> Value {
    let mut m = member(u);
    m["permissions"] = json!(u.permissions.to_string());
    m
}

/// `colors` is required by serenity 0.12.5's `Role`.
pub fn role(role_id: u64, name: &str, permissions: u64, position: u32, color: u32) -> Value {
    let mut r = json!({
        "id": id(role_id), "name": name, "description": null,
        "permissions": permissions.to_string(), "position": position, "color": color,
        "colors": {"primary_color": color, "secondary_color": null, "tertiary_color": null},
        "hoist": false, "managed": false, "mentionable": false, "icon": null,
        "unicode_emoji": null, "flags": 0,
    });
    if role_id == BOT_ROLE_ID {
        r["managed"] = json!(true);
        r["tags"] = json!({"bot_id": id(BOT_USER_ID)});
    }
    r
}

pub fn guild_roles() -> Vec<Value> {
    guild_roles_of(GUILD_ID)
}

/// The roles of a guild of the test world: the test guild's, with @everyone's id the guild's.
pub fn guild_roles_of(guild_id: u64) -> Vec<Value> {
    let mut roles = vec![
        role(EVERYONE_ROLE_ID, "@everyone", EVERYONE_PERMISSIONS, 0, 0),
        role(ROLE_ID, "Member", 0, 1, 3_447_003),
        role(ADMIN_ROLE_ID, "Admin", ADMIN_PERMISSIONS, 2, 15_158_332),
        role(BOT_ROLE_ID, "PrepBot", BOT_PERMISSIONS, 3, 0),
    ];
    roles[0]["id"] = id(guild_id);
    roles
}

// ---- channels -----------------------------------------------------------------------------------

pub fn category_channel(channel_id: u64, name: &str) -> Value {
    json!({
        "id": id(channel_id), "type": 4, "guild_id": id(GUILD_ID), "name": name, "position": 0,
        "permission_overwrites": [], "parent_id": null, "flags": 0,
    })
}

pub fn text_channel(channel_id: u64, name: &str, position: u32) -> Value {
    json!({
        "id": id(channel_id), "type": 0, "guild_id": id(GUILD_ID), "name": name,
        "position": position, "permission_overwrites": [], "parent_id": id(CATEGORY_ID),
        "flags": 0, "topic": null, "nsfw": false, "last_message_id": null,
        "rate_limit_per_user": 0, "default_thread_rate_limit_per_user": 0,
    })
}

pub fn voice_channel(channel_id: u64, name: &str) -> Value {
    json!({
        "id": id(channel_id), "type": 2, "guild_id": id(GUILD_ID), "name": name,
        "position": 2, "permission_overwrites": [], "parent_id": null, "flags": 0,
        "bitrate": 64000, "user_limit": 0, "rtc_region": null, "nsfw": false,
        "rate_limit_per_user": 0, "last_message_id": null,
    })
}

/// A text channel of another guild (the bot is not a member there).
pub fn foreign_text_channel(channel_id: u64, guild_id: u64) -> Value {
    let mut c = text_channel(channel_id, "elsewhere", 0);
    c["guild_id"] = id(guild_id);
    c["parent_id"] = Value::Null;
    c
}

/// A public thread (type 11) started from a message; Discord gives it the message's id.
pub fn thread_channel(
    thread_id: u64,
    parent_id: u64,
    name: &str,
    auto_archive_minutes: u64,
) -> Value {
    let now = now_iso();
    json!({
        "id": id(thread_id), "type": 11, "guild_id": id(GUILD_ID), "parent_id": id(parent_id),
        "owner_id": id(BOT_USER_ID), "name": name, "last_message_id": null, "flags": 0,
        "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "total_message_sent": 0,
        "thread_metadata": {
            "archived": false, "auto_archive_duration": auto_archive_minutes,
            "archive_timestamp": now, "locked": false, "create_timestamp": now,
        },
        "member": {
            "id": id(thread_id), "user_id": id(BOT_USER_ID), "join_timestamp": now, "flags": 1,
            "muted": false, "mute_config": null,
        },
        "permission_overwrites": [],
    })
}

/// A DM channel (type 1) between the bot and `recipient` (serenity's `PrivateChannel`).
pub fn dm_channel(channel_id: u64, recipient: &TestUser) -> Value {
    json!({
        "id": id(channel_id), "type": 1, "last_message_id": null, "flags": 0,
        "recipients": [user(recipient)],
    })
}

/// The partial channel inside interactions (`channel` and `resolved.channels`), with the
/// permissions the invoking member has there.
pub fn partial_channel(channel: &Value, permissions: u64) -> Value {
    let mut c = json!({
        "id": channel["id"], "type": channel["type"], "flags": 0,
        "permissions": permissions.to_string(),
    });
    for key in [
        "name",
        "guild_id",
        "parent_id",
        "position",
        "topic",
        "nsfw",
        "recipients",
    ] {
        if let Some(v) = channel.get(key) {
            c[key] = v.clone();
        }
    }
    c
}

// ---- gateway --------------------------------------------------------------------------------------

/// A gateway frame. Dispatches (op 0) carry `t` and `s`; other opcodes have them null.
pub fn frame(op: u8, t: Option<&str>, s: Option<u64>, d: Value) -> Value {
    json!({"op": op, "t": t, "s": s, "d": d})
}

pub fn hello() -> Value {
    frame(
        10,
        None,
        None,
        json!({"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake"]}),
    )
}

/// READY data for a session of `shard` (`[id, total]`) in whose guilds are `guilds` (sent
/// unavailable; their GUILD_CREATE follows).
pub fn ready(session_id: &str, resume_gateway_url: &str, shard: &Value, guilds: &[u64]) -> Value {
    let mut bot = user(&BOT);
    bot["verified"] = json!(true);
    bot["mfa_enabled"] = json!(false);
    bot["email"] = Value::Null;
    json!({
        "v": 10, "user_settings": {}, "user": bot, "session_type": "normal",
        "session_id": session_id, "resume_gateway_url": resume_gateway_url,
        "relationships": [], "private_channels": [], "presences": [],
        "guilds": guilds.iter().map(|g| json!({"id": id(*g), "unavailable": true})).collect::<Vec<_>>(),
        "guild_join_requests": [], "geo_ordered_rtc_regions": ["fake"], "auth": {},
        "application": {"id": id(APP_ID), "flags": 8_945_664},
        "_trace": ["fake"], "shard": shard,
    })
}

/// GUILD_CREATE data: about 25 top-level fields are required by serenity's `Guild`.
pub fn guild_create(channels: Vec<Value>, members: Vec<Value>) -> Value {
    guild_create_of(GUILD_ID, "Interview Prep", channels, members)
}

/// GUILD_CREATE data of any guild of the test world (the system channel is its first text
/// channel; roles as in the test guild, with @everyone's id the guild's).
pub fn guild_create_of(
    guild_id: u64,
    name: &str,
    channels: Vec<Value>,
    members: Vec<Value>,
) -> Value {
    let system_channel = channels
        .iter()
        .find(|c| c["type"] == 0)
        .map_or(Value::Null, |c| c["id"].clone());
    // Two `json!` calls: one would exceed the macro recursion limit.
    let mut g = json!({
        "id": id(guild_id), "name": name, "icon": null, "icon_hash": null,
        "description": null, "splash": null, "discovery_splash": null, "features": [],
        "banner": null, "owner_id": id(OWNER.id), "application_id": null, "region": "deprecated",
        "afk_channel_id": null, "afk_timeout": 300, "system_channel_id": system_channel,
        "system_channel_flags": 0, "widget_enabled": false, "widget_channel_id": null,
        "verification_level": 0, "default_message_notifications": 0, "mfa_level": 0,
        "explicit_content_filter": 0, "max_presences": null, "max_members": 500_000,
        "max_stage_video_channel_users": 50, "max_video_channel_users": 25,
        "vanity_url_code": null, "premium_tier": 0, "premium_subscription_count": 0,
        "preferred_locale": "en-US", "rules_channel_id": null, "safety_alerts_channel_id": null,
        "public_updates_channel_id": null, "hub_type": null,
    });
    let rest = json!({
        "premium_progress_bar_enabled": false, "latest_onboarding_question_id": null,
        "nsfw": false, "nsfw_level": 0, "emojis": [], "stickers": [], "incidents_data": null,
        "inventory_settings": null, "embed_enabled": false, "embed_channel_id": null,
        "home_header": null, "version": 1, "roles": guild_roles_of(guild_id),
        "joined_at": "2024-01-01T00:00:00.000000+00:00", "large": false, "unavailable": false,
        "member_count": members.len(), "lazy": true, "voice_states": [], "members": members,
        "channels": channels, "threads": [], "presences": [], "stage_instances": [],
        "guild_scheduled_events": [], "soundboard_sounds": [], "embedded_activities": [],
        "activity_instances": [], "application_command_counts": {},
    });
    g.as_object_mut()
        .unwrap()
        .extend(rest.as_object().unwrap().clone());
    g
}

/// Fields shared by every INTERACTION_CREATE. In a guild channel the invoker is `member`
/// (with `permissions`); in a DM it is `user` and there is no guild. `token`, `locale`,
/// `version`, `entitlements`, `attachment_size_limit` and `channel_id` are all required.
pub fn interaction(
    interaction_id: u64,
    token: &str,
    kind: u8,
    data: Value,
    invoker: &TestUser,
    channel: &Value,
) -> Value {
    let in_guild = channel.get("guild_id").is_some_and(|g| !g.is_null());
    let mut v = json!({
        "app_permissions": BOT_PERMISSIONS.to_string(), "application_id": id(APP_ID),
        "attachment_size_limit": 10_485_760, "channel_id": channel["id"],
        "channel": partial_channel(channel, invoker.permissions),
        "entitlement_sku_ids": [], "entitlements": [], "id": id(interaction_id),
        "locale": "en-US", "token": token, "type": kind, "version": 1, "data": data,
    });
    if in_guild {
        v["context"] = json!(0);
        let guild = channel["guild_id"].clone();
        v["authorizing_integration_owners"] = json!({"0": guild});
        v["guild_id"] = guild.clone();
        v["guild"] = json!({"id": guild, "locale": "en-US", "features": []});
        v["guild_locale"] = json!("en-US");
        v["member"] = interaction_member(invoker);
    } else {
        v["context"] = json!(1);
        v["authorizing_integration_owners"] = json!({"1": id(invoker.id)});
        v["user"] = user(invoker);
    }
    v
}

/// MESSAGE_REACTION_ADD data: `burst` and `type` are required by serenity.
pub fn reaction_add(
    channel_id: u64,
    message_id: u64,
    reactor: &TestUser,
    emoji_name: &str,
    message_author_id: Option<u64>,
    guild_id: Option<u64>,
) -> Value {
    let mut v = json!({
        "user_id": id(reactor.id), "type": 0, "message_id": id(message_id),
        "channel_id": id(channel_id), "emoji": {"id": null, "name": emoji_name},
        "burst": false, "burst_colors": [],
    });
    if let Some(author) = message_author_id {
        v["message_author_id"] = id(author);
    }
    if let Some(guild_id) = guild_id {
        v["guild_id"] = id(guild_id);
        v["member"] = member(reactor);
    }
    v
}

// ---- REST answers -----------------------------------------------------------------------------------

/// `GET /gateway/bot`: the recommended shard count, and a session start limit whose
/// `max_concurrency` lets that many shards identify in the same 5 s (serenity 0.12.5 ignores
/// it and waits 5 s between its own shards anyway).
pub fn bot_gateway(ws_url: &str, shards: u32, max_concurrency: u32) -> Value {
    json!({
        "url": ws_url, "shards": shards,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": max_concurrency},
    })
}

pub fn application_info() -> Value {
    let mut bot = user(&BOT);
    bot["bot"] = json!(true);
    json!({
        "id": id(APP_ID), "name": BOT.name, "icon": null, "description": "", "summary": "",
        "type": null, "hook": true, "is_monetized": false, "is_verified": false,
        "is_discoverable": false, "bot_public": true, "bot_require_code_grant": false,
        "verify_key": "0".repeat(64), "flags": 8_945_664, "owner": user(&OWNER), "team": null,
        "bot": bot, "redirect_uris": [], "interactions_endpoint_url": null,
        "role_connections_verification_url": null, "tags": [], "approximate_guild_count": 1,
        "approximate_user_install_count": 0, "integration_types_config": {"0": {}},
        "install_params": null, "rpc_origins": [], "event_webhooks_status": 1,
    })
}

/// A registered application command as Discord answers it, from what the bot sent.
pub fn registered_command(sent: &Value, command_id: u64, guild_id: Option<u64>) -> Value {
    let mut c = json!({
        "id": id(command_id), "application_id": id(APP_ID), "version": id(snowflake()),
        "default_member_permissions": null, "type": 1, "name": "", "name_localizations": null,
        "description": "", "description_localizations": null, "dm_permission": true,
        "contexts": null, "integration_types": [0], "nsfw": false,
    });
    if let Some(fields) = sent.as_object() {
        for (k, v) in fields {
            if !v.is_null() {
                c[k] = v.clone();
            }
        }
    }
    if let Some(g) = guild_id {
        c["guild_id"] = id(g);
    }
    c
}

/// A message as Discord returns it. `body` is what the bot sent (content, embeds, components,
/// flags, nonce, tts); the rest is filled in. `kind` is the message type (0 default, 19 reply,
/// 20 slash-command response).
pub fn message(message_id: u64, channel_id: u64, kind: u8, body: &Value) -> Value {
    let embeds: Vec<Value> = body["embeds"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| {
                    let mut e = e.clone();
                    if e.get("type").is_none_or(|t| t.is_null()) {
                        e["type"] = json!("rich");
                    }
                    e
                })
                .collect()
        })
        .unwrap_or_default();
    let mut m = json!({
        "type": kind, "content": body["content"].as_str().unwrap_or(""), "mentions": [],
        "mention_roles": [], "attachments": [], "embeds": embeds,
        "timestamp": now_iso(), "edited_timestamp": null,
        "flags": body["flags"].as_u64().unwrap_or(0),
        "components": body.get("components").filter(|c| !c.is_null()).cloned().unwrap_or(json!([])),
        "id": id(message_id), "channel_id": id(channel_id), "author": user(&BOT),
        "pinned": false, "mention_everyone": false, "tts": body["tts"].as_bool().unwrap_or(false),
    });
    if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
        m["nonce"] = nonce.clone();
    }
    m
}

/// The fields Discord adds to a message created by an interaction response or followup.
/// `interacted_message` is the message whose component was clicked (component interactions:
/// Discord's metadata names it, and serenity refuses the metadata without it).
pub fn interaction_message_fields(
    m: &mut Value,
    interaction_id: u64,
    interaction_type: u8,
    command_name: &str,
    invoker_user: &Value,
    interacted_message: Option<u64>,
) {
    m["webhook_id"] = id(APP_ID);
    m["application_id"] = id(APP_ID);
    m["interaction_metadata"] = json!({
        "id": id(interaction_id), "type": interaction_type, "user": invoker_user,
        "authorizing_integration_owners": {"0": id(GUILD_ID)},
    });
    if interaction_type == 2 {
        m["interaction_metadata"]["name"] = json!(command_name);
        m["interaction_metadata"]["command_type"] = json!(1);
    }
    if let (3, Some(clicked)) = (interaction_type, interacted_message) {
        m["interaction_metadata"]["interacted_message_id"] = id(clicked);
    }
    m["interaction"] = json!({
        "id": id(interaction_id), "type": interaction_type, "name": command_name,
        "user": invoker_user,
    });
}

/// Error bodies look like Discord's: `{"message", "code"}`.
pub fn error(code: u32, message: &str) -> Value {
    json!({"message": message, "code": code})
}
