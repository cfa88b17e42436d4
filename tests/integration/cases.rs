//! Data-driven dialogue cases: `tests/cases/dialogue/*.toml`, run against the real
//! server and a real test back-end. A new business rule means new rows there.
//!
//! A step is one of: a customer turn (`text`, optional `user`, expectations `expect`,
//! `id`, `reason`, `contains`, `not`, `turn`); feedback on the last turn (`feedback`);
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
    expect: Option<String>,
    id: Option<String>,
    reason: Option<String>,
    contains: Option<String>,
    not: Option<String>,
    /// The turn number the reply must carry (the session kept its state).
    turn: Option<u64>,
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

/// A status and error code against the step's expectations (default 200, no code).
fn check_status(turn: &Turn, status: u16, reply: &serde_json::Value) -> Option<String> {
    let want = turn.status.unwrap_or(200);
    let code_ok = turn.code.as_deref().is_none_or(|c| reply["code"] == c);
    (status != want || !code_ok).then(|| format!("HTTP {status} {reply} (want {want} {:?})", turn.code))
}

#[tokio::test]
async fn dialogue_cases() {
    let mut by_config: BTreeMap<String, Vec<(String, Case)>> = BTreeMap::new();
    let dir = root().join("tests/cases/dialogue");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        let parsed: CaseFile = toml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for case in parsed.case {
            // A reload changes the server's knowledge: such a case runs alone.
            let mut key = case.config.clone();
            if case.turns.iter().any(|t| t.reload) {
                key = format!("{key}\n# {stem}/{}", case.name);
            }
            by_config.entry(key).or_default().push((stem.clone(), case));
        }
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
                if let Some(user) = &turn.user {
                    body["user"] = json!({"id": user});
                }
                let (status, reply) = server.post("/v1/chat", &body).await;
                assert_eq!(status, 200, "{session}: {reply}");
                turn_no = reply["turn"].as_u64().unwrap();
                let mut wrong = Vec::new();
                let equal = [
                    ("action", turn.expect.as_deref(), &reply["action"]),
                    ("match", turn.id.as_deref(), &reply["match"]["id"]),
                    ("reason", turn.reason.as_deref(), &reply["handoff"]["reason"]),
                ];
                for (what, want, got) in equal {
                    if want.is_some_and(|w| got != w) {
                        wrong.push(format!("{what} {got} (want {})", want.unwrap_or_default()));
                    }
                }
                if turn.not.as_deref().is_some_and(|n| reply["action"] == n) {
                    wrong.push(format!("action {} is not wanted", reply["action"]));
                }
                if turn.contains.as_deref().is_some_and(|c| !reply["text"].as_str().unwrap_or("").contains(c)) {
                    wrong.push(format!("text {} (want it to contain {:?})", reply["text"], turn.contains));
                }
                if turn.turn.is_some_and(|t| reply["turn"] != t) {
                    wrong.push(format!("turn {} (want {:?})", reply["turn"], turn.turn));
                }
                if !wrong.is_empty() {
                    fail(format!("{text:?}: {}", wrong.join(", ")));
                    break;
                }
            }
        }
    }
    assert!(count >= 20, "only {count} cases found");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}
