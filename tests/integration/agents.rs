//! Live agents in the customer's window, over HTTP against the real server: a
//! hand-off waits in the queue, an agent claims it (one of two at once wins),
//! writes, the customer's event stream shows it and resumes after a dropped
//! connection without loss, the bot stays silent while the agent holds the
//! conversation, the agent closes it and the bot answers again; a long wait goes
//! back to the bot with a callback offer; bad requests get clear 4xx.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::server::{AGENT_TOKEN, TestServer, verified};

const LIVE: &str = "[desk]\nlive_agents = true\n";

/// A Server-Sent Events stream read as the widget reads it.
pub(crate) struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// `GET path` with `headers`; the status, and the stream when it is 200.
    pub(crate) async fn open(s: &TestServer, path: &str, headers: &[(&str, &str)]) -> (u16, Option<Self>) {
        let mut request = s.client.get(format!("{}{path}", s.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 200 {
            return (status, None);
        }
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        (status, Some(Self { response, buffer: String::new() }))
    }

    /// The next event's data, with its SSE `event:` as `"_event"` and `id:` as
    /// `"_id"`; panics after 10 s without one.
    pub(crate) async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                while let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().to_owned();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    if data.is_empty() {
                        continue; // a keep-alive comment
                    }
                    let mut value: Value = serde_json::from_str(&data).unwrap();
                    assert_eq!(value["id"], id.as_str(), "the SSE id is the event's id");
                    value["_event"] = event.into();
                    value["_id"] = id.into();
                    return value;
                }
                let chunk = self.response.chunk().await.unwrap().expect("the stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 10 s")
    }
}

