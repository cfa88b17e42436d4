//! Data-driven dialogue cases: `tests/cases/dialogue/*.toml`, run against the real
//! server and a real test back-end. A new business rule means new rows there.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::common::root;
use crate::common::server::TestServer;

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
    feedback: Option<bool>,
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
            by_config.entry(case.config.clone()).or_default().push((stem.clone(), case));
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
                if !wrong.is_empty() {
                    failures.push(format!("{file}: {} — turn {} {text:?}: {}", case.name, i + 1, wrong.join(", ")));
                    break;
                }
            }
        }
    }
    assert!(count >= 20, "only {count} cases found");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
}
