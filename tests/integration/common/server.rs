//! A real bizbot server on 127.0.0.1 over a copy of the demo knowledge, with a real
//! back-end HTTP server started by the test.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::Path as UrlPath;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use bizbot::bot::Bot;
use serde_json::{Value, json};

use super::{real_encoder, root};

/// Order ids with special behaviour in the test back-end.
pub(crate) const SLOW_ORDER: &str = "111111111111";
/// Answers 500.
pub(crate) const FAILING_ORDER: &str = "500500500500";
/// Answers a body that is not JSON.
pub(crate) const GARBLED_ORDER: &str = "999999999999";
/// Answers 404.
pub(crate) const MISSING_ORDER: &str = "404404404404";

/// The test back-end: CRM and shop, with slow and failing orders.
async fn start_backend() -> String {
    async fn services(UrlPath(id): UrlPath<String>) -> impl IntoResponse {
        if id == "u-down" {
            return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
        }
        Json(json!({"services": [{"name": "测试套餐", "fee": 10, "since": "2025-01-01"}], "monthly_fee": 10}))
            .into_response()
    }
    async fn order(UrlPath(id): UrlPath<String>) -> impl IntoResponse {
        match id.as_str() {
            SLOW_ORDER => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Json(json!({"status": "太慢了", "item": "x", "eta": "x"})).into_response()
            }
            FAILING_ORDER => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
            GARBLED_ORDER => (StatusCode::OK, "<html>not json</html>").into_response(),
            MISSING_ORDER => StatusCode::NOT_FOUND.into_response(),
            _ => Json(json!({"status": "运输中", "item": "测试商品", "eta": "明天送达", "customer_id": "u1001"}))
                .into_response(),
        }
    }
    let app = axum::Router::new().route("/customers/{id}/services", get(services)).route("/orders/{id}", get(order));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

pub(crate) const TOKEN: &str = "test-admin-token";
/// The agents' bearer token (`desk.agent_token`) of test servers.
pub(crate) const AGENT_TOKEN: &str = "test-agent-token";
/// The identity secret of test servers: [`user_token`] signs with it.
pub(crate) const IDENTITY_SECRET: &str = "test-identity-secret-of-32-bytes!";

/// A token proving customer `id` to a test server, valid for an hour: what the
/// company's site would issue.
pub(crate) fn user_token(id: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    bizbot::identity::sign_hs256(IDENTITY_SECRET, id, now + 3600)
}

/// A `user` object for customer `id` with the token that proves it.
pub(crate) fn verified(id: &str) -> Value {
    json!({"id": id, "token": user_token(id)})
}

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A server over a copy of the demo knowledge, with `extra` config lines.
    pub(crate) async fn start(extra: &str) -> Self {
        let backend = start_backend().await;
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path().join("knowledge");
        copy_dir(&root().join("knowledge"), &kb);
        let config_path = dir.path().join("bizbot.toml");
        let models = root().join("models");
        let base = format!(
            "[knowledge]\npath = {kb:?}\n[server]\nadmin_token = \"{TOKEN}\"\nmax_body_bytes = 4096\n\
             [model]\nmodel_dir = {:?}\nruntime_library = {:?}\ncache_dir = \"\"\n\
             [log]\npath = {:?}\n\
             [identity]\nsecret = \"{IDENTITY_SECRET}\"\n[desk]\nagent_token = \"{AGENT_TOKEN}\"\n\
             [backends.crm]\nbase_url = \"{backend}\"\ntimeout_ms = 500\n\
             [backends.shop]\nbase_url = \"{backend}\"\ntimeout_ms = 500\n",
            models.join("use-multilingual"),
            models.join("onnxruntime/libonnxruntime.so"),
            dir.path().join("turns.jsonl"),
        );
        // `extra` may name the same tables ([server], …): merge key by key.
        let mut table: toml::Table = base.parse().unwrap();
        bizbot::config::merge(&mut table, crate::common::TEST_MODEL_TOML.parse().unwrap());
        bizbot::config::merge(&mut table, extra.parse().unwrap_or_else(|e| panic!("test config {extra:?}: {e}")));
        std::fs::write(&config_path, toml::to_string(&table).unwrap()).unwrap();
        let config = bizbot::config::load_from(Some(&config_path), []).expect("test config");
        let encoder = real_encoder();
        let bot = Arc::new(Bot::new(config, Some(config_path), encoder).expect("bot starts"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(bizbot::server::serve_until(listener, bot, async move {
            let _ = stopped.await;
        }));
        Self { base, client: reqwest::Client::new(), dir, stop: Some(stop), served: Some(served) }
    }

    /// Stop as SIGTERM would, and wait until the server has returned.
    pub(crate) async fn shutdown(&mut self) -> std::io::Result<()> {
        let _ = self.stop.take().expect("not yet stopped").send(());
        self.served.take().expect("serving").await.expect("server task")
    }

    pub(crate) async fn chat(&self, session: &str, text: &str) -> Value {
        let r = self.post("/v1/chat", &json!({"session_id": session, "text": text})).await;
        assert_eq!(r.0, 200, "{}", r.1);
        r.1
    }

    /// A turn of verified customer `id` (200 expected).
    pub(crate) async fn chat_as(&self, session: &str, text: &str, id: &str) -> Value {
        let r = self.post("/v1/chat", &json!({"session_id": session, "text": text, "user": verified(id)})).await;
        assert_eq!(r.0, 200, "{}", r.1);
        r.1
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.client.post(format!("{}{path}", self.base)).json(body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// POST with a bearer token (the agents' or the admin's).
    pub(crate) async fn post_as(&self, path: &str, body: &Value, bearer: &str) -> (u16, Value) {
        let r = self.client.post(format!("{}{path}", self.base)).bearer_auth(bearer).json(body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn raw(&self, path: &str, body: Vec<u8>, content_type: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn reload(&self, token: &str) -> (u16, Value) {
        let r = self.client.post(format!("{}/admin/reload", self.base)).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
