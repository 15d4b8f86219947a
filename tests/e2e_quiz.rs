//! End-to-end: quiz rounds against the fake Discord — a full round with clicks, closes,
//! results, podium and the all-time leaderboard; one round per channel and rounds side by
//! side; `/quiz stop` and `/quiz skip` with their permission rule; late clicks; the early
//! close; a restart in the middle of a round.
//!
//! Which button is right is read from the bank: a question's correct choice is the choice
//! whose text is the bank answer of the question shown (bank answers are unique texts).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use prepbot::bank::Bank;
use prepbot::discord::Bot;
use prepbot::quiz::letter;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

async fn setup() -> (FakeDiscord, tempfile::TempDir) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    (fake, dir)
}

async fn start_bot(fake: &FakeDiscord, dir: &Path) -> Bot {
    start(fake, config(fake, dir), options(SignedDuration::ZERO)).await
}

fn load_bank(dir: &Path) -> Bank {
    Bank::load(&[dir.join("questions.toml")]).unwrap()
}

/// Sends `/quiz {sub}` and returns its callback's message data.
async fn quiz(
    fake: &FakeDiscord,
    sub: &str,
    options: Value,
    user: &TestUser,
    channel_id: u64,
) -> Value {
    let cmd = fake.slash_command("quiz", &[sub], options, user, channel_id);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "/quiz {sub}: {}", cb.body);
    callback_data(&cb).clone()
}

/// `/quiz start` that must succeed: a public "starting" message.
async fn start_round(
    fake: &FakeDiscord,
    options: Value,
    user: &TestUser,
    channel_id: u64,
) -> Value {
    let data = quiz(fake, "start", options, user, channel_id).await;
    assert!(!is_ephemeral(&data), "{data}");
    assert_eq!(
        data["embeds"][0]["title"],
        json!("🧠 Quiz round starting"),
        "{data}"
    );
    data
}

/// The text of an ephemeral reply; panics when the reply is public or has no content.
fn ephemeral_text(data: &Value) -> String {
    assert!(is_ephemeral(data), "not ephemeral: {data}");
    data["content"].as_str().expect("content").to_string()
}

fn title(m: &Value) -> &str {
    m["embeds"][0]["title"].as_str().unwrap_or("")
}

/// The bot's messages in a channel whose first embed's title starts with `prefix`, oldest
/// first, as last edited.
fn titled(fake: &FakeDiscord, channel_id: u64, prefix: &str) -> Vec<Value> {
    fake.messages(channel_id)
        .into_iter()
        .filter(|m| title(m).starts_with(prefix))
        .collect()
}

async fn wait_titled(fake: &FakeDiscord, channel_id: u64, prefix: &str) -> Value {
    eventually(&format!("a message titled {prefix:?}"), || {
        titled(fake, channel_id, prefix).into_iter().next()
    })
    .await
}

/// Question `n` (1-based) of the round in `channel_id`, as last edited.
async fn question(fake: &FakeDiscord, channel_id: u64, n: usize) -> Value {
    wait_titled(fake, channel_id, &format!("Quiz · question {n}/")).await
}

/// The results message of question `n`.
async fn results(fake: &FakeDiscord, channel_id: u64, n: usize) -> Value {
    wait_titled(fake, channel_id, &format!("Question {n}/")).await
}

/// The end-of-round messages in a channel (not the leaderboard, whose title is similar).
fn finals(fake: &FakeDiscord, channel_id: u64) -> Vec<Value> {
    fake.messages(channel_id)
        .into_iter()
        .filter(|m| title(m).starts_with("🏆 Quiz over") || title(m).starts_with("🏆 Quiz stopped"))
        .collect()
}

async fn final_standings(fake: &FakeDiscord, channel_id: u64) -> Value {
    eventually("the final standings", || {
        finals(fake, channel_id).into_iter().next()
    })
    .await
}

fn has_results(fake: &FakeDiscord, channel_id: u64, n: usize) -> bool {
    !titled(fake, channel_id, &format!("Question {n}/")).is_empty()
}

fn message_id(m: &Value) -> u64 {
    m["id"].as_str().unwrap().parse().unwrap()
}

fn channel_of(m: &Value) -> u64 {
    m["channel_id"].as_str().unwrap().parse().unwrap()
}

/// The value of the embed field `name` of a message or callback body.
fn field(m: &Value, name: &str) -> String {
    m["embeds"][0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name:?} in {m}"))
        .to_string()
}

