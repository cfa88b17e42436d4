//! The messaging channels over real HTTP: a test plays WeChat, WeCom and Feishu —
//! signed (and encrypted) callbacks as the platforms send them — and stands in
//! for their message APIs with a local server that records what bizbot sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path as UrlPath, Query};
use axum::routing::{get, post};
use bizbot::channels::crypto::{self, WechatKey};
use bizbot::channels::xml;
use serde_json::{Value, json};

use crate::common::server::{SLOW_ORDER, TestServer};

const WX_TOKEN: &str = "wx-callback-token";
const WX_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const WX_APP: &str = "wx1234567890abcdef";
const CORP: &str = "ww0123456789abcdef";
const FS_KEY: &str = "feishu-encrypt-key";
const FS_TOKEN: &str = "feishu-verification-token";

/// What the platform stand-in received: (path, query, body).
type Sent = Arc<Mutex<Vec<(String, String, Value)>>>;

/// The platforms' APIs: tokens (the first one refused once as expired) and
/// message sending, recorded.
async fn start_platform() -> (String, Sent) {
    let sent: Sent = Arc::default();
    let issued = Arc::new(Mutex::new(0u32));
    let record = |sent: &Sent, path: &str, query: String, body: Value| {
        sent.lock().unwrap().push((path.to_owned(), query, body));
    };
    let token = {
        let issued = Arc::clone(&issued);
        move || {
            let mut n = issued.lock().unwrap();
            *n += 1;
            format!("T{n}")
        }
    };
    let (t1, t2, t3) = (token.clone(), token.clone(), token);
    let (s1, s2, s3, s4) = (Arc::clone(&sent), Arc::clone(&sent), Arc::clone(&sent), Arc::clone(&sent));
    let app = axum::Router::new()
        .route(
            "/cgi-bin/stable_token",
            post(move |Json(body): Json<Value>| async move {
                assert_eq!(body["grant_type"], "client_credential");
                Json(json!({"access_token": t1(), "expires_in": 7200}))
            }),
        )
        .route("/cgi-bin/gettoken", get(move || async move { Json(json!({"errcode": 0, "access_token": t2(), "expires_in": 7200})) }))
        .route(
            "/cgi-bin/message/custom/send",
            post(move |Query(q): Query<Vec<(String, String)>>, Json(body): Json<Value>| async move {
                let token = q.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.clone()).unwrap_or_default();
                record(&s1, "wechat", token.clone(), body);
                // The first token is refused as expired: bizbot fetches another.
                Json(if token == "T1" { json!({"errcode": 40001, "errmsg": "invalid credential"}) } else { json!({"errcode": 0}) })
            }),
        )
        .route(
            "/cgi-bin/message/send",
            post(move |Query(q): Query<Vec<(String, String)>>, Json(body): Json<Value>| async move {
                let token = q.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.clone()).unwrap_or_default();
                record(&s2, "wecom", token, body);
                Json(json!({"errcode": 0}))
            }),
        )
        .route(
            "/open-apis/auth/v3/tenant_access_token/internal",
            post(move |Json(body): Json<Value>| async move {
                record(&s3, "feishu-token", String::new(), body);
                Json(json!({"code": 0, "tenant_access_token": t3(), "expire": 7200}))
            }),
        )
        .route(
            "/open-apis/im/v1/messages/{id}/reply",
            post(move |UrlPath(id): UrlPath<String>, headers: axum::http::HeaderMap, Json(body): Json<Value>| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                record(&s4, "feishu-reply", format!("{id} {auth}"), body);
                Json(json!({"code": 0}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, sent)
}

async fn wait_for(sent: &Sent, path: &str, n: usize) -> Vec<(String, Value)> {
    for _ in 0..200 {
        let got: Vec<_> =
            sent.lock().unwrap().iter().filter(|(p, ..)| p == path).map(|(_, q, b)| (q.clone(), b.clone())).collect();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the platform got fewer than {n} {path} calls: {:?}", sent.lock().unwrap());
}

fn now() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

async fn channel_server(extra: &str) -> (TestServer, Sent) {
    let (api, sent) = start_platform().await;
    let config = format!(
        "[channels]\nreply_within_ms = 4000\n\
         [channels.wechat]\nenabled = true\ntoken = \"{WX_TOKEN}\"\nencoding_aes_key = \"\"\napp_id = \"{WX_APP}\"\napp_secret = \"s\"\napi_base = \"{api}\"\n\
         [channels.wecom]\nenabled = true\ntoken = \"{WX_TOKEN}\"\nencoding_aes_key = \"{WX_KEY}\"\ncorp_id = \"{CORP}\"\nagent_id = \"1000002\"\nsecret = \"s\"\napi_base = \"{api}\"\n\
         [channels.feishu]\nenabled = true\napp_id = \"cli_1\"\napp_secret = \"s\"\nverification_token = \"{FS_TOKEN}\"\nencrypt_key = \"{FS_KEY}\"\napi_base = \"{api}\"\n"
    );
    let mut table: toml::Table = config.parse().unwrap();
    bizbot::config::merge(&mut table, extra.parse().unwrap());
    let s = TestServer::start(&toml::to_string(&table).unwrap()).await;
    (s, sent)
}

fn text_message(open_id: &str, msg_id: &str, text: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{open_id}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        now()
    )
}

/// POST a plain-mode message signed with `token`.
async fn wechat_plain(s: &TestServer, body: &str, token: &str) -> (u16, String) {
    // A fresh nonce per request, as WeChat sends.
    let nonce = format!("{:x}", u128::from_le_bytes(crypto::random16()) % 1_000_000_000);
    let ts = now();
    let signature = crypto::wechat_signature(&[token, &ts, &nonce]);
    let url = format!("{}/channels/wechat?signature={signature}&timestamp={ts}&nonce={nonce}&openid=o1", s.base);
    let r = s.client.post(url).header("content-type", "text/xml").body(body.to_owned()).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POST a message encrypted as WeChat's safe mode (or WeCom) does.
async fn encrypted(s: &TestServer, path: &str, receive_id: &str, inner: &str) -> (u16, String) {
    let key = WechatKey::new(WX_KEY).unwrap();
    let sealed = key.encrypt(inner, receive_id, crypto::random16());
    let (ts, nonce) = (now(), "n456".to_owned());
    let msg_signature = crypto::wechat_signature(&[WX_TOKEN, &ts, &nonce, &sealed]);
    let signature = crypto::wechat_signature(&[WX_TOKEN, &ts, &nonce]);
    let body =
        format!("<xml><ToUserName><![CDATA[{receive_id}]]></ToUserName><Encrypt><![CDATA[{sealed}]]></Encrypt></xml>");
    let url = format!(
        "{}{path}?signature={signature}&timestamp={ts}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}",
        s.base
    );
    let r = s.client.post(url).body(body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text of an encrypted reply, its signature checked.
fn open_reply(reply: &str, receive_id: &str) -> xml::Fields {
    let envelope = xml::parse(reply).unwrap_or_else(|e| panic!("{e}: {reply}"));
    let (sealed, ts, nonce) = (envelope.text("Encrypt"), envelope.text("TimeStamp"), envelope.text("Nonce"));
    assert!(crypto::wechat_signature_ok(&[WX_TOKEN, ts, nonce, sealed], envelope.text("MsgSignature")), "{reply}");
    let inner = WechatKey::new(WX_KEY).unwrap().decrypt(sealed, receive_id).unwrap();
    xml::parse(&inner).unwrap()
}

fn turns_logged(s: &TestServer, text: &str) -> usize {
    let log = std::fs::read_to_string(s.dir.path().join("turns.jsonl")).unwrap_or_default();
    log.lines().filter(|l| l.contains(&format!("\"text\":\"{text}\""))).count()
}

#[tokio::test]
async fn wechat_checks_the_url_answers_signed_messages_once_and_refuses_forged_ones() {
    let (s, _) = channel_server("").await;
    // The URL check of the account's server configuration.
    let (ts, nonce) = (now(), "77");
    let signature = crypto::wechat_signature(&[WX_TOKEN, &ts, nonce]);
    let ok = s
        .client
        .get(format!("{}/channels/wechat?signature={signature}&timestamp={ts}&nonce={nonce}&echostr=hello123", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!((ok.status().as_u16(), ok.text().await.unwrap()), (200, "hello123".to_owned()));
    let forged = s
        .client
        .get(format!("{}/channels/wechat?signature=0000&timestamp={ts}&nonce={nonce}&echostr=hello123", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let stale_ts = "1409304348";
    let stale_sig = crypto::wechat_signature(&[WX_TOKEN, stale_ts, nonce]);
    let replayed = s
        .client
        .get(format!("{}/channels/wechat?signature={stale_sig}&timestamp={stale_ts}&nonce={nonce}&echostr=x", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status().as_u16(), 401, "a request from 2014 is a replay");

    // A text message: answered in the response, to the customer, from the account.
    let message = text_message("oCustomer_1", "6001", "宽带怎么办理");
    let (status, reply) = wechat_plain(&s, &message, WX_TOKEN).await;
    assert_eq!(status, 200, "{reply}");
    let fields = xml::parse(&reply).unwrap();
    assert_eq!(fields.text("ToUserName"), "oCustomer_1");
    assert_eq!(fields.text("FromUserName"), "gh_account");
    assert_eq!(fields.text("MsgType"), "text");
    assert!(fields.text("Content").contains("宽带"), "{reply}");

    // WeChat sends the same message again: the same answer, one turn.
    let (_, again) = wechat_plain(&s, &message, WX_TOKEN).await;
    assert_eq!(xml::parse(&again).unwrap().text("Content"), fields.text("Content"));
    assert_eq!(turns_logged(&s, "宽带怎么办理"), 1);

    // A signature seen with another body (taken from a log, say): refused.
    let (ts, nonce) = (now(), "n-reused");
    let signature = crypto::wechat_signature(&[WX_TOKEN, &ts, nonce]);
    let url = format!("{}/channels/wechat?signature={signature}&timestamp={ts}&nonce={nonce}", s.base);
    let first = s.client.post(&url).body(text_message("oCustomer_1", "6003", "宽带多少钱")).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let second =
        s.client.post(&url).body(text_message("oCustomer_1", "6004", "给我转到别人的账户")).send().await.unwrap();
    assert_eq!(second.status().as_u16(), 401);
    assert_eq!(turns_logged(&s, "给我转到别人的账户"), 0);

    // Signed with another token: 401, nothing processed.
    let forged = text_message("oCustomer_1", "6002", "查一下话费余额");
    let (status, body) = wechat_plain(&s, &forged, "not-the-token").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(turns_logged(&s, "查一下话费余额"), 0);

    // Malformed bodies: 400, the server goes on.
    for bad in [
        "",
        "not xml",
        "<xml><Content>unclosed</xml>",
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Content>&e;</Content></xml>",
    ] {
        let (status, body) = wechat_plain(&s, bad, WX_TOKEN).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // The widget cannot write into (or read) a WeChat customer's conversation.
    let (status, body) = s.post("/v1/chat", &json!({"session_id": "wechat:oCustomer_1", "text": "我的订单"})).await;
    assert_eq!(status, 422, "{body}");

    // `bizbot report` breaks the turns down by channel.
    let log = s.dir.path().join("turns.jsonl");
    let out = crate::common::bizbot(&["report", "--json", "--log", log.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["by_channel"]["wechat"]["turns"], 2, "{report}");

    let metrics = s.client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("bizbot_channel_messages_total{platform=\"wechat\",outcome=\"replied\"} 2"), "{metrics}");
    assert!(
        metrics.contains("bizbot_channel_messages_total{platform=\"wechat\",outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn wechat_safe_mode_follows_pictures_and_a_conversation_in_encrypted_xml() {
    let (s, _) = channel_server(&format!("[channels.wechat]\nencoding_aes_key = \"{WX_KEY}\"\n")).await;
    // Something answered on the widget becomes a popular suggestion.
    assert_eq!(s.chat("web-1", "宽带怎么办理").await["action"], "answer");
    let follow = format!(
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oNew]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>",
        now()
    );
    let (status, reply) = encrypted(&s, "/channels/wechat", WX_APP, &follow).await;
    assert_eq!(status, 200, "{reply}");
    let welcome = open_reply(&reply, WX_APP);
    assert!(welcome.text("Content").contains("您好"), "{reply}");
    assert!(welcome.text("Content").contains("\n· "), "suggestions as lines: {}", welcome.text("Content"));

    let picture = format!(
        "<xml><ToUserName>gh_account</ToUserName><FromUserName>oNew</FromUserName><CreateTime>{}</CreateTime><MsgType>image</MsgType><PicUrl>http://x/y.jpg</PicUrl><MsgId>7001</MsgId></xml>",
        now()
    );
    let (_, reply) = encrypted(&s, "/channels/wechat", WX_APP, &picture).await;
    assert!(open_reply(&reply, WX_APP).text("Content").contains("文字"), "{reply}");

    // A clarification's choices are numbered; typing the number picks one.
    let (_, reply) = encrypted(&s, "/channels/wechat", WX_APP, &text_message("oNew", "7002", "宽带")).await;
    let first = open_reply(&reply, WX_APP).text("Content").to_owned();
    if first.contains("1. ") {
        let (_, reply) = encrypted(&s, "/channels/wechat", WX_APP, &text_message("oNew", "7003", "1")).await;
        let picked = open_reply(&reply, WX_APP).text("Content").to_owned();
        assert!(!picked.contains("1. "), "a pick answers: {first} → {picked}");
    }
    // In safe mode a plain message is refused, however well signed: its
    // signature does not cover its words.
    let (status, _) = wechat_plain(&s, &text_message("oNew", "7005", "帮我查话费"), WX_TOKEN).await;
    assert_eq!(status, 401);
    assert_eq!(turns_logged(&s, "帮我查话费"), 0);
    // Encrypted for another account: refused.
    let (status, _) =
        encrypted(&s, "/channels/wechat", "wx_other_account", &text_message("oNew", "7004", "话费")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_slow_turn_answers_success_then_one_message_through_the_api() {
    let (s, sent) = channel_server("[channels]\nreply_within_ms = 150\n[backends.shop]\ntimeout_ms = 1500\n").await;
    let (_, reply) = wechat_plain(&s, &text_message("oSlow", "8001", "我的订单到哪了"), WX_TOKEN).await;
    assert!(xml::parse(&reply).is_ok(), "asking for the order number is fast: {reply}");
    let message = text_message("oSlow", "8002", &format!("订单号 {SLOW_ORDER}"));
    let (status, body) = wechat_plain(&s, &message, WX_TOKEN).await;
    assert_eq!((status, body.as_str()), (200, "success"), "the look-up takes longer than the window");
    // WeChat's retry while the turn runs: success again, still one turn.
    let (_, retry) = wechat_plain(&s, &message, WX_TOKEN).await;
    assert_eq!(retry, "success");
    let got = wait_for(&sent, "wechat", 2).await;
    // The first token was refused as expired: sent again with a new one.
    assert_eq!(got[0].0, "T1");
    assert_eq!(got[1].0, "T2");
    let (_, body) = &got[1];
    assert_eq!(body["touser"], "oSlow");
    assert_eq!(body["msgtype"], "text");
    assert!(!body["text"]["content"].as_str().unwrap().is_empty(), "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(wait_for(&sent, "wechat", 2).await.len(), 2, "one message (and its one retry with a new token)");
    assert_eq!(turns_logged(&s, &format!("订单号 {SLOW_ORDER}")), 1);
}

#[tokio::test]
async fn wecom_verifies_its_encrypted_echo_and_answers_encrypted() {
    let (s, _) = channel_server("").await;
    let key = WechatKey::new(WX_KEY).unwrap();
    let echo = key.encrypt("8843925611572201", CORP, crypto::random16());
    let (ts, nonce) = (now(), "5");
    let sig = crypto::wechat_signature(&[WX_TOKEN, &ts, nonce, &echo]);
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    let url =
        format!("{}/channels/wecom?msg_signature={sig}&timestamp={ts}&nonce={nonce}&echostr={}", s.base, enc(&echo));
    let r = s.client.get(url).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "8843925611572201".to_owned()));
    let wrong =
        format!("{}/channels/wecom?msg_signature=abc&timestamp={ts}&nonce={nonce}&echostr={}", s.base, enc(&echo));
    assert_eq!(s.client.get(wrong).send().await.unwrap().status().as_u16(), 401);

    let inner = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[流量还剩多少怎么查]]></Content><MsgId>9001</MsgId><AgentID>1000002</AgentID></xml>",
        now()
    );
    let (status, reply) = encrypted(&s, "/channels/wecom", CORP, &inner).await;
    assert_eq!(status, 200, "{reply}");
    let fields = open_reply(&reply, CORP);
    assert_eq!(fields.text("ToUserName"), "zhangsan");
    assert!(fields.text("Content").contains("流量"), "{reply}");
}

/// POST a Feishu event encrypted and signed as Feishu does.
async fn feishu_post(s: &TestServer, event: &Value, signing_key: &str) -> (u16, Value) {
    let sealed = crypto::feishu_encrypt(FS_KEY, &event.to_string(), crypto::random16());
    let body = json!({ "encrypt": sealed }).to_string();
    let (ts, nonce) = (now(), "fs-nonce");
    let signature = crypto::feishu_signature(&ts, nonce, signing_key, body.as_bytes());
    let r = s
        .client
        .post(format!("{}/channels/feishu", s.base))
        .header("content-type", "application/json")
        .header("x-lark-request-timestamp", &ts)
        .header("x-lark-request-nonce", nonce)
        .header("x-lark-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn feishu_message(event_id: &str, message_id: &str, text: &str) -> Value {
    json!({
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": "im.message.receive_v1", "token": FS_TOKEN, "app_id": "cli_1", "create_time": "1"},
        "event": {
            "sender": {"sender_id": {"open_id": "ou_customer"}, "sender_type": "user"},
            "message": {"message_id": message_id, "chat_type": "p2p", "message_type": "text",
                        "content": json!({"text": text}).to_string()}
        }
    })
}

#[tokio::test]
async fn feishu_answers_the_challenge_and_replies_to_signed_messages_once() {
    let (s, sent) = channel_server("").await;
    let challenge = json!({"challenge": "ch-123", "token": FS_TOKEN, "type": "url_verification"});
    let (status, body) = feishu_post(&s, &challenge, FS_KEY).await;
    assert_eq!((status, body), (200, json!({"challenge": "ch-123"})));

    let event = feishu_message("ev-1", "om_1", "宽带坏了 上不了网");
    let (status, _) = feishu_post(&s, &event, FS_KEY).await;
    assert_eq!(status, 200);
    // Feishu delivers it again: replied once.
    let (status, _) = feishu_post(&s, &event, FS_KEY).await;
    assert_eq!(status, 200);
    let got = wait_for(&sent, "feishu-reply", 1).await;
    let (target, body) = &got[0];
    assert!(target.starts_with("om_1 Bearer T"), "{target}");
    assert_eq!(body["msg_type"], "text");
    let content: Value = serde_json::from_str(body["content"].as_str().unwrap()).unwrap();
    assert!(!content["text"].as_str().unwrap().is_empty(), "{body}");

    // Encrypted but not signed (only the URL challenge may be): 401, whatever it holds.
    let sealed =
        crypto::feishu_encrypt(FS_KEY, &feishu_message("ev-3", "om_3", "查余额").to_string(), crypto::random16());
    let unsigned = s
        .client
        .post(format!("{}/channels/feishu", s.base))
        .body(json!({"encrypt": sealed}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    // Garbage unsigned: one answer whether or not it decrypts.
    let junk = crypto::feishu_encrypt("another key", "{}", [1; 16]);
    let r = s
        .client
        .post(format!("{}/channels/feishu", s.base))
        .body(json!({"encrypt": junk}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "not a Feishu event this URL takes");

    // Signed with another key: 401, no reply.
    let forged = feishu_message("ev-2", "om_2", "查话费");
    let (status, _) = feishu_post(&s, &forged, "another-key").await;
    assert_eq!(status, 401);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let replies = wait_for(&sent, "feishu-reply", 1).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(turns_logged(&s, "宽带坏了 上不了网"), 1);
    assert_eq!(turns_logged(&s, "查话费"), 0);
}

#[tokio::test]
async fn a_disabled_channel_is_not_there() {
    let s = TestServer::start("").await;
    let r = s.client.post(format!("{}/channels/wechat", s.base)).body("<xml/>").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "channel_disabled");
}

#[tokio::test]
async fn behind_two_replicas_a_message_sent_again_to_the_other_is_answered_once() {
    use crate::common::redis::{RedisServer, redis_server};
    if redis_server().is_none() {
        return;
    }
    let redis = RedisServer::start();
    let shared = format!("[session]\nstore = \"redis\"\nredis_url = \"{}\"\nredis_prefix = \"ch:\"\n", redis.url());
    let (a, _) = channel_server(&shared).await;
    let (b, _) = channel_server(&shared).await;
    let message = text_message("oTwo", "9901", "宽带怎么办理");
    let (_, reply) = wechat_plain(&a, &message, WX_TOKEN).await;
    assert!(xml::parse(&reply).unwrap().text("Content").contains("宽带"), "{reply}");
    // WeChat's retry reaches the other replica: it does not answer again.
    let (status, again) = wechat_plain(&b, &message, WX_TOKEN).await;
    assert_eq!((status, again.as_str()), (200, "success"));
    assert_eq!(turns_logged(&a, "宽带怎么办理") + turns_logged(&b, "宽带怎么办理"), 1);
    // The next message, on the other replica, continues the same conversation.
    let (_, next) = wechat_plain(&b, &text_message("oTwo", "9902", "多少钱"), WX_TOKEN).await;
    assert!(!xml::parse(&next).unwrap().text("Content").is_empty(), "{next}");
    let log = std::fs::read_to_string(b.dir.path().join("turns.jsonl")).unwrap();
    let line: Value = serde_json::from_str(log.lines().find(|l| l.contains("多少钱")).unwrap()).unwrap();
    assert_eq!(line["turn"], 2, "{line}");
    assert_eq!(line["channel"], "wechat", "{line}");
}

#[tokio::test]
async fn an_agent_in_the_workspace_answers_a_wechat_customer_through_the_api() {
    use crate::common::server::AGENT_TOKEN;
    let (s, sent) = channel_server("[desk]\nlive_agents = true\n").await;
    let (_, reply) = wechat_plain(&s, &text_message("oPerson", "5001", "转人工"), WX_TOKEN).await;
    assert!(xml::parse(&reply).unwrap().text("Content").contains("人工"), "{reply}");
    let (status, queue) = s
        .client
        .get(format!("{}/v1/agent/queue", s.base))
        .bearer_auth(AGENT_TOKEN)
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(status, 200);
    let queue: Value = queue.json().await.unwrap();
    assert_eq!(queue["conversations"][0]["session_id"], "wechat:oPerson", "{queue}");
    assert_eq!(queue["conversations"][0]["seat"]["channel"], "wechat", "{queue}");

    let path = "/v1/agent/sessions/wechat:oPerson";
    let (status, body) = s.post_as(&format!("{path}/claim"), &json!({"agent": "王芳"}), AGENT_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        s.post_as(&format!("{path}/messages"), &json!({"text": "您好，我来帮您看看"}), AGENT_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    let got = wait_for(&sent, "wechat", 3).await;
    let texts: Vec<&str> =
        got.iter().filter(|(t, _)| t != "T1").map(|(_, b)| b["text"]["content"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.contains("王芳") && t.contains("服务")), "{texts:?}");
    assert!(texts.contains(&"【王芳】您好，我来帮您看看"), "{texts:?}");
    assert!(got.iter().all(|(_, b)| b["touser"] == "oPerson"));

    // While the agent holds it, the customer's messages reach the agent and the
    // bot says nothing in WeChat.
    let (_, quiet) = wechat_plain(&s, &text_message("oPerson", "5002", "我的宽带一直断"), WX_TOKEN).await;
    assert_eq!(quiet, "success");
    let (status, _) = s.post_as(&format!("{path}/close"), &json!({"resolved": true}), AGENT_TOKEN).await;
    assert_eq!(status, 200);
    let got = wait_for(&sent, "wechat", 4).await;
    assert!(got.last().unwrap().1["text"]["content"].as_str().unwrap().contains("结束"), "{got:?}");
}
