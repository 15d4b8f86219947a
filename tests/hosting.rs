//! The README's "Hosting" section and the files it uses, checked without a Docker engine or
//! systemd: every code block of the section is known here and exercised (run, parsed, or
//! compared with the file it relies on), the Dockerfile, compose file and systemd unit are
//! read for what the issue asks of them, and the systemd install commands are run into a
//! temporary root. (`tests/e2e_ops.rs` runs the section's `curl`, `prepbot health` and
//! `prepbot invite` against the built binary.)

use std::path::{Path, PathBuf};
use std::process::Command;

use prepbot::config::Config;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The fenced code blocks of README's `## Hosting`, with their language.
fn hosting_blocks() -> Vec<(String, String)> {
    let readme = read("README.md");
    let start = readme
        .find("\n## Hosting\n")
        .expect("README has a Hosting section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    let section = &rest[..end];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((lang.to_string(), body.join("\n")));
        }
    }
    blocks
}

/// The value of every `Key=` line of a unit file (or `KEY value` instruction of a
/// Dockerfile, with `sep = ' '`).
fn values<'a>(text: &'a str, key: &str, sep: char) -> Vec<&'a str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(sep))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
        .collect()
}

/// The one value of `key`, or a panic naming it.
fn one<'a>(text: &'a str, key: &str, sep: char) -> &'a str {
    let v = values(text, key, sep);
    assert_eq!(v.len(), 1, "{key}: {v:?}");
    v[0]
}

