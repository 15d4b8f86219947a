//! `/help`: every command with what it does, members' commands first, then the admin
//! commands with the permission each needs.
//!
//! Nothing here is written twice: the texts are the commands' own descriptions (their doc
//! comments, which are also what Discord shows while typing), and the permission is the one
//! the command declares to Discord (`default_member_permissions`, set on the top-level command
//! and so inherited by its subcommands).

use poise::serenity_prelude as serenity;
use serenity::{CreateEmbed, CreateEmbedFooter, Permissions};

use crate::discord::permissions::display_name;
use crate::discord::{Context, Data, Error};
use crate::text::{limits, truncate};

/// One line of the help: a runnable command (a subcommand, or a command without any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `/daily set channel time timezone [role] …`: required options bare, optional ones in
    /// brackets, in the order Discord shows them.
    pub usage: String,
    pub description: String,
    /// What a member needs to see and use it; empty for everyone's commands.
    pub needs: Permissions,
}

/// The entries of `commands`, in registration order.
pub fn entries(commands: &[poise::Command<Data, Error>]) -> Vec<Entry> {
    let mut out = Vec::new();
    for c in commands.iter().filter(|c| !c.hide_in_help) {
        walk(c, "/", c.default_member_permissions, &mut out);
    }
    out
}

/// `prefix` is the parent's path (`/daily `): poise fills `qualified_name` in only when the
/// framework is built, and the help is also built from a bare command list in tests.
fn walk(c: &poise::Command<Data, Error>, prefix: &str, needs: Permissions, out: &mut Vec<Entry>) {
    let needs = needs | c.default_member_permissions;
    let path = format!("{prefix}{}", c.name);
    if !c.subcommands.is_empty() {
        for sub in c.subcommands.iter().filter(|s| !s.hide_in_help) {
            walk(sub, &format!("{path} "), needs, out);
        }
        return;
    }
    let mut usage = path;
    // Discord lists required options first.
    let required = c.parameters.iter().filter(|p| p.required);
    let optional = c.parameters.iter().filter(|p| !p.required);
    for p in required {
        usage.push_str(&format!(" {}", p.name));
    }
    for p in optional {
        usage.push_str(&format!(" [{}]", p.name));
    }
    out.push(Entry {
        usage,
        description: c.description.as_deref().unwrap_or_default().to_string(),
        needs,
    });
}

/// The help embed: members' commands, then admin commands with their permission.
pub fn embed(entries: &[Entry]) -> CreateEmbed {
    let line = |e: &Entry| format!("`{}` — {}", e.usage, e.description);
    let everyone: Vec<String> = entries
        .iter()
        .filter(|e| e.needs.is_empty())
        .map(line)
        .collect();
    let admin: Vec<String> = entries
        .iter()
        .filter(|e| !e.needs.is_empty())
        .map(|e| format!("{} · needs **{}**", line(e), display_name(e.needs)))
        .collect();
    let mut embed = CreateEmbed::new().title("prepbot commands");
    // A field holds 1024 characters: split a section over as many fields as it needs.
    for (title, lines) in [("For everyone", everyone), ("For admins", admin)] {
        for (i, chunk) in fields(&lines).into_iter().enumerate() {
            let name = if i == 0 { title } else { "\u{200b}" };
            embed = embed.field(name, chunk, false);
        }
    }
    embed.footer(CreateEmbedFooter::new(
        "React 💡 on a question (or press Reveal answer) to see its model answer. Admin \
         commands are hidden from members unless a server changes that in Integrations.",
    ))
}

/// `lines` packed into field values of at most [`limits::EMBED_FIELD_VALUE`] characters.
fn fields(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let l = truncate(l, limits::EMBED_FIELD_VALUE);
        match out.last_mut() {
            Some(last)
                if last.chars().count() + 1 + l.chars().count() <= limits::EMBED_FIELD_VALUE =>
            {
                last.push('\n');
                last.push_str(&l);
            }
            _ => out.push(l),
        }
    }
    out
}

/// Show what every command does, and which ones need a permission.
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let list = entries(&ctx.framework().options().commands);
    ctx.send(super::reply(true).embed(embed(&list))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_listed_with_its_own_description_and_permission() {
        let commands = crate::discord::commands::all();
        let list = entries(&commands);
        let find = |usage_start: &str| {
            list.iter()
                .find(|e| e.usage.starts_with(usage_start))
                .unwrap_or_else(|| panic!("{usage_start} missing from {list:#?}"))
        };
        let daily = commands.iter().find(|c| c.name == "daily").unwrap();
        let set = daily.subcommands.iter().find(|c| c.name == "set").unwrap();
        let e = find("/daily set ");
        assert_eq!(Some(e.description.as_str()), set.description.as_deref());
        assert!(
            e.usage.starts_with("/daily set channel time timezone ["),
            "{}",
            e.usage
        );
        assert_eq!(e.needs, Permissions::MANAGE_GUILD);
        assert_eq!(find("/bank reload").needs, Permissions::MANAGE_GUILD);
        let ask = find("/ask");
        assert!(ask.needs.is_empty());
        assert_eq!(
            ask.usage,
            "/ask [category] [tag] [difficulty] [id] [private]"
        );
        assert!(find("/quiz stop").description.contains("Manage Messages"));
        assert!(find("/help").needs.is_empty());
        // Every leaf is there exactly once, and nothing else.
        let leaves: usize = commands.iter().map(|c| c.subcommands.len().max(1)).sum();
        assert_eq!(list.len(), leaves);
        for e in &list {
            assert!(!e.description.is_empty(), "{} has no description", e.usage);
        }
    }

    #[test]
    fn the_embed_fits_discord_and_splits_members_from_admins() {
        let list = entries(&crate::discord::commands::all());
        let body = crate::discord::deliver::body(&embed(&list));
        let fields = body["fields"].as_array().unwrap();
        assert_eq!(fields[0]["name"], "For everyone");
        let admin = fields
            .iter()
            .position(|f| f["name"] == "For admins")
            .unwrap();
        let everyone_text: String = fields[..admin]
            .iter()
            .map(|f| f["value"].as_str().unwrap())
            .collect();
        assert!(everyone_text.contains("`/ask"), "{everyone_text}");
        assert!(!everyone_text.contains("/daily"), "{everyone_text}");
        let admin_text = fields[admin]["value"].as_str().unwrap();
        assert!(admin_text.contains("`/daily set"), "{admin_text}");
        assert!(
            admin_text.contains("needs **Manage Server**"),
            "{admin_text}"
        );
        let mut total = body["title"].as_str().unwrap().chars().count();
        for f in fields {
            let v = f["value"].as_str().unwrap();
            assert!(v.chars().count() <= limits::EMBED_FIELD_VALUE);
            total += v.chars().count() + f["name"].as_str().unwrap().chars().count();
        }
        assert!(total <= 6000, "an embed holds 6000 characters in all");
        let many: Vec<String> = (0..100)
            .map(|i| format!("line {i} {}", "x".repeat(40)))
            .collect();
        let packed = super::fields(&many);
        assert!(packed.len() > 1);
        assert!(packed
            .iter()
            .all(|f| f.chars().count() <= limits::EMBED_FIELD_VALUE));
        assert_eq!(packed.join("\n"), many.join("\n"));
    }
}
