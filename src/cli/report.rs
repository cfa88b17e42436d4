//! `bizbot report`: answer rate, hand-offs by reason, most frequent unanswered
//! questions, from the turn log.

use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::Config;
use bizbot::turnlog::{read_log, summarize};
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct ReportArgs {
    /// Turn log (default: log.path).
    #[arg(long)]
    log: Option<PathBuf>,
    /// Unanswered questions listed.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print one JSON object: {turns, answer_rate, actions, handoffs, unanswered: [[text, count]], bad_lines}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let path = args.log.clone().unwrap_or_else(|| config.log.path.clone());
    let (records, problems) = match read_log(&path) {
        Ok(r) => r,
        Err(p) => {
            eprintln!("{p}");
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
    };
    for p in problems.iter().take(10) {
        eprintln!("skipped {p}");
    }
    let report = summarize(&records, args.top);
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["bad_lines"] = problems.len().into();
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} turns in {}; answered {:.1}%", report.turns, path.display(), report.answer_rate * 100.0);
    println!("\nturns by action:");
    for (action, n) in &report.actions {
        println!("  {action:<10} {n}");
    }
    println!("\nhand-offs by reason:");
    for (reason, n) in &report.handoffs {
        println!("  {reason:<16} {n}");
    }
    println!("\nmost frequent unanswered questions:");
    for (text, n) in &report.unanswered {
        println!("  {n:>5}  {text}");
    }
    if !problems.is_empty() {
        eprintln!("\n{} malformed line(s) skipped", problems.len());
    }
    Ok(ExitCode::SUCCESS)
}