#[test]
fn every_hosting_snippet_is_known_and_checked() {
    let blocks = hosting_blocks();
    assert!(blocks.len() >= 7, "{blocks:#?}");
    let mut kinds = std::collections::BTreeSet::new();
    for (lang, body) in &blocks {
        match lang.as_str() {
            // Config snippets: valid, and what they say they set.
            "toml" => {
                let c = Config::from_toml(body, Path::new("README.md"))
                    .unwrap_or_else(|e| panic!("{e}\n{body}"));
                assert_ne!(c, Config::default(), "a snippet that sets nothing:\n{body}");
                kinds.insert("toml");
            }
            "sh" => {
                let first = body.lines().next().unwrap();
                let kind = if first.starts_with("docker build") {
                    docker_commands(body);
                    "docker"
                } else if first.contains("docker compose") {
                    assert_eq!(first, "DISCORD_TOKEN=… docker compose up -d");
                    assert!(repo().join("compose.yaml").is_file());
                    "compose"
                } else if first == "cargo build --release" {
                    systemd_install(body);
                    "systemd"
                } else if first == "prepbot invite" {
                    // Run by tests/e2e_ops.rs (invite_prints_the_url_with_the_tables_permissions).
                    assert_eq!(body, "prepbot invite");
                    "invite"
                } else if first.starts_with("curl ") {
                    // Run by tests/e2e_ops.rs against the binary (readme_curl_lines).
                    assert!(body
                        .lines()
                        .all(|l| l.starts_with("curl ") || l == "prepbot health"));
                    "metrics"
                } else {
                    panic!("a Hosting snippet no test checks:\n{body}");
                };
                kinds.insert(kind);
            }
            other => panic!("a Hosting snippet in `{other}` no test checks:\n{body}"),
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["compose", "docker", "invite", "metrics", "systemd", "toml"]
    );
}

/// `docker build` / `docker run` as the README gives them, against the Dockerfile.
fn docker_commands(body: &str) {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "docker build -t prepbot .");
    let run = lines[1];
    assert!(run.starts_with("docker run "), "{run}");
    assert!(
        run.ends_with(" prepbot"),
        "runs the image built above: {run}"
    );
    // The token from the host's environment, as the image expects it.
    assert!(run.contains(" -e DISCORD_TOKEN "), "{run}");
    // The named volume on the image's state directory.
    let volume = one(&dockerfile, "VOLUME", ' ');
    assert_eq!(volume, "[\"/data\"]");
    assert!(run.contains(" -v prepbot-data:/data "), "{run}");
    // The published port is the exposed one, which is the image config's metrics.listen.
    let port = one(&dockerfile, "EXPOSE", ' ');
    assert!(
        run.contains(&format!(" -p 127.0.0.1:{port}:{port} ")),
        "{run}"
    );
    let config =
        Config::from_toml(&read("deploy/container.toml"), Path::new("container.toml")).unwrap();
    assert_eq!(
        config.metrics.listen_addr().map(|a| a.port().to_string()),
        Some(port.to_string())
    );
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged_with_a_volume_and_a_healthcheck() {
    let d = read("Dockerfile");
    let froms = values(&d, "FROM", ' ');
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert!(froms[0].ends_with(" AS build"), "{froms:?}");
    // The runtime stage is small: distroless, no compiler, no package manager.
    assert!(
        froms[1].starts_with("gcr.io/distroless/cc-debian12"),
        "{froms:?}"
    );
    // Dependencies are built before the sources are copied: a layer that stays cached.
    let manifest = d
        .find("COPY Cargo.toml Cargo.lock ./")
        .expect("manifest copied alone");
    let deps = d.find("cargo build --release --locked").unwrap();
    let sources = d.find("COPY src ./src").unwrap();
    assert!(
        manifest < deps && deps < sources,
        "dependency layer before the sources"
    );
    // Every target the manifest names must exist for that first build: stubs for them.
    let cargo_toml = read("Cargo.toml");
    let benches = cargo_toml
        .split("[[bench]]")
        .skip(1)
        .map(|b| one(b, "name", '=').trim_matches('"').to_string());
    let stubs: Vec<String> = ["src/main.rs".to_string(), "src/lib.rs".to_string()]
        .into_iter()
        .chain(benches.map(|b| format!("benches/{b}.rs")))
        .collect();
    assert!(stubs.len() > 2, "the bench target is known");
    for stub in &stubs {
        assert!(d[..deps].contains(stub.as_str()), "no stub for {stub}");
    }
    // Non-root.
    let user = one(&d, "USER", ' ');
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "USER {user}"
    );
    // State under /data, owned by that user so a new volume is writable.
    assert_eq!(one(&d, "VOLUME", ' '), "[\"/data\"]");
    assert!(d.contains(&format!("COPY --from=build --chown={user} /data /data")));
    let config =
        Config::from_toml(&read("deploy/container.toml"), Path::new("container.toml")).unwrap();
    assert!(config.storage.path.starts_with("/data"), "{config:?}");
    assert!(d.contains("COPY deploy/container.toml /etc/prepbot/config.toml"));
    assert_eq!(
        one(&d, "ENV", ' '),
        "PREPBOT_CONFIG=/etc/prepbot/config.toml"
    );
    // The shipped bank is where the image's config looks for it.
    assert!(d.contains(&format!(
        "COPY questions.toml {}",
        config.bank.paths[0].display()
    )));
    // The token comes from the environment: nothing in the image.
    assert!(!d.contains("DISCORD_TOKEN="), "no token baked in");
    // A health check through the binary itself (no curl in the image).
    let hc = d
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .take(2)
        .collect::<String>();
    assert!(hc.contains("CMD [\"prepbot\", \"health\"]"), "{hc}");
    assert!(config.metrics.listen.is_some(), "health needs the listener");
    assert_eq!(one(&d, "ENTRYPOINT", ' '), "[\"prepbot\"]");
    // No network but the crate registry: no package installs or downloads in the build.
    for banned in ["apt-get", "apk ", "curl ", "wget ", "git clone", "ADD http"] {
        assert!(!d.contains(banned), "the Dockerfile uses {banned}");
    }
    // What the build context holds: not the target dir (gigabytes) nor databases.
    let ignore = read(".dockerignore");
    for must in ["target", ".git", "*.db", "config.toml"] {
        assert!(
            ignore.lines().any(|l| l == must),
            ".dockerignore lacks {must}"
        );
    }
    for needed in [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        "questions.toml",
        "questions",
        "assets",
        "deploy",
    ] {
        assert!(!ignore.lines().any(|l| l == needed), "{needed} is ignored");
    }
}

