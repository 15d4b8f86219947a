//! The `prepbot` command line: run the bot, check a bank, or try a question in the terminal.

// One error policy: a `Result` is handled or logged, never dropped with `let _ =`
// (tests may). See `discord::errors`.
#![cfg_attr(not(test), deny(clippy::let_underscore_must_use))]

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use prepbot::bank::{lint, BagState, Bank, BankError, Difficulty, Filter, Question};
use prepbot::config::{Config, LogFormat};

/// A Discord bot for interview practice: /ask, a question of the day, quiz rounds.
#[derive(Parser, Debug)]
#[command(name = "prepbot", version, about)]
struct Cli {
    /// Config file (default: ./config.toml when present, otherwise built-in defaults).
    #[arg(long, global = true, value_name = "PATH", env = "PREPBOT_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as `text` or `json` (one object per line); wins over `log.format`.
    #[arg(long, global = true, value_name = "FORMAT", value_parser = parse_log_format)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the bot (the default). Needs DISCORD_TOKEN (or DISCORD_TOKEN_FILE, or discord.token).
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
    /// Print the URL that adds this bot to a server, with exactly the permissions it uses.
    Invite {
        /// Also ask for Mention @everyone, @here, and All Roles: needed only to ping a role
        /// that is not mentionable with the daily question.
        #[arg(long)]
        role_pings: bool,
    },
    /// Ask the running bot's /healthz (on metrics.listen); exit 0 when healthy, 1 when not.
    Health,
    /// Copy the SQLite database (storage.path) into an empty PostgreSQL database, verifying
    /// every table's row count; then set storage.url to run on it. Stop the bot first.
    Migrate {
        /// The target, e.g. postgres://prepbot@127.0.0.1:5432/prepbot. The password comes
        /// from the variable named by storage.password_env (PGPASSWORD by default).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

fn parse_difficulty(s: &str) -> Result<Difficulty, String> {
    s.parse()
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before anything can log: the token from the environment is scrubbed from every line.
    if let Ok(token) = std::env::var("DISCORD_TOKEN") {
        prepbot::logging::register_secret(&token);
    }
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
    if let Some(password) = std::env::var(&config.storage.password_env)
        .ok()
        .filter(|p| !p.is_empty())
    {
        prepbot::logging::register_secret(&password);
    }
    // After the config (it chooses the format), and after every secret is registered.
    prepbot::logging::init(cli.log_format.unwrap_or(config.log.format));
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
        Command::Invite { role_pings } => block_on(invite(&config, role_pings)),
        Command::Health => block_on(health(&config)),
        Command::Migrate { to } => block_on(migrate(&config, &to)),
    }
}

/// Runs `fut` on a runtime made for it: `invite` and `health` make one request each.
fn block_on(fut: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn invite(config: &Config, role_pings: bool) -> ExitCode {
    use prepbot::discord::permissions;
    let Some(token) = &config.discord.token else {
        eprintln!("error: {}", prepbot::discord::StartError::NoToken);
        return ExitCode::from(2);
    };
    let app_id = match permissions::application_id(config, token).await {
        Ok(found) => {
            if let Some(note) = found.note {
                eprintln!("note: {note}");
            }
            found.id
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let perms = permissions::invite_permissions(role_pings);
    eprintln!("{}", permissions::explain(role_pings));
    println!("{}", permissions::invite_url(app_id, perms));
    ExitCode::SUCCESS
}

async fn migrate(config: &Config, to: &str) -> ExitCode {
    if let Err(why) = prepbot::config::check_postgres_url(to) {
        eprintln!("error: --to {why}");
        return ExitCode::from(2);
    }
    let password = std::env::var(&config.storage.password_env)
        .ok()
        .filter(|p| !p.is_empty())
        .map(prepbot::config::Secret::new);
    let from = &config.storage.path;
    eprintln!("copying {} into {to} …", from.display());
    match prepbot::store::copy_sqlite_to_postgres(from, to, password.as_ref()).await {
        Ok(copied) => {
            for (table, rows) in &copied.tables {
                println!("{table:<18} {rows:>10} rows (counts match)");
            }
            println!(
                "copied {} rows; set storage.url = \"{to}\" to run on PostgreSQL",
                copied.total()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn health(config: &Config) -> ExitCode {
    match prepbot::discord::health::probe(config).await {
        Ok(body) => {
            println!("{}", body.trim_end());
            ExitCode::SUCCESS
        }
        Err(prepbot::discord::health::ProbeError::Unhealthy(body)) => {
            println!("{}", body.trim_end());
            ExitCode::FAILURE
        }
        // Every failure is 1, "unhealthy", for Docker's HEALTHCHECK (which reserves 2).
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
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
    // A burst's freed memory goes back to the OS within seconds (see `memory`).
    let trimming = runtime.spawn(prepbot::memory::trim_periodically());
    let result = runtime.block_on(prepbot::discord::run(config, bank));
    trimming.abort();
    // Tasks still running (a blocking store call, a stuck send) must not hold the exit past
    // the supervisor's stop timeout: `run` already waited what it should.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            // 2: a setup problem that a restart does not fix (the unit file's
            // RestartPreventExitStatus=2); 1: restart.
            if e.is_setup_problem() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
