//! Data-driven dialogue cases: `tests/cases/dialogue/*.toml`. A new business rule
//! means new rows there. Two runners read them:
//!
//! - `dialogue_cases` drives the real server (real model, real test back-end) over
//!   HTTP, every case;
//! - `decision_cases` drives the pure decision (`dialogue::decide`) without the
//!   model, for every case whose customer turns all carry hand-built `signals`
//!   (`{ faqs = ["id:score", …], intents = ["scenario:score"], complaint = probability }`;
//!   text signals — normalisation, slot values, exact questions — come from the
//!   demo knowledge, lexical-only). It runs in milliseconds.
//!
//! `BIZBOT_CASE=text` runs only the cases whose `file/name` contains `text`, e.g.
//! `BIZBOT_CASE="escalation/a complaint" cargo test --test integration cases`.
//!
//! A step is one of: a customer turn (`text`, optional `user`, `channel`, `tags`, `profile`, expectations `expect`,
//! `id`, `reason`, `queue`, `summary` (a substring), `suggested` (an id among the
//! suggested answers), `contains`, `not`, `turn`); feedback on the last turn (`feedback`);
//! a raw `/v1/chat` body (`body`, `{session}` replaced by the case's session,
//! `body_repeat`, `content_type`, `""` for none) with the expected `status` and `code`;
//! or files written or appended to in the server's folder (`write`, `append`) followed by an admin `reload`
//! with the expected `status` and `code`. A case with a reload gets a server of its own.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::common::root;
use crate::common::server::{TOKEN, TestServer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    config: String,
    turns: Vec<Turn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Turn {
    text: Option<String>,
    user: Option<String>,
    /// The request's channel.
    channel: Option<String>,
    /// The customer's tags.
    #[serde(default)]
    tags: Vec<String>,
    /// The customer's profile.
    profile: Option<serde_json::Map<String, serde_json::Value>>,
    expect: Option<String>,
    id: Option<String>,
    reason: Option<String>,
    contains: Option<String>,
    not: Option<String>,
    /// The turn number the reply must carry (the session kept its state).
    turn: Option<u64>,
    queue: Option<String>,
    summary: Option<String>,
    suggested: Option<String>,
    signals: Option<CaseSignals>,
    feedback: Option<bool>,
    body: Option<String>,
    body_repeat: Option<usize>,
    content_type: Option<String>,
    status: Option<u16>,
    code: Option<String>,
    #[serde(default)]
    write: BTreeMap<String, String>,
    #[serde(default)]
    append: BTreeMap<String, String>,
    #[serde(default)]
    reload: bool,
}

/// Hand-built retrieval signals for the decision runner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSignals {
    #[serde(default)]
    faqs: Vec<String>,
    #[serde(default)]
    intents: Vec<String>,
    complaint: Option<f32>,
}

/// `id:score` pairs.
fn scored(items: &[String]) -> Vec<(String, f32)> {
    items
        .iter()
        .map(|item| {
            let (id, score) = item.rsplit_once(':').unwrap_or_else(|| panic!("{item:?}: write id:score"));
            (id.to_owned(), score.parse().unwrap_or_else(|e| panic!("{item:?}: {e}")))
        })
        .collect()
}

/// Every case of every file, with its file stem, filtered by `BIZBOT_CASE`.
fn load_cases() -> Vec<(String, Case)> {
    let filter = std::env::var("BIZBOT_CASE").unwrap_or_default();
    let dir = root().join("tests/cases/dialogue");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let parsed: CaseFile = toml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        cases.extend(
            parsed
                .case
                .into_iter()
                .filter(|c| format!("{stem}/{}", c.name).contains(&filter))
                .map(|c| (stem.clone(), c)),
        );
    }
    cases
}

