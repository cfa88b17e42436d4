//! A turn as a whole: the model runs once per turn on every path (plus once for a
//! follow-up read with its context), and `bizbot ask` decides exactly as a chat
//! turn does.

use std::sync::Arc;

use bizbot::bot::Bot;
use bizbot::dialogue::UserInfo;
use bizbot::embed::{EmbedError, Encoder};
use serde_json::json;

use crate::common::server::TestServer;
use crate::common::{bizbot_env, real_encoder, root, stdout};

/// The real encoder, recording the texts it encodes.
struct Counting {
    inner: Arc<dyn Encoder>,
    texts: std::sync::Mutex<Vec<String>>,
}

impl Encoder for Counting {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.texts.lock().unwrap().extend(texts.iter().map(|t| (*t).to_owned()));
        self.inner.encode(texts)
    }
}

#[test]
fn every_turn_embeds_the_text_at_most_once() {
    let Some(inner) = real_encoder() else { return };
    let counting = Arc::new(Counting { inner, texts: std::sync::Mutex::new(Vec::new()) });
    let mut config = bizbot::config::load_from(None, []).unwrap();
    config.knowledge.path = root().join("knowledge");
    config.model.cache_dir = Default::default();
    config.log.path = Default::default();
    // Nothing listens there: look-ups fail fast, which is a path too.
    let nowhere: bizbot::backend::BackendConfig =
        toml::from_str("base_url = \"http://127.0.0.1:9\"\ntimeout_ms = 200").unwrap();
    config.backends = [("crm".to_owned(), nowhere.clone()), ("shop".to_owned(), nowhere)].into();
    let bot = Bot::new(config, None, Some(counting.clone() as Arc<dyn Encoder>)).expect("bot");
    let user = UserInfo { id: Some("u1001".into()), ..UserInfo::default() };
    // Every path: answer, clarify + choice, fallback ×3 → unresolved hand-off,
    // complaint, request for a person, scenario ask_slot + slot (failed look-up: no
    // back-end runs here), flagged entry, login scenario.
    let turns: [(&str, &str); 12] = [
        ("a", "WIFI免费吗"),
        ("b", "退"),
        ("b", "2"),
        ("c", "量子纠缠的数学原理"),
        ("c", "量子纠缠的数学原理"),
        ("c", "量子纠缠的数学原理"),
        ("d", "你们的服务太差了，我要投诉"),
        ("e", "转人工"),
        ("f", "我的订单到哪了"),
        ("f", "123456789012"),
        ("g", "宽带怎么取消"),
        ("h", "我开通了什么业务"),
    ];
    let mut actions = Vec::new();
    let mut previous = std::collections::HashSet::new();
    for (session, text) in turns {
        let before = counting.texts.lock().unwrap().len();
        let reply = bot.reply(session, text, &user, None).expect("turn");
        actions.push(reply.action.as_str());
        let encoded = counting.texts.lock().unwrap()[before..].to_vec();
        // The message (as normalised) once; besides, only a follow-up's reading
        // with the session's previous message joined before it. A pick by number,
        // the detail asked for and one of the knowledge's questions exactly run no
        // model at all.
        let follow_up = encoded.len() == 2 && previous.contains(session) && encoded[1].ends_with(&encoded[0]);
        let skipped = ["2", "123456789012", "宽带怎么取消"].contains(&text);
        assert!(
            if skipped { encoded.is_empty() } else { encoded.len() == 1 || follow_up },
            "{text:?} ({}): {encoded:?}",
            reply.action.as_str()
        );
        previous.insert(session);
    }
    for path in ["answer", "clarify", "fallback", "handoff", "ask_slot"] {
        assert!(actions.contains(&path), "no {path} turn among {actions:?}");
    }
}

#[tokio::test]
async fn ask_decides_as_a_chat_turn_does_for_every_test_message() {
    let server = TestServer::start("").await;
    let mut texts = Vec::new();
    for file in ["customers-dev.csv", "customers-holdout.csv"] {
        let mut reader = csv::Reader::from_path(root().join("tests/data").join(file)).unwrap();
        texts.extend(reader.records().map(|r| r.unwrap()[0].to_owned()));
    }
    let config = server.dir.path().join("bizbot.toml").to_string_lossy().into_owned();
    let mut args: Vec<String> = vec!["--config".into(), config, "ask".into(), "--json".into()];
    args.extend(texts.iter().cloned());
    // The test back-end runs on this runtime: ask's look-ups must not block it.
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        bizbot_env(&args, &[])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let asked: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(asked.len(), texts.len());
    let mut differ = Vec::new();
    for (i, (text, ask)) in texts.iter().zip(&asked).enumerate() {
        let chat = server.chat(&format!("agree-{i}"), text).await;
        let d = &ask["decision"];
        let candidates: Vec<&serde_json::Value> =
            chat["candidates"].as_array().map(|c| c.iter().map(|c| &c["id"]).collect()).unwrap_or_default();
        let same = d["action"] == chat["action"]
            && d["id"] == chat["match"]["id"]
            && d["reason"] == chat["handoff"]["reason"]
            && d.get("candidates")
                .map_or(candidates.is_empty(), |c| c.as_array().unwrap().iter().eq(candidates.iter().copied()));
        if !same {
            differ.push(format!(
                "{text:?}: ask {d} — chat {}",
                json!({"action": chat["action"], "match": chat["match"]["id"], "reason": chat["handoff"]["reason"]})
            ));
        }
    }
    assert!(differ.is_empty(), "{} of {} differ:\n{}", differ.len(), texts.len(), differ.join("\n"));
}
