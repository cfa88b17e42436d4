//! Range and cross-field checks; every violation is reported.

use super::Config;

/// Every violation in `config`, one line each naming the key.
pub fn validate(config: &Config) -> Vec<String> {
    let Config {
        knowledge: _,
        text: _,
        model,
        retrieval,
        thresholds,
        server,
        session,
        escalation,
        messages: _,
        log: _,
        desk,
        identity,
        channels,
        backends,
    } = config;
    let mut problems = Vec::new();
    let mut unit = |key: &str, v: f32| {
        if !(0.0..=1.0).contains(&v) {
            problems.push(format!("{key} = {v}: must be between 0 and 1"));
        }
    };
    unit("retrieval.semantic_weight", retrieval.semantic_weight);
    unit("retrieval.answer_weight", retrieval.answer_weight);
    unit("retrieval.entry_weight", retrieval.entry_weight);
    unit("retrieval.hub_penalty", retrieval.hub_penalty);
    unit("thresholds.answer", thresholds.answer);
    unit("thresholds.answer_alone", thresholds.answer_alone);
    unit("thresholds.answer_confirmed", thresholds.answer_confirmed);
    unit("thresholds.clarify", thresholds.clarify);
    unit("thresholds.clarify_others", thresholds.clarify_others);
    unit("thresholds.ambiguity_margin", thresholds.ambiguity_margin);
    unit("thresholds.intent", thresholds.intent);
    unit("escalation.complaint_threshold", escalation.complaint_threshold);
    if thresholds.clarify > thresholds.answer {
        problems.push(format!(
            "thresholds.clarify = {} is above thresholds.answer = {}: clarify must be ≤ answer",
            thresholds.clarify, thresholds.answer
        ));
    }
    let blended = !model.second_model_dir.as_os_str().is_empty();
    let weight_ok = model.second_weight > 0.0 && model.second_weight < 1.0;
    if blended && !weight_ok {
        problems.push(format!(
            "model.second_weight = {} must be above 0 and below 1 (or set model.second_model_dir = \"\" for one model)",
            model.second_weight
        ));
    }
    if retrieval.dense_floor >= retrieval.dense_ceiling {
        problems.push(format!(
            "retrieval.dense_floor = {} must be below retrieval.dense_ceiling = {}",
            retrieval.dense_floor, retrieval.dense_ceiling
        ));
    }
    for (key, v) in [
        ("retrieval.top_k", retrieval.top_k),
        ("retrieval.candidates", retrieval.candidates),
        ("retrieval.dense_neighbours", retrieval.dense_neighbours),
        ("retrieval.hub_neighbours", retrieval.hub_neighbours),
        ("thresholds.clarify_candidates", thresholds.clarify_candidates),
        ("model.batch_size", model.batch_size),
        ("model.threads", model.threads),
    ] {
        if v == 0 {
            problems.push(format!("{key} must be at least 1"));
        }
    }
    for origin in &server.cors_origins {
        let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
        let ok = origin == "*" || host.is_some_and(|h| !h.is_empty() && !h.contains(['/', ' ']));
        if !ok {
            problems
                .push(format!("server.cors_origins: {origin:?} is not an origin like https://www.example.com or *"));
        }
    }
    problems.extend(identity.problems());
    problems.extend(channels.problems());
    if let Err(e) = crate::desk::parse_hours(&desk.hours) {
        problems.push(e);
    }
    if desk.live_agents && desk.agent_token.trim().is_empty() && server.admin_token.trim().is_empty() {
        problems.push(
            "desk.live_agents = true, but no agent can log in: set desk.agent_token (BIZBOT__DESK__AGENT_TOKEN)".into(),
        );
    }
    if !(-12..=14).contains(&desk.utc_offset_hours) {
        problems.push(format!("desk.utc_offset_hours = {} must be between -12 and 14", desk.utc_offset_hours));
    }
    if !server.metrics_bind.is_empty() && server.metrics_bind.parse::<std::net::SocketAddr>().is_err() {
        problems.push(format!("server.metrics_bind = {:?} is not an address like 127.0.0.1:9090", server.metrics_bind));
    }
    if server.bind.parse::<std::net::SocketAddr>().is_err() {
        problems.push(format!("server.bind = {:?} is not an address like 127.0.0.1:8080", server.bind));
    }
    for (key, v) in [
        ("server.max_body_bytes", server.max_body_bytes),
        ("server.max_text_chars", server.max_text_chars),
        ("server.session_queue", server.session_queue),
        ("server.max_in_flight", server.max_in_flight),
        ("server.max_connections", server.max_connections),
        ("server.header_timeout_secs", server.header_timeout_secs as usize),
        ("server.body_timeout_secs", server.body_timeout_secs as usize),
        ("session.max_transcript", session.max_transcript),
        ("session.max_transcript_chars", session.max_transcript_chars),
    ] {
        if v == 0 {
            problems.push(format!("{key} must be at least 1"));
        }
    }
    if session.ttl_secs == 0 || session.capacity == 0 || session.max_memory_mb == 0 {
        problems.push("session.ttl_secs, session.capacity and session.max_memory_mb must be at least 1".to_owned());
    }
    if session.store == crate::dialogue::StoreKind::Redis {
        if session.redis_url.trim().is_empty() {
            problems.push("session.redis_url must be set when session.store = \"redis\"".to_owned());
        } else if let Err(e) = redis::Client::open(session.redis_url.as_str()) {
            problems.push(format!("session.redis_url = {:?} is not a Redis URL: {e}", session.redis_url));
        }
    }
    if session.lock_ms < 100 {
        problems.push(format!("session.lock_ms = {} must be at least 100", session.lock_ms));
    }
    if escalation.max_unresolved_turns == 0 {
        problems.push("escalation.max_unresolved_turns must be at least 1".to_owned());
    }
    for (name, b) in backends {
        if !(b.base_url.starts_with("http://") || b.base_url.starts_with("https://")) {
            problems.push(format!("backends.{name}.base_url = {:?} must start with http:// or https://", b.base_url));
        }
        if b.timeout_ms == 0 {
            problems.push(format!("backends.{name}.timeout_ms must be at least 1"));
        }
        if b.max_concurrent == 0 {
            problems.push(format!("backends.{name}.max_concurrent must be at least 1"));
        }
    }
    if model.max_tokens < 8 {
        problems.push(format!("model.max_tokens = {} must be at least 8", model.max_tokens));
    }
    problems
}
