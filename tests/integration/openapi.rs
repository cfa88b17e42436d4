//! `/openapi.json` checked against real responses: every response of the running
//! server validates against the schema the description gives for its path, method
//! and status, with no undocumented field.

use serde_json::{Value, json};

use crate::common::server::{AGENT_TOKEN, TOKEN, TestServer};

/// Errors of `value` against `schema` (a small JSON-Schema subset: `$ref`, `type`,
/// `oneOf`/`anyOf`/`allOf`, `enum`, `properties`, `required`, `items`); fields not
/// in `properties` are errors too.
fn check(value: &Value, schema: &Value, doc: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(value, &doc["components"]["schemas"][name], doc, at, errors);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|o| {
                let mut e = Vec::new();
                check(value, o, doc, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: {value} fits none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(value, s, doc, at, errors);
        }
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in {options:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_of = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.is_empty() || types.contains(&type_of) || (type_of == "integer" && types.contains(&"number"));
    if !fits {
        errors.push(format!("{at}: {type_of} where the schema says {types:?}"));
        return;
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !map.contains_key(required.as_str().unwrap_or_default()) {
                    errors.push(format!("{at}: required {required} missing"));
                }
            }
            for (k, v) in map {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => check(v, s, doc, &format!("{at}.{k}"), errors),
                    None if schema.get("additionalProperties").is_some() || props.is_none() => {}
                    None => errors.push(format!("{at}.{k}: not in the schema")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    check(v, s, doc, &format!("{at}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_response_matches_the_openapi_description() {
    let s = TestServer::start("[desk]\nlive_agents = true\n").await;
    let doc: Value = s.client.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let mut errors = Vec::new();
    let mut seen = 0;
    let mut validate = |method: &str, path: &str, status: u16, body: &Value| {
        let schema =
            &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
        if schema.is_null() {
            errors.push(format!("{method} {path} {status}: not described"));
            return;
        }
        seen += 1;
        check(body, schema, &doc, &format!("{method} {path} {status}"), &mut errors);
    };
    for (session, text) in
        [("o1", "WIFI免费吗"), ("o2", "宽带"), ("o3", "你们的服务太差了，我要投诉"), ("o4", "量子纠缠的数学原理")]
    {
        let body = json!({"session_id": session, "text": text, "channel": "web", "user": {"id": "u1", "tags": ["VIP"], "profile": {"name": "张三"}}});
        let (status, r) = s.post("/v1/chat", &body).await;
        validate("post", "/v1/chat", status, &r);
    }
    let (status, r) = s.post("/v1/chat", &json!({"session_id": "o5", "text": ""})).await;
    validate("post", "/v1/chat", status, &r);
    let (status, r) = s.raw("/v1/chat", b"{nope".to_vec(), Some("application/json")).await;
    validate("post", "/v1/chat", status, &r);
    let (status, r) = s.post("/v1/welcome", &json!({"session_id": "o6", "user": {"tags": ["欠费"]}})).await;
    validate("post", "/v1/welcome", status, &r);
    let (status, r) = s.post_as("/v1/assist", &json!({"session_id": "o2", "text": "宽带断网了"}), TOKEN).await;
    validate("post", "/v1/assist", status, &r);
    let (status, r) = s.post("/v1/feedback", &json!({"session_id": "o1", "turn": 1, "helpful": true})).await;
    validate("post", "/v1/feedback", status, &r);
    let (status, r) = s.post("/v1/feedback", &json!({"session_id": "nobody", "turn": 1, "helpful": true})).await;
    validate("post", "/v1/feedback", status, &r);
    let (status, r) = s.post("/v1/rating", &json!({"session_id": "o1", "score": 5})).await;
    validate("post", "/v1/rating", status, &r);
    for q in ["q=宽带&k=3", "q=宽带&k=99"] {
        let r = s.client.get(format!("{}/v1/search?{q}", s.base)).send().await.unwrap();
        let status = r.status().as_u16();
        validate("get", "/v1/search", status, &r.json().await.unwrap());
    }
    let r = s.client.get(format!("{}/healthz", s.base)).send().await.unwrap();
    validate("get", "/healthz", 200, &r.json().await.unwrap());
    let (status, r) = s.reload("wrong").await;
    validate("post", "/admin/reload", status, &r);
    let (status, r) = s.reload(TOKEN).await;
    validate("post", "/admin/reload", status, &r);
    // The agents' side of the hand-off of o3.
    for (path, token) in [("/v1/agent/queue", AGENT_TOKEN), ("/v1/agent/queue", "wrong")] {
        let r = s.client.get(format!("{}{path}", s.base)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        validate("get", path, status, &r.json().await.unwrap());
    }
    for id in ["o3", "nobody"] {
        let r =
            s.client.get(format!("{}/v1/agent/sessions/{id}", s.base)).bearer_auth(AGENT_TOKEN).send().await.unwrap();
        let status = r.status().as_u16();
        validate("get", "/v1/agent/sessions/{id}", status, &r.json().await.unwrap());
    }
    let calls = [
        ("o3", "claim", json!({"agent": "王芳"})),
        ("o3", "claim", json!({"agent": "李雷"})),
        ("o3", "claim", json!({"agent": ""})),
        ("o3", "messages", json!({"text": "您好，我是王芳"})),
        ("o1", "messages", json!({"text": "您好"})),
        ("o3", "typing", json!({"agent": "王芳"})),
        ("o3", "transfer", json!({"queue": "账单"})),
        ("o3", "close", json!({"resolved": true})),
    ];
    for (id, what, body) in calls {
        let (status, r) = s.post_as(&format!("/v1/agent/sessions/{id}/{what}"), &body, AGENT_TOKEN).await;
        validate("post", &format!("/v1/agent/sessions/{{id}}/{what}"), status, &r);
    }
    let r = s.client.post(format!("{}/v1/sessions/o3/release", s.base)).bearer_auth(TOKEN).send().await.unwrap();
    let status = r.status().as_u16();
    validate("post", "/v1/sessions/{id}/release", status, &r.json().await.unwrap());
    assert!(errors.is_empty(), "{} problem(s):\n{}", errors.len(), errors.join("\n"));
    assert_eq!(seen, 29);
    // The check itself catches an undocumented field and a wrong type.
    let mut probe = Vec::new();
    let error_body = json!({"$ref": "#/components/schemas/ErrorBody"});
    check(&json!({"code": "x", "message": "m", "bogus": 1}), &error_body, &doc, "probe", &mut probe);
    check(&json!({"code": 5, "message": "m"}), &error_body, &doc, "probe", &mut probe);
    assert_eq!(probe.len(), 2, "{probe:?}");
}
