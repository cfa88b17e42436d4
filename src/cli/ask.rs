//! `bizbot ask`: one question, its top matches and the decision.
//!
//! `--json` prints one object, a stable format:
//! `{query, normalized, terms, model, decision: {action, id?, candidates?}, matches:
//! [{rank, id, question, matched, category, score, lexical, cosine}]}` where
//! `action` is `answer`, `clarify` or `fallback`.

use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::Config;
use bizbot::engine::FaqMatch;
use bizbot::intent::MatchOutcome;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
pub(crate) struct AskArgs {
    /// Knowledge folder or single CSV/Markdown file (default: knowledge.path).
    #[arg(long)]
    knowledge: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Matches to show (default: retrieval.top_k).
    #[arg(short, long)]
    k: Option<usize>,
    /// The customer's question.
    text: String,
}

/// Longest question accepted, in characters.
const MAX_CHARS: usize = 2000;

pub(crate) fn run(config: &Config, args: &AskArgs) -> anyhow::Result<ExitCode> {
    let text = args.text.trim();
    if text.is_empty() || text.chars().count() > MAX_CHARS {
        eprintln!("error: the question must have 1 to {MAX_CHARS} characters");
        return Ok(ExitCode::from(super::EXIT_INVALID));
    }
    let engine = match super::engine(config, args.knowledge.as_deref())? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let k = args.k.unwrap_or(config.retrieval.top_k).max(1);
    let (matches, outcome) = engine.ask(text, k)?;
    let analyzer = engine.retriever().analyzer();
    let decision = match &outcome {
        MatchOutcome::Answer(hit) => {
            json!({"action": "answer", "id": engine.faq_match(hit.clone()).entry.id})
        }
        MatchOutcome::Clarify(hits) => json!({"action": "clarify",
            "candidates": hits.iter().map(|h| engine.faq_match(h.clone()).entry.id.clone()).collect::<Vec<_>>()}),
        MatchOutcome::NoMatch => json!({"action": "fallback"}),
    };
    if args.json {
        let out = json!({
            "query": text,
            "normalized": analyzer.normalize(text),
            "terms": analyzer.terms(text),
            "model": engine.has_dense(),
            "decision": decision,
            "matches": matches.iter().enumerate().map(|(i, m)| match_json(i + 1, m)).collect::<Vec<Value>>(),
        });
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("问题 query:  {text}");
    println!("分词 terms:  {}", analyzer.render(text));
    println!(
        "检索 mode:   {}",
        if engine.has_dense() { "hybrid (BM25 + embeddings)" } else { "lexical only (no model)" }
    );
    match &outcome {
        MatchOutcome::Answer(hit) => {
            let m = engine.faq_match(hit.clone());
            println!("决定 decision: answer with {} (confidence {:.3})", m.entry.id, hit.score);
            println!("\n{}\n", m.entry.answer);
        }
        MatchOutcome::Clarify(hits) => {
            println!("决定 decision: clarify — 您是不是想问：");
            for (i, h) in hits.iter().enumerate() {
                println!("  {}. {}", i + 1, engine.faq_match(h.clone()).entry.question);
            }
            println!();
        }
        MatchOutcome::NoMatch => println!("决定 decision: fallback (no entry is close enough)\n"),
    }
    println!("{:>4}  {:>6}  {:>7}  {:>6}  {:<20}  question [matched]", "rank", "score", "lexical", "cosine", "id");
    for (i, m) in matches.iter().enumerate() {
        let cosine = m.hit.cosine.map_or_else(|| "-".to_owned(), |c| format!("{c:.3}"));
        let matched = if m.matched == m.entry.question { String::new() } else { format!(" [{}]", m.matched) };
        println!(
            "{:>4}  {:>6.3}  {:>7.3}  {:>6}  {:<20}  {}{}",
            i + 1,
            m.hit.score,
            m.hit.lexical,
            cosine,
            m.entry.id,
            m.entry.question,
            matched
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn match_json(rank: usize, m: &FaqMatch<'_>) -> Value {
    json!({
        "rank": rank,
        "id": m.entry.id,
        "question": m.entry.question,
        "matched": m.matched,
        "category": m.entry.category,
        "score": m.hit.score,
        "lexical": m.hit.lexical,
        "cosine": m.hit.cosine,
    })
}