/// What a turn's reply must show, against the reply's fields (`got`): action,
/// match id, hand-off reason, queue, summary, suggested ids, text, turn number.
fn check_reply(turn: &Turn, reply: &serde_json::Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let equal = [
        ("action", turn.expect.as_deref(), &reply["action"]),
        ("match", turn.id.as_deref(), &reply["match"]["id"]),
        ("reason", turn.reason.as_deref(), &reply["handoff"]["reason"]),
        ("queue", turn.queue.as_deref(), &reply["handoff"]["queue"]),
    ];
    for (what, want, got) in equal {
        if want.is_some_and(|w| got != w) {
            wrong.push(format!("{what} {got} (want {})", want.unwrap_or_default()));
        }
    }
    if turn.not.as_deref().is_some_and(|n| reply["action"] == n) {
        wrong.push(format!("action {} is not wanted", reply["action"]));
    }
    let text_has = |field: &serde_json::Value, want: &Option<String>| {
        want.as_deref().is_none_or(|w| field.as_str().unwrap_or("").contains(w))
    };
    if !text_has(&reply["text"], &turn.contains) {
        wrong.push(format!("text {} (want it to contain {:?})", reply["text"], turn.contains));
    }
    if !text_has(&reply["handoff"]["summary"], &turn.summary) {
        wrong.push(format!("summary {} (want it to contain {:?})", reply["handoff"]["summary"], turn.summary));
    }
    if let Some(want) = &turn.suggested {
        let ids: Vec<&str> = reply["handoff"]["suggested_answers"]
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["id"].as_str()).collect())
            .unwrap_or_default();
        if !ids.contains(&want.as_str()) {
            wrong.push(format!("suggested answers {ids:?} (want {want:?} among them)"));
        }
    }
    if turn.turn.is_some_and(|t| reply["turn"] != t) {
        wrong.push(format!("turn {} (want {:?})", reply["turn"], turn.turn));
    }
    wrong
}

/// A status and error code against the step's expectations (default 200, no code).
fn check_status(turn: &Turn, status: u16, reply: &serde_json::Value) -> Option<String> {
    let want = turn.status.unwrap_or(200);
    let code_ok = turn.code.as_deref().is_none_or(|c| reply["code"] == c);
    (status != want || !code_ok).then(|| format!("HTTP {status} {reply} (want {want} {:?})", turn.code))
}

