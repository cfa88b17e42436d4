//! `bizbot eval-complaints`: precision and recall of complaint detection.

use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::Config;
use bizbot::eval::complaints::{load_labelled, run as run_eval};
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct EvalComplaintsArgs {
    /// Labelled texts: CSV with columns text,label (complaint|other).
    #[arg(long)]
    data: PathBuf,
    /// Print one JSON object: {data, model, results: [{detector, precision, recall, f1, false_alarm_rate}]}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(config: &Config, args: &EvalComplaintsArgs) -> anyhow::Result<ExitCode> {
    let engine = match super::engine(config, None)? {
        Ok(engine) => engine,
        Err(code) => return Ok(code),
    };
    let rows = match load_labelled(&args.data) {
        Ok(rows) => rows,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
    };
    let results = run_eval(&engine, &config.escalation, &rows)?;
    if args.json {
        println!("{}", serde_json::json!({"data": args.data, "model": engine.has_dense(), "results": results}));
        return Ok(ExitCode::SUCCESS);
    }
    let complaints = rows.iter().filter(|r| r.complaint).count();
    println!("{} texts: {complaints} complaints, {} other\n", rows.len(), rows.len() - complaints);
    println!("{:<16} {:>9} {:>7} {:>6} {:>12}", "detector", "precision", "recall", "F1", "false alarms");
    for r in &results {
        println!(
            "{:<16} {:>9.3} {:>7.3} {:>6.3} {:>12.3}",
            r.detector, r.precision, r.recall, r.f1, r.false_alarm_rate
        );
    }
    println!(
        "\n\"combined\" is the configured detector (escalation.complaint_phrases + complaint_threshold = {}).",
        config.escalation.complaint_threshold
    );
    Ok(ExitCode::SUCCESS)
}
