//! `bizbot eval`: recall@1/@3, MRR and precision/coverage per threshold on a
//! labelled query set, per retrieval mode; then every message as the first turn of
//! a new session, decided as a chat turn: answered right, clarified, declined,
//! handed off, routed, and predicted vs observed precision per confidence band.
//! With `--conversations`, labelled multi-turn conversations, each in one session.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bizbot::Config;
use bizbot::dialogue::UserInfo;
use bizbot::eval::conversations::{Conversation, load_conversations, metrics as conversation_metrics};
use bizbot::eval::dialogue::{DialogueMetrics, TurnOutcome};
use bizbot::eval::{LabelledQuery, Metrics, load_queries, run as run_eval};
use bizbot::index::Mode;
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct EvalArgs {
    /// Knowledge folder or single CSV/Markdown file.
    #[arg(long)]
    knowledge: PathBuf,
    /// Labelled queries: CSV with columns query,expected_id (empty id = out of
    /// scope), or text,expected,kind (kind faq, scenario, oos, complaint, human).
    #[arg(long, required_unless_present = "conversations", conflicts_with = "conversations")]
    queries: Option<PathBuf>,
    /// Labelled conversations instead: CSV conversation,text,expected,kind,user,
    /// each conversation (its rows in order) played in one session.
    #[arg(long)]
    conversations: Option<PathBuf>,
    /// Modes to evaluate (repeatable); default: lexical, dense and hybrid.
    #[arg(long, value_enum)]
    mode: Vec<Mode>,
    /// Also rank with the embedding model used plainly (each entry by its best
    /// question's cosine; no hubness reduction, lexical part or calibration): the
    /// baseline the dense and hybrid modes are compared with.
    #[arg(long)]
    baseline: bool,
    /// Print one JSON object: {knowledge, queries, model, results: [Metrics…]}.
    #[arg(long)]
    json: bool,
    /// Write every message the bot got wrong as a chat turn to this CSV file
    /// (line, kind, expected, text, action, matched, confidence, candidates, reason).
    #[arg(long)]
    misses: Option<PathBuf>,
}

