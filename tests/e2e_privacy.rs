//! End-to-end: `/forget-me` deletes everything stored about a member, after a confirmation
//! only they can give, and the store is searched afterwards for any trace of them.

mod support;

use std::time::Duration;

use jiff::SignedDuration;
use prepbot::config::RevealMode;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

/// Every (table, column) of the database holding `user` as an integer or inside a text.
fn traces_of(db: &std::path::Path, user: u64) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut found = Vec::new();
    for t in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for c in cols {
            let n: i64 = conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM \"{t}\" WHERE \"{c}\" = ?1 OR \
                         CAST(\"{c}\" AS TEXT) LIKE ?2"
                    ),
                    rusqlite::params![user as i64, format!("%{user}%")],
                    |r| r.get(0),
                )
                .unwrap();
            if n > 0 {
                found.push(format!("{t}.{c} ({n})"));
            }
        }
    }
    found
}

async fn callback(fake: &FakeDiscord, interaction: &Value) -> Value {
    fake.wait_callback(interaction, WAIT).await.body.clone()
}

#[tokio::test]
async fn forget_me_leaves_no_row_behind() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&fake, dir.path());
    // DM reveals are recorded per member: one more kind of row about them.
    cfg.reveal.mode = RevealMode::Dm;
    let db = cfg.storage.path.clone();
    let bot = start(&fake, cfg, options(SignedDuration::ZERO)).await;
    let me = fake.new_user("leaver");

    // Leave traces: a private /ask (a per-member bag), a DM reveal, a quiz round started and
    // answered (scores, the round's starter).
    let ask = fake.slash_command("ask", &[], json!({"private": true}), &me, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", ask.clone());
    callback(&fake, &ask).await;
    let public = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", public.clone());
    callback(&fake, &public).await;
    fake.wait_for(
        |r| r.method == "PUT" && r.path.contains("/reactions/"),
        WAIT,
    )
    .await;
    let question = fake.messages(CHANNEL_ID).last().unwrap().clone();
    let qid: u64 = question["id"].as_str().unwrap().parse().unwrap();
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, qid, &me, "💡"),
    );
    fake.wait_for(
        |r| r.method == "POST" && r.path == "/users/@me/channels",
        WAIT,
    )
    .await;
    let start_round = fake.slash_command(
        "quiz",
        &["start"],
        json!({"questions": 1, "seconds": 2}),
        &me,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", start_round.clone());
    callback(&fake, &start_round).await;
    let q = eventually("the quiz question", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Quiz · question 1/"))
        })
    })
    .await;
    let button = q["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_string();
    let click = fake.button_click(&button, &q, &me, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    callback(&fake, &click).await;
    eventually("the round to end", || {
        fake.messages(CHANNEL_ID).into_iter().find(|m| {
            m["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.contains("Quiz over"))
        })
    })
    .await;
    let before = traces_of(&db, me.id);
    assert!(
        before.len() >= 3,
        "the test left too few traces: {before:?}"
    );

    // The confirmation.
    let cmd = fake.slash_command("forget-me", &[], json!({}), &me, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let reply = callback(&fake, &cmd).await;
    assert!(is_ephemeral(&reply["data"]));
    let msg = fake
        .messages(CHANNEL_ID)
        .last()
        .cloned()
        .unwrap_or(json!({}));
    let yes = format!("forget:{}:yes", me.id);
    assert_eq!(
        reply["data"]["components"][0]["components"][0]["custom_id"],
        json!(yes)
    );
    // Someone else pressing (a forged click) deletes nothing.
    let forged = fake.button_click(&yes, &msg, &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", forged.clone());
    let refused = callback(&fake, &forged).await;
    assert!(
        refused["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Only the member who asked"),
        "{refused}"
    );
    assert_eq!(traces_of(&db, me.id), before, "a forged click deleted data");

    // The member confirms.
    let click = fake.button_click(&yes, &msg, &me, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let done = callback(&fake, &click).await;
    assert_eq!(done["type"], json!(7), "the confirmation is replaced");
    assert!(done["data"]["content"]
        .as_str()
        .unwrap()
        .contains("deleted"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(traces_of(&db, me.id), Vec::<String>::new());
    bot.shutdown().await;
}
