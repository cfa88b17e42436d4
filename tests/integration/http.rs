//! The real HTTP server on 127.0.0.1, driven over HTTP with reqwest.

use serde_json::{Value, json};

use crate::common::server::{AGENT_TOKEN, TOKEN, TestServer, verified};

#[tokio::test]
async fn answers_with_match_related_and_actions() {
    let s = TestServer::start("").await;
    let r = s.chat("a", "WIFI免费吗").await;
    assert_eq!(r["action"], "answer", "{r}");
    assert_eq!(r["match"]["id"], "wlan-free");
    assert_eq!(r["turn"], 1);
    assert!(!r["related"].as_array().unwrap().is_empty(), "{r}");
    let r = s.chat("a", "宽带坏了怎么报修").await;
    assert_eq!(r["turn"], 2);
    assert_eq!(r["actions"][0]["label"], "在线报修");
}

#[tokio::test]
async fn clarification_accepts_a_number_or_the_question() {
    let s = TestServer::start("[thresholds]\nanswer = 0.99\nclarify = 0.01\n").await;
    let r = s.chat("c", "退货要怎么弄").await;
    assert_eq!(r["action"], "clarify", "{r}");
    let first = r["candidates"][0]["id"].as_str().unwrap().to_owned();
    let second_q = r["candidates"][1]["question"].as_str().unwrap().to_owned();
    let second = r["candidates"][1]["id"].as_str().unwrap().to_owned();
    let r = s.chat("c", "1").await;
    assert_eq!(r["action"], "answer");
    assert_eq!(r["match"]["id"], first.as_str());
    s.chat("d", "退货要怎么弄").await;
    let r = s.chat("d", &second_q).await;
    assert_eq!(r["match"]["id"], second.as_str(), "{r}");
    let r = s.chat("e", "退货要怎么弄").await;
    assert_eq!(r["action"], "clarify", "{r}");
    let r = s.chat("e", "选2吧").await;
    assert_eq!(r["match"]["id"], second.as_str(), "{r}");
    // The two picks by position and the thanks ran no model; the rest did.
    s.chat("e", "好的谢谢").await;
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_turns_without_model_total{reason=\"pick\"} 2"), "{metrics}");
    assert!(metrics.contains("bizbot_turns_without_model_total{reason=\"pleasantry\"} 1"), "{metrics}");
}

#[tokio::test]
async fn a_scenario_offered_in_a_clarification_runs_when_picked() {
    // Never sure enough to route or answer: every turn clarifies.
    let s = TestServer::start("[thresholds]\nanswer = 0.99\nclarify = 0.01\nintent = 0.99\n").await;
    let r = s.chat_as("o", "我买的耳机寄出来没有啊", "u1001").await;
    assert_eq!(r["action"], "clarify", "{r}");
    let candidates = r["candidates"].as_array().unwrap();
    let last = candidates.last().unwrap();
    assert_eq!(last["id"], "order-status", "the scenario comes last: {r}");
    assert_eq!(last["question"], "查询我的订单状态", "offered by its title");
    assert!(r["text"].as_str().unwrap().ends_with(&format!("{}. 查询我的订单状态", candidates.len())), "{r}");
    let r = s.chat_as("o", "查询我的订单状态", "u1001").await;
    assert_eq!(r["action"], "ask_slot", "picked by its title: {r}");
    assert_eq!(r["match"]["id"], "order-status");
    s.chat_as("n", "我买的耳机寄出来没有啊", "u1001").await;
    let r = s.chat_as("n", &candidates.len().to_string(), "u1001").await;
    assert_eq!(r["action"], "ask_slot", "picked by its number: {r}");
}

