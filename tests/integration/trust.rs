//! Trust no client: a claimed customer id without the site's token gets no
//! customer data, a verified customer's conversation is theirs alone, a slow body
//! is cut at its deadline, one address cannot hold every connection, and a slow
//! back-end holds no more turns than its bulkhead.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::server::{SLOW_ORDER, TestServer, user_token, verified};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_claimed_customer_id_without_the_sites_token_gets_no_customer_data() {
    let s = TestServer::start("").await;
    let ask = |session: &'static str, user: Value| {
        let s = &s;
        async move {
            s.post("/v1/chat", &json!({"session_id": session, "text": "我开通了什么业务", "user": user})).await
        }
    };
    let forged = bizbot::identity::sign_hs256("another-secret-another-secret-xxx", "u1001", now() + 600);
    let expired = bizbot::identity::sign_hs256(crate::common::server::IDENTITY_SECRET, "u1001", now() - 600);
    for (session, user) in [
        ("claim", json!({"id": "u1001"})),
        ("forged", json!({"id": "u1001", "token": forged})),
        ("expired", json!({"id": "u1001", "token": expired})),
        ("theirs", json!({"id": "u1001", "token": user_token("u2002")})),
        ("junk", json!({"id": "u1001", "token": "not.a.jwt"})),
    ] {
        let (status, r) = ask(session, user).await;
        assert_eq!(status, 200, "{session}: {r}");
        assert_eq!(r["action"], "fallback", "{session}: {r}");
        assert!(r["text"].as_str().unwrap().contains("登录"), "{session}: asked to log in: {r}");
        assert!(!r.to_string().contains("测试套餐"), "{session}: no customer data: {r}");
    }
    let (_, r) = ask("verified", verified("u1001")).await;
    assert_eq!(r["action"], "answer", "{r}");
    assert!(r["text"].as_str().unwrap().contains("测试套餐"), "{r}");
    // The token alone names the customer.
    let (_, r) = ask("token-only", json!({"token": user_token("u1001")})).await;
    assert_eq!(r["action"], "answer", "{r}");
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_identity_total{kind=\"verified\"} 2"), "{metrics}");
    assert!(metrics.contains("bizbot_identity_total{kind=\"invalid_token\"} 3"), "{metrics}");
}

#[tokio::test]
async fn a_verified_customers_conversation_is_theirs_alone() {
    let s = TestServer::start("").await;
    let mine = verified("u1001");
    let (status, r) = s.post("/v1/chat", &json!({"session_id": "own", "text": "宽带怎么办理", "user": mine})).await;
    assert_eq!(status, 200, "{r}");
    let turn = r["turn"].as_u64().unwrap();
    // Whoever learns the session id cannot ask for a person to get the transcript,
    // give feedback or rate it.
    for user in [Value::Null, json!({"id": "u1001"}), verified("u2002")] {
        let (status, r) = s.post("/v1/chat", &json!({"session_id": "own", "text": "转人工", "user": user})).await;
        assert_eq!((status, r["code"].as_str()), (403, Some("session_of_another_customer")), "{user}: {r}");
        let body = json!({"session_id": "own", "turn": turn, "helpful": false, "user": user});
        assert_eq!(s.post("/v1/feedback", &body).await.0, 403, "{user}");
        let body = json!({"session_id": "own", "score": 1, "user": user});
        assert_eq!(s.post("/v1/rating", &body).await.0, 403, "{user}");
    }
    // The customer carries on, and gets their transcript on a hand-off.
    let (status, r) = s.post("/v1/chat", &json!({"session_id": "own", "text": "转人工", "user": mine})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["handoff"]["transcript"][0]["text"], "宽带怎么办理", "{r}");
    let body = json!({"session_id": "own", "score": 5, "user": mine});
    assert_eq!(s.post("/v1/rating", &body).await.0, 200);
}

