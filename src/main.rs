//! The `prepbot` command line: run the bot, check a bank, or try a question in the terminal.

// One error policy: a `Result` is handled or logged, never dropped with `let _ =`
// (tests may). See `discord::errors`.
#![cfg_attr(not(test), deny(clippy::let_underscore_must_use))]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use prepbot::bank::{lint, BagState, Bank, BankError, Difficulty, Filter, Question};
use prepbot::config::Config;

/// A Discord bot for interview practice: /ask, a question of the day, quiz rounds.
#[derive(Parser, Debug)]
#[command(name = "prepbot", version, about)]
struct Cli {
    /// Config file (default: ./config.toml when present, otherwise built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the bot (the default). Needs DISCORD_TOKEN or discord.token.
    Run,
    /// Validate bank files and print a summary; exit 0 when valid, 2 with every error when not.
    /// Also warns about weak content: near-duplicate questions, quiz options that give the
    /// answer away, questions without key points or quiz options.
    Check {
        /// Treat warnings as errors (exit 2), e.g. in a bank repository's CI.
        #[arg(long)]
        strict: bool,
        /// Bank files or directories (default: the configured bank.paths).
        paths: Vec<PathBuf>,
    },
    /// Print one random question and, after Enter, its model answer.
    Ask {
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        #[arg(long, value_parser = parse_difficulty)]
        difficulty: Option<Difficulty>,
        #[arg(long)]
        id: Option<String>,
    },
}

fn parse_difficulty(s: &str) -> Result<Difficulty, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before anything can log: the token from the environment is scrubbed from every line.
    if let Ok(token) = std::env::var("DISCORD_TOKEN") {
        prepbot::logging::register_secret(&token);
    }
    prepbot::logging::init();
    let config = match Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(token) = &config.discord.token {
        prepbot::logging::register_secret(token.expose());
    }
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(config),
        Command::Check { strict, paths } => {
            let paths = if paths.is_empty() {
                config.bank.paths.clone()
            } else {
                paths
            };
            check(&paths, strict)
        }
        Command::Ask {
            category,
            tag,
            difficulty,
            id,
        } => ask(
            &config,
            Filter {
                category,
                tag,
                difficulty,
                id,
            },
        ),
    }
}

/// Errors and warnings go to stderr, the summary to stdout, so a CI log shows both and a
/// script can read the summary alone.
fn check(paths: &[PathBuf], strict: bool) -> ExitCode {
    let (bank, report) = match Bank::check(paths) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if report.not_compared > 0 {
        let n = report.not_compared;
        eprintln!(
            "note: {} not compared for near-duplicates: every word {} with another \
             question is in more than {} questions",
            if n == 1 {
                "1 question was".to_string()
            } else {
                format!("{n} questions were")
            },
            if n == 1 { "it shares" } else { "they share" },
            lint::MAX_GROUP
        );
    }
    let warnings = report.warnings.len();
    if strict && warnings > 0 {
        eprintln!(
            "{}",
            BankError {
                diagnostics: report.warnings
            }
        );
        eprintln!("(these are warnings, errors under --strict)");
        return ExitCode::from(2);
    }
    for w in &report.warnings {
        eprintln!("{}", lint::AsWarning(w));
    }
    let files = bank
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    println!("ok: {files}");
    println!("{}", bank.summary());
    println!(
        "  with optional fields: {}",
        bank.optional_field_counts()
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if warnings > 0 {
        println!(
            "{} (`prepbot check --strict` fails on them)",
            prepbot::text::count(warnings, "warning")
        );
    }
    ExitCode::SUCCESS
}

fn ask(config: &Config, filter: Filter) -> ExitCode {
    let bank = match Bank::load(&config.bank.paths) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut rng = rand::rng();
    let Some(draw) = BagState::default().draw(&bank, &filter, &mut rng) else {
        eprintln!(
            "no question matches {}; categories: {}",
            filter.describe(),
            bank.categories().join(", ")
        );
        return ExitCode::from(2);
    };
    match show(draw.question) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the question, waits for Enter, then prints the answer. I/O errors end the command
/// with a message: `println!` would panic on a full or closed stdout, and a prompt that was
/// never shown must not wait for Enter.
fn show(q: &Question) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    prompt(&mut out, q)
        .map_err(|e| format!("cannot write the question to standard output: {e}"))?;
    // Bytes, not a String: whatever was typed before Enter is not ours to validate. End of
    // input (Ctrl-D, a closed pipe) shows the answer too.
    std::io::stdin()
        .lock()
        .read_until(b'\n', &mut Vec::new())
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    writeln!(out, "\n{}", q.answer)
        .map_err(|e| format!("cannot write the answer to standard output: {e}"))
}

fn prompt(out: &mut impl Write, q: &Question) -> std::io::Result<()> {
    let difficulty = q.difficulty.map_or("unrated", Difficulty::as_str);
    writeln!(
        out,
        "[{} · {} · {}]\n\n{}\n",
        q.category, difficulty, q.id, q.question
    )?;
    write!(out, "(press Enter to see the model answer) ")?;
    out.flush()
}

fn run(config: Config) -> ExitCode {
    let bank = match Bank::load(&config.bank.paths) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(prepbot::discord::run(config, bank)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                prepbot::discord::StartError::NoToken => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