#[tokio::test]
async fn a_request_to_log_in_offers_the_entries_near_enough() {
    let s = TestServer::start("").await;
    // No user id: the my-services scenario asks for a login, and the entries the
    // text is near enough to are offered as a clarification's candidates.
    let r = s.chat("login-a", "有个什么彩铃业务每月扣我钱 我要取消掉").await;
    assert_eq!((r["action"].as_str(), r["match"]["id"].as_str()), (Some("fallback"), Some("my-services")), "{r}");
    let offered = r["candidates"].as_array().expect("candidates").clone();
    assert!(!offered.is_empty(), "{r}");
    // 0.05: the default `thresholds.clarify_others`.
    assert!(offered.iter().all(|q| q["score"].as_f64().is_some_and(|c| c >= 0.05)), "{r}");
    assert!(
        r["text"].as_str().is_some_and(|t| t.contains(&format!("1. {}", offered[0]["question"].as_str().unwrap()))),
        "{r}"
    );
    // … and picked by number like them: the entry is served (answered, or handed off
    // with its answer shown when the entry asks for a person).
    let r = s.chat("login-a", "1").await;
    assert_eq!(r["match"]["id"], offered[0]["id"], "{r}");
    assert!(r["action"] == "answer" || r["handoff"]["reason"] == "entry_flagged", "{r}");
    // A plain request for the customer's own data is near no entry: nothing offered.
    let r = s.chat("login-b", "我开没开彩铃").await;
    assert_eq!(r["match"]["id"], "my-services", "{r}");
    assert!(r.get("candidates").is_none_or(|v| v.as_array().is_some_and(Vec::is_empty)), "{r}");
}

#[tokio::test]
async fn a_complaint_hands_off_at_once() {
    let s = TestServer::start("").await;
    let body = json!({"session_id": "p", "text": "你们的服务太差了，我要投诉！", "user": verified("u1001")});
    let (_, r) = s.post("/v1/chat", &body).await;
    assert_eq!(r["action"], "handoff", "{r}");
    assert_eq!(r["handoff"]["reason"], "complaint");
    assert_eq!(r["handoff"]["transcript"][0]["text"], "你们的服务太差了，我要投诉！");
    assert!(!r["handoff"]["suggested_answers"].as_array().unwrap().is_empty());
    // An anonymous conversation's transcript goes to the desk, not to whoever
    // holds the session id.
    let r = s.chat("p-anonymous", "你们的服务太差了，我要投诉！").await;
    assert_eq!(r["handoff"]["reason"], "complaint", "{r}");
    assert!(r["handoff"]["transcript"].as_array().unwrap().is_empty(), "{r}");
}

#[tokio::test]
async fn the_complaint_model_hands_off_anger_without_a_complaint_phrase() {
    // No configured phrase in it: only the model learned at load can tell.
    let angry = "这网速我真是服气 看个视频转半天圈";
    let s = TestServer::start("").await;
    let r = s.chat("m1", angry).await;
    assert_eq!(r["handoff"]["reason"], "complaint", "{r}");
    let r = s.chat("m2", "师傅说好今天上午来装 现在还没到 能帮我问问吗").await;
    assert_ne!(r["action"], "handoff", "a calm problem report is a question: {r}");
    // Without examples to learn from there is no model, and phrases alone miss it.
    let s = TestServer::start(
        "[escalation]\nbuiltin_complaint_examples = false\ncomplaint_examples = []\nordinary_examples = []\n",
    )
    .await;
    let r = s.chat("m3", angry).await;
    assert_ne!(r["action"], "handoff", "{r}");
}

