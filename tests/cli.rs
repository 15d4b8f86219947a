//! The built `prepbot` binary's command line: `check` on good, weak and broken banks, and
//! `ask` on the shipped questions.toml.

use std::path::Path;
use std::process::Command;

fn prepbot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_prepbot"));
    // A clean environment: no stray token or log settings from the developer's shell.
    c.env_remove("DISCORD_TOKEN").env_remove("RUST_LOG");
    c
}

/// A question no lint warns about.
fn complete(id: &str, category: &str, difficulty: &str, question: &str) -> String {
    format!(
        "[[question]]\nid = \"{id}\"\ncategory = \"{category}\"\ndifficulty = \"{difficulty}\"\n\
         tags = [\"t\"]\nquestion = \"{question}\"\nanswer = \"The model answer to {id}.\"\n\
         key_points = [\"First point\", \"Second point\", \"Third point\"]\n\
         follow_ups = [\"And then?\"]\n\
         quiz_answer = \"The right option\"\n\
         distractors = [\"A wrong option\", \"Another wrong one\", \"A third wrong one\"]\n\
         explanation = \"Why.\"\n\n"
    )
}

#[test]
fn check_prints_counts_per_topic_difficulty_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank.toml");
    let bare = "[[question]]\nid = \"bare\"\ncategory = \"caching\"\n\
                question = \"What is a write-behind cache?\"\nanswer = \"a\"\n";
    std::fs::write(
        &bank,
        format!(
            "{}{}{}{bare}",
            complete("a", "databases", "easy", "What is MVCC?"),
            complete(
                "b",
                "databases",
                "hard",
                "How would you shard a users table?"
            ),
            complete(
                "c",
                "caching",
                "easy",
                "When does a TTL beat explicit invalidation?"
            ),
        ),
    )
    .unwrap();
    let out = prepbot().arg("check").arg(&bank).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("4 questions in 2 categories"), "{stdout}");
    assert!(
        stdout.contains("by category: databases 2, caching 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("by difficulty: unrated 1, easy 2, hard 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "with optional fields: key_points 3, follow_ups 3, quiz_answer 3, distractors 3, \
             explanation 3, tags 3, difficulty 3"
        ),
        "{stdout}"
    );
}

#[test]
fn check_prints_warnings_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank.toml");
    // A question without key points or quiz options, and a light rephrasing of another.
    std::fs::write(
        &bank,
        format!(
            "{}{}[[question]]\nid = \"bare\"\ncategory = \"c\"\nquestion = \"What is a mutex?\"\n\
             answer = \"a\"\n",
            complete("cap", "c", "easy", "Explain the CAP theorem."),
            complete("cap-again", "c", "easy", "What does the CAP theorem say?"),
        ),
    )
    .unwrap();
    let out = prepbot().arg("check").arg(&bank).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let p = bank.display().to_string();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&p)).collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    assert!(
        warnings[0].starts_with(&format!(
            "{p}:15:6: warning: question `cap-again` is a near-duplicate of `cap` ({p}:2:6; \
             similarity"
        )),
        "{stderr}"
    );
    assert!(
        warnings[1].starts_with(&format!(
            "{p}:28:6: warning: question `bare` has no `key_points`"
        )),
        "{stderr}"
    );
    assert!(
        warnings[2].starts_with(&format!(
            "{p}:28:6: warning: question `bare` has no quiz options"
        )),
        "{stderr}"
    );
    assert!(stdout.contains("3 questions in 1 category"), "{stdout}");
    assert!(
        stdout.contains("3 warnings (`prepbot check --strict` fails on them)"),
        "{stdout}"
    );
}

#[test]
fn check_strict_turns_warnings_into_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bank = dir.path().join("bank.toml");
    std::fs::write(
        &bank,
        format!(
            "{}[[question]]\nid = \"bare\"\ncategory = \"c\"\nquestion = \"q\"\nanswer = \"a\"\n",
            complete("fine", "c", "easy", "What is a mutex?")
        ),
    )
    .unwrap();
    let out = prepbot()
        .args(["check", "--strict"])
        .arg(&bank)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let p = bank.display().to_string();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&p)).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("{p}:15:6: question `bare` has no `key_points`")),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with(&format!("{p}:15:6: question `bare` has no quiz options")),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 problems in the question bank"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no summary for a failed check");

    // A clean bank passes --strict.
    std::fs::write(&bank, complete("fine", "c", "easy", "What is a mutex?")).unwrap();
    let out = prepbot()
        .args(["check", "--strict"])
        .arg(&bank)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_broken_bank_reports_each_mistake_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    // Three different mistakes: a typo'd key, a malformed id, an unknown difficulty.
    std::fs::write(
        &bad,
        "[[question]]\nid = \"Bad Id\"\ncategory = \"technical\"\nquestion = \"q\"\n\
         answer = \"a\"\nanwser = \"typo\"\ndifficulty = \"extreme\"\n",
    )
    .unwrap();
    let out = prepbot().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let p = bad.display().to_string();
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&p)).collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{p}:2:6: id `Bad Id`")),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("{p}:6:1: unknown key `anwser`")),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with(&format!("{p}:7:14: unknown difficulty `extreme`")),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 problems in the question bank"),
        "{stderr}"
    );
}

#[test]
fn check_defaults_to_configured_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[[question]]\nid = \"a\"\ncategory = \"c\"\nquestion = \"q\"\nanswer = \"a\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[bank]\npaths = [\"mine.toml\"]\n",
    )
    .unwrap();
    let out = prepbot()
        .arg("check")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 question in 1 category"));
}

#[test]
fn without_config_check_reads_questions_toml_and_the_questions_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("questions.toml"),
        complete("seed", "career", "easy", "Why this company?"),
    )
    .unwrap();
    // The directory is part of the default: without it the bank does not load.
    let out = prepbot()
        .arg("check")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("questions:1:1: cannot read this bank file"),
        "{stderr}"
    );

    std::fs::create_dir(dir.path().join("questions")).unwrap();
    std::fs::write(
        dir.path().join("questions").join("caching.toml"),
        complete("ttl", "caching", "easy", "What does a TTL bound?"),
    )
    .unwrap();
    let out = prepbot()
        .args(["check", "--strict"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("ok: questions.toml, questions/caching.toml\n"),
        "{stdout}"
    );
    assert!(stdout.contains("2 questions in 2 categories"), "{stdout}");
}

#[test]
fn bad_config_is_reported_with_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[reveal]\nmode = \"loud\"\n").unwrap();
    let out = prepbot()
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":2:8: `reveal.mode`"), "{stderr}");
}

#[test]
fn ask_prints_a_question_then_the_answer() {
    use std::io::Write;
    let bank = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions.toml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[bank]\npaths = [{:?}]\n", bank.display().to_string()),
    )
    .unwrap();
    let mut child = prepbot()
        .args(["ask", "--id", "acid-properties"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let q = stdout
        .find("Explain the concept of ACID properties")
        .expect("question shown");
    let a = stdout
        .find("ACID stands for Atomicity")
        .expect("answer shown");
    assert!(q < a, "{stdout}");

    let out = prepbot()
        .args(["ask", "--category", "nope"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no question matches category nope"));
}

/// `ask` on a stdout that cannot be written (`/dev/full` refuses every write, root's too):
/// an error message and exit 1, not a panic.
#[cfg(target_os = "linux")]
#[test]
fn ask_on_an_unwritable_stdout_reports_it() {
    let bank = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions.toml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[bank]\npaths = [{:?}]\n", bank.display().to_string()),
    )
    .unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = prepbot()
        .args(["ask", "--id", "acid-properties"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: cannot write the question to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
