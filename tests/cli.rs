//! The built `prepbot` binary's command line: `check` on good and broken banks, and the
//! shipped questions.toml.

use std::path::Path;
use std::process::Command;

fn prepbot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_prepbot"));
    // A clean environment: no stray token or log settings from the developer's shell.
    c.env_remove("DISCORD_TOKEN").env_remove("RUST_LOG");
    c
}

#[test]
fn check_shipped_bank_prints_summary_and_exits_0() {
    let bank = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions.toml");
    let out = prepbot().arg("check").arg(&bank).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("35 questions in 6 categories"), "{stdout}");
    assert!(
        stdout.contains(
            "technical 20, role 3, skills 3, toolkit 3, behavioral 3, ask-the-interviewer 3"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("by difficulty: easy"), "{stdout}");
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