fn buttons(m: &Value) -> Vec<Value> {
    m["components"][0]["components"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn is_closed(m: &Value) -> bool {
    let b = buttons(m);
    !b.is_empty() && b.iter().all(|b| b["disabled"] == json!(true))
}

fn wrong(correct: usize) -> usize {
    (correct + 1) % 4
}

/// Clicks choice `choice` of question message `q` as `user`; returns the ephemeral reply.
async fn click(fake: &FakeDiscord, q: &Value, choice: usize, user: &TestUser) -> String {
    let id = buttons(q)[choice]["custom_id"]
        .as_str()
        .expect("a button id")
        .to_string();
    let c = fake.button_click(&id, q, user, channel_of(q));
    fake.dispatch("INTERACTION_CREATE", c.clone());
    let cb = fake.wait_callback(&c, WAIT).await;
    assert_eq!(cb.body["type"], json!(4), "{}", cb.body);
    ephemeral_text(callback_data(&cb))
}

fn locked_in(choice: usize) -> String {
    format!("🔒 Locked in: **{}**", letter(choice))
}

fn mention(u: &TestUser) -> String {
    format!("<@{}>", u.id)
}

/// The lines of the leaderboard embed.
async fn leaderboard(fake: &FakeDiscord) -> Vec<String> {
    let data = quiz(fake, "leaderboard", json!({}), &MEMBER, CHANNEL_ID).await;
    assert!(!is_ephemeral(&data));
    assert_eq!(data["embeds"][0]["title"], json!("🏆 Quiz leaderboard"));
    data["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// PATCHes of a message, in order.
fn edits_of(fake: &FakeDiscord, m: &Value) -> Vec<Value> {
    let path = format!("/channels/{}/messages/{}", channel_of(m), message_id(m));
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path == path)
        .map(|r| r.body)
        .collect()
}

fn finish(fake: &FakeDiscord) {
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(fake, None);
}

#[tokio::test]
async fn a_full_round_scores_shows_results_and_fills_the_leaderboard() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());
    let carol = fake.new_user("carol");
    let (a, m, c) = (&ADMIN, &MEMBER, &carol);

    let started = start_round(&fake, json!({"questions": 3, "seconds": 3}), a, CHANNEL_ID).await;
    let desc = started["embeds"][0]["description"].as_str().unwrap();
    assert!(desc.contains("**3 questions**, **3 s** each."), "{desc}");
    assert_eq!(field(&started, "Started by"), mention(a));

    // Question 1: an embed with the question and four choices, buttons A–D.
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    assert_eq!(title(&q1), "Quiz · question 1/3");
    let names: Vec<&str> = q1["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "C", "D", "⏱"]);
    assert!(field(&q1, "⏱").ends_with("· 0 answered"), "{q1}");
    let labels: Vec<String> = buttons(&q1)
        .iter()
        .map(|b| b["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["A", "B", "C", "D"]);
    assert!(buttons(&q1)
        .iter()
        .all(|b| b["style"] == json!(1) && b["disabled"] != json!(true)));
    let r1 = correct_choice(&bank, &q1);

    // Three players at different times; carol's second click does not change her answer.
    assert_eq!(click(&fake, &q1, r1, a).await, locked_in(r1));
    assert_eq!(click(&fake, &q1, wrong(r1), m).await, locked_in(wrong(r1)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(click(&fake, &q1, r1, c).await, locked_in(r1));
    assert_eq!(
        click(&fake, &q1, wrong(r1), c).await,
        format!(
            "You already locked in **{}**; your first answer counts.",
            letter(r1)
        )
    );
    assert!(!is_closed(&fake.message(message_id(&q1)).unwrap()));

    // At the deadline: buttons disabled with the split, the right one marked.
    let res1 = results(&fake, CHANNEL_ID, 1).await;
    let q1_closed = fake.message(message_id(&q1)).unwrap();
    assert!(is_closed(&q1_closed), "{q1_closed}");
    for (i, b) in buttons(&q1_closed).iter().enumerate() {
        let (label, style) = match i {
            i if i == r1 => (format!("{} ✓ · 2", letter(i)), 3),
            i if i == wrong(r1) => (format!("{} · 1", letter(i)), 2),
            _ => (format!("{} · 0", letter(i)), 2),
        };
        assert_eq!(b["label"], json!(label), "{b}");
        assert_eq!(b["style"], json!(style), "{b}");
    }
    assert_eq!(
        field(&q1_closed, "Answer"),
        format!("**{}** is correct", letter(r1))
    );
    assert_eq!(field(&q1_closed, "⏱"), "Closed · 3 answered");
    // The "N answered" count was edited while open, throttled: at most two count edits in
    // three seconds, then the close.
    let edits = edits_of(&fake, &q1);
    let counts: Vec<&Value> = edits
        .iter()
        .filter(|e| e.get("components").is_none())
        .collect();
    assert!(
        (1..=2).contains(&counts.len()),
        "count edits: {}",
        counts.len()
    );
    assert!(embed_text(counts.last().unwrap()).contains("· 3 answered"));
    assert!(
        edits.last().unwrap().get("components").is_some(),
        "the close is the last edit"
    );
    assert_eq!(edits.len(), counts.len() + 1);

    // The results: split, who was right (in lock-in order) with points, standings.
    assert_eq!(
        title(&res1),
        format!("Question 1/3: the answer is {}", letter(r1))
    );
    let mut split = [0; 4];
    split[r1] = 2;
    split[wrong(r1)] = 1;
    let picks: Vec<String> = (0..4)
        .map(|i| format!("{} {}", letter(i), split[i]))
        .collect();
    assert_eq!(field(&res1, "Picks"), picks.join(" · "));
    assert_eq!(
        field(&res1, "Right"),
        format!("{} +1, {} +1", mention(a), mention(c))
    );
    // Equal points and correct answers share a rank (ties by user id); carol's id is newer.
    assert_eq!(
        field(&res1, "Standings"),
        format!(
            "**1.** {} · 1 pts · 1/1 right\n**1.** {} · 1 pts · 1/1 right\n\
             **3.** {} · 0 pts · 0/1 right",
            mention(a),
            mention(c),
            mention(m)
        )
    );

    // Question 2: everyone who answered question 1 answers, so it closes early.
    let q2 = question(&fake, CHANNEL_ID, 2).await;
    assert!(!is_closed(&q2));
    let r2 = correct_choice(&bank, &q2);
    assert_eq!(click(&fake, &q2, r2, a).await, locked_in(r2));
    assert_eq!(click(&fake, &q2, r2, m).await, locked_in(r2));
    let last = Instant::now();
    assert_eq!(click(&fake, &q2, wrong(r2), c).await, locked_in(wrong(r2)));
    let res2 = results(&fake, CHANNEL_ID, 2).await;
    assert!(last.elapsed() < Duration::from_secs(2), "closed early");
    assert_eq!(
        field(&res2, "Right"),
        format!("{} +1, {} +1", mention(a), mention(m))
    );
    assert_eq!(
        field(&res2, "Standings"),
        format!(
            "**1.** {} · 2 pts · 2/2 right\n**2.** {} · 1 pts · 1/2 right\n\
             **2.** {} · 1 pts · 1/2 right",
            mention(a),
            mention(m),
            mention(c)
        )
    );

    // Question 3: carol (who answered question 2) does not answer: it runs to its deadline.
    let q3 = question(&fake, CHANNEL_ID, 3).await;
    let opened = Instant::now();
    let r3 = correct_choice(&bank, &q3);
    assert_eq!(click(&fake, &q3, r3, a).await, locked_in(r3));
    assert_eq!(click(&fake, &q3, r3, m).await, locked_in(r3));
    let res3 = results(&fake, CHANNEL_ID, 3).await;
    assert!(
        opened.elapsed() >= Duration::from_millis(2500),
        "question 3 closed after {:?}, before its deadline",
        opened.elapsed()
    );
    assert_eq!(
        field(&res3, "Standings"),
        format!(
            "**1.** {} · 3 pts · 3/3 right\n**2.** {} · 2 pts · 2/3 right\n\
             **3.** {} · 1 pts · 1/2 right",
            mention(a),
            mention(m),
            mention(c)
        )
    );

    // The end: podium and everyone's score and accuracy.
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz over · 3 questions");
    assert_eq!(
        field(&fin, "Podium"),
        format!(
            "🥇 {} · 3 pts\n🥈 {} · 2 pts\n🥉 {} · 1 pts",
            mention(a),
            mention(m),
            mention(c)
        )
    );
    assert_eq!(
        field(&fin, "Scores"),
        format!(
            "**1.** {} · 3 pts · 100% accuracy\n**2.** {} · 2 pts · 67% accuracy\n\
             **3.** {} · 1 pts · 50% accuracy",
            mention(a),
            mention(m),
            mention(c)
        )
    );
    // Exactly one of each message; three questions, no fourth.
    assert_eq!(titled(&fake, CHANNEL_ID, "Quiz · question").len(), 3);
    assert_eq!(titled(&fake, CHANNEL_ID, "Question ").len(), 3);
    assert_eq!(finals(&fake, CHANNEL_ID).len(), 1);

    // The all-time table: points, rounds, correct answers, accuracy.
    assert_eq!(
        leaderboard(&fake).await,
        [
            format!(
                "**1.** {} · **3** pts · 1 round · 3/3 correct · 100%",
                mention(a)
            ),
            format!(
                "**2.** {} · **2** pts · 1 round · 2/3 correct · 67%",
                mention(m)
            ),
            format!(
                "**3.** {} · **1** pts · 1 round · 1/2 correct · 50%",
                mention(c)
            ),
        ]
    );

    // A second round in the same channel starts right away and adds up.
    start_round(&fake, json!({"questions": 1, "seconds": 2}), m, CHANNEL_ID).await;
    let q = eventually("the second round's question", || {
        titled(&fake, CHANNEL_ID, "Quiz · question 1/1")
            .into_iter()
            .next()
    })
    .await;
    let r = correct_choice(&bank, &q);
    assert_eq!(click(&fake, &q, r, c).await, locked_in(r));
    eventually("the second round's end", || {
        (finals(&fake, CHANNEL_ID).len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        leaderboard(&fake).await[2],
        format!(
            "**2.** {} · **2** pts · 2 rounds · 2/3 correct · 67%",
            mention(c)
        )
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn one_round_per_channel_and_rounds_side_by_side() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());
    let carol = fake.new_user("carol");

    start_round(
        &fake,
        json!({"questions": 2, "seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    let q_main = question(&fake, CHANNEL_ID, 1).await;

    // A second start in the same channel is refused, privately; nothing new is posted.
    let refused = quiz(&fake, "start", json!({"questions": 1}), &MEMBER, CHANNEL_ID).await;
    let text = ephemeral_text(&refused);
    assert!(
        text.contains(&format!(
            "A round is running in this channel (started by {})",
            mention(&ADMIN)
        )),
        "{text}"
    );

    // Another channel runs its own round at the same time (with the speed bonus).
    let started = start_round(
        &fake,
        json!({"questions": 1, "seconds": 10, "speed_bonus": true}),
        &MEMBER,
        OTHER_CHANNEL_ID,
    )
    .await;
    assert!(embed_text(&started).contains("faster right answers score more"));
    let q_other = question(&fake, OTHER_CHANNEL_ID, 1).await;
    assert_eq!(title(&q_other), "Quiz · question 1/1");
    let refused = quiz(&fake, "start", json!({}), &ADMIN, OTHER_CHANNEL_ID).await;
    assert!(ephemeral_text(&refused).contains("A round is running in this channel"));

    let r_main = correct_choice(&bank, &q_main);
    assert_eq!(
        click(&fake, &q_main, r_main, &carol).await,
        locked_in(r_main)
    );
    // A second into the other question: the speed bonus gives less than a full point.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let r_other = correct_choice(&bank, &q_other);
    assert_eq!(
        click(&fake, &q_other, r_other, &MEMBER).await,
        locked_in(r_other)
    );
    // Both questions are open at once.
    assert!(!is_closed(&fake.message(message_id(&q_main)).unwrap()));
    assert!(!is_closed(&fake.message(message_id(&q_other)).unwrap()));

    // ADMIN (Manage Messages, not the starter) stops the other channel's round.
    let stop = quiz(&fake, "stop", json!({}), &ADMIN, OTHER_CHANNEL_ID).await;
    assert_eq!(
        stop["content"],
        json!("⏹ Stopping the round; final standings follow.")
    );
    let res = results(&fake, OTHER_CHANNEL_ID, 1).await;
    let right = field(&res, "Right");
    let points: f64 = right
        .strip_prefix(&format!("{} +", mention(&MEMBER)))
        .unwrap_or_else(|| panic!("{right}"))
        .parse()
        .unwrap();
    assert!(
        (0.8..=0.95).contains(&points),
        "1 − t/2T for t ≈ 1 s of 10: {points}"
    );
    let fin = final_standings(&fake, OTHER_CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz stopped after 1 of 1 questions");
    assert!(field(&fin, "Podium").starts_with(&format!("🥇 {} · 0.", mention(&MEMBER))));

    // The first channel's round was not touched.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!is_closed(&fake.message(message_id(&q_main)).unwrap()));
    assert!(titled(&fake, CHANNEL_ID, "Question ").is_empty());
    assert!(finals(&fake, CHANNEL_ID).is_empty());
    let stop = quiz(&fake, "stop", json!({}), &ADMIN, CHANNEL_ID).await;
    assert!(!is_ephemeral(&stop));
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz stopped after 1 of 2 questions");
    assert_eq!(
        field(&fin, "Scores"),
        format!("**1.** {} · 1 pts · 100% accuracy", mention(&carol))
    );
    // Each channel's results went to that channel only.
    assert_eq!(titled(&fake, CHANNEL_ID, "Question ").len(), 1);
    assert_eq!(titled(&fake, OTHER_CHANNEL_ID, "Question ").len(), 1);

    // Both count for the guild's table.
    let lines = leaderboard(&fake).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[0],
        format!(
            "**1.** {} · **1** pts · 1 round · 1/1 correct · 100%",
            mention(&carol)
        )
    );
    assert!(
        lines[1].starts_with(&format!("**2.** {} · **0.", mention(&MEMBER)))
            && lines[1].ends_with("pts · 1 round · 1/1 correct · 100%"),
        "{}",
        lines[1]
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn stop_by_the_starter_shows_the_standings_and_others_are_refused() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());
    let carol = fake.new_user("carol");

    // MEMBER (no Manage Messages) starts, so only being the starter lets them control it.
    start_round(
        &fake,
        json!({"questions": 3, "seconds": 30}),
        &MEMBER,
        CHANNEL_ID,
    )
    .await;
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    let r1 = correct_choice(&bank, &q1);
    click(&fake, &q1, r1, &ADMIN).await;
    click(&fake, &q1, wrong(r1), &MEMBER).await;
    let skip = quiz(&fake, "skip", json!({}), &MEMBER, CHANNEL_ID).await;
    assert_eq!(ephemeral_text(&skip), "⏭ Skipping: the answer comes now.");
    let res1 = results(&fake, CHANNEL_ID, 1).await;
    assert_eq!(field(&res1, "Right"), format!("{} +1", mention(&ADMIN)));

    let q2 = question(&fake, CHANNEL_ID, 2).await;
    let r2 = correct_choice(&bank, &q2);
    click(&fake, &q2, r2, &ADMIN).await;

    // carol neither started the round nor has Manage Messages.
    for sub in ["stop", "skip"] {
        let refused = quiz(&fake, sub, json!({}), &carol, CHANNEL_ID).await;
        assert_eq!(
            ephemeral_text(&refused),
            format!(
                "Only the member who started this round ({}) or someone with Manage Messages \
                 can do that.",
                mention(&MEMBER)
            ),
            "/quiz {sub}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!has_results(&fake, CHANNEL_ID, 2), "still running");
    assert!(!is_closed(&fake.message(message_id(&q2)).unwrap()));

    // The starter stops: the open question closes (its answers count), then the standings.
    let stop = quiz(&fake, "stop", json!({}), &MEMBER, CHANNEL_ID).await;
    assert!(!is_ephemeral(&stop));
    let res2 = results(&fake, CHANNEL_ID, 2).await;
    assert_eq!(field(&res2, "Right"), format!("{} +1", mention(&ADMIN)));
    assert!(is_closed(&fake.message(message_id(&q2)).unwrap()));
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz stopped after 2 of 3 questions");
    assert_eq!(
        field(&fin, "Podium"),
        format!("🥇 {} · 2 pts", mention(&ADMIN))
    );
    assert_eq!(
        field(&fin, "Scores"),
        format!(
            "**1.** {} · 2 pts · 100% accuracy\n**2.** {} · 0 pts · 0% accuracy",
            mention(&ADMIN),
            mention(&MEMBER)
        )
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(titled(&fake, CHANNEL_ID, "Quiz · question 3/").is_empty());

    // Nothing to stop any more; the table has the two questions played.
    let again = quiz(&fake, "stop", json!({}), &MEMBER, CHANNEL_ID).await;
    assert_eq!(
        ephemeral_text(&again),
        "No quiz round is running in this channel."
    );
    assert_eq!(
        leaderboard(&fake).await,
        [
            format!(
                "**1.** {} · **2** pts · 1 round · 2/2 correct · 100%",
                mention(&ADMIN)
            ),
            format!(
                "**2.** {} · **0** pts · 1 round · 0/1 correct · 0%",
                mention(&MEMBER)
            ),
        ]
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn clicks_after_the_deadline_are_refused_politely() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());

    start_round(
        &fake,
        json!({"questions": 2, "seconds": 2}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    let r1 = correct_choice(&bank, &q1);
    click(&fake, &q1, r1, &ADMIN).await;
    results(&fake, CHANNEL_ID, 1).await;

    // A click on question 1 (buttons as first posted) while question 2 is open.
    let q2 = question(&fake, CHANNEL_ID, 2).await;
    assert_eq!(
        click(&fake, &q1, r1, &MEMBER).await,
        "Too late: that question is closed. Question 2 is open now."
    );
    // It was not counted anywhere: not in question 1, nor as an answer to question 2.
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(
        field(&fin, "Scores"),
        format!("**1.** {} · 1 pts · 100% accuracy", mention(&ADMIN))
    );
    let res2 = results(&fake, CHANNEL_ID, 2).await;
    assert_eq!(field(&res2, "Picks"), "A 0 · B 0 · C 0 · D 0");
    assert_eq!(field(&res2, "Right"), "nobody");

    // After the round: still polite.
    let r2 = correct_choice(&bank, &q2);
    let late = click(&fake, &q2, r2, &MEMBER).await;
    assert_eq!(late, "Too late: this quiz round is over.");
    assert_eq!(
        leaderboard(&fake).await,
        [format!(
            "**1.** {} · **1** pts · 1 round · 1/1 correct · 100%",
            mention(&ADMIN)
        )]
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_question_closes_early_once_everyone_from_the_last_one_answered() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());
    let carol = fake.new_user("carol");

    start_round(
        &fake,
        json!({"questions": 3, "seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;

    // The first question never closes early, even when everyone present answered.
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    let r1 = correct_choice(&bank, &q1);
    click(&fake, &q1, r1, &ADMIN).await;
    click(&fake, &q1, wrong(r1), &MEMBER).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!has_results(&fake, CHANNEL_ID, 1));
    quiz(&fake, "skip", json!({}), &ADMIN, CHANNEL_ID).await;
    let res1 = results(&fake, CHANNEL_ID, 1).await;
    assert_eq!(
        field(&fake.message(message_id(&q1)).unwrap(), "⏱"),
        "Closed · 2 answered"
    );
    assert!(field(&res1, "Standings").contains(&mention(&MEMBER)));

    // Question 2: a newcomer and one of the two regulars answer: still open.
    let q2 = question(&fake, CHANNEL_ID, 2).await;
    let r2 = correct_choice(&bank, &q2);
    click(&fake, &q2, r2, &carol).await;
    click(&fake, &q2, r2, &ADMIN).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !has_results(&fake, CHANNEL_ID, 2),
        "MEMBER has not answered"
    );
    // The last of question 1's players answers: it closes at once, 30 s before its deadline.
    let t = Instant::now();
    click(&fake, &q2, wrong(r2), &MEMBER).await;
    let res2 = results(&fake, CHANNEL_ID, 2).await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(is_closed(&fake.message(message_id(&q2)).unwrap()));
    assert_eq!(
        field(&res2, "Right"),
        format!("{} +1, {} +1", mention(&carol), mention(&ADMIN))
    );

    // Question 3: now all three answered question 2, so two answers are not enough.
    let q3 = question(&fake, CHANNEL_ID, 3).await;
    let r3 = correct_choice(&bank, &q3);
    click(&fake, &q3, r3, &ADMIN).await;
    click(&fake, &q3, r3, &MEMBER).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!has_results(&fake, CHANNEL_ID, 3), "carol has not answered");
    let t = Instant::now();
    click(&fake, &q3, r3, &carol).await;
    results(&fake, CHANNEL_ID, 3).await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz over · 3 questions");
    assert_eq!(
        field(&fin, "Scores"),
        format!(
            "**1.** {} · 3 pts · 100% accuracy\n**2.** {} · 2 pts · 100% accuracy\n\
             **3.** {} · 1 pts · 33% accuracy",
            mention(&ADMIN),
            mention(&carol),
            mention(&MEMBER)
        )
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn skip_and_stop_between_questions() {
    let (fake, dir) = setup().await;
    let mut c = config(&fake, dir.path());
    c.quiz.intermission_seconds = 3;
    let bot = start(&fake, c, options(SignedDuration::ZERO)).await;
    let bank = load_bank(dir.path());

    start_round(
        &fake,
        json!({"questions": 3, "seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    click(&fake, &q1, correct_choice(&bank, &q1), &ADMIN).await;
    quiz(&fake, "skip", json!({}), &ADMIN, CHANNEL_ID).await;
    results(&fake, CHANNEL_ID, 1).await;

    // A skip during the pause ends the pause; it does not skip the next question.
    let skip = quiz(&fake, "skip", json!({}), &ADMIN, CHANNEL_ID).await;
    let t = Instant::now();
    assert_eq!(
        ephemeral_text(&skip),
        "⏭ Skipping the pause: the next question comes now."
    );
    let q2 = question(&fake, CHANNEL_ID, 2).await;
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    let r2 = correct_choice(&bank, &q2);
    assert_eq!(click(&fake, &q2, r2, &MEMBER).await, locked_in(r2));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!has_results(&fake, CHANNEL_ID, 2), "question 2 was skipped");
    assert!(!is_closed(&fake.message(message_id(&q2)).unwrap()));

    // A stop during the pause ends the round at once, without another question.
    quiz(&fake, "skip", json!({}), &ADMIN, CHANNEL_ID).await;
    results(&fake, CHANNEL_ID, 2).await;
    let t = Instant::now();
    quiz(&fake, "stop", json!({}), &ADMIN, CHANNEL_ID).await;
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(title(&fin), "🏆 Quiz stopped after 2 of 3 questions");
    assert_eq!(
        field(&fin, "Scores"),
        format!(
            "**1.** {} · 1 pts · 100% accuracy\n**1.** {} · 1 pts · 100% accuracy",
            mention(&ADMIN),
            mention(&MEMBER)
        )
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(titled(&fake, CHANNEL_ID, "Quiz · question 3/").is_empty());
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_failed_start_reply_does_not_block_the_channel() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    // The "starting" reply fails once; the error reply after it gets through.
    fake.fail_next("POST", "/interactions/", 500, 1);
    let cmd = fake.slash_command(
        "quiz",
        &["start"],
        json!({"seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let prefix = format!("/interactions/{}/", cmd["id"].as_str().unwrap());
    let cb = fake
        .wait_for(|r| r.is("POST", &prefix) && r.status == 204, WAIT)
        .await;
    let data = callback_data(&cb);
    assert!(
        ephemeral_text(data).starts_with("Something went wrong on our side"),
        "{data}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(titled(&fake, CHANNEL_ID, "Quiz · question").is_empty());
    start_round(&fake, json!({"seconds": 30}), &ADMIN, CHANNEL_ID).await;
    question(&fake, CHANNEL_ID, 1).await;
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_round_cut_by_a_restart_is_closed_with_its_standings() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    let bank = load_bank(dir.path());
    let carol = fake.new_user("carol");

    start_round(
        &fake,
        json!({"questions": 3, "seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    let q1 = question(&fake, CHANNEL_ID, 1).await;
    let r1 = correct_choice(&bank, &q1);
    click(&fake, &q1, r1, &ADMIN).await;
    click(&fake, &q1, wrong(r1), &MEMBER).await;
    click(&fake, &q1, r1, &carol).await;
    quiz(&fake, "skip", json!({}), &ADMIN, CHANNEL_ID).await;
    results(&fake, CHANNEL_ID, 1).await;
    // Question 2 is open and answered when the bot goes down: that answer is lost.
    let q2 = question(&fake, CHANNEL_ID, 2).await;
    let r2 = correct_choice(&bank, &q2);
    click(&fake, &q2, r2, &MEMBER).await;
    bot.shutdown().await;

    let bot = start_bot(&fake, dir.path()).await;
    let msg = wait_titled(&fake, CHANNEL_ID, "⏹ Quiz round interrupted").await;
    let text = embed_text(&msg);
    assert!(text.contains("after 1 of 3 questions"), "{text}");
    // Ranked as in a live round: a tie shares its rank.
    assert_eq!(
        field(&msg, "Standings"),
        format!(
            "**1.** {} · 1 pts · 1/1 right\n**1.** {} · 1 pts · 1/1 right\n\
             **3.** {} · 0 pts · 0/1 right",
            mention(&ADMIN),
            mention(&carol),
            mention(&MEMBER)
        )
    );
    // Not resumed: no question 3, and question 2 takes no answers.
    assert_eq!(
        click(&fake, &q2, r2, &ADMIN).await,
        "Too late: this quiz round is over."
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(titled(&fake, CHANNEL_ID, "Quiz · question 3/").is_empty());
    assert!(!has_results(&fake, CHANNEL_ID, 2));
    assert_eq!(
        titled(&fake, CHANNEL_ID, "⏹ Quiz round interrupted").len(),
        1
    );

    // The finished question counts for the table.
    assert_eq!(
        leaderboard(&fake).await,
        [
            format!(
                "**1.** {} · **1** pts · 1 round · 1/1 correct · 100%",
                mention(&ADMIN)
            ),
            format!(
                "**1.** {} · **1** pts · 1 round · 1/1 correct · 100%",
                mention(&carol)
            ),
            format!(
                "**3.** {} · **0** pts · 1 round · 0/1 correct · 0%",
                mention(&MEMBER)
            ),
        ]
    );
    // The channel is free again.
    start_round(
        &fake,
        json!({"questions": 1, "seconds": 30}),
        &MEMBER,
        CHANNEL_ID,
    )
    .await;
    eventually("the new round's question", || {
        titled(&fake, CHANNEL_ID, "Quiz · question 1/1")
            .into_iter()
            .next()
    })
    .await;

    // That one is cut by the next restart before any question closed; a restart with nothing
    // running posts nothing.
    bot.shutdown().await;
    let bot = start_bot(&fake, dir.path()).await;
    let msg = eventually("the second interrupted message", || {
        titled(&fake, CHANNEL_ID, "⏹ Quiz round interrupted")
            .into_iter()
            .nth(1)
    })
    .await;
    assert!(embed_text(&msg).contains("after 0 of 1 questions"));
    assert_eq!(field(&msg, "Standings"), "No answers were scored.");
    bot.shutdown().await;
    let bot = start_bot(&fake, dir.path()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        titled(&fake, CHANNEL_ID, "⏹ Quiz round interrupted").len(),
        2
    );
    finish(&fake);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_skip_right_after_a_stop_does_not_undo_the_stop() {
    let (fake, dir) = setup().await;
    let bot = start_bot(&fake, dir.path()).await;
    start_round(
        &fake,
        json!({"questions": 3, "seconds": 30}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    question(&fake, CHANNEL_ID, 1).await;
    // Both at once, as two quick clicks on Discord's command list would send them.
    let stop = fake.slash_command("quiz", &["stop"], json!({}), &ADMIN, CHANNEL_ID);
    let skip = fake.slash_command("quiz", &["skip"], json!({}), &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", stop.clone());
    fake.dispatch("INTERACTION_CREATE", skip.clone());
    fake.wait_callback(&stop, WAIT).await;
    fake.wait_callback(&skip, WAIT).await;
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(title(&fin), "🏆 Quiz stopped after 1 of 3 questions");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(titled(&fake, CHANNEL_ID, "Quiz · question 2/").is_empty());
    finish(&fake);
    bot.shutdown().await;
}

const LAB_QUESTIONS: &str = r#"
[[question]]
id = "quizlab-hard"
category = "quizlab"
difficulty = "hard"
tags = ["lab"]
question = "Which lab answer is right?"
answer = "The lab answer."
distractors = ["Wrong one.", "Wrong two.", "Wrong three."]
explanation = "Because the lab notes say so."

[[question]]
id = "quizlab-easy"
category = "quizlab"
difficulty = "easy"
tags = ["lab"]
question = "Which easy lab answer is right?"
answer = "The easy lab answer."
distractors = ["Nope one.", "Nope two.", "Nope three."]
"#;

#[tokio::test]
async fn filters_pick_the_questions_and_results_explain_the_answer() {
    let (fake, dir) = setup().await;
    let path = copy_bank(dir.path());
    let shipped = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{shipped}\n{LAB_QUESTIONS}")).unwrap();
    let bot = start_bot(&fake, dir.path()).await;

    // Out-of-range options (Discord enforces them too, from the registration) are refused
    // privately; the lower bound of `seconds` is the config's (1 in tests).
    for (options, text) in [
        (
            json!({"seconds": 0}),
            "`seconds` must be between 1 and 120; you gave 0.",
        ),
        (
            json!({"seconds": 121}),
            "`seconds` must be between 1 and 120; you gave 121.",
        ),
        (
            json!({"questions": 51}),
            "`questions` must be between 1 and 50; you gave 51.",
        ),
    ] {
        let refused = quiz(&fake, "start", options, &ADMIN, CHANNEL_ID).await;
        assert_eq!(ephemeral_text(&refused), text);
    }

    // Nothing matches: refused privately, nothing starts.
    let refused = quiz(
        &fake,
        "start",
        json!({"category": "quizlab", "tag": "databases"}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    assert!(
        ephemeral_text(&refused).starts_with("No quiz question can be made from"),
        "{refused}"
    );

    assert!(titled(&fake, CHANNEL_ID, "Quiz · question").is_empty());

    // poise sends choice parameters as integers: easy 0, medium 1, hard 2.
    let started = start_round(
        &fake,
        json!({"category": "quizlab", "tag": "lab", "difficulty": 2, "seconds": 1}),
        &ADMIN,
        CHANNEL_ID,
    )
    .await;
    assert!(
        embed_text(&started).contains("(only 1 question matches)"),
        "{started}"
    );
    let q = question(&fake, CHANNEL_ID, 1).await;
    assert_eq!(title(&q), "Quiz · question 1/1");
    assert_eq!(
        q["embeds"][0]["description"],
        json!("Which lab answer is right?")
    );
    let mut choices: Vec<String> = (0..4)
        .map(|i| {
            q["embeds"][0]["fields"][i]["value"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    choices.sort();
    assert_eq!(
        choices,
        [
            "The lab answer.",
            "Wrong one.",
            "Wrong three.",
            "Wrong two."
        ]
    );
    let res = results(&fake, CHANNEL_ID, 1).await;
    assert_eq!(field(&res, "Why"), "Because the lab notes say so.");
    assert_eq!(res["embeds"][0]["description"], json!("The lab answer."));
    assert_eq!(field(&res, "Right"), "nobody");
    let fin = final_standings(&fake, CHANNEL_ID).await;
    assert_eq!(field(&fin, "Podium"), "Nobody scored this time.");
    assert_eq!(field(&fin, "Scores"), "No answers.");
    assert_eq!(
        leaderboard(&fake).await,
        ["No rounds played yet. Start one with `/quiz start`."]
    );
    finish(&fake);
    bot.shutdown().await;
}
