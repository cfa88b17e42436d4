//! Two replicas (two bots, two ports) sharing sessions in a real Redis started by
//! the test: a session moves between them turn by turn as behind a load balancer,
//! turns of one session on both at once run one after the other, and Redis going
//! away gives JSON 503s until it is back.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::agents::EventStream;
use crate::common::redis::{RedisServer, redis_server};
use crate::common::server::{AGENT_TOKEN, SLOW_ORDER, TOKEN, TestServer, verified};

async fn replicas(redis: &RedisServer, extra: &str) -> (TestServer, TestServer) {
    let config =
        format!("[session]\nstore = \"redis\"\nredis_url = \"{}\"\nredis_prefix = \"test:\"\n{extra}", redis.url());
    (TestServer::start(&config).await, TestServer::start(&config).await)
}

async fn health(s: &TestServer) -> (u16, Value) {
    let r = s.client.get(format!("{}/healthz", s.base)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_session_moves_between_replicas_turn_by_turn() {
    if redis_server().is_none() {
        return;
    }
    let redis = RedisServer::start();
    let (a, b) = replicas(&redis, "[thresholds]\nanswer = 0.99\nclarify = 0.01\n").await;
    assert_eq!(health(&a).await.1["session_store"], "redis");

    // A clarification asked on A is answered by a choice sent to B.
    let r = a.chat("choice", "退货要怎么弄").await;
    assert_eq!(r["action"], "clarify", "{r}");
    let first = r["candidates"][0]["id"].as_str().unwrap().to_owned();
    let r = b.chat("choice", "1").await;
    assert_eq!((r["action"].as_str(), r["turn"].as_u64()), (Some("answer"), Some(2)), "{r}");
    assert_eq!(r["match"]["id"], first.as_str());

    // Three unresolved turns, alternating replicas, hand off on the third.
    // (With these thresholds each is a clarification the customer ignores.)
    let mut actions = Vec::new();
    for s in [&a, &b, &a] {
        actions.push(s.chat_as("lost", "量子纠缠的数学原理是什么", "u1001").await);
    }
    assert_eq!(
        actions.iter().map(|r| r["action"].as_str().unwrap()).collect::<Vec<_>>(),
        ["clarify", "clarify", "handoff"]
    );
    assert_eq!(actions[2]["handoff"]["reason"], "unresolved");
    assert_eq!(actions[2]["handoff"]["transcript"].as_array().unwrap().len(), 5, "{}", actions[2]);

    // Feedback and a rating for a session that only the other replica has served.
    let (status, _) = b.post("/v1/feedback", &json!({"session_id": "choice", "turn": 2, "helpful": true})).await;
    assert_eq!(status, 200);
    let (status, _) = a.post("/v1/rating", &json!({"session_id": "lost", "score": 2})).await;
    assert_eq!(status, 403, "the session is its verified customer's, on every replica");
    let (status, _) = a.post("/v1/rating", &json!({"session_id": "lost", "score": 2, "user": verified("u1001")})).await;
    assert_eq!(status, 200);
    // Welcome on one replica opens the session for the other.
    let (status, _) = a.post("/v1/welcome", &json!({"session_id": "greeted"})).await;
    assert_eq!(status, 200);
    let (status, _) = b.post("/v1/rating", &json!({"session_id": "greeted", "score": 5})).await;
    assert_eq!(status, 200);
    let (status, body) = b.post("/v1/rating", &json!({"session_id": "never-seen", "score": 5})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unknown_session")));
}

#[tokio::test]
async fn an_agent_on_one_replica_answers_a_customer_following_another() {
    if redis_server().is_none() {
        return;
    }
    let redis = RedisServer::start();
    let (a, b) = replicas(&redis, "[desk]\nlive_agents = true\n").await;
    assert_eq!(a.chat("live", "转人工").await["owner"], "queued");
    // The customer's widget follows on B, the agents on A.
    let (_, customer) = EventStream::open(&b, "/v1/sessions/live/events", &[]).await;
    let mut customer = customer.unwrap();
    assert_eq!(customer.next().await["owner"], "queued", "what came before the stream opened");
    let (_, agents) = EventStream::open(&a, "/v1/agent/events", &[("authorization", "Bearer test-agent-token")]).await;
    let mut agents = agents.unwrap();
    assert_eq!(agents.next().await["owner"], "queued");
    let queue = b.client.get(format!("{}/v1/agent/queue", b.base)).bearer_auth(AGENT_TOKEN).send().await.unwrap();
    let queue: Value = queue.json().await.unwrap();
    assert_eq!(queue["conversations"][0]["session_id"], "live", "{queue}");

    // Two agents on two replicas claim at once: one wins.
    let (wang, li) = (json!({"agent": "王芳"}), json!({"agent": "李雷"}));
    let (x, y) = tokio::join!(
        a.post_as("/v1/agent/sessions/live/claim", &wang, AGENT_TOKEN),
        b.post_as("/v1/agent/sessions/live/claim", &li, AGENT_TOKEN),
    );
    let mut statuses = [x.0, y.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{x:?} {y:?}");
    let winner = if x.0 == 200 { "王芳" } else { "李雷" };
    let holder = if x.0 == 200 { &a } else { &b };
    assert_eq!(customer.next().await["agent"], winner);

    // Messages cross replicas in order, both ways; the bot on either stays silent.
    for n in 0..5 {
        let text = format!("第{n}条");
        let (status, _) = holder.post_as("/v1/agent/sessions/live/messages", &json!({"text": text}), AGENT_TOKEN).await;
        assert_eq!(status, 200);
    }
    for n in 0..5 {
        assert_eq!(customer.next().await["text"], format!("第{n}条"));
    }
    let r = b.chat("live", "好的，我等你们处理").await;
    assert_eq!((r["action"].as_str(), r["text"].as_str()), (Some("with_agent"), Some("")), "{r}");
    let mut heard = agents.next().await;
    while heard["from"] != "customer" {
        heard = agents.next().await;
    }
    assert_eq!(heard["text"], "好的，我等你们处理");

    // Closed on one replica, the bot answers on the other.
    let (status, _) = a.post_as("/v1/agent/sessions/live/close", &json!({"resolved": false}), AGENT_TOKEN).await;
    assert_eq!(status, 200);
    let mut closed = customer.next().await;
    while closed["_event"] != "state" {
        closed = customer.next().await;
    }
    assert_eq!((closed["owner"].as_str(), closed["resolved"].as_bool()), (Some("bot"), Some(false)), "{closed}");
    let r = b.chat("live", "WIFI免费吗").await;
    assert_eq!((r["action"].as_str(), r["owner"].as_str()), (Some("answer"), Some("bot")), "{r}");
}

#[tokio::test]
async fn turns_of_one_session_on_two_replicas_at_once_run_one_after_the_other() {
    if redis_server().is_none() {
        return;
    }
    let redis = RedisServer::start();
    let (a, b) = replicas(&redis, "[server]\nsession_wait_ms = 8000\n[backends.shop]\ntimeout_ms = 1500\n").await;
    let r = a.chat_as("race", "我的订单到哪了", "u1001").await;
    assert_eq!(r["turn"], 1, "{r}");
    // Turn 2 on A waits 1.5 s on the slow back-end while holding the session.
    let (client, url) = (a.client.clone(), format!("{}/v1/chat", a.base));
    let slow = tokio::spawn(async move {
        let r = client
            .post(url)
            .json(&json!({"session_id": "race", "text": SLOW_ORDER, "user": verified("u1001")}))
            .send()
            .await
            .unwrap();
        (Instant::now(), r.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // B's turn of the same session waits for it, then sees its outcome.
    let r = b.chat_as("race", "怎么退货", "u1001").await;
    let b_done = Instant::now();
    let (a_done, slow) = slow.await.unwrap();
    assert_eq!(slow["turn"], 2, "{slow}");
    assert_eq!(r["turn"], 3, "B's turn must come after A's: {r}");
    assert!(a_done <= b_done);

    // With a short wait B refuses instead: 429, never an interleaved turn.
    let config = b.dir.path().join("bizbot.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("session_wait_ms = 8000", "session_wait_ms = 200");
    std::fs::write(&config, text).unwrap();
    assert_eq!(b.reload(TOKEN).await.0, 200);
    a.chat_as("race2", "我的订单到哪了", "u1001").await;
    let (client, url) = (a.client.clone(), format!("{}/v1/chat", a.base));
    let slow = tokio::spawn(async move {
        client
            .post(url)
            .json(&json!({"session_id": "race2", "text": SLOW_ORDER, "user": verified("u1001")}))
            .send()
            .await
            .unwrap()
            .status()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) =
        b.post("/v1/chat", &json!({"session_id": "race2", "text": "怎么退货", "user": verified("u1001")})).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("session_busy")), "{body}");
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(b.chat_as("race2", "怎么退货", "u1001").await["turn"], 3);
}

#[tokio::test]
async fn redis_down_gives_json_503s_and_the_bot_recovers_when_it_returns() {
    if redis_server().is_none() {
        return;
    }
    let mut redis = RedisServer::start();
    let (a, b) = replicas(&redis, "").await;
    assert_eq!(a.chat("s", "怎么退货").await["turn"], 1);

    redis.kill();
    for s in [&a, &b] {
        let r = s.client.post(format!("{}/v1/chat", s.base)).json(&json!({"session_id": "s", "text": "怎么退货"}));
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        assert!(r.headers().get("retry-after").is_some());
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "session_store_unavailable", "{body}");
        let (status, h) = health(s).await;
        assert_eq!(
            (status, h["status"].as_str(), h["session_store"].as_str()),
            (503, Some("degraded"), Some("unavailable"))
        );
    }
    // Other endpoints that need no session keep working.
    let r = a.client.get(format!("{}/v1/search?q=退货", a.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    for s in [&a, &b] {
        loop {
            let (status, body) = s.post("/v1/chat", &json!({"session_id": "after", "text": "怎么退货"})).await;
            if status == 200 {
                break;
            }
            assert_eq!(body["code"], "session_store_unavailable", "{body}");
            assert!(Instant::now() < deadline, "the bot did not recover after Redis came back");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(health(s).await.0, 200);
    }
    // A fresh Redis (no persistence) knows the session from both replicas now.
    assert_eq!(b.chat("after", "怎么退货").await["turn"], 3);
}