#[tokio::test]
async fn dialogue_cases() {
    let mut by_config: BTreeMap<String, Vec<(String, Case)>> = BTreeMap::new();
    for (stem, case) in load_cases() {
        // A reload changes the server's knowledge: such a case runs alone.
        let mut key = case.config.clone();
        if case.turns.iter().any(|t| t.reload) {
            key = format!("{key}\n# {stem}/{}", case.name);
        }
        by_config.entry(key).or_default().push((stem, case));
    }
    let mut failures = Vec::new();
    let mut count = 0;
    for (config, cases) in by_config {
        let server = TestServer::start(&config).await;
        for (file, case) in cases {
            count += 1;
            let session = format!("{file}/{}", case.name);
            let mut turn_no = 0;
            for (i, turn) in case.turns.iter().enumerate() {
                let mut fail = |what: String| failures.push(format!("{file}: {} — step {}: {what}", case.name, i + 1));
                for (path, content) in &turn.write {
                    std::fs::write(server.dir.path().join(path), content).unwrap();
                }
                for (path, content) in &turn.append {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new().append(true).open(server.dir.path().join(path)).unwrap();
                    f.write_all(content.as_bytes()).unwrap();
                }
                if turn.reload {
                    let (status, reply) = server.reload(TOKEN).await;
                    if let Some(wrong) = check_status(turn, status, &reply) {
                        fail(format!("reload: {wrong}"));
                        break;
                    }
                    continue;
                }
                if let Some(body) = &turn.body {
                    let body = body.replace("{session}", &session).repeat(turn.body_repeat.unwrap_or(1));
                    let ct = turn.content_type.as_deref().unwrap_or("application/json");
                    let (status, reply) =
                        server.raw("/v1/chat", body.into_bytes(), Some(ct).filter(|c| !c.is_empty())).await;
                    if let Some(wrong) = check_status(turn, status, &reply) {
                        fail(format!("raw body: {wrong}"));
                        break;
                    }
                    continue;
                }
                if let Some(helpful) = turn.feedback {
                    let body = json!({"session_id": session, "turn": turn_no, "helpful": helpful});
                    let (status, _) = server.post("/v1/feedback", &body).await;
                    assert_eq!(status, 200, "{session}: feedback");
                    continue;
                }
                let text = turn.text.as_deref().expect("a turn has text or feedback");
                let mut body = json!({"session_id": session, "text": text});
                body["user"] =
                    json!({"id": turn.user, "tags": turn.tags, "profile": turn.profile.clone().unwrap_or_default()});
                if let Some(id) = &turn.user {
                    body["user"]["token"] = json!(crate::common::server::user_token(id));
                }
                if let Some(channel) = &turn.channel {
                    body["channel"] = json!(channel);
                }
                let (status, reply) = server.post("/v1/chat", &body).await;
                assert_eq!(status, 200, "{session}: {reply}");
                turn_no = reply["turn"].as_u64().unwrap();
                let wrong = check_reply(turn, &reply);
                if !wrong.is_empty() {
                    fail(format!("{text:?}: {}", wrong.join(", ")));
                    break;
                }
            }
        }
    }
    let filtered = std::env::var_os("BIZBOT_CASE").is_some();
    assert!(count >= 20 || filtered, "only {count} cases found");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// Whether the decision runner can run `case`: every customer turn has signals and
/// no step needs the server (raw bodies, reloads).
fn decidable(case: &Case) -> bool {
    case.turns.iter().all(|t| {
        t.body.is_none()
            && !t.reload
            && t.write.is_empty()
            && t.append.is_empty()
            && (t.text.is_none() || t.signals.is_some())
    })
}

#[test]
fn decision_cases() {
    use bizbot::dialogue::signals::{FaqCandidate, IntentCandidate, text_signals};
    use bizbot::dialogue::{Session, Templates, TurnContext, UserInfo};

    let kb = bizbot::KnowledgeBase::load(&root().join("knowledge")).expect("demo knowledge");
    let templates = Templates::compile(&kb);
    let defaults = bizbot::config::load_from(None, []).unwrap();
    // Lexical-only: the engine gives text signals (normalisation, slots, exact
    // questions); retrieval signals come from the case.
    let engine = bizbot::Engine::build(kb, &defaults.engine_settings(), None).unwrap();
    let backends = bizbot::backend::Backends::from_config(&BTreeMap::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut count, mut failures) = (0, Vec::new());
    for (file, case) in load_cases().into_iter().filter(|(_, c)| decidable(c)) {
        count += 1;
        let path = dir.path().join(format!("{count}.toml"));
        std::fs::write(&path, &case.config).unwrap();
        let config = bizbot::config::load_from(Some(&path), []).expect("case config");
        let mut session = Session::default();
        for (i, step) in case.turns.iter().enumerate() {
            if let Some(helpful) = step.feedback {
                let turn = session.turn;
                bizbot::dialogue::feedback(&mut session, turn, helpful);
                continue;
            }
            let (Some(text), Some(given)) = (&step.text, &step.signals) else { continue };
            let user = UserInfo { id: step.user.clone(), ..UserInfo::default() };
            let mut signals = text_signals(&engine, text, user.id.is_some());
            signals.faqs = scored(&given.faqs)
                .into_iter()
                .map(|(id, score)| FaqCandidate {
                    id: id.into(),
                    score,
                    fused: score,
                    lexical: score,
                    cosine: None,
                    matched: String::new(),
                })
                .collect();
            signals.intents = scored(&given.intents)
                .into_iter()
                .map(|(id, score)| IntentCandidate { id: id.into(), score, example: String::new() })
                .collect();
            signals.complaint_score = given.complaint;
            let ctx = TurnContext {
                engine: &engine,
                templates: &templates,
                thresholds: &config.thresholds,
                escalation: &config.escalation,
                messages: &config.messages,
                transcript: config.session.transcript_limit(),
                user: &user,
                channel: None,
                backends: &backends,
                agent_desk: false,
                agents_available: true,
                live_agents: false,
                now_ms: 0,
            };
            let turn = bizbot::dialogue::turn_with(ctx, &mut session, signals);
            let reply = serde_json::to_value(bizbot::server::dto::ChatResponse::new(file.clone(), turn.reply)).unwrap();
            let wrong = check_reply(step, &reply);
            if !wrong.is_empty() {
                failures.push(format!("{file}: {} — step {}: {text:?}: {}", case.name, i + 1, wrong.join(", ")));
                break;
            }
        }
    }
    let filtered = std::env::var_os("BIZBOT_CASE").is_some();
    assert!(count >= 10 || filtered, "only {count} cases have signals");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}