#[test]
fn the_compose_file_runs_the_image_with_sqlite_on_a_volume() {
    let c = read("compose.yaml");
    let has = |line: &str| c.lines().any(|l| l.trim() == line);
    assert!(has("prepbot:"));
    assert!(has("build: ."));
    assert!(has("restart: unless-stopped"));
    assert!(has(
        "DISCORD_TOKEN: ${DISCORD_TOKEN:?set DISCORD_TOKEN to the bot token}"
    ));
    assert!(has("- prepbot-data:/data"));
    assert!(has("prepbot-data:"), "the named volume is declared");
    let port = one(&read("Dockerfile"), "EXPOSE", ' ').to_string();
    assert!(has(&format!("- \"127.0.0.1:{port}:{port}\"")));
    // Longer than the bot's own shutdown, so Docker never kills it mid-post.
    let grace = one(&c, "stop_grace_period", ':');
    let secs: u64 = grace.trim_end_matches('s').parse().unwrap();
    assert!(
        secs > prepbot::discord::SHUTDOWN_WITHIN.as_secs(),
        "{grace}"
    );
    // SQLite until the PostgreSQL store exists: no database service yet.
    assert!(
        !c.contains("image: postgres"),
        "PostgreSQL is not a store yet"
    );
    // Valid YAML nesting: two-space indents only, no tabs.
    for l in c.lines() {
        assert!(!l.contains('\t'), "tab in compose.yaml: {l}");
        let indent = l.len() - l.trim_start().len();
        assert_eq!(indent % 2, 0, "odd indent: {l}");
    }
}

#[test]
fn the_systemd_unit_is_hardened_restarts_on_failure_and_takes_the_token_as_a_credential() {
    let u = read("deploy/prepbot.service");
    for (key, want) in [
        ("DynamicUser", "yes"),
        ("StateDirectory", "prepbot"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("Restart", "on-failure"),
        // A setup problem (exit 2) is not restarted in a loop.
        ("RestartPreventExitStatus", "2"),
        ("KillSignal", "SIGTERM"),
        ("Type", "exec"),
        ("WantedBy", "multi-user.target"),
    ] {
        assert_eq!(one(&u, key, '='), want, "{key}");
    }
    // The token: a credential, handed over as the file DISCORD_TOKEN_FILE names.
    let cred = one(&u, "LoadCredential", '=');
    let (name, source) = cred.split_once(':').unwrap();
    assert_eq!(source, "/etc/prepbot/discord-token");
    assert_eq!(
        one(&u, "Environment", '='),
        format!("DISCORD_TOKEN_FILE=%d/{name}")
    );
    assert!(!u.contains("DISCORD_TOKEN="), "no token in the unit");
    // systemd waits longer than the bot's own clean shutdown before it kills.
    let stop: u64 = one(&u, "TimeoutStopSec", '=')
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(stop > prepbot::discord::SHUTDOWN_WITHIN.as_secs());
    // The config it starts with keeps the database in the StateDirectory.
    let exec = one(&u, "ExecStart", '=');
    assert_eq!(
        exec,
        "/usr/local/bin/prepbot --config /etc/prepbot/prepbot.toml run"
    );
    let config =
        Config::from_toml(&read("deploy/prepbot.toml"), Path::new("prepbot.toml")).unwrap();
    assert!(config.storage.path.starts_with("/var/lib/prepbot"));
    assert!(
        config.discord.token.is_none(),
        "the token is not in the config"
    );
    // Every key is in a section systemd knows, and every line is a key, a section or a
    // comment (a typo would be ignored by systemd with a warning).
    let mut section = "";
    for l in u
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if l.starts_with('[') {
            section = l;
            assert!(["[Unit]", "[Service]", "[Install]"].contains(&l), "{l}");
            continue;
        }
        assert!(!section.is_empty() && l.contains('='), "{l}");
    }
}