async fn get_as(s: &TestServer, path: &str, bearer: &str) -> (u16, Value) {
    let r = s.client.get(format!("{}{path}", s.base)).bearer_auth(bearer).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn agent(s: &TestServer, path: &str, body: Value) -> (u16, Value) {
    s.post_as(path, &body, AGENT_TOKEN).await
}

fn turn_log(s: &TestServer) -> Vec<Value> {
    let text = std::fs::read_to_string(s.dir.path().join("turns.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn a_person_answers_in_the_same_window_and_gives_the_conversation_back() {
    let s = TestServer::start(LIVE).await;
    let (status, _) = s.post("/v1/welcome", &json!({"session_id": "c1"})).await;
    assert_eq!(status, 200);
    let (_, customer) = EventStream::open(&s, "/v1/sessions/c1/events", &[]).await;
    let mut customer = customer.unwrap();
    let (_, agents) = EventStream::open(&s, "/v1/agent/events", &[("authorization", "Bearer test-agent-token")]).await;
    let mut agents = agents.unwrap();
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    for kind in ["customer", "agent"] {
        assert!(metrics.contains(&format!("bizbot_event_streams{{kind=\"{kind}\"}} 1")), "{metrics}");
    }

    // A complaint is handed off and waits for a person.
    let r = s.chat("c1", "你们的服务太差了，我要投诉").await;
    assert_eq!((r["action"].as_str(), r["owner"].as_str()), (Some("handoff"), Some("queued")), "{r}");
    let queued = customer.next().await;
    assert_eq!((queued["_event"].as_str(), queued["owner"].as_str()), (Some("state"), Some("queued")), "{queued}");
    assert_eq!(queued["reason"], "complaint");
    let heard = agents.next().await;
    assert_eq!((heard["session_id"].as_str(), heard["owner"].as_str()), (Some("c1"), Some("queued")), "{heard}");
    let (status, q) = get_as(&s, "/v1/agent/queue", AGENT_TOKEN).await;
    assert_eq!(status, 200, "{q}");
    let item = &q["conversations"][0];
    assert_eq!((item["session_id"].as_str(), item["position"].as_u64()), (Some("c1"), Some(1)), "{q}");
    assert_eq!((item["seat"]["reason"].as_str(), item["owner"].as_str()), (Some("complaint"), Some("queued")), "{q}");

    // While it waits the bot does not answer: the message goes to the agents.
    let r = s.chat("c1", "WIFI免费吗").await;
    assert_eq!((r["action"].as_str(), r["owner"].as_str()), (Some("with_agent"), Some("queued")), "{r}");
    assert!(r.get("match").is_none(), "{r}");
    let heard = agents.next().await;
    assert_eq!((heard["from"].as_str(), heard["text"].as_str()), (Some("customer"), Some("WIFI免费吗")), "{heard}");
    let (status, e) = agent(&s, "/v1/agent/sessions/c1/messages", json!({"text": "您好"})).await;
    assert_eq!((status, e["code"].as_str()), (409, Some("not_claimed")), "{e}");

    // Two agents claim at once: one wins, the other is told who holds it.
    let (a, b) = tokio::join!(
        agent(&s, "/v1/agent/sessions/c1/claim", json!({"agent": "王芳"})),
        agent(&s, "/v1/agent/sessions/c1/claim", json!({"agent": "李雷"})),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let (winner, loser) = if a.0 == 200 { ("王芳", "李雷") } else { ("李雷", "王芳") };
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(refused["code"], "held_by_another_agent", "{refused}");
    let claimed = customer.next().await;
    assert_eq!((claimed["owner"].as_str(), claimed["agent"].as_str()), (Some("agent"), Some(winner)), "{claimed}");
    let (status, _) = agent(&s, "/v1/agent/sessions/c1/messages", json!({"text": "我来", "agent": loser})).await;
    assert_eq!(status, 409);

    // The agent writes; the customer's stream shows it with the agent's name.
    let (status, _) = agent(&s, "/v1/agent/sessions/c1/typing", json!({"agent": winner})).await;
    assert_eq!(status, 200);
    let typing = customer.next().await;
    assert_eq!((typing["_event"].as_str(), typing["agent"].as_str()), (Some("typing"), Some(winner)), "{typing}");
    let (status, _) =
        agent(&s, "/v1/agent/sessions/c1/messages", json!({"text": "您好，很抱歉给您添麻烦了，请问是什么问题？"}))
            .await;
    assert_eq!(status, 200);
    let said = customer.next().await;
    assert_eq!((said["from"].as_str(), said["agent"].as_str()), (Some("agent"), Some(winner)), "{said}");
    assert_eq!(said["text"], "您好，很抱歉给您添麻烦了，请问是什么问题？");

    // The customer answers: the bot says nothing, the agent hears it.
    let r = s.chat("c1", "宽带老是断线，修了三次都没好").await;
    assert_eq!(
        (r["action"].as_str(), r["text"].as_str(), r["owner"].as_str()),
        (Some("with_agent"), Some(""), Some("agent"))
    );

    // The agent's view: transcript with every speaker, and suggested answers.
    let (status, c) = get_as(&s, "/v1/agent/sessions/c1", AGENT_TOKEN).await;
    assert_eq!(status, 200, "{c}");
    let speakers: Vec<&str> =
        c["transcript"].as_array().unwrap().iter().map(|l| l["speaker"].as_str().unwrap()).collect();
    assert!(speakers.contains(&"agent") && speakers.contains(&"customer") && speakers.contains(&"bot"), "{speakers:?}");
    assert_eq!((c["owner"].as_str(), c["seat"]["agent"].as_str()), (Some("agent"), Some(winner)), "{c}");
    assert!(!c["suggestions"]["suggested_answers"].as_array().unwrap().is_empty(), "{c}");

    // A dropped connection resumes after the last event it saw, missing nothing.
    drop(customer);
    let (status, resumed) =
        EventStream::open(&s, "/v1/sessions/c1/events", &[("last-event-id", queued["_id"].as_str().unwrap())]).await;
    assert_eq!(status, 200);
    let mut resumed = resumed.unwrap();
    for id in [&claimed["_id"], &typing["_id"], &said["_id"]] {
        assert_eq!(&resumed.next().await["_id"], id);
    }

    // Closed: back with the bot, which answers again; the customer rates.
    let (status, _) = agent(&s, "/v1/agent/sessions/c1/close", json!({"resolved": true})).await;
    assert_eq!(status, 200);
    let closed = resumed.next().await;
    assert_eq!((closed["owner"].as_str(), closed["closed"].as_bool()), (Some("bot"), Some(true)), "{closed}");
    assert_eq!(closed["resolved"], true);
    assert_eq!(resumed.next().await["from"], "system");
    // The customer's own messages are not in their stream (whoever follows a
    // session id does not get them replayed); the agents got them.
    let r = s.chat("c1", "WIFI免费吗").await;
    assert_eq!(
        (r["action"].as_str(), r["match"]["id"].as_str(), r["owner"].as_str()),
        (Some("answer"), Some("wlan-free"), Some("bot"))
    );
    let (status, _) = s.post("/v1/rating", &json!({"session_id": "c1", "score": 5})).await;
    assert_eq!(status, 200);
    let (_, q) = get_as(&s, "/v1/agent/queue", AGENT_TOKEN).await;
    assert_eq!(q["conversations"], json!([]), "{q}");

    // The turn log has how long it waited, how long the agent took, who solved it.
    let log = turn_log(&s);
    let claim = log.iter().find(|l| l["action"] == "agent_claim").expect("a claim line");
    assert_eq!(claim["agent"], winner);
    assert!(claim["waited_ms"].as_u64().is_some(), "{claim}");
    let close = log.iter().find(|l| l["action"] == "agent_close").expect("a close line");
    assert_eq!((close["resolved"].as_bool(), close["agent"].as_str()), (Some(true), Some(winner)), "{close}");
    assert!(close["handled_ms"].as_u64().is_some(), "{close}");
}

#[tokio::test]
async fn bad_agent_and_event_requests_get_clear_errors_and_change_nothing() {
    let s = TestServer::start(LIVE).await;
    s.chat("bot-only", "WIFI免费吗").await;
    let long = "长".repeat(1000);
    let cases: Vec<(&str, Value, &str, u16, &str)> = vec![
        ("/v1/agent/sessions/nobody/claim", json!({"agent": "王芳"}), AGENT_TOKEN, 404, "unknown_session"),
        ("/v1/agent/sessions/bot-only/claim", json!({"agent": "王芳"}), AGENT_TOKEN, 409, "not_handed_off"),
        ("/v1/agent/sessions/bot-only/claim", json!({"agent": "王芳"}), "wrong", 401, "agent_unauthorized"),
        ("/v1/agent/sessions/bot-only/claim", json!({"agent": ""}), AGENT_TOKEN, 422, "invalid_field"),
        ("/v1/agent/sessions/bot-only/claim", json!({"agent": "x".repeat(40)}), AGENT_TOKEN, 422, "invalid_field"),
        ("/v1/agent/sessions/bot-only/claim", json!({"name": "王芳"}), AGENT_TOKEN, 400, "invalid_json"),
        ("/v1/agent/sessions/bot-only/messages", json!({"text": long}), AGENT_TOKEN, 422, "invalid_field"),
        ("/v1/agent/sessions/bot-only/messages", json!({"text": "  "}), AGENT_TOKEN, 422, "invalid_field"),
        ("/v1/agent/sessions/bot-only/messages", json!({"text": "您好"}), AGENT_TOKEN, 409, "not_handed_off"),
        ("/v1/agent/sessions/bot-only/close", json!({}), AGENT_TOKEN, 409, "not_handed_off"),
        ("/v1/agent/sessions/bot-only/transfer", json!({"queue": ""}), AGENT_TOKEN, 422, "invalid_field"),
        ("/v1/agent/sessions/bot-only/transfer", json!({"queue": "账单"}), AGENT_TOKEN, 409, "not_handed_off"),
    ];
    for (path, body, token, status, code) in cases {
        let (got, e) = s.post_as(path, &body, token).await;
        assert_eq!((got, e["code"].as_str()), (status, Some(code)), "{path} {body}: {e}");
    }
    // Event streams: unknown session, bad resume id, wrong token.
    assert_eq!(EventStream::open(&s, "/v1/sessions/nobody/events", &[]).await.0, 404);
    assert_eq!(EventStream::open(&s, "/v1/sessions/bot-only/events", &[("last-event-id", "yesterday")]).await.0, 422);
    assert_eq!(EventStream::open(&s, "/v1/agent/events", &[("authorization", "Bearer wrong")]).await.0, 401);
    assert_eq!(get_as(&s, "/v1/agent/queue", "wrong").await.0, 401);
    // A logged-in customer's conversation streams to that customer only.
    s.chat_as("mine", "WIFI免费吗", "u1001").await;
    assert_eq!(EventStream::open(&s, "/v1/sessions/mine/events", &[]).await.0, 403);
    let token = verified("u1001")["token"].as_str().unwrap().to_owned();
    let headers = [("x-bizbot-user-id", "u1001"), ("x-bizbot-user-token", token.as_str())];
    assert_eq!(EventStream::open(&s, "/v1/sessions/mine/events", &headers).await.0, 200);
    // Nothing changed: the bot still answers the session nobody handed off.
    let r = s.chat("bot-only", "WIFI免费吗").await;
    assert_eq!((r["action"].as_str(), r["owner"].as_str()), (Some("answer"), Some("bot")), "{r}");
    let page = s.client.get(format!("{}/agent", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/v1/agent/queue"));
}

#[tokio::test]
async fn a_long_wait_goes_back_to_the_bot_which_offers_a_callback() {
    let s = TestServer::start(&format!("{LIVE}max_wait_secs = 1\n")).await;
    let (_, stream) = {
        s.chat("w", "转人工").await;
        EventStream::open(&s, "/v1/sessions/w/events", &[]).await
    };
    let mut stream = stream.unwrap();
    assert_eq!(stream.next().await["owner"], "queued");
    let back = stream.next().await;
    assert_eq!((back["owner"].as_str(), back["closed"].as_bool()), (Some("bot"), None), "{back}");
    let offer = stream.next().await;
    assert_eq!(offer["from"], "system");
    assert!(offer["text"].as_str().unwrap().contains("手机号"), "{offer}");
    let r = s.chat("w", "13812345678").await;
    assert_eq!(r["action"], "callback", "{r}");
    assert!(turn_log(&s).iter().any(|l| l["action"] == "agent_timeout"));
}

#[tokio::test]
async fn transfer_puts_the_conversation_back_in_another_queue() {
    let s = TestServer::start(LIVE).await;
    let (_, r) =
        s.post("/v1/chat", &json!({"session_id": "t", "text": "转人工", "user": {"profile": {"name": "张三"}}})).await;
    assert_eq!(r["owner"], "queued", "{r}");
    let (status, _) = agent(&s, "/v1/agent/sessions/t/claim", json!({"agent": "王芳"})).await;
    assert_eq!(status, 200);
    let (status, r) = agent(&s, "/v1/agent/sessions/t/transfer", json!({"queue": "宽带专席"})).await;
    assert_eq!((status, r["seat"]["queue"].as_str()), (200, Some("宽带专席")), "{r}");
    assert!(r["seat"]["agent"].is_null(), "{r}");
    let (_, q) = get_as(&s, "/v1/agent/queue", AGENT_TOKEN).await;
    let item = &q["conversations"][0];
    assert_eq!((item["seat"]["queue"].as_str(), item["owner"].as_str()), (Some("宽带专席"), Some("queued")), "{q}");
    assert_eq!(item["seat"]["profile"]["name"], "张三", "the agent sees the profile the site sent: {q}");
    let (status, _) = agent(&s, "/v1/agent/sessions/t/claim", json!({"agent": "李雷"})).await;
    assert_eq!(status, 200, "another agent takes it from the new queue");
}
