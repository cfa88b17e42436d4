//! `bizbot ask`: one customer turn, exactly as a chat turn of a new session would
//! go (same signals, same decision, same look-ups), with the matches behind it.
//! Several texts are several new sessions. Nothing is written to the turn log.
//!
//! `--json` prints one object per text, one per line, a stable format:
//! `{query, normalized, terms, model, decision: {action, id?, candidates?, reason?},
//! text, matches: [{rank, id, question, matched, category, score, lexical, cosine}],
//! intents: [{id, score, example}], other_business, complaint}`
//! where `other_business` is the other business the text names that its best entry
//! never mentions (or null), `complaint` the complaint model's probability (or
//! null without a model), and `action` is `answer`, `clarify`, `ask_slot`, `handoff` or `fallback`.

use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::Config;
use bizbot::dialogue::signals::FaqCandidate;
use bizbot::dialogue::{Reply, Turn, UserInfo};
use bizbot::knowledge::KnowledgeBase;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
pub(crate) struct AskArgs {
    /// Knowledge folder or single CSV/Markdown file (default: knowledge.path).
    #[arg(long)]
    knowledge: Option<PathBuf>,
    /// Print one JSON object per text instead of text.
    #[arg(long)]
    json: bool,
    /// Matches to show (default: retrieval.top_k).
    #[arg(short, long)]
    k: Option<usize>,
    /// Customer id for scenario look-ups.
    #[arg(long)]
    user: Option<String>,
    /// The customer's texts, each the first turn of a new session.
    #[arg(required = true)]
    texts: Vec<String>,
}

pub(crate) fn run(config: &Config, config_path: Option<PathBuf>, args: &AskArgs) -> anyhow::Result<ExitCode> {
    let max = config.server.max_text_chars;
    if args.texts.iter().any(|t| t.trim().is_empty() || t.chars().count() > max) {
        eprintln!("error: each text must have 1 to {max} characters");
        return Ok(ExitCode::from(super::EXIT_INVALID));
    }
    let mut config = config.clone();
    // A question asked from the command line is not a customer turn, and no agent
    // takes its hand-off.
    config.log.path = PathBuf::new();
    config.desk.live_agents = false;
    let overrides = bizbot::bot::Overrides { knowledge: args.knowledge.clone(), bind: None };
    let bot = match super::start_bot(config, config_path, overrides)? {
        Ok(bot) => bot,
        Err(code) => return Ok(code),
    };
    let k = args.k.unwrap_or(bot.snapshot().config.retrieval.top_k).max(1);
    let user = UserInfo { id: args.user.clone(), ..UserInfo::default() };
    for (i, text) in args.texts.iter().enumerate() {
        let text = text.trim();
        let turn = bot.turn(&format!("ask-{i}"), text, &user, None)?;
        let snapshot = bot.snapshot();
        let engine = &snapshot.engine;
        let matches: Vec<&FaqCandidate> = turn.signals.faqs.iter().take(k).collect();
        if args.json {
            let analyzer = engine.analyzer();
            let out = json!({
                "query": text,
                "normalized": turn.signals.normalized,
                "terms": analyzer.terms(&turn.signals.normalized),
                "model": engine.has_dense(),
                "decision": decision_json(&turn.reply),
                "text": turn.reply.text,
                "matches": matches.iter().enumerate().map(|(r, m)| match_json(engine.knowledge(), r + 1, m)).collect::<Vec<Value>>(),
                "intents": turn.signals.intents.iter().map(|i| json!({"id": i.id, "score": i.score, "example": i.example})).collect::<Vec<Value>>(),
                "other_business": turn.signals.other_business,
                "complaint": turn.signals.complaint_score,
            });
            println!("{out}");
        } else {
            print_text(
                &turn,
                &matches,
                engine.knowledge(),
                &engine.analyzer().render(&turn.signals.normalized),
                engine.has_dense(),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The decision as `ask --json` prints it.
fn decision_json(reply: &Reply) -> Value {
    let mut d = json!({"action": reply.action.as_str()});
    if let Some(m) = &reply.matched {
        d["id"] = json!(m.id);
    }
    if !reply.candidates.is_empty() {
        d["candidates"] = json!(reply.candidates.iter().map(|c| c.id.as_str()).collect::<Vec<_>>());
    }
    if let Some(h) = &reply.handoff {
        d["reason"] = json!(h.reason.as_str());
        d["queue"] = json!(h.queue);
    }
    d
}

fn print_text(turn: &Turn, matches: &[&FaqCandidate], kb: &KnowledgeBase, terms: &str, dense: bool) {
    let reply = &turn.reply;
    println!("问题 query:  {}", turn.signals.text);
    println!("分词 terms:  {terms}");
    println!("检索 mode:   {}", if dense { "hybrid (BM25 + embeddings)" } else { "lexical only (no model)" });
    if let Some(p) = turn.signals.complaint_score {
        println!("投诉 complaint probability: {p:.3}");
    }
    if let Some(i) = turn.signals.intents.first() {
        println!("意图 intent: {} ({:.3}, like {:?})", i.id, i.score, i.example);
    }
    if let Some(b) = &turn.signals.other_business {
        println!("他家 other business: {b} (the best entry never names it: clarified at most)");
    }
    let what = match (&reply.matched, &reply.handoff) {
        (_, Some(h)) => format!("{} ({}, queue {})", reply.action.as_str(), h.reason.as_str(), h.queue),
        (Some(m), None) => format!("{} {} (confidence {:.3})", reply.action.as_str(), m.id, m.score),
        (None, None) => reply.action.as_str().to_owned(),
    };
    println!("决定 decision: {what}\n\n{}\n", reply.text);
    println!("{:>4}  {:>6}  {:>7}  {:>6}  {:<24}  question [matched]", "rank", "score", "lexical", "cosine", "id");
    for (i, m) in matches.iter().enumerate() {
        let cosine = m.cosine.map_or_else(|| "-".to_owned(), |c| format!("{c:.3}"));
        let question = kb.faq(&m.id).map_or("", |e| e.question.as_str());
        let matched = if m.matched == question { String::new() } else { format!(" [{}]", m.matched) };
        println!(
            "{:>4}  {:>6.3}  {:>7.3}  {:>6}  {:<24}  {question}{matched}",
            i + 1,
            m.score,
            m.lexical,
            cosine,
            m.id
        );
    }
}

fn match_json(kb: &KnowledgeBase, rank: usize, m: &FaqCandidate) -> Value {
    let entry = kb.faq(&m.id);
    json!({
        "rank": rank,
        "id": m.id,
        "question": entry.map(|e| e.question.as_str()),
        "matched": m.matched,
        "category": entry.map(|e| e.category.as_str()),
        "score": m.score,
        "lexical": m.lexical,
        "cosine": m.cosine,
    })
}