/// The README's systemd commands, run for real into a temporary root (`sudo` dropped,
/// absolute paths under the root, the test's binary for `target/release/prepbot`); then the
/// unit's `ExecStart`, under the same root, checks the installed bank with the installed
/// config (`check` for `run`: the bot needs Discord).
fn systemd_install(body: &str) {
    let unit = read("deploy/prepbot.service");
    let root = tempfile::tempdir().unwrap();
    let r = root.path().display().to_string();
    let rooted = |p: &str| format!("{r}{p}");
    let mut installed = Vec::new();
    for line in body.lines() {
        match line.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["cargo", "build", "--release"] => {} // CI builds the same code in debug.
            ["sudo", "install", flags @ .., src, dst] => {
                let src = match *src {
                    "target/release/prepbot" => env!("CARGO_BIN_EXE_prepbot").to_string(),
                    s => s.to_string(),
                };
                let status = Command::new("install")
                    .args(flags.iter())
                    .arg(&src)
                    .arg(rooted(dst))
                    .current_dir(repo())
                    .status()
                    .unwrap();
                assert!(status.success(), "{line}");
                installed.push(dst.to_string());
            }
            ["sudo", "cp", "-r", src, dst] => {
                let status = Command::new("cp")
                    .args(["-r", src, &rooted(dst)])
                    .current_dir(repo())
                    .status()
                    .unwrap();
                assert!(status.success(), "{line}");
                installed.push(dst.to_string());
            }
            ["sudoedit", path] => {
                // The host pastes the token here.
                assert_eq!(*path, "/etc/prepbot/discord-token");
                std::fs::write(rooted(path), "token\n").unwrap();
            }
            ["sudo", "systemctl", "daemon-reload"] => {}
            ["sudo", "systemctl", "enable", "--now", name] => {
                assert!(installed.contains(&format!("/etc/systemd/system/{name}.service")));
            }
            _ => panic!("a systemd step this test does not know: {line}"),
        }
    }
    // What the unit and its config rely on was installed, the token file private.
    let exec = one(&unit, "ExecStart", '=');
    let cred = one(&unit, "LoadCredential", '=').split_once(':').unwrap().1;
    for needed in [
        exec.split(' ').next().unwrap(),
        "/etc/prepbot/prepbot.toml",
        cred,
    ] {
        assert!(
            installed.iter().any(|i| i == needed),
            "{needed} not installed"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(rooted(cred))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is private");
    // The installed config, its absolute paths moved under the root as a chroot would.
    let config_path = rooted("/etc/prepbot/prepbot.toml");
    let text = std::fs::read_to_string(&config_path).unwrap();
    let text = text
        .replace("\"/usr/", &format!("\"{r}/usr/"))
        .replace("\"/var/", &format!("\"{r}/var/"));
    std::fs::write(&config_path, text).unwrap();
    let mut args: Vec<String> = exec
        .split(' ')
        .map(|a| {
            if a.starts_with('/') {
                rooted(a)
            } else {
                a.to_string()
            }
        })
        .collect();
    assert_eq!(args.pop().as_deref(), Some("run"));
    let out = Command::new(&args[0])
        .args(&args[1..])
        .arg("check")
        .env_remove("PREPBOT_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&rooted("/usr/local/share/prepbot/questions.toml")),
        "{stdout}"
    );
}

/// The image's and the unit's configs, and config.example.toml, are valid and describe the
/// keys this issue added.
#[test]
fn shipped_configs_are_valid() {
    for rel in ["deploy/container.toml", "deploy/prepbot.toml"] {
        let c = Config::from_toml(&read(rel), Path::new(rel)).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.metrics.listen_addr().is_some(), "{rel}");
        assert!(c.bank.paths.iter().all(|p| p.is_absolute()), "{rel}");
        assert!(c.storage.path.is_absolute(), "{rel}");
    }
    let example = read("config.example.toml");
    for key in [
        "[log]",
        "format = \"text\"",
        "[metrics]",
        "# listen = \"127.0.0.1:9184\"",
        "DISCORD_TOKEN_FILE",
    ] {
        assert!(example.contains(key), "config.example.toml lacks {key}");
    }
}