pub(crate) fn run(config: &Config, config_path: Option<PathBuf>, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.conversations {
        return run_conversations(config, config_path, args, file);
    }
    let query_file = args.queries.as_ref().expect("clap requires --queries without --conversations");
    let engine = match super::engine(config, Some(&args.knowledge))? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let queries = match loaded(load_queries(query_file, engine.knowledge()), query_file) {
        Ok(q) => q,
        Err(code) => return Ok(code),
    };
    let mut modes =
        if args.mode.is_empty() { vec![Mode::Lexical, Mode::Dense, Mode::Hybrid] } else { args.mode.clone() };
    if !engine.has_dense() {
        let before = modes.len();
        modes.retain(|m| *m == Mode::Lexical);
        if modes.len() < before {
            tracing::warn!("no embedding model: evaluating lexical mode only");
        }
        if modes.is_empty() {
            modes.push(Mode::Lexical);
        }
    }
    let started = Instant::now();
    let mut results = run_eval(&engine, &queries, &modes)?;
    if args.baseline {
        match bizbot::eval::run_plain(&engine, &queries)? {
            Some(plain) => results.push(plain),
            None => tracing::warn!("no embedding model: no plain baseline"),
        }
    }
    drop(engine);
    let outcomes = match run_dialogue(config, config_path, &args.knowledge, &queries)? {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let dialogue = bizbot::eval::dialogue::metrics(&queries, &outcomes);
    if let Some(path) = &args.misses {
        write_misses(path, &queries, &outcomes)
            .map_err(|e| anyhow::anyhow!("writing misses to {}: {e}", path.display()))?;
    }
    let elapsed = started.elapsed();
    if args.json {
        let out = serde_json::json!({
            "knowledge": args.knowledge, "queries": query_file, "model": !modes.iter().all(|m| *m == Mode::Lexical),
            "seconds": elapsed.as_secs_f64(), "results": results, "dialogue": dialogue,
        });
        println!("{out}");
    } else {
        print_table(&results, config.thresholds.answer);
        print_dialogue(&dialogue);
        eprintln!("{} queries × {} mode(s) and as turns in {:.1}s", queries.len(), modes.len(), elapsed.as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

/// A labelled file as loaded, or every problem in it printed and the exit code
/// for invalid input.
fn loaded<T>(result: Result<T, Vec<bizbot::knowledge::Problem>>, file: &std::path::Path) -> Result<T, ExitCode> {
    result.map_err(|problems| {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s) in {}", problems.len(), file.display());
        ExitCode::from(super::EXIT_INVALID)
    })
}

/// A bot on `knowledge` that writes no turn log and hands off to nobody: the
/// bot's own decisions are measured, and after a hand-off it answers on.
fn eval_bot(
    config: &Config,
    config_path: Option<PathBuf>,
    knowledge: &std::path::Path,
) -> anyhow::Result<Result<bizbot::bot::Bot, ExitCode>> {
    let mut config = config.clone();
    config.log.path = PathBuf::new();
    config.desk.live_agents = false;
    config.desk.webhook_url.clear();
    let overrides = bizbot::bot::Overrides { knowledge: Some(knowledge.to_path_buf()), bind: None };
    super::start_bot(config, config_path, overrides)
}

/// What a reply did, as far as the figures need.
fn outcome(reply: &bizbot::dialogue::Reply) -> TurnOutcome {
    TurnOutcome {
        action: reply.action.as_str().to_owned(),
        matched: reply.matched.as_ref().map(|m| m.id.clone()),
        confidence: reply.matched.as_ref().map(|m| m.score),
        candidates: reply.candidates.iter().map(|c| c.id.clone()).collect(),
        scores: reply.candidates.iter().map(|c| c.score.unwrap_or(0.0)).collect(),
        reason: reply.handoff.as_ref().map(|h| h.reason.as_str().to_owned()),
    }
}

/// Every query as the first turn of a new session of a bot on `knowledge`.
fn run_dialogue(
    config: &Config,
    config_path: Option<PathBuf>,
    knowledge: &std::path::Path,
    queries: &[LabelledQuery],
) -> anyhow::Result<Result<Vec<TurnOutcome>, ExitCode>> {
    let bot = match eval_bot(config, config_path, knowledge)? {
        Ok(bot) => bot,
        Err(code) => return Ok(Err(code)),
    };
    let user = UserInfo::default();
    let mut outcomes = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        outcomes.push(outcome(&bot.reply(&format!("eval-{i}"), &q.text, &user, None)?));
    }
    Ok(Ok(outcomes))
}

/// `--conversations`: every conversation in its own session, its turns in order.
fn run_conversations(
    config: &Config,
    config_path: Option<PathBuf>,
    args: &EvalArgs,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let bot = match eval_bot(config, config_path, &args.knowledge)? {
        Ok(bot) => bot,
        Err(code) => return Ok(code),
    };
    let conversations = match loaded(load_conversations(file, bot.snapshot().engine.knowledge()), file) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(conversations.len());
    for c in &conversations {
        let user = UserInfo { id: c.user.clone(), ..UserInfo::default() };
        let session = format!("eval-conversation-{}", c.id);
        let mut turns = Vec::with_capacity(c.turns.len());
        for q in &c.turns {
            turns.push(outcome(&bot.reply(&session, &q.text, &user, None)?));
        }
        outcomes.push(turns);
    }
    let m = conversation_metrics(&conversations, &outcomes);
    if let Some(path) = &args.misses {
        write_conversation_misses(path, &conversations, &outcomes)
            .map_err(|e| anyhow::anyhow!("writing misses to {}: {e}", path.display()))?;
    }
    if args.json {
        let out = serde_json::json!({"knowledge": args.knowledge, "conversations": file, "model": bot.snapshot().engine.has_dense(),
            "seconds": started.elapsed().as_secs_f64(), "metrics": m});
        println!("{out}");
    } else {
        println!("{} conversations, {} turns ({} expecting an answer)", m.conversations, m.turns, m.answer_turns);
        let rows = [
            ("conversations right end to end", m.right_end_to_end),
            ("turns right", m.turns_right),
            ("answer turns answered right", m.answered_right),
            ("answer turns answered right or offered", m.answered_or_offered),
        ];
        for (what, value) in rows {
            println!("  {what:<42} {value:>6.3}");
        }
        println!(
            "  {:<42} {:>6} (in {} conversations)",
            "false \"unresolved\" hand-offs", m.false_unresolved_handoffs, m.conversations_falsely_handed_off
        );
        eprintln!("{} turns in {:.1}s", m.turns, started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}

/// The columns of a turn that went wrong, after any that say where it was.
const MISS_COLUMNS: [&str; 9] =
    ["line", "kind", "expected", "text", "action", "matched", "confidence", "candidates", "reason"];

/// A turn that went wrong, as [`MISS_COLUMNS`].
fn miss_row(q: &LabelledQuery, o: &TurnOutcome) -> [String; 9] {
    [
        q.line.to_string(),
        q.kind.as_str().to_owned(),
        q.expected.clone().unwrap_or_default(),
        q.text.clone(),
        o.action.clone(),
        o.matched.clone().unwrap_or_default(),
        o.confidence.map(|c| format!("{c:.3}")).unwrap_or_default(),
        o.candidates.iter().zip(&o.scores).map(|(c, s)| format!("{c}:{s:.2}")).collect::<Vec<_>>().join(" "),
        o.reason.clone().unwrap_or_default(),
    ]
}

fn write_conversation_misses(
    path: &std::path::Path,
    conversations: &[Conversation],
    outcomes: &[Vec<TurnOutcome>],
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(path)?;
    out.write_record(["conversation", "turn"].into_iter().chain(MISS_COLUMNS))?;
    for (c, turns) in conversations.iter().zip(outcomes) {
        for (n, (q, o)) in c.turns.iter().zip(turns).enumerate() {
            if !bizbot::eval::dialogue::succeeded(q, o) {
                out.write_record([c.id.clone(), (n + 1).to_string()].into_iter().chain(miss_row(q, o)))?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn write_misses(path: &std::path::Path, queries: &[LabelledQuery], outcomes: &[TurnOutcome]) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(path)?;
    out.write_record(MISS_COLUMNS)?;
    for (q, o) in queries.iter().zip(outcomes) {
        if !bizbot::eval::dialogue::succeeded(q, o) {
            out.write_record(miss_row(q, o))?;
        }
    }
    out.flush()?;
    Ok(())
}

fn print_dialogue(d: &DialogueMetrics) {
    let counts: Vec<String> = d.counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    println!("\nas chat turns (each the first turn of a new session): {}", counts.join(", "));
    let rows = [
        ("faq", "answered with the right entry", d.faq_answered_right),
        ("faq", "answered with a wrong entry", d.faq_answered_wrong),
        ("faq", "answered, or offered the right entry", d.faq_answered_or_clarified),
        ("faq", "handed off as a complaint (false alarm)", d.faq_complaint_alarms),
        ("faq", "handed off as asking for a person (false alarm)", d.faq_human_alarms),
        ("all", "answer precision (right / all answers)", d.answer_precision),
        ("oos", "declined (neither answered nor routed)", d.oos_declined),
        ("human", "handed off", d.human_handed_off),
        ("complaint", "handed off", d.complaint_handed_off),
        ("scenario", "routed to the scenario", d.scenario_routed),
        ("scenario", "… or offered in a clarification", d.scenario_routed_or_offered),
    ];
    for (kind, what, value) in rows {
        if kind == "all" || d.counts.get(kind).is_some_and(|n| *n > 0) {
            println!("  {kind:<10} {what:<46} {value:>6.3}");
        }
    }
    println!("\n  answers by confidence: {:>9}  {:>7}  {:>9}  {:>8}", "band", "answers", "predicted", "observed");
    for b in &d.calibration {
        println!(
            "  {:>33}  {:>7}  {:>9.3}  {:>8.3}",
            format!("{:.1}–{:.1}", b.from, b.to),
            b.answers,
            b.predicted,
            b.observed
        );
    }
}

fn print_table(results: &[Metrics], answer_threshold: f32) {
    if let Some(m) = results.first() {
        println!("{} queries: {} in scope, {} out of scope\n", m.queries, m.in_scope, m.out_of_scope);
    }
    println!("{:<8}  {:>8}  {:>8}  {:>6}", "mode", "recall@1", "recall@3", "MRR");
    for m in results {
        println!(
            "{:<8}  {:>8.3}  {:>8.3}  {:>6.3}",
            format!("{:?}", m.mode).to_lowercase(),
            m.recall_at_1,
            m.recall_at_3,
            m.mrr
        );
    }
    for m in results {
        println!("\n{} — answering at or above a threshold:", format!("{:?}", m.mode).to_lowercase());
        println!("{:>9}  {:>8}  {:>9}  {:>13}", "threshold", "coverage", "precision", "oos answered");
        for p in &m.thresholds {
            let mark = if (p.threshold - answer_threshold).abs() < 0.025 { "  ← thresholds.answer" } else { "" };
            println!(
                "{:>9.2}  {:>8.3}  {:>9.3}  {:>13.3}{mark}",
                p.threshold, p.coverage, p.precision, p.out_of_scope_answered
            );
        }
    }
}
