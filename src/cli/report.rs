//! `bizbot report`: answer rate, hand-offs by reason, most frequent unanswered
//! questions, from the turn log.

use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::Config;
use bizbot::turnlog::{read_log, summarize_with};
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct ReportArgs {
    /// Turn log (default: log.path); repeat to read rotated files too
    /// (`--log logs/turns.jsonl.1 --log logs/turns.jsonl`).
    #[arg(long)]
    log: Vec<PathBuf>,
    /// Unanswered questions listed.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print one JSON object: {turns, answer_rate, actions, handoffs, unanswered: [[text, count]],
    /// by_channel, by_category: {name: {turns, answered, answer_rate}},
    /// by_day: {YYYY-MM-DD: {turns, handoffs, handoff_rate, reasons}}, follow_ups: {turns, answered,
    /// answer_rate}, unanswered_follow_ups: [[text, count]], people: {conversations,
    /// resolved_by_bot, handed_off, claimed, resolved_by_person, unresolved_by_person,
    /// waits_run_out, waiting_ms: {count, median, p90}, handling_ms: {…}}, bad_lines}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let paths = if args.log.is_empty() { vec![config.log.path.clone()] } else { args.log.clone() };
    let (mut records, mut problems) = (Vec::new(), Vec::new());
    for path in &paths {
        match read_log(path) {
            Ok((r, p)) => {
                records.extend(r);
                problems.extend(p);
            }
            Err(p) => {
                eprintln!("{p}");
                return Ok(ExitCode::from(super::EXIT_INVALID));
            }
        }
    }
    let path = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    for p in problems.iter().take(10) {
        eprintln!("skipped {p}");
    }
    // Categories come from the configured knowledge; without it they read "(unknown)".
    let categories: std::collections::HashMap<String, String> =
        bizbot::knowledge::KnowledgeBase::load(&config.knowledge.path)
            .map(|kb| kb.faqs.iter().map(|f| (f.id.to_string(), f.category.clone())).collect())
            .unwrap_or_default();
    let report = summarize_with(&records, args.top, |id| categories.get(id).cloned());
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["bad_lines"] = problems.len().into();
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} turns in {path}; answered {:.1}%", report.turns, report.answer_rate * 100.0);
    println!("\nturns by action:");
    for (action, n) in &report.actions {
        println!("  {action:<10} {n}");
    }
    println!("\nhand-offs by reason:");
    for (reason, n) in &report.handoffs {
        println!("  {reason:<16} {n}");
    }
    for (title, groups) in
        [("answer rate by channel:", &report.by_channel), ("answer rate by category:", &report.by_category)]
    {
        println!("\n{title}");
        for (name, s) in groups {
            println!("  {:<16} {:>6} turns  {:>5.1}%", printable(name), s.turns, s.answer_rate * 100.0);
        }
    }
    println!("\nhand-offs by day (UTC):");
    for (day, d) in &report.by_day {
        let reasons: Vec<String> = d.reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        println!("  {day} {:>6} turns  {:>5.1}% handed off  {}", d.turns, d.handoff_rate * 100.0, reasons.join(", "));
    }
    let c = &report.csat;
    println!(
        "\nconversation ratings: {} rated, mean {:.2}, CSAT (4–5) {:.1}%; answers rated 👍 {} 👎 {}",
        c.overall.ratings,
        c.overall.mean,
        c.overall.satisfied * 100.0,
        report.ratings.helpful,
        report.ratings.not_helpful
    );
    for (title, groups) in [("  by hand-off reason:", &c.by_handoff_reason), ("  by category:", &c.by_category)] {
        if !groups.is_empty() {
            println!("{title}");
        }
        for (name, s) in groups {
            println!(
                "    {:<16} {:>5} rated  mean {:.2}  CSAT {:>5.1}%",
                printable(name),
                s.ratings,
                s.mean,
                s.satisfied * 100.0
            );
        }
    }
    println!("\nmost frequent unanswered questions:");
    for (text, n) in &report.unanswered {
        println!("  {n:>5}  {}", printable(text));
    }
    let f = &report.follow_ups;
    println!(
        "\nfollow-ups read with their context: {} turns, answered {:.1}%; most frequent still unanswered:",
        f.turns,
        f.answer_rate * 100.0
    );
    for (text, n) in &report.unanswered_follow_ups {
        println!("  {n:>5}  {}", printable(text));
    }
    let p = &report.people;
    println!(
        "\nconversations: {}; solved by the bot {}; handed to a person {} (claimed {}, solved {}, not solved {}, waits run out {})",
        p.conversations,
        p.resolved_by_bot,
        p.handed_off,
        p.claimed,
        p.resolved_by_person,
        p.unresolved_by_person,
        p.waits_run_out
    );
    let secs = |ms: u64| ms as f64 / 1000.0;
    println!(
        "  waiting for a person: median {:.0} s, 90% within {:.0} s; with the agent: median {:.0} s, 90% within {:.0} s",
        secs(p.waiting_ms.median),
        secs(p.waiting_ms.p90),
        secs(p.handling_ms.median),
        secs(p.handling_ms.p90)
    );
    if !problems.is_empty() {
        eprintln!("\n{} malformed line(s) skipped", problems.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `text` on one line with nothing a terminal acts on: control characters
/// (newlines, ANSI escapes) are shown escaped, so logged customer text cannot
/// forge report lines.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn customer_text_cannot_forge_lines() {
        assert_eq!(super::printable("退货\n    99  伪造\u{1b}[31m"), "退货\\n    99  伪造\\u{1b}[31m");
        assert_eq!(super::printable("正常的问题"), "正常的问题");
    }
}
