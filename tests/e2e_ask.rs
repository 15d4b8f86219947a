//! End-to-end: the real bot (serenity + poise) against the fake Discord — command
//! registration, `/ask`, reveals (reaction in each mode, button), private asks, `/bank`, and
//! the rules every message follows (allowed_mentions, Discord's schema).

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use prepbot::config::RevealMode;
use serde_json::{json, Value};
use support::bot::*;
use support::*;

const BULB: &str = "💡";
/// poise registers choice parameters as integers: easy 0, medium 1, hard 2.
const HARD: u64 = 2;

async fn setup() -> (FakeDiscord, tempfile::TempDir) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    (fake, dir)
}

/// The fake, a temp dir with the shipped bank, and the bot started with the default test
/// config and the real clock.
async fn boot() -> (FakeDiscord, tempfile::TempDir, prepbot::discord::Bot) {
    let (fake, dir) = setup().await;
    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(SignedDuration::ZERO),
    )
    .await;
    (fake, dir, bot)
}

/// Sends `/ask` with `options` and returns its callback.
async fn ask(fake: &FakeDiscord, options: Value, user: &TestUser) -> Recorded {
    let cmd = fake.slash_command("ask", &[], options, user, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    fake.wait_callback(&cmd, WAIT).await
}

/// The question id shown in a question embed (the `ID` field).
fn shown_id(data: &Value) -> String {
    let fields = data["embeds"][0]["fields"].as_array().expect("fields");
    let f = fields.iter().find(|f| f["name"] == "ID").expect("ID field");
    f["value"].as_str().unwrap().trim_matches('`').to_string()
}

/// The message created by an interaction's response, once the bot has fetched it and
/// added its reaction.
async fn question_message(fake: &FakeDiscord, count_before: usize) -> u64 {
    let r = eventually("the reveal reaction on the question", || {
        fake.requests()
            .into_iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/reactions/"))
            .nth(count_before)
    })
    .await;
    // /channels/{c}/messages/{m}/reactions/{emoji}/@me
    r.path.split('/').nth(4).unwrap().parse().unwrap()
}

fn reactions(fake: &FakeDiscord) -> usize {
    fake.count(|r| r.method == "PUT" && r.path.contains("/reactions/"))
}

fn replies_to(fake: &FakeDiscord, message_id: u64) -> Vec<Value> {
    fake.messages(CHANNEL_ID)
        .into_iter()
        .filter(|m| m["message_reference"]["message_id"] == Value::String(message_id.to_string()))
        .collect()
}

#[tokio::test]
async fn commands_are_registered_with_their_options() {
    let (fake, _dir, bot) = boot().await;
    let reg = fake.wait_for(is_registration, WAIT).await;
    assert_eq!(
        reg.path,
        format!("/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    );
    let cmds = reg.body.as_array().unwrap();
    let names: Vec<&str> = cmds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "ask",
            "bank",
            "daily",
            "quiz",
            "practice",
            "stats",
            "forget-me",
            "help"
        ]
    );
    let ask = &cmds[0];
    let opts: Vec<&str> = ask["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(opts, ["category", "tag", "difficulty", "id", "private"]);
    for o in ask["options"].as_array().unwrap() {
        assert!(o["description"].as_str().is_some_and(|d| !d.is_empty()));
        let auto = o["autocomplete"].as_bool().unwrap_or(false);
        assert_eq!(
            auto,
            ["category", "tag", "id"].contains(&o["name"].as_str().unwrap())
        );
    }
    let difficulty = &ask["options"][2];
    let choices: Vec<&str> = difficulty["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(choices, ["easy", "medium", "hard"]);
    // Admin commands are declared as Manage Server (0x20) to Discord.
    for name in ["bank", "daily"] {
        let c = cmds.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(c["default_member_permissions"], json!(32), "{name}");
    }
    let bank_subs: Vec<&str> = cmds[1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(bank_subs, ["info", "reload"]);
    // The configured lower bound of quiz seconds is what Discord is told.
    let start_cmd = cmds[3]["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "start")
        .unwrap();
    let secs = start_cmd["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "seconds")
        .unwrap();
    assert_eq!(secs["min_value"].as_f64(), Some(1.0));
    assert_eq!(secs["max_value"].as_f64(), Some(120.0));
    // Only non-privileged intents: guilds (1) and guild message reactions (1 << 10).
    let identify = &fake.identifies()[0];
    assert_eq!(identify["intents"], json!(1 | (1 << 10)));
    fake.assert_no_schema_violations();
    bot.shutdown().await;
}

#[tokio::test]
async fn ask_answers_in_time_with_a_question_and_reveal_affordances() {
    let (fake, dir, bot) = boot().await;
    let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
    let sent = Instant::now();
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "Discord allows 3 s"
    );
    assert_eq!(cb.body["type"], json!(4));
    let data = callback_data(&cb);
    assert!(!is_ephemeral(data));
    let id = shown_id(data);
    let bank = prepbot::bank::Bank::load(&[dir.path().join("questions.toml")]).unwrap();
    let q = bank.get(&id).expect("a question from the bank");
    assert_eq!(data["embeds"][0]["description"], json!(q.question));
    let text = embed_text(data);
    assert!(text.contains("React with 💡"), "{text}");
    assert!(text.contains("Category"), "{text}");
    assert!(text.contains("Difficulty"), "{text}");
    let button = &data["components"][0]["components"][0];
    assert_eq!(button["custom_id"], json!(format!("reveal:{id}")));
    assert_eq!(button["label"], json!("Reveal answer"));
    // The bot records its message and adds the reveal emoji to it.
    let msg_id = question_message(&fake, 0).await;
    // One round trip: the callback asks for the created message (`with_response`), so the
    // bot never needs `GET …/@original` to learn its id.
    assert_eq!(cb.query, "with_response=true");
    assert_eq!(cb.status, 200);
    assert_eq!(fake.count(|r| r.path.ends_with("/messages/@original")), 0);
    let reaction = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.contains("/reactions/"))
        .unwrap();
    assert_eq!(
        reaction.path,
        format!("/channels/{CHANNEL_ID}/messages/{msg_id}/reactions/{BULB}/@me")
    );
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn filters_and_unknown_values() {
    let (fake, dir, bot) = boot().await;
    let bank = prepbot::bank::Bank::load(&[dir.path().join("questions.toml")]).unwrap();

    let cb = ask(&fake, json!({"category": "behavioral"}), &MEMBER).await;
    assert_eq!(
        bank.get(&shown_id(callback_data(&cb))).unwrap().category,
        "behavioral"
    );

    let cb = ask(&fake, json!({"difficulty": HARD}), &MEMBER).await;
    let q = bank.get(&shown_id(callback_data(&cb))).unwrap();
    assert_eq!(q.difficulty, Some(prepbot::bank::Difficulty::Hard));

    let cb = ask(&fake, json!({"tag": "security"}), &MEMBER).await;
    assert!(bank
        .get(&shown_id(callback_data(&cb)))
        .unwrap()
        .has_tag("security"));

    let cb = ask(&fake, json!({"id": "acid-properties"}), &MEMBER).await;
    assert_eq!(shown_id(callback_data(&cb)), "acid-properties");

    // Unknown values: an ephemeral error with close matches, nothing posted.
    let cb = ask(&fake, json!({"category": "behavorial"}), &MEMBER).await;
    let data = callback_data(&cb);
    assert!(is_ephemeral(data), "{data}");
    let content = data["content"].as_str().unwrap();
    assert!(content.contains("no category `behavorial`"), "{content}");
    assert!(content.contains("`behavioral`"), "{content}");

    let cb = ask(&fake, json!({"id": "acid"}), &MEMBER).await;
    let content = callback_data(&cb)["content"].as_str().unwrap().to_string();
    assert!(content.contains("`acid-properties`"), "{content}");

    let cb = ask(&fake, json!({"tag": "cooking"}), &MEMBER).await;
    assert!(is_ephemeral(callback_data(&cb)));

    // A combination that matches nothing.
    let cb = ask(
        &fake,
        json!({"category": "caching", "difficulty": HARD}),
        &MEMBER,
    )
    .await;
    let content = callback_data(&cb)["content"].as_str().unwrap().to_string();
    assert!(content.contains("Try fewer filters"), "{content}");

    // Autocomplete offers bank values.
    let ac = fake.autocomplete(
        "ask",
        &[],
        json!({"category": "car"}),
        "category",
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", ac.clone());
    let cb = fake.wait_callback(&ac, WAIT).await;
    assert_eq!(cb.body["type"], json!(8));
    assert_eq!(
        cb.body["data"]["choices"],
        json!([{"name": "career", "value": "career"}])
    );
    let ac = fake.autocomplete(
        "ask",
        &[],
        json!({"id": "index"}),
        "id",
        &MEMBER,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", ac.clone());
    let cb = fake.wait_callback(&ac, WAIT).await;
    let values: Vec<&str> = cb.body["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"database-indexing"), "{values:?}");
    fake.assert_no_schema_violations();
    bot.shutdown().await;
}

#[tokio::test]
async fn no_repeats_in_a_channel_until_exhausted() {
    let (fake, _dir, bot) = boot().await;
    // `career` has 13 questions in the seed file: 13 asks show 13 different ones.
    let mut seen = HashSet::new();
    for _ in 0..13 {
        let cb = ask(&fake, json!({"category": "career"}), &MEMBER).await;
        assert!(
            seen.insert(shown_id(callback_data(&cb))),
            "repeat before exhaustion"
        );
    }
    assert_eq!(seen.len(), 13);
    // The 14th starts a new cycle: a repeat, but not the question just shown.
    let cb = ask(&fake, json!({"category": "career"}), &MEMBER).await;
    assert!(seen.contains(&shown_id(callback_data(&cb))));
    bot.shutdown().await;
}

#[tokio::test]
async fn reaction_reveals_once_per_message_in_reply_mode() {
    let (fake, _dir, bot) = boot().await;
    let cb = ask(&fake, json!({"id": "authn-vs-authz"}), &MEMBER).await;
    assert_eq!(shown_id(callback_data(&cb)), "authn-vs-authz");
    let msg = question_message(&fake, 0).await;

    // Another emoji, a bot's reaction, and a reaction on some other message do nothing.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, "👍"),
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &BOT, BULB),
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, 12345, &MEMBER, BULB),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(replies_to(&fake, msg).is_empty());

    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    let reply = eventually("the reveal reply", || {
        replies_to(&fake, msg).into_iter().next()
    })
    .await;
    let text = embed_text(&reply);
    assert!(text.contains("Model answer"), "{text}");
    assert!(
        text.contains("Authentication is the process of verifying"),
        "{text}"
    );
    // Later reactions (the same member or others) do not repeat it.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &ADMIN, BULB),
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, "💡\u{FE0F}"),
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(replies_to(&fake, msg).len(), 1);
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn reaction_reveal_in_edit_mode_extends_the_question() {
    let (fake, dir) = setup().await;
    let mut c = config(&fake, dir.path());
    c.reveal.mode = RevealMode::Edit;
    let bot = start(&fake, c, options(SignedDuration::ZERO)).await;
    ask(&fake, json!({"id": "acid-properties"}), &MEMBER).await;
    let msg = question_message(&fake, 0).await;
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    let edited = eventually("the edited question", || {
        let m = fake.message(msg)?;
        (m["embeds"].as_array()?.len() == 2).then_some(m)
    })
    .await;
    assert!(embed_text(&edited).contains("Explain the concept of ACID"));
    assert!(embed_text(&edited).contains("ACID stands for Atomicity"));
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &ADMIN, BULB),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.count(|r| r.method == "PATCH" && r.path.ends_with(&msg.to_string())),
        1
    );
    assert!(replies_to(&fake, msg).is_empty());
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn reaction_reveal_in_dm_mode_once_per_member() {
    let (fake, dir) = setup().await;
    let mut c = config(&fake, dir.path());
    c.reveal.mode = RevealMode::Dm;
    let bot = start(&fake, c, options(SignedDuration::ZERO)).await;
    ask(&fake, json!({"id": "docker-usage"}), &MEMBER).await;
    let msg = question_message(&fake, 0).await;
    let carol = fake.new_user("carol");
    fake.close_dms(&carol);

    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &carol, BULB),
    );
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &ADMIN, BULB),
    );
    let dm_posts = |fake: &FakeDiscord| {
        fake.requests()
            .into_iter()
            .filter(|r| {
                r.method == "POST"
                    && r.path.ends_with("/messages")
                    && r.path != format!("/channels/{CHANNEL_ID}/messages")
            })
            .collect::<Vec<_>>()
    };
    eventually("two delivered DMs", || {
        let ok = dm_posts(&fake).iter().filter(|r| r.status == 200).count();
        (ok == 2).then_some(())
    })
    .await;
    // Carol's DMs are closed: one refused attempt, logged, nothing else breaks.
    eventually("the refused DM", || {
        dm_posts(&fake).iter().find(|r| r.status == 403).map(|_| ())
    })
    .await;
    // The same member again: no second DM.
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        dm_posts(&fake).iter().filter(|r| r.status == 200).count(),
        2
    );
    let dm = dm_posts(&fake)
        .into_iter()
        .find(|r| r.status == 200)
        .unwrap();
    assert!(embed_text(&dm.body).contains("Docker is a platform"));
    assert!(replies_to(&fake, msg).is_empty(), "nothing in the channel");
    // The bot is still serving.
    ask(&fake, json!({}), &MEMBER).await;
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn reveal_works_for_a_message_posted_before_a_restart() {
    let (fake, dir, bot) = boot().await;
    ask(&fake, json!({"id": "sql-vs-nosql"}), &MEMBER).await;
    let msg = question_message(&fake, 0).await;
    bot.shutdown().await;

    let bot = start(
        &fake,
        config(&fake, dir.path()),
        options(SignedDuration::ZERO),
    )
    .await;
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    let reply = eventually("the reveal reply", || {
        replies_to(&fake, msg).into_iter().next()
    })
    .await;
    assert!(embed_text(&reply).contains("SQL databases are relational"));
    bot.shutdown().await;
}

#[tokio::test]
async fn button_reveals_privately_any_number_of_times() {
    let (fake, _dir, bot) = boot().await;
    ask(&fake, json!({"id": "ci-cd-explained"}), &MEMBER).await;
    let msg_id = question_message(&fake, 0).await;
    let message = fake.message(msg_id).unwrap();
    for user in [&MEMBER, &ADMIN, &MEMBER] {
        let click = fake.button_click("reveal:ci-cd-explained", &message, user, CHANNEL_ID);
        fake.dispatch("INTERACTION_CREATE", click.clone());
        let cb = fake.wait_callback(&click, WAIT).await;
        assert_eq!(cb.body["type"], json!(4));
        let data = callback_data(&cb);
        assert!(is_ephemeral(data), "{data}");
        assert!(embed_text(data).contains("CI/CD is a practice"));
    }
    assert!(replies_to(&fake, msg_id).is_empty());
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn private_ask_is_ephemeral_with_the_button() {
    let (fake, _dir, bot) = boot().await;
    let cb = ask(&fake, json!({"private": true}), &MEMBER).await;
    let data = callback_data(&cb);
    assert!(is_ephemeral(data), "{data}");
    let id = shown_id(data);
    assert_eq!(
        data["components"][0]["components"][0]["custom_id"],
        json!(format!("reveal:{id}"))
    );
    // Nobody else sees it: no reaction, and the bot does not track it for reveals.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reactions(&fake), 0);
    fake.assert_no_schema_violations();
    bot.shutdown().await;
}

#[tokio::test]
async fn bank_reload_needs_manage_server_and_keeps_serving_on_errors() {
    let (fake, dir, bot) = boot().await;

    // A member without Manage Server is refused by the bot itself.
    let cmd = fake.slash_command("bank", &["reload"], json!({}), &MEMBER, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    let data = callback_data(&cb);
    assert!(is_ephemeral(data));
    assert!(
        data["content"].as_str().unwrap().contains("Manage Server"),
        "{data}"
    );

    // An admin reloads a broken file: the errors with line:col, and the old bank stays.
    let path = dir.path().join("questions.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    let broken = good.replacen("answer = ", "anwser = ", 1).replacen(
        "difficulty = \"easy\"",
        "difficulty = \"trivial\"",
        1,
    );
    std::fs::write(&path, &broken).unwrap();
    let cmd = fake.slash_command("bank", &["reload"], json!({}), &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    let data = callback_data(&cb);
    assert!(is_ephemeral(data));
    let text = embed_text(data);
    assert!(text.contains("previous bank keeps serving"), "{text}");
    let typo_line = broken
        .lines()
        .position(|l| l.starts_with("anwser"))
        .unwrap()
        + 1;
    assert!(
        text.contains(&format!(
            "questions.toml:{typo_line}:1: unknown key `anwser`"
        )),
        "{text}"
    );
    assert!(text.contains("unknown difficulty `trivial`"), "{text}");
    let cb = ask(&fake, json!({"id": "sql-vs-nosql"}), &MEMBER).await;
    assert_eq!(
        shown_id(callback_data(&cb)),
        "sql-vs-nosql",
        "still serving"
    );

    // Fixed and extended: the reload succeeds and the new question is served.
    std::fs::write(
        &path,
        format!("{good}\n[[question]]\nid = \"new-one\"\ncategory = \"career\"\nquestion = \"New?\"\nanswer = \"Yes.\"\n"),
    )
    .unwrap();
    let cmd = fake.slash_command("bank", &["reload"], json!({}), &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    assert!(embed_text(callback_data(&cb)).contains("36 questions (was 35)"));
    let cb = ask(&fake, json!({"id": "new-one"}), &MEMBER).await;
    assert_eq!(shown_id(callback_data(&cb)), "new-one");

    // /bank info for the admin.
    let cmd = fake.slash_command("bank", &["info"], json!({}), &ADMIN, CHANNEL_ID);
    fake.dispatch("INTERACTION_CREATE", cmd.clone());
    let cb = fake.wait_callback(&cmd, WAIT).await;
    let text = embed_text(callback_data(&cb));
    assert!(text.contains("36 questions"), "{text}");
    assert!(text.contains("Career** · 14"), "{text}");
    assert!(text.contains("questions.toml"), "{text}");
    fake.assert_no_schema_violations();
    assert_no_unwanted_mentions(&fake, None);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_500_then_success_on_a_reveal_delivers_exactly_one() {
    let (fake, _dir, bot) = boot().await;
    ask(&fake, json!({"id": "database-indexing"}), &MEMBER).await;
    let msg = question_message(&fake, 0).await;
    fake.fail_next("POST", &format!("/channels/{CHANNEL_ID}/messages"), 500, 1);
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    eventually("the reveal after a retry", || {
        replies_to(&fake, msg).into_iter().next()
    })
    .await;
    let posts: Vec<u16> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/channels/{CHANNEL_ID}/messages"))
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, vec![500, 200]);
    // A 429 with Retry-After is honoured the same way.
    ask(&fake, json!({"id": "docker-usage"}), &MEMBER).await;
    let msg2 = question_message(&fake, 1).await;
    fake.rate_limit_next("POST", &format!("/channels/{CHANNEL_ID}/messages"), 0.2, 1);
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg2, &MEMBER, BULB),
    );
    eventually("the reveal after a 429", || {
        replies_to(&fake, msg2).into_iter().next()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(replies_to(&fake, msg).len(), 1);
    assert_eq!(replies_to(&fake, msg2).len(), 1);
    bot.shutdown().await;
}

/// A burst bigger than the gate (`gate::MAX_HANDLING` interactions at once) is answered in
/// full while every 💡 reaction of it is still unanswered: an `/ask`'s handler ends with its
/// answer and sends the reaction from a task of its own. Were the reaction inside the
/// handler, the gate would stay full of handlers waiting on their reactions, and no more than
/// `MAX_HANDLING` answers would come until the held reactions were answered, minutes later.
#[tokio::test]
async fn a_burst_is_answered_in_full_while_its_reactions_are_held() {
    let (fake, _dir, _bot) = boot().await;
    let n = prepbot::discord::gate::MAX_HANDLING * 2 + 10;
    fake.delay_next("PUT", "/reactions/", Duration::from_secs(300), n);
    for _ in 0..n {
        let cmd = fake.slash_command("ask", &[], json!({}), &MEMBER, CHANNEL_ID);
        fake.dispatch("INTERACTION_CREATE", cmd);
    }
    let answered = |fake: &FakeDiscord| {
        fake.count(|r| {
            r.method == "POST" && r.path.starts_with("/interactions/") && r.status == 200
        })
    };
    eventually("every answer of the burst", || {
        (answered(&fake) == n).then_some(())
    })
    .await;
    // The reactions were sent (the fake records a held request at once) and none is answered.
    eventually("the burst's reactions on their way", || {
        (reactions(&fake) > prepbot::discord::gate::MAX_HANDLING).then_some(())
    })
    .await;
}

#[tokio::test]
async fn keeps_serving_across_gateway_reconnects() {
    let (fake, _dir, bot) = boot().await;
    ask(&fake, json!({}), &MEMBER).await;

    // A dropped socket: serenity resumes.
    fake.drop_gateway();
    eventually("a RESUME", || (fake.resume_count() >= 1).then_some(())).await;
    fake.wait_ready(WAIT).await;
    ask(&fake, json!({}), &MEMBER).await;

    // An invalid session: serenity identifies again; the bot's setup does not run twice.
    fake.invalidate_session(false);
    eventually("a second IDENTIFY", || {
        (fake.identify_count() >= 2).then_some(())
    })
    .await;
    fake.wait_ready(WAIT).await;
    ask(&fake, json!({}), &MEMBER).await;
    assert_eq!(fake.count(is_registration), 1, "commands registered once");
    bot.shutdown().await;
}

/// Texts at Discord's limits: a 3000-character question and a 4000-character answer cannot
/// share one message (6000 characters across embeds), so in `edit` mode the answer moves to
/// a reply; multi-byte text is never cut mid-character, and Discord's schema accepts all.
#[tokio::test]
async fn long_texts_go_where_they_fit() {
    let (fake, dir) = setup().await;
    let long_q = format!("Why {}?", "é".repeat(2995));
    let long_a = "Ünïcödé answer text. ".repeat(190); // 3990 characters
    std::fs::write(
        dir.path().join("questions.toml"),
        format!(
            "[[question]]\nid = \"long\"\ncategory = \"technical\"\nquestion = \"{long_q}\"\n\
             answer = \"{long_a}\"\n\n[[question]]\nid = \"short\"\ncategory = \"technical\"\n\
             question = \"Short?\"\nanswer = \"Yes.\"\n"
        ),
    )
    .unwrap();
    let mut c = config(&fake, dir.path());
    c.reveal.mode = RevealMode::Edit;
    let bot = start(&fake, c, options(SignedDuration::ZERO)).await;
    let cb = ask(&fake, json!({"id": "long"}), &MEMBER).await;
    assert_eq!(
        callback_data(&cb)["embeds"][0]["description"],
        json!(long_q)
    );
    let msg = question_message(&fake, 0).await;
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg, &MEMBER, BULB),
    );
    let reply = eventually("the answer as a reply", || {
        replies_to(&fake, msg).into_iter().next()
    })
    .await;
    assert_eq!(reply["embeds"][0]["description"], json!(long_a.trim()));
    assert_eq!(
        fake.message(msg).unwrap()["embeds"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "not edited"
    );
    // A short one still goes into the question message.
    ask(&fake, json!({"id": "short"}), &MEMBER).await;
    let msg2 = question_message(&fake, 1).await;
    fake.dispatch(
        "MESSAGE_REACTION_ADD",
        fake.reaction_add(CHANNEL_ID, msg2, &MEMBER, BULB),
    );
    eventually("the edited short question", || {
        (fake.message(msg2)?["embeds"].as_array()?.len() == 2).then_some(())
    })
    .await;
    // The button's ephemeral answer and the DM path use the same fitted embeds.
    let click = fake.button_click(
        "reveal:long",
        &fake.message(msg).unwrap(),
        &ADMIN,
        CHANNEL_ID,
    );
    fake.dispatch("INTERACTION_CREATE", click.clone());
    let cb = fake.wait_callback(&click, WAIT).await;
    assert_eq!(cb.status, 204);
    fake.assert_no_schema_violations();
    bot.shutdown().await;
}
