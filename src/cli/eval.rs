//! `bizbot eval`: recall@1/@3, MRR and precision/coverage per threshold on a
//! labelled query set, per retrieval mode.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bizbot::Config;
use bizbot::eval::{Metrics, load_queries, run as run_eval};
use bizbot::index::Mode;
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct EvalArgs {
    /// Knowledge folder or single CSV/Markdown file.
    #[arg(long)]
    knowledge: PathBuf,
    /// Labelled queries: CSV with columns query,expected_id (empty id = out of scope).
    #[arg(long)]
    queries: PathBuf,
    /// Modes to evaluate (repeatable); default: lexical, dense and hybrid.
    #[arg(long, value_enum)]
    mode: Vec<Mode>,
    /// Print one JSON object: {knowledge, queries, model, results: [Metrics…]}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(config: &Config, args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let engine = match super::engine(config, Some(&args.knowledge))? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let queries = match load_queries(&args.queries, engine.knowledge()) {
        Ok(q) => q,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) in {}", problems.len(), args.queries.display());
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
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
    let results = run_eval(&engine, &queries, &modes)?;
    let elapsed = started.elapsed();
    if args.json {
        let out = serde_json::json!({
            "knowledge": args.knowledge, "queries": args.queries, "model": engine.has_dense(),
            "seconds": elapsed.as_secs_f64(), "results": results,
        });
        println!("{out}");
    } else {
        print_table(&results, config.thresholds.answer);
        eprintln!("{} queries × {} mode(s) in {:.1}s", queries.len(), modes.len(), elapsed.as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
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
