//! The server under abuse: a flood on one session, idle and half-sent
//! connections, saturation, shutdown with requests open.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::server::{SLOW_ORDER, TestServer, verified};

/// Waits for the server to close `stream`; `true` when it did within `limit`.
async fn closed_by_server(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read).await.is_ok()
}

/// Starts a turn in `session` that waits on the slow back-end order, and
/// returns once the server holds it.
async fn start_slow_turn(s: &TestServer, session: &str) -> tokio::task::JoinHandle<(u16, Value)> {
    let user = verified("u1001");
    s.post("/v1/chat", &json!({"session_id": session, "text": "我的订单到哪了", "user": user})).await;
    let (client, url) = (s.client.clone(), format!("{}/v1/chat", s.base));
    let body = json!({"session_id": session, "text": SLOW_ORDER, "user": user});
    let slow = tokio::spawn(async move {
        let r = client.post(url).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    });
    // Give the request time to reach the back-end.
    tokio::time::sleep(Duration::from_millis(300)).await;
    slow
}

#[tokio::test]
async fn a_flood_on_one_session_is_refused_and_stalls_no_one_else() {
    let s =
        TestServer::start("[server]\nsession_wait_ms = 200\nsession_queue = 2\n[backends.shop]\ntimeout_ms = 4000\n")
            .await;
    let slow = start_slow_turn(&s, "flood").await;
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let (client, url) = (s.client.clone(), format!("{}/v1/chat", s.base));
            tokio::spawn(async move {
                let body = json!({"session_id": "flood", "text": format!("第{i}条：我的订单呢")});
                let r = client.post(url).json(&body).send().await.unwrap();
                let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                (r.status().as_u16(), retry, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    // Another customer is served while the flooded session's turn still waits.
    let other = s.chat("someone-else", "WIFI免费吗").await;
    assert_eq!(other["match"]["id"], "wlan-free");
    assert!(!slow.is_finished(), "the slow turn should still be waiting on the back-end");
    for f in flood {
        let (status, retry, body) = f.await.unwrap();
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["code"], "session_busy");
        assert_eq!(body["retry_after"], 1);
        assert_eq!(retry.as_deref(), Some("1"));
    }
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    // The session is usable again (by its customer), and the refusals were counted.
    let again = json!({"session_id": "flood", "text": "WIFI免费吗", "user": verified("u1001")});
    assert_eq!(s.post("/v1/chat", &again).await.1["match"]["id"], "wlan-free");
    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_session_busy_total 40"), "{metrics}");
}

#[tokio::test]
async fn a_saturated_server_sheds_customer_traffic_with_503() {
    let s = TestServer::start("[server]\nmax_in_flight = 1\n[backends.shop]\ntimeout_ms = 4000\n").await;
    let slow = start_slow_turn(&s, "slow").await;
    let (status, body) = s.post("/v1/chat", &json!({"session_id": "b", "text": "WIFI免费吗"})).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "overloaded");
    assert_eq!(body["retry_after"], 1);
    // Health and metrics stay reachable.
    let health = s.client.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(slow.await.unwrap().0, 200);
    assert_eq!(s.chat("b", "WIFI免费吗").await["match"]["id"], "wlan-free");
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed() {
    let s = TestServer::start("[server]\nheader_timeout_secs = 1\n").await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
    let mut kept = tokio::net::TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    for (name, stream) in [("idle", &mut idle), ("half-sent", &mut half), ("kept-alive", &mut kept)] {
        assert!(closed_by_server(stream, Duration::from_secs(20)).await, "{name} connection left open");
    }
    // The server still serves.
    assert_eq!(s.chat("x", "WIFI免费吗").await["match"]["id"], "wlan-free");
}

#[tokio::test]
async fn shutdown_finishes_open_turns_and_does_not_wait_for_half_sent_requests() {
    let mut s = TestServer::start(
        "[server]\nshutdown_grace_secs = 10\nheader_timeout_secs = 60\n[backends.shop]\ntimeout_ms = 2000\n",
    )
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut half = tokio::net::TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /v1/chat HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let slow = start_slow_turn(&s, "slow").await;
    let stopped = tokio::time::timeout(Duration::from_secs(30), s.shutdown()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "{stopped:?}");
    // The turn in flight was answered.
    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    // New connections are refused.
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
    let log = std::fs::read_to_string(s.dir.path().join("turns.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}
