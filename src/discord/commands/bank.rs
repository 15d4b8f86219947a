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
    ctx.send(super::reply(true).embed(info_embed(&bank)))
        .await?;
    Ok(())
}

/// The `/bank info` embed. A bank of a few hundred questions has a dozen or more topics,
/// many files and hundreds of tags, so files are grouped by directory and tags listed most
/// used first, each field within Discord's 1024 characters.
fn info_embed(bank: &crate::bank::Bank) -> CreateEmbed {
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
    let tags = tags_by_use(bank);
    CreateEmbed::new()
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
        .field(
            "Files",
            truncate(
                &files_by_directory(&shown_paths(bank.files())),
                limits::EMBED_FIELD_VALUE,
            ),
            false,
        )
        .field(
            format!("Tags · {}, most used first", tags.len()),
            truncate(&tags.join(", "), limits::EMBED_FIELD_VALUE),
            false,
        )
        .footer(CreateEmbedFooter::new(
            "Edit the files, then /bank reload (Manage Server)",
        ))
}

/// The deepest directory that holds every one of `files` (`None` for none).
fn common_base(files: &[std::path::PathBuf]) -> Option<std::path::PathBuf> {
    let mut base = files.first()?.parent()?.to_path_buf();
    for f in &files[1..] {
        while !f.starts_with(&base) {
            base = base.parent()?.to_path_buf();
        }
    }
    Some(base)
}

/// A path as server admins may see it: relative to `base` (the bank's own directory), or the
/// file's name alone. Admins of a server are not the host: the host's directory layout
/// (`/home/alice/…`) is none of their business.
pub fn shown_path(path: &std::path::Path, base: Option<&std::path::Path>) -> std::path::PathBuf {
    match base.and_then(|b| path.strip_prefix(b).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => path
            .file_name()
            .map(std::path::PathBuf::from)
            .unwrap_or_default(),
    }
}

/// The bank's files relative to the directory that holds them all.
fn shown_paths(files: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let base = common_base(files);
    files
        .iter()
        .map(|f| shown_path(f, base.as_deref()))
        .collect()
}

/// One line per file, except that a directory's files are one line: "`questions/` · 14 files".
fn files_by_directory(files: &[std::path::PathBuf]) -> String {
    let mut lines: Vec<(Option<&std::path::Path>, usize, String)> = Vec::new();
    for f in files {
        let dir = f.parent().filter(|d| !d.as_os_str().is_empty());
        match lines.last_mut() {
            Some((last, n, _)) if dir.is_some() && *last == dir => *n += 1,
            _ => lines.push((dir, 1, format!("`{}`", f.display()))),
        }
    }
    lines
        .into_iter()
        .map(|(dir, n, single)| match dir {
            Some(d) if n > 1 => format!("`{}/` · {n} files", d.display()),
            _ => single,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every tag with its count, most used first ("caching 12"), then by name.
fn tags_by_use(bank: &crate::bank::Bank) -> Vec<String> {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for q in bank.questions() {
        for t in &q.tags {
            *counts.entry(t).or_insert(0) += 1;
        }
    }
    let mut tags: Vec<(&str, usize)> = counts.into_iter().collect();
    tags.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    tags.into_iter().map(|(t, n)| format!("{t} {n}")).collect()
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
        Err(mut e) => {
            tracing::warn!("bank reload failed:\n{e}");
            let files: Vec<_> = e.diagnostics.iter().map(|d| d.path.clone()).collect();
            let base = common_base(&files);
            for d in &mut e.diagnostics {
                d.path = shown_path(&d.path, base.as_deref());
            }
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
    use std::path::PathBuf;

    use super::*;
    use crate::bank::{Bank, Diagnostic, Difficulty, Question};

    /// A bank like the shipped one, bigger: 17 topics, 300 questions, 600 tags, 17 files.
    fn big_bank() -> Bank {
        let questions = (0..300)
            .map(|i| Question {
                id: format!("q{i}"),
                category: format!("topic-number-{}", i % 17),
                question: format!("Question {i}?"),
                answer: "a".into(),
                tags: vec![
                    format!("tag-{}", i * 2),
                    format!("tag-{}", i * 2 + 1),
                    "common".into(),
                ],
                difficulty: Some(Difficulty::ALL[i % 3]),
                distractors: vec![],
                explanation: None,
                key_points: vec![],
                follow_ups: vec![],
                quiz_answer: None,
            })
            .collect();
        let mut files = vec![PathBuf::from("/srv/prepbot/questions.toml")];
        files.extend(
            (0..16).map(|i| PathBuf::from(format!("/srv/prepbot/questions/topic-number-{i}.toml"))),
        );
        Bank::from_questions(questions, files)
    }

    fn fields(e: &CreateEmbed) -> Vec<(String, String)> {
        let v = serde_json::to_value(e).unwrap();
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    f["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn info_stays_readable_and_within_limits_for_a_big_bank() {
        let embed = info_embed(&big_bank());
        let fields = fields(&embed);
        let v = serde_json::to_value(&embed).unwrap();
        let mut total = v["title"].as_str().unwrap().chars().count()
            + v["footer"]["text"].as_str().unwrap().chars().count();
        for (name, value) in &fields {
            assert!(value.chars().count() <= limits::EMBED_FIELD_VALUE, "{name}");
            assert!(name.chars().count() <= limits::EMBED_FIELD_NAME, "{name}");
            total += name.chars().count() + value.chars().count();
        }
        assert!(total <= limits::EMBED_TOTAL, "{total}");

        let find = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} field"))
                .clone()
        };
        // Every topic, in full.
        let (_, cats) = find("Categories");
        assert_eq!(cats.lines().count(), 17, "{cats}");
        assert!(cats.contains("**Topic number 16** · 17"), "{cats}");
        // Files: the seed file, then the directory as one line.
        let (_, files) = find("Files");
        assert_eq!(files, "`questions.toml`\n`questions/` · 16 files");
        // Tags: how many, the most used first.
        let (name, tags) = find("Tags");
        assert_eq!(name, "Tags · 601, most used first");
        assert!(
            tags.starts_with("common 300, tag-0 1, tag-1 1, tag-10 1"),
            "{tags}"
        );
        assert!(tags.ends_with('…'), "shortened visibly");
    }

    #[test]
    fn admins_see_paths_relative_to_the_bank_not_the_host_layout() {
        let files: Vec<PathBuf> = [
            "/home/alice/prepbot/questions.toml",
            "/home/alice/prepbot/questions/a.toml",
            "/home/alice/prepbot/questions/b.toml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let shown = files_by_directory(&shown_paths(&files));
        assert_eq!(shown, "`questions.toml`\n`questions/` · 2 files");
        assert!(!shown.contains("/home"), "{shown}");
        // One file: its name alone.
        let one = shown_paths(&[PathBuf::from("/srv/bank/q.toml")]);
        assert_eq!(one, vec![PathBuf::from("q.toml")]);
    }

    #[test]
    fn files_outside_a_directory_keep_their_own_lines() {
        let files: Vec<PathBuf> = ["questions.toml", "extra.toml", "more/a.toml"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            files_by_directory(&files),
            "`questions.toml`\n`extra.toml`\n`more/a.toml`"
        );
    }

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
