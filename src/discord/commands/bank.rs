//! `/bank info` and `/bank reload`.

use poise::serenity_prelude as serenity;
use serenity::{CreateEmbed, CreateEmbedFooter};

use super::require_manage_guild;
use crate::discord::{render, Context, Error};
use crate::text::{limits, truncate};

/// The question bank: what is loaded, and reloading it after edits.
#[poise::command(
    slash_command,
    subcommands("info", "reload"),
    subcommand_required,
    guild_only,
    // Discord applies this to the whole command; `info` is harmless, `reload` is checked again.
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn bank(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show what the question bank holds: questions per category and difficulty, and its files.
#[poise::command(slash_command, guild_only)]
pub async fn info(ctx: Context<'_>) -> Result<(), Error> {
    let bank = ctx.data().bank();
    let cats = bank
        .count_by_category()
        .into_iter()
        .map(|(c, n)| format!("**{}** · {n}", render::display_name(c)))
        .collect::<Vec<_>>()
        .join("\n");
    let diffs = bank
        .count_by_difficulty()
        .into_iter()
        .map(|(d, n)| format!("{} · {n}", render::difficulty_label(d)))
        .collect::<Vec<_>>()
        .join("\n");
    let files = bank
        .files()
        .iter()
        .map(|f| format!("`{}`", f.display()))
        .collect::<Vec<_>>()
        .join("\n");
    let embed = CreateEmbed::new()
        .title(format!("Question bank · {} questions", bank.len()))
        .field(
            "Categories",
            truncate(&cats, limits::EMBED_FIELD_VALUE),
            true,
        )
        .field(
            "Difficulty",
            truncate(&diffs, limits::EMBED_FIELD_VALUE),
            true,
        )
        .field("Files", truncate(&files, limits::EMBED_FIELD_VALUE), false)
        .field(
            "Tags",
            truncate(&bank.tags().join(", "), limits::EMBED_FIELD_VALUE),
            false,
        )
        .footer(CreateEmbedFooter::new(
            "Edit the files, then /bank reload (Manage Server)",
        ));
    ctx.send(super::reply(true).embed(embed)).await?;
    Ok(())
}

/// Reload the question bank from its files; on errors the current bank keeps serving.
#[poise::command(slash_command, guild_only, check = "require_manage_guild")]
pub async fn reload(ctx: Context<'_>) -> Result<(), Error> {
    let app = ctx.data().clone();
    let before = app.bank().len();
    let embed = match app.reload_bank().await {
        Ok(bank) => CreateEmbed::new()
            .title("Question bank reloaded")
            .description(format!(
                "{} questions (was {before}).\n{}",
                bank.len(),
                bank.summary()
                    .lines()
                    .skip(1)
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
            .colour(serenity::Colour::new(0x2ECC71)),
        Err(e) => {
            tracing::warn!("bank reload failed:\n{e}");
            CreateEmbed::new()
                .title("Reload failed: the previous bank keeps serving")
                .description(diagnostics_block(&e.diagnostics, before))
                .colour(serenity::Colour::new(0xE74C3C))
        }
    };
    ctx.send(super::reply(true).embed(embed)).await?;
    Ok(())
}

/// The `path:line:col:` list in a code block that fits an embed description.
fn diagnostics_block(diags: &[crate::bank::Diagnostic], serving: usize) -> String {
    let head = format!(
        "Still serving {serving} questions. Fix these and run `/bank reload` again \
         (or `prepbot check` locally):\n"
    );
    let budget = limits::EMBED_DESCRIPTION - head.chars().count() - 40;
    let mut body = String::new();
    let mut shown = 0;
    for d in diags {
        // Backticks in a message would end the code block early.
        let line = format!("{d}\n").replace("```", "'''");
        if body.chars().count() + line.chars().count() > budget {
            break;
        }
        body.push_str(&line);
        shown += 1;
    }
    let more = diags.len() - shown;
    let tail = if more > 0 {
        format!("… and {more} more")
    } else {
        String::new()
    };
    format!("{head}```\n{body}```{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Diagnostic;

    #[test]
    fn diagnostics_fit_an_embed() {
        let d: Vec<Diagnostic> = (0..500)
            .map(|i| Diagnostic {
                path: "questions.toml".into(),
                line: i,
                col: 1,
                message: "x".repeat(50),
            })
            .collect();
        let s = diagnostics_block(&d, 35);
        assert!(s.chars().count() <= limits::EMBED_DESCRIPTION);
        assert!(s.contains("questions.toml:0:1: "));
        assert!(s.contains("more"));
    }
}