#[tokio::test]
async fn asking_for_a_person_hands_off() {
    let s = TestServer::start("").await;
    let user = verified("u1001");
    s.post("/v1/chat", &json!({"session_id": "h", "text": "宽带怎么办理", "user": user})).await;
    let (_, r) = s.post("/v1/chat", &json!({"session_id": "h", "text": "帮我转人工", "user": user})).await;
    assert_eq!(r["handoff"]["reason"], "human_requested", "{r}");
    assert_eq!(r["handoff"]["queue"], "宽带业务");
    assert_eq!(r["handoff"]["transcript"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn three_unresolved_turns_hand_off() {
    let s = TestServer::start("").await;
    let mut actions = Vec::new();
    for _ in 0..3 {
        actions.push(s.chat("u", "量子纠缠的数学原理是什么").await["action"].as_str().unwrap().to_owned());
    }
    assert_eq!(actions, ["fallback", "fallback", "handoff"]);
}

#[tokio::test]
async fn greetings_and_thanks_get_their_reply_and_are_not_unresolved_turns() {
    let s = TestServer::start("").await;
    let first = s.chat("g", "你好").await;
    assert_eq!(first["action"], "fallback");
    assert!(first["text"].as_str().unwrap().starts_with("您好"), "{first}");
    assert_eq!(s.chat("g", "在吗？？").await["action"], "fallback");
    assert_eq!(s.chat("g", "量子纠缠的数学原理是什么").await["action"], "fallback");
    assert_eq!(s.chat("g", "量子纠缠的数学原理是什么").await["action"], "fallback", "two stuck turns, not four");
    let thanks = s.chat("g", "好的谢谢").await;
    assert!(thanks["text"].as_str().unwrap().starts_with("不客气"), "{thanks}");
    assert_eq!(
        s.chat("g", "你好 宽带坏了怎么报修").await["action"],
        "answer",
        "a question after a greeting is a question"
    );
}

#[tokio::test]
async fn not_helpful_feedback_and_repeats_count_as_unresolved() {
    let s = TestServer::start("").await;
    let r = s.chat("f", "怎么退货").await;
    assert_eq!(r["action"], "answer");
    let (status, _) = s.post("/v1/feedback", &json!({"session_id": "f", "turn": 1, "helpful": false})).await;
    assert_eq!(status, 200);
    assert_eq!(s.chat("f", "怎么退货").await["action"], "answer");
    let r = s.chat("f", "怎么退货").await;
    assert_eq!(r["action"], "handoff", "{r}");
    assert_eq!(r["handoff"]["reason"], "unresolved");
    let (status, body) = s.post("/v1/feedback", &json!({"session_id": "nobody", "turn": 1, "helpful": true})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_session")));
}

#[tokio::test]
async fn an_entry_flagged_for_handoff_hands_off() {
    let s = TestServer::start("").await;
    let r = s.chat("g", "宽带怎么取消").await;
    assert_eq!(r["action"], "handoff", "{r}");
    assert_eq!(r["handoff"]["reason"], "entry_flagged");
}

#[tokio::test]
async fn bad_input_gets_a_json_error_and_the_session_survives() {
    let s = TestServer::start("").await;
    s.chat("b", "WIFI免费吗").await;
    let cases: Vec<(u16, &str, (u16, Value))> = vec![
        (400, "invalid_json", s.raw("/v1/chat", b"{not json".to_vec(), Some("application/json")).await),
        (400, "invalid_json", s.post("/v1/chat", &json!({"session_id": "b", "text": 5})).await),
        (400, "invalid_json", s.post("/v1/chat", &json!({"session_id": "b"})).await),
        (415, "unsupported_media_type", s.raw("/v1/chat", b"{}".to_vec(), None).await),
        (413, "payload_too_large", s.raw("/v1/chat", vec![b' '; 10_000], Some("application/json")).await),
        (422, "invalid_field", s.post("/v1/chat", &json!({"session_id": "b", "text": "   "})).await),
        (422, "invalid_field", s.post("/v1/chat", &json!({"session_id": "b", "text": "退".repeat(501)})).await),
        (422, "invalid_field", s.post("/v1/chat", &json!({"session_id": "", "text": "退货"})).await),
        (
            400,
            "invalid_json",
            s.raw("/v1/chat", b"{\"session_id\":\"b\",\"text\":\"\xff\xfe\"}".to_vec(), Some("application/json")).await,
        ),
        (405, "method_not_allowed", s.raw("/v1/search", b"{}".to_vec(), Some("application/json")).await),
        (404, "not_found", s.raw("/v1/chat/../../etc/passwd", b"{}".to_vec(), Some("application/json")).await),
    ];
    for (want_status, want_code, (status, body)) in cases {
        assert_eq!((status, body["code"].as_str()), (want_status, Some(want_code)), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = s.chat("b", "怎么退货").await;
    assert_eq!(r["turn"], 2, "the session kept its state: {r}");
}

#[tokio::test]
async fn search_health_and_metrics() {
    let s = TestServer::start("").await;
    let r = s.client.get(format!("{}/v1/search?q=WIFI免费吗&k=2", s.base)).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["matches"].as_array().unwrap().len(), 2);
    assert_eq!(body["matches"][0]["id"], "wlan-free");
    let r = s.client.get(format!("{}/v1/search?q=&k=2", s.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let health: Value = s.client.get(format!("{}/healthz", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    s.chat("m", "转人工").await;
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_turns_total{action=\"handoff\"} 1"), "{metrics}");
    assert!(metrics.contains("bizbot_handoffs_total{reason=\"human_requested\"} 1"));
    assert!(metrics.contains("bizbot_turn_seconds_count 1"));
    let gauge = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}"));
        line.split(' ').nth(1).unwrap().parse().unwrap()
    };
    let model = crate::common::model_config().model_dir.join("model.onnx").is_file();
    assert_eq!(gauge("bizbot_knowledge_vectors") > 81, model, "every question has a vector when the model runs");
    assert!(gauge("bizbot_process_resident_bytes") > 10_000_000);
}

#[tokio::test]
async fn reload_swaps_in_new_knowledge_and_a_failed_reload_keeps_the_old() {
    let s = TestServer::start("").await;
    assert_eq!(s.reload("wrong").await.0, 401);
    let kb = s.dir.path().join("knowledge");
    std::fs::write(kb.join("new.csv"), "id,question,similar,answer,category\nparking,营业厅可以停车吗,门店有停车位吗|去营业厅车停哪,营业厅提供免费停车位。,服务渠道\n").unwrap();
    let (status, body) = s.reload(TOKEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["entries"], 82);
    assert_eq!(s.chat("r", "营业厅能停车吗").await["match"]["id"], "parking");
    std::fs::write(kb.join("broken.csv"), "id,question,answer\nparking,重复的id,答案\n").unwrap();
    let (status, body) = s.reload(TOKEN).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("reload_failed")), "{body}");
    assert!(body["problems"][0].as_str().unwrap().contains("duplicate id \"parking\""), "{body}");
    assert_eq!(s.chat("r2", "营业厅能停车吗").await["match"]["id"], "parking", "old knowledge still serves");
}

#[tokio::test]
async fn turns_are_logged_masked_and_reported() {
    let s = TestServer::start("").await;
    s.chat("l", "WIFI免费吗").await;
    s.chat("l", "我的手机13812345678为什么停机了").await;
    s.chat("l2", "量子纠缠的数学原理是什么").await;
    s.chat("l3", "量子纠缠的数学原理是什么").await;
    let (status, _) = s.post("/v1/feedback", &json!({"session_id": "l", "turn": 1, "helpful": false})).await;
    assert_eq!(status, 200);
    let log = s.dir.path().join("turns.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 5, "four turns and one rating: {text}");
    let rating: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        (rating["action"].as_str(), rating["turn"].as_u64(), rating["helpful"].as_bool()),
        (Some("feedback"), Some(1), Some(false))
    );
    assert!(!text.contains("13812345678"), "{text}");
    assert!(text.contains("138****5678"));
    let out = crate::common::bizbot(&["report", "--json", "--log", log.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["turns"], 4);
    assert_eq!(report["unanswered"][0][0], "量子纠缠的数学原理是什么");
    assert_eq!(report["unanswered"][0][1], 2);
    assert_eq!(report["bad_lines"], 0);
    assert_eq!(report["ratings"]["not_helpful"], 1);
    assert_eq!(report["by_channel"]["(none)"]["turns"], 4);
    assert!(report["by_day"].as_object().unwrap().len() == 1, "{report}");
}

#[tokio::test]
async fn welcome_offers_rules_then_unresolved_and_most_asked() {
    let s = TestServer::start("").await;
    // The demo knowledge offers the recharge entry to customers tagged 欠费.
    let (status, r) = s
        .post("/v1/welcome", &json!({"session_id": "w1", "user": {"tags": ["欠费"], "profile": {"name": "王阿姨"}}}))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["suggestions"][0]["id"], "bill-recharge", "{r}");
    assert_eq!(r["suggestions"][0]["reason"], "rule");
    assert!(r["text"].as_str().unwrap().contains("王阿姨"), "{r}");
    // A profile field rule.
    let (_, r) =
        s.post("/v1/welcome", &json!({"session_id": "w2", "user": {"profile": {"order_status": "已发货"}}})).await;
    assert_eq!(r["suggestions"][0]["id"], "order-track", "{r}");
    // Most asked: answered entries come up for everyone.
    for i in 0..2 {
        s.chat(&format!("p{i}"), "WIFI免费吗").await;
    }
    let (_, r) = s.post("/v1/welcome", &json!({"session_id": "w3"})).await;
    assert_eq!(r["suggestions"][0]["id"], "wlan-free", "{r}");
    assert_eq!(r["suggestions"][0]["reason"], "popular");
    // A customer whose problem was left unresolved gets it first next time.
    let body = json!({"session_id": "u1", "text": "宽带还是不行", "user": verified("c-42")});
    let (_, turn) = s.post("/v1/chat", &body).await;
    // Somebody claiming to be c-42 without c-42's token learns nothing of it.
    let (_, r) = s.post("/v1/welcome", &json!({"session_id": "u3", "user": {"id": "c-42"}})).await;
    assert_ne!(r["suggestions"][0]["reason"], "unresolved", "{r}");
    let (_, r) = s.post("/v1/welcome", &json!({"session_id": "u2", "user": verified("c-42")})).await;
    assert_eq!(turn["action"], "clarify", "{turn}");
    assert_eq!(r["suggestions"][0]["reason"], "unresolved", "{turn} {r}");
    assert_eq!(r["suggestions"][0]["id"], turn["candidates"][0]["id"], "{turn} {r}");
    let (status, _) = s.post("/v1/welcome", &json!({"session_id": "", "user": {}})).await;
    assert_eq!(status, 422);
    let (status, _) = s.post("/v1/welcome", &json!({"session_id": "x", "channel": "c".repeat(100)})).await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn ratings_are_validated_logged_counted_and_reported() {
    let s = TestServer::start("").await;
    s.chat("r", "你们的服务太差了，我要投诉").await;
    let rate = |body: Value| {
        let s = &s;
        async move { s.post("/v1/rating", &body).await.0 }
    };
    assert_eq!(rate(json!({"session_id": "r", "score": 2, "comment": "等太久了，回电13812345678"})).await, 200);
    assert_eq!(rate(json!({"session_id": "r", "score": 0})).await, 422);
    assert_eq!(rate(json!({"session_id": "r", "score": 6})).await, 422);
    assert_eq!(rate(json!({"session_id": "r", "score": 5, "comment": "长".repeat(501)})).await, 422);
    assert_eq!(rate(json!({"session_id": "nobody", "score": 5})).await, 404);
    assert_eq!(rate(json!({"session_id": "r", "score": "5"})).await, 400);
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_ratings_total{score=\"2\"} 1"), "{metrics}");
    let log = s.dir.path().join("turns.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("13812345678") && text.contains("\"score_given\":2"), "{text}");
    let out = crate::common::bizbot(&["report", "--json", "--log", log.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["turns"], 1);
    assert_eq!(report["csat"]["overall"]["ratings"], 1);
    assert_eq!(report["csat"]["by_handoff_reason"]["complaint"]["mean"], 2.0);
}

#[tokio::test]
async fn assist_suggests_answers_and_scenarios_to_the_agent() {
    let s = TestServer::start("").await;
    let (status, r) = s.post("/v1/assist", &json!({"text": "客户说家里宽带断网了"})).await;
    assert_eq!((status, r["code"].as_str()), (401, Some("agent_unauthorized")), "agents only: {r}");
    let (status, r) = s.post_as("/v1/assist", &json!({"text": "客户说家里宽带断网了"}), AGENT_TOKEN).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["suggested_answers"][0]["id"], "broadband-repair", "{r}");
    assert!(!r["suggested_answers"][0]["answer"].as_str().unwrap().is_empty());
    let (_, r) = s.post_as("/v1/assist", &json!({"text": "帮我查下这个订单到哪了"}), AGENT_TOKEN).await;
    assert_eq!(r["scenarios"][0]["id"], "order-status", "{r}");
    // The problem the bot was working on in the session comes first.
    let turn = s.chat("as", "宽带").await;
    assert_eq!(turn["action"], "clarify", "{turn}");
    let (_, r) = s.post_as("/v1/assist", &json!({"session_id": "as", "text": "WIFI免费吗"}), TOKEN).await;
    assert_eq!(r["suggested_answers"][0]["id"], turn["candidates"][0]["id"], "{r}");
    assert_eq!(r["suggested_answers"][1]["id"], "wlan-free", "{r}");
    assert_eq!(s.post_as("/v1/assist", &json!({"text": " "}), AGENT_TOKEN).await.0, 422);
}
