//! `bizbot learn` end to end: a generated turn log with many wordings of three
//! questions the knowledge lacks and clarification choices goes in; the clusters
//! and proposals come out; accepting the proposals makes the bot answer them.

use serde_json::{Value, json};

use crate::common::{bizbot, root, stdout};

fn record(session: &str, turn: u64, text: &str, action: &str, extra: &Value) -> String {
    let mut r = json!({
        "ts_ms": 1_795_392_000_000u64 + turn, "session": session, "channel": "web", "user": null,
        "text": text, "action": action, "match_id": null, "score": null, "handoff_reason": null,
        "latency_ms": 3.0, "turn": turn,
    });
    r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    r.to_string()
}

fn decision(knowledge: &str, text: &str) -> Value {
    let out = bizbot(&["ask", "--json", "--knowledge", knowledge, text]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str::<Value>(&stdout(&out)).unwrap()["decision"].clone()
}

#[test]
fn learn_clusters_the_unanswered_and_accepted_choices_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("knowledge");
    std::fs::create_dir_all(&kb).unwrap();
    for entry in std::fs::read_dir(root().join("knowledge")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), kb.join(entry.file_name())).unwrap();
    }
    let kb_arg = kb.to_str().unwrap();
    // Three questions the knowledge lacks, each asked in several wordings.
    let missing: [&[(&str, usize)]; 3] = [
        &[("营业厅能停车吗", 4), ("营业厅有停车位吗", 3), ("去营业厅开车的话停车方便吗", 2), ("营业厅门口能停车不", 1)],
        &[("营业厅可以带宠物进去吗", 3), ("能带狗去营业厅吗", 2), ("营业厅让不让带猫进去", 1)],
        &[("你们公司招人吗", 2), ("怎么应聘你们公司的工作", 2), ("想去你们那上班怎么投简历", 1)],
    ];
    // Wordings the bot clarifies today, where the customer then picks an entry.
    let choices = [("网老是掉线", "broadband-repair"), ("家里网不行了", "broadband-repair")];
    let mut lines = Vec::new();
    let mut session = 0;
    for group in &missing {
        for (text, n) in group.iter() {
            for _ in 0..*n {
                session += 1;
                lines.push(record(&format!("s{session}"), 1, text, "fallback", &json!({})));
            }
        }
    }
    for (text, id) in choices {
        assert_eq!(decision(kb_arg, text)["action"], "clarify", "{text} must clarify before learning");
        for _ in 0..2 {
            session += 1;
            let s = format!("s{session}");
            lines.push(record(&s, 1, text, "clarify", &json!({"candidates": [id, "wlan-router"]})));
            lines.push(record(&s, 2, "1", "answer", &json!({"match_id": id, "score": 1.0})));
        }
    }
    let log = dir.path().join("turns.jsonl");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let out_dir = dir.path().join("review");
    let out =
        bizbot(&["learn", "--log", log.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--knowledge", kb_arg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let clusters: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("unanswered-clusters.json")).unwrap()).unwrap();
    let sizes: Vec<u64> = clusters.iter().map(|c| c["size"].as_u64().unwrap()).collect();
    assert_eq!(sizes, [10, 6, 5], "{clusters:#?}");
    for (cluster, group) in clusters.iter().zip(&missing) {
        let examples: Vec<&str> =
            cluster["examples"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
        let mut want: Vec<&str> = group.iter().map(|(t, _)| *t).collect();
        let mut got = examples.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{cluster}");
    }
    let proposals = std::fs::read_to_string(out_dir.join("similar-questions.csv")).unwrap();
    for (text, id) in choices {
        assert!(proposals.lines().any(|l| l.starts_with(&format!("{id},{text},2,clarify_choice"))), "{proposals}");
    }
    assert_eq!(proposals.lines().count(), 3, "{proposals}");

    let out =
        bizbot(&["learn", "--accept", out_dir.join("similar-questions.csv").to_str().unwrap(), "--knowledge", kb_arg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("added 2 similar question(s)"), "{}", stdout(&out));
    let check = bizbot(&["check", "--knowledge", kb_arg]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    for (text, id) in choices {
        let d = decision(kb_arg, text);
        assert_eq!(d["action"], "answer", "{text}: {d}");
        assert_eq!(d["id"], id, "{text}: {d}");
    }
}
