//! The agent desk: hand-offs reach a webhook with a valid signature, the bot stays
//! quiet while an agent holds the conversation, the desk releases it, and a
//! failing desk is counted and leaves dead letters.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::common::server::{TOKEN, TestServer, user_token};

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A desk answering `status` to every POST /hook, recording what it got.
async fn start_desk(status: StatusCode) -> (String, Received) {
    let received: Received = Arc::default();
    let store = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = Arc::clone(&store);
            async move {
                store.lock().unwrap().push((headers, body));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn events(received: &Received, n: usize) -> Vec<(HeaderMap, Value)> {
    for _ in 0..200 {
        if received.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    received.lock().unwrap().iter().map(|(h, b)| (h.clone(), serde_json::from_slice(b).unwrap())).collect()
}

#[tokio::test]
async fn hand_offs_reach_the_desk_signed_and_the_bot_stays_quiet_until_released() {
    let (url, received) = start_desk(StatusCode::OK).await;
    let s = TestServer::start(&format!("[desk]\nwebhook_url = \"{url}\"\nsecret = \"desk-secret\"\n")).await;
    let body = json!({"session_id": "d", "text": "你们的服务太差了，我要投诉", "user": {"id": "c-7", "token": user_token("c-7"), "tags": ["VIP"]}});
    let (_, r) = s.post("/v1/chat", &body).await;
    assert_eq!(r["action"], "handoff", "{r}");
    let got = events(&received, 1).await;
    let (headers, event) = &got[0];
    assert_eq!(event["event"], "handoff");
    assert_eq!(event["reason"], "complaint");
    assert_eq!(event["customer"]["id"], "c-7");
    assert_eq!(event["transcript"][0]["text"], "你们的服务太差了，我要投诉");
    let ts: u64 = headers["x-bizbot-timestamp"].to_str().unwrap().parse().unwrap();
    let raw = received.lock().unwrap()[0].1.clone();
    assert_eq!(headers["x-bizbot-signature"].to_str().unwrap(), bizbot::desk::signature("desk-secret", ts, &raw));

    // While the agent holds the conversation the bot forwards, it does not answer.
    let r = s.chat_as("d", "WIFI免费吗", "c-7").await;
    assert_eq!(r["action"], "with_agent", "{r}");
    let got = events(&received, 2).await;
    assert_eq!((got[1].1["event"].as_str(), got[1].1["text"].as_str()), (Some("message"), Some("WIFI免费吗")));

    // The desk gives the conversation back.
    let release = |token: &'static str| {
        let s = &s;
        async move {
            let url = format!("{}/v1/sessions/d/release", s.base);
            let r = s.client.post(url).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(release("wrong").await.0, 401);
    let (status, r) = release(TOKEN).await;
    assert_eq!((status, r["was_with_agent"].as_bool()), (200, Some(true)), "{r}");
    let r = s.chat_as("d", "WIFI免费吗", "c-7").await;
    assert_eq!((r["action"].as_str(), r["match"]["id"].as_str()), (Some("answer"), Some("wlan-free")), "{r}");
    let url = format!("{}/v1/sessions/nobody/release", s.base);
    assert_eq!(s.client.post(url).bearer_auth(TOKEN).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_failing_desk_is_counted_and_leaves_a_dead_letter() {
    let (url, received) = start_desk(StatusCode::INTERNAL_SERVER_ERROR).await;
    let spare = tempfile::tempdir().unwrap();
    let dead = spare.path().join("desk-failed.jsonl");
    let config = format!("[desk]\nwebhook_url = \"{url}\"\nretries = 1\ntimeout_ms = 500\ndead_letter = {dead:?}\n");
    let s = TestServer::start(&config).await;
    let r = s.chat("f", "转人工，我的手机13812345678").await;
    assert_eq!(r["action"], "handoff", "{r}");
    // Two attempts (one retry), then a dead letter with the text masked; the
    // letter is written before the failure is counted.
    let mut metrics = String::new();
    for _ in 0..200 {
        metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
        if metrics.contains("bizbot_desk_events_total{outcome=\"failed\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(metrics.contains("bizbot_desk_events_total{outcome=\"failed\"} 1"), "{metrics}");
    assert_eq!(received.lock().unwrap().len(), 2);
    let text = std::fs::read_to_string(&dead).unwrap();
    assert!(text.contains("HTTP 500") && text.contains("138****5678") && !text.contains("13812345678"), "{text}");
}

#[tokio::test]
async fn outside_agent_hours_a_hand_off_takes_a_callback_number() {
    let (url, received) = start_desk(StatusCode::OK).await;
    // Agent hours that exclude now: the two hours starting three hours from now (UTC).
    let now_h = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 % 24;
    let hours = format!("{:02}:00-{:02}:00", (now_h + 3) % 24, (now_h + 5) % 24);
    let s = TestServer::start(&format!("[desk]\nwebhook_url = \"{url}\"\nhours = \"{hours}\"\nutc_offset_hours = 0\n"))
        .await;
    let r = s.chat("cb", "转人工").await;
    assert_eq!(r["action"], "handoff", "{r}");
    assert!(r["text"].as_str().unwrap().contains("非人工服务时间"), "{r}");
    let r = s.chat("cb", "我的电话 138 1234 5678，下午都在").await;
    assert_eq!(r["action"], "callback", "{r}");
    assert!(r["text"].as_str().unwrap().contains("138****5678"), "{r}");
    let got = events(&received, 2).await;
    assert_eq!(got[0].1["event"], "handoff");
    assert_eq!((got[1].1["event"].as_str(), got[1].1["phone"].as_str()), (Some("callback"), Some("13812345678")));
    // The bot is not silenced: no agent holds the conversation.
    let r = s.chat("cb", "WIFI免费吗").await;
    assert_eq!(r["action"], "answer", "{r}");
    let log = std::fs::read_to_string(s.dir.path().join("turns.jsonl")).unwrap();
    assert!(!log.contains("1234 5678") && log.contains("\"action\":\"callback\""), "{log}");
}

#[tokio::test]
async fn with_agents_in_the_window_the_desk_hears_what_they_do() {
    let (url, received) = start_desk(StatusCode::OK).await;
    let s = TestServer::start(&format!("[desk]\nwebhook_url = \"{url}\"\nlive_agents = true\n")).await;
    assert_eq!(s.chat("both", "转人工").await["owner"], "queued");
    let agent = crate::common::server::AGENT_TOKEN;
    let (status, _) = s.post_as("/v1/agent/sessions/both/claim", &json!({"agent": "王芳"}), agent).await;
    assert_eq!(status, 200);
    let (status, _) = s.post_as("/v1/agent/sessions/both/messages", &json!({"text": "您好"}), agent).await;
    assert_eq!(status, 200);
    let (status, _) = s.post_as("/v1/agent/sessions/both/close", &json!({"resolved": true}), agent).await;
    assert_eq!(status, 200);
    let got = events(&received, 6).await;
    let kinds: Vec<String> = got
        .iter()
        .map(|(_, e)| {
            format!("{}:{}", e["event"].as_str().unwrap(), e["type"].as_str().or(e["reason"].as_str()).unwrap_or(""))
        })
        .collect();
    assert_eq!(kinds[0], "handoff:human_requested", "{kinds:?}");
    for expected in ["live:state", "live:message"] {
        assert!(kinds.iter().any(|k| k == expected), "{expected} not in {kinds:?}");
    }
    let closed = got.iter().find(|(_, e)| e["closed"] == true).expect("the close");
    assert_eq!((closed.1["resolved"].as_bool(), closed.1["session_id"].as_str()), (Some(true), Some("both")));
}
