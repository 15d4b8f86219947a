//! What the bot needs from Discord: the permissions each feature uses (for `prepbot invite`,
//! the README's invite link and `/help`), the privileged intents, and the application id.
//!
//! [`NEEDS`] is the one table of feature → permission. The invite URL is computed from it,
//! and a test compares the README's number with it, so neither can drift from the code.
//! What is *not* here: the permissions members need for admin commands; those are declared
//! on the commands themselves (`default_member_permissions`, see `commands`).

use poise::serenity_prelude as serenity;
use serde_json::Value;
use serenity::{GatewayIntents, Permissions};

use super::deliver::{Deliverer, DeliveryError, Policy};
use crate::config::{Config, Secret};

/// One permission one feature uses, and why.
#[derive(Clone, Copy, Debug)]
pub struct Need {
    pub feature: &'static str,
    pub permission: Permissions,
    pub why: &'static str,
    /// Asked for only with `prepbot invite --role-pings`.
    pub optional: bool,
}

const fn need(feature: &'static str, permission: Permissions, why: &'static str) -> Need {
    Need {
        feature,
        permission,
        why,
        optional: false,
    }
}

/// Every permission the bot uses in a channel, by feature. Several features may need the same
/// permission; the invite asks for the union.
pub const NEEDS: &[Need] = &[
    need(
        "/ask",
        Permissions::VIEW_CHANNEL,
        "see the channel a command comes from and a reaction arrives in",
    ),
    need(
        "/ask",
        Permissions::SEND_MESSAGES,
        "the 💡 reply under a question",
    ),
    need(
        "/ask",
        Permissions::EMBED_LINKS,
        "questions and answers are embeds",
    ),
    need(
        "/ask",
        Permissions::ADD_REACTIONS,
        "the 💡 under each question, to show what to react with",
    ),
    need(
        "/ask",
        Permissions::READ_MESSAGE_HISTORY,
        "a reveal replies to the question message",
    ),
    need(
        "daily",
        Permissions::VIEW_CHANNEL,
        "the channel the question of the day goes to",
    ),
    need(
        "daily",
        Permissions::SEND_MESSAGES,
        "the question of the day",
    ),
    need(
        "daily",
        Permissions::EMBED_LINKS,
        "the question of the day is an embed",
    ),
    need("daily", Permissions::ADD_REACTIONS, "the 💡 under the post"),
    need(
        "daily",
        Permissions::CREATE_PUBLIC_THREADS,
        "the discussion thread on the post",
    ),
    need(
        "daily",
        Permissions::SEND_MESSAGES_IN_THREADS,
        "the thread's opening message",
    ),
    need(
        "daily",
        Permissions::READ_MESSAGE_HISTORY,
        "after a crash, finding a post that went out before it was recorded",
    ),
    Need {
        feature: "daily",
        permission: Permissions::MENTION_EVERYONE,
        why: "pinging a role that is not mentionable by everyone",
        optional: true,
    },
    need(
        "quiz",
        Permissions::SEND_MESSAGES,
        "questions, results and standings",
    ),
    need("quiz", Permissions::EMBED_LINKS, "quiz messages are embeds"),
];

/// The permissions to ask for when adding the bot: every non-optional need, plus the
/// optional ones when `role_pings`.
pub fn invite_permissions(role_pings: bool) -> Permissions {
    NEEDS
        .iter()
        .filter(|n| role_pings || !n.optional)
        .fold(Permissions::empty(), |acc, n| acc | n.permission)
}

/// The OAuth2 URL that adds the bot with its slash commands and `permissions`.
pub fn invite_url(application_id: u64, permissions: Permissions) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}\
         &scope=bot+applications.commands&permissions={}",
        permissions.bits()
    )
}