#[tokio::test]
async fn logging_in_on_somebody_elses_anonymous_session_shows_none_of_it() {
    let s = TestServer::start("").await;
    s.chat("anon", "宽带坏了 我家在幸福小区").await;
    // Somebody with an account who learned the session id asks for a person on it.
    let (status, r) =
        s.post("/v1/chat", &json!({"session_id": "anon", "text": "转人工", "user": verified("u2002")})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["handoff"]["reason"], "human_requested", "{r}");
    let transcript = r["handoff"]["transcript"].to_string();
    assert!(!transcript.contains("幸福小区"), "the anonymous customer's words: {r}");
    assert!(transcript.contains("转人工"), "their own turn: {r}");
    // Feedback and ratings never bind a session: an anonymous session stays open
    // to its anonymous customer after a rating with a token.
    s.chat("anon2", "宽带怎么办理").await;
    let body = json!({"session_id": "anon2", "score": 4, "user": verified("u2002")});
    assert_eq!(s.post("/v1/rating", &body).await.0, 200);
    assert_eq!(s.post("/v1/chat", &json!({"session_id": "anon2", "text": "多少钱"})).await.0, 200);
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_at_the_deadline() {
    let s = TestServer::start("[server]\nbody_timeout_secs = 1\n").await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n",
    )
    .await
    .unwrap();
    // A byte every 300 ms: each gap is short, the whole body is not. Bounded: 40
    // bytes (12 s) at most, then the test fails on the missing response.
    let mut response = Vec::new();
    for _ in 0..40 {
        if slow.write_all(b" ").await.is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                response.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"body_timeout\""), "{text}");
    // Everyone else is served.
    assert_eq!(s.chat("other", "WIFI免费吗").await["match"]["id"], "wlan-free");
}

/// A raw `GET /healthz` from source address `from`; the status, or `None` when the
/// server closed the connection without an answer.
async fn health_from(from: &str, to: &str) -> Option<u16> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(to.parse().unwrap()).await.ok()?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).and_then(|s| s.parse().ok())
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let s = TestServer::start("[server]\nmax_connections_per_address = 4\n").await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..4 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        held.push(socket.connect(addr.parse().unwrap()).await.unwrap());
    }
    // Let the server accept them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health_from("127.0.0.2", &addr).await, None, "a fifth connection from the same address");
    assert_eq!(health_from("127.0.0.3", &addr).await, Some(200), "another address is served");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health_from("127.0.0.2", &addr).await, Some(200), "closed connections free their slots");
}

#[tokio::test]
async fn a_slow_back_end_holds_no_more_turns_than_its_bulkhead() {
    let s = TestServer::start("[backends.shop]\ntimeout_ms = 4000\nmax_concurrent = 1\n").await;
    let user = verified("u1001");
    let order = |session: &'static str| {
        let (client, url, user) = (s.client.clone(), format!("{}/v1/chat", s.base), user.clone());
        async move {
            let body = json!({"session_id": session, "text": format!("订单{SLOW_ORDER}到哪了"), "user": user});
            let r = client.post(url).json(&body).send().await.unwrap();
            (session, r.json::<Value>().await.unwrap())
        }
    };
    let first = tokio::spawn(order("first"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = tokio::spawn(order("second"));
    // The second look-up finds the back-end's one slot taken and fails at once,
    // while the first still waits on the back-end.
    let (session, r) = tokio::select! {
        done = first => done.unwrap(),
        done = second => done.unwrap(),
    };
    assert_eq!(session, "second", "{r}");
    assert!(r["text"].as_str().unwrap().contains("没有查到"), "the scenario's on_failure: {r}");
}

#[tokio::test]
async fn metrics_can_live_on_an_address_customers_do_not_reach() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = TestServer::start(&format!("[server]\nmetrics_bind = \"127.0.0.1:{port}\"\n")).await;
    let on_main = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert_eq!(on_main.status(), 404, "not on the customers' address");
    let mut scraped = None;
    for _ in 0..50 {
        if let Ok(r) = s.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await {
            scraped = Some(r.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scraped = scraped.expect("the metrics address answers");
    assert!(scraped.contains("bizbot_turns_total"), "{scraped}");
}