/// A permission as Discord's client names it ("Manage Server", where the API and serenity
/// say "Manage Guild").
pub fn display_name(p: Permissions) -> String {
    p.iter()
        .map(|one| {
            if one == Permissions::MANAGE_GUILD {
                "Manage Server"
            } else {
                one.get_permission_names().first().copied().unwrap_or("?")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the invite asks for and why, one permission a line, for `prepbot invite`.
pub fn explain(role_pings: bool) -> String {
    let perms = invite_permissions(role_pings);
    let mut out = format!("permissions {} =", perms.bits());
    for p in perms.iter() {
        let uses: Vec<String> = NEEDS
            .iter()
            .filter(|n| n.permission == p)
            .map(|n| format!("{}: {}", n.feature, n.why))
            .collect();
        out.push_str(&format!("\n  {} ({})", display_name(p), uses.join("; ")));
    }
    out
}

/// The privileged intents among `intents` that the application's flags (from
/// `GET /oauth2/applications/@me`) do not enable, by the name the Developer Portal shows.
/// Discord would close the gateway with 4014 for each.
pub fn missing_privileged_intents(intents: GatewayIntents, app_flags: u64) -> Vec<&'static str> {
    // (intent, the application flags that allow it: full or "limited" (under 100 servers)).
    let privileged = [
        (
            GatewayIntents::GUILD_PRESENCES,
            (1 << 12) | (1 << 13),
            "Presence Intent",
        ),
        (
            GatewayIntents::GUILD_MEMBERS,
            (1 << 14) | (1 << 15),
            "Server Members Intent",
        ),
        (
            GatewayIntents::MESSAGE_CONTENT,
            (1 << 18) | (1 << 19),
            "Message Content Intent",
        ),
    ];
    privileged
        .iter()
        .filter(|(intent, flags, _)| intents.contains(*intent) && app_flags & flags == 0)
        .map(|(_, _, name)| *name)
        .collect()
}

/// The bot user id a token starts with: its first segment is that id in base64. For bots made
/// since 2019 it is also the application id. `None` for a token of another shape.
pub fn id_from_token(token: &str) -> Option<u64> {
    let first = token.trim().trim_start_matches("Bot ").split('.').next()?;
    let digits = String::from_utf8(base64_decode(first)?).ok()?;
    digits.parse().ok().filter(|id| *id > 0)
}

/// Standard or URL-safe base64, padding optional. Enough for a token's first segment.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    if s.is_empty() || s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// What Discord says when it refuses the token, and what to do.
pub const INVALID_TOKEN: &str = "Discord refused the bot token (401 Unauthorized): it was \
     reset or mistyped. Copy a new one from https://discord.com/developers/applications → your \
     app → Bot → Reset Token, and set DISCORD_TOKEN to it";

/// The application id, and how it was found when not from Discord itself.
#[derive(Debug)]
pub struct FoundId {
    pub id: u64,
    pub note: Option<String>,
}

/// The application id from `GET /oauth2/applications/@me`, or, when Discord cannot be
/// reached, from the token. A refused token is an error either way.
pub async fn application_id(config: &Config, token: &Secret) -> Result<FoundId, String> {
    let base = config
        .discord
        .api_base
        .as_deref()
        .unwrap_or("https://discord.com");
    let policy = Policy {
        attempts: 2,
        ..Policy::default()
    };
    match Deliverer::new(base, token, policy).application().await {
        Ok(info) => application_id_of(&info).map(|id| FoundId { id, note: None }),
        Err(e) if e.status == Some(401) => Err(INVALID_TOKEN.into()),
        Err(e) => match id_from_token(token.expose()) {
            Some(id) => Ok(FoundId {
                id,
                note: Some(format!(
                    "could not ask Discord for the application id ({}); using the id in the token",
                    e.summary()
                )),
            }),
            None => Err(unreachable(&e)),
        },
    }
}

fn unreachable(e: &DeliveryError) -> String {
    format!("could not ask Discord for the application id: {e}; and the token does not carry one")
}

/// The `id` of an application object, if it has a usable one.
pub fn application_id_of(info: &Value) -> Result<u64, String> {
    info["id"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            "Discord's answer to GET /oauth2/applications/@me has no application id: is this a \
             bot token (Developer Portal → your app → Bot)?"
                .to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The invite asks for exactly the union of the table, and the README shows that number.
    #[test]
    fn invite_permissions_are_the_tables_union_and_the_readmes() {
        let union = NEEDS
            .iter()
            .filter(|n| !n.optional)
            .map(|n| n.permission.bits())
            .fold(0u64, |a, b| a | b);
        assert_eq!(invite_permissions(false).bits(), union);
        assert_eq!(
            invite_permissions(true).bits(),
            union | Permissions::MENTION_EVERYONE.bits()
        );
        // Nothing administrative, ever.
        for p in [
            Permissions::ADMINISTRATOR,
            Permissions::MANAGE_GUILD,
            Permissions::MANAGE_MESSAGES,
            Permissions::MANAGE_ROLES,
        ] {
            assert!(!invite_permissions(true).contains(p), "{p:?}");
        }
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let shown: Vec<&str> = readme
            .split("permissions=")
            .skip(1)
            .map(|s| s.split(|c: char| !c.is_ascii_digit()).next().unwrap())
            .collect();
        assert!(!shown.is_empty(), "the README shows an invite link");
        for n in shown {
            assert_eq!(n, union.to_string(), "README invite permissions");
        }
        assert!(
            readme.contains(&format!("`{union}`")),
            "README names {union}"
        );
    }

    #[test]
    fn invite_url_shape() {
        let url = invite_url(42, Permissions::SEND_MESSAGES | Permissions::VIEW_CHANNEL);
        assert_eq!(
            url,
            "https://discord.com/oauth2/authorize?client_id=42\
             &scope=bot+applications.commands&permissions=3072"
        );
        let text = explain(false);
        assert!(
            text.contains("Create Public Threads (daily: the discussion thread"),
            "{text}"
        );
        assert!(!text.contains("Mention"), "{text}");
        assert!(explain(true).contains("Mention @everyone"));
        assert_eq!(display_name(Permissions::MANAGE_GUILD), "Manage Server");
    }

    #[test]
    fn application_id_from_a_token() {
        // "MTIzNDU2Nzg5MDEyMzQ1Njc4" is base64 of "123456789012345678".
        assert_eq!(
            id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"),
            Some(123_456_789_012_345_678)
        );
        assert_eq!(id_from_token("Bot MTIz.x.y"), Some(123));
        for bad in ["", "fake-bot-token", "!!!.x.y", "YWJj.x.y", "A.x"] {
            assert_eq!(id_from_token(bad), None, "{bad}");
        }
        assert_eq!(base64_decode("aGk"), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("aGVsbG8_"), Some(b"hello?".to_vec()));
    }

    #[test]
    fn privileged_intents_need_the_application_flag() {
        // What the bot asks for today needs none.
        assert!(missing_privileged_intents(super::super::intents(), 0).is_empty());
        let with_content = GatewayIntents::GUILDS | GatewayIntents::MESSAGE_CONTENT;
        assert_eq!(
            missing_privileged_intents(with_content, 0),
            vec!["Message Content Intent"]
        );
        // Either the full or the limited flag enables it.
        assert!(missing_privileged_intents(with_content, 1 << 18).is_empty());
        assert!(missing_privileged_intents(with_content, 1 << 19).is_empty());
        assert_eq!(
            missing_privileged_intents(GatewayIntents::GUILD_MEMBERS, 1 << 18),
            vec!["Server Members Intent"]
        );
    }

    #[test]
    fn application_ids_must_be_there() {
        assert_eq!(application_id_of(&serde_json::json!({"id": "42"})), Ok(42));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"id": "0"}),
            serde_json::json!({"id": 42}),
        ] {
            assert!(application_id_of(&bad).is_err(), "{bad}");
        }
    }
}
