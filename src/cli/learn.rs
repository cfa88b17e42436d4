//! `bizbot learn`: review files for knowledge editors from the turn log, and
//! `bizbot learn --accept FILE` to write accepted similar questions into the
//! knowledge.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bizbot::Config;
use bizbot::index::Mode;
use bizbot::learn::{self, accept};
use bizbot::turnlog::read_log;
use clap::Parser;
use serde_json::json;

/// Average cosine (of embeddings centred on the knowledge's mean) at which two
/// groups of unanswered texts merge.
const CLUSTER_THRESHOLD: f32 = 0.38;
/// Most distinct unanswered texts clustered (the most frequent); the rest are
/// counted but not listed.
const MAX_CLUSTERED: usize = 1500;
/// Examples listed per cluster.
const EXAMPLES: usize = 8;

#[derive(Debug, Parser)]
pub(crate) struct LearnArgs {
    /// Turn log(s) to read (default: log.path); repeat for rotated files.
    #[arg(long)]
    log: Vec<PathBuf>,
    /// Folder for the review files: similar-questions.csv, unanswered-clusters.md
    /// and .json, poor-entries.csv.
    #[arg(long, required_unless_present = "accept")]
    out: Option<PathBuf>,
    /// Write the rows of this similar-questions.csv (as edited by a reviewer:
    /// delete the rows you reject) into the knowledge files, then validate.
    #[arg(long, conflicts_with_all = ["log", "out"])]
    accept: Option<PathBuf>,
    /// Knowledge folder or file (default: knowledge.path).
    #[arg(long)]
    knowledge: Option<PathBuf>,
}

pub(crate) fn run(config: &Config, args: &LearnArgs) -> anyhow::Result<ExitCode> {
    let knowledge = super::knowledge_path(config, args.knowledge.as_deref()).to_owned();
    if let Some(file) = &args.accept {
        return run_accept(&knowledge, file);
    }
    let out = args.out.as_ref().expect("clap requires --out without --accept");
    let paths = if args.log.is_empty() { vec![config.log.path.clone()] } else { args.log.clone() };
    let mut records = Vec::new();
    for path in &paths {
        match read_log(path) {
            Ok((r, problems)) => {
                records.extend(r);
                if !problems.is_empty() {
                    eprintln!("{}: {} malformed line(s) skipped", path.display(), problems.len());
                }
            }
            Err(p) => {
                eprintln!("{p}");
                return Ok(ExitCode::from(super::EXIT_INVALID));
            }
        }
    }
    let engine = match super::engine(config, Some(&knowledge))? {
        Ok(e) => e,
        Err(code) => return Ok(code),
    };
    let kb = engine.knowledge();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    // (a) confirmed wordings not yet in the knowledge.
    let norm = |t: &str| bizbot::text::normalize(t, &config.text);
    let known: std::collections::HashSet<String> = kb.faqs.iter().flat_map(|f| f.questions().map(norm)).collect();
    let proposals: Vec<_> =
        learn::confirmed_wordings(&records).into_iter().filter(|p| !known.contains(&norm(&p.wording))).collect();
    let mut csv = ::csv::Writer::from_path(out.join("similar-questions.csv"))?;
    csv.write_record(["id", "similar", "count", "evidence", "question"])?;
    for p in &proposals {
        let question = kb.faq(&p.entry).map_or("", |e| e.question.as_str());
        csv.write_record([&p.entry, &p.wording, &p.count.to_string(), p.evidence.as_str(), question])?;
    }
    csv.flush()?;

    // (b) unanswered texts clustered by meaning, each with its nearest entry.
    let mut texts = learn::unanswered_texts(&records);
    if texts.len() > MAX_CLUSTERED {
        eprintln!("{} distinct unanswered texts: the {MAX_CLUSTERED} most frequent are clustered", texts.len());
        texts.truncate(MAX_CLUSTERED);
    }
    let weights: Vec<usize> = texts.iter().map(|(_, n)| *n).collect();
    let vectors: Vec<Vec<f32>> = match engine.retriever().dense_mean() {
        Some(mean) => texts
            .iter()
            .map(|(t, _)| {
                engine.embed_query(t).map(|v| v.unwrap_or_default().iter().zip(&mean).map(|(x, m)| x - m).collect())
            })
            .collect::<Result<_, _>>()
            .context("embedding unanswered texts")?,
        None => {
            eprintln!("no embedding model: unanswered texts are grouped only when identical");
            (0..texts.len()).map(|i| (0..texts.len()).map(|j| f32::from(u8::from(i == j))).collect()).collect()
        }
    };
    let clusters = learn::cluster(&vectors, &weights, CLUSTER_THRESHOLD);
    let clarify = config.thresholds.clarify;
    let mut md = String::from("# Unanswered questions, grouped by meaning\n\n");
    let mut json_clusters = Vec::new();
    for (k, members) in clusters.iter().enumerate() {
        let size: usize = members.iter().map(|&i| weights[i]).sum();
        let examples: Vec<(&str, usize)> =
            members.iter().take(EXAMPLES).map(|&i| (texts[i].0.as_str(), weights[i])).collect();
        let nearest = engine.search(&texts[members[0]].0, 1, Mode::Hybrid)?.into_iter().next();
        let nearest = nearest.filter(|m| m.confidence >= clarify);
        let _ = writeln!(md, "## {}. {} ({size} turns, {} wordings)\n", k + 1, examples[0].0, members.len());
        match &nearest {
            Some(m) => {
                let _ = writeln!(
                    md,
                    "nearest entry: `{}` {} (confidence {:.2})\n",
                    m.entry.id, m.entry.question, m.confidence
                );
            }
            None => md.push_str("**new entry needed**\n\n"),
        }
        for (text, n) in &examples {
            let _ = writeln!(md, "- {text} ×{n}");
        }
        md.push('\n');
        json_clusters.push(json!({
            "size": size,
            "wordings": members.len(),
            "examples": examples.iter().map(|(t, n)| json!({"text": t, "count": n})).collect::<Vec<_>>(),
            "nearest": nearest.as_ref().map(|m| json!({"id": m.entry.id.as_str(), "question": m.entry.question, "confidence": m.confidence})),
            "new_entry_needed": nearest.is_none(),
        }));
    }
    std::fs::write(out.join("unanswered-clusters.md"), md)?;
    std::fs::write(out.join("unanswered-clusters.json"), serde_json::to_string_pretty(&json_clusters)?)?;

    // (c) entries customers were not helped by.
    let poor = learn::poor_entries(&records);
    let mut csv = ::csv::Writer::from_path(out.join("poor-entries.csv"))?;
    csv.write_record(["id", "question", "answered", "helpful", "not_helpful", "handed_off_after"])?;
    for e in &poor {
        let question = kb.faq(&e.entry).map_or("", |f| f.question.as_str());
        csv.write_record([
            e.entry.as_str(),
            question,
            &e.answered.to_string(),
            &e.helpful.to_string(),
            &e.not_helpful.to_string(),
            &e.handed_off_after.to_string(),
        ])?;
    }
    csv.flush()?;
    println!(
        "{} turns read; {} similar-question proposals, {} clusters of unanswered questions ({} need a new entry), {} poorly rated entries → {}",
        records.iter().filter(|r| r.action != "feedback").count(),
        proposals.len(),
        clusters.len(),
        json_clusters.iter().filter(|c| c["new_entry_needed"] == true).count(),
        poor.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_accept(knowledge: &Path, file: &Path) -> anyhow::Result<ExitCode> {
    let mut reader = ::csv::Reader::from_path(file).with_context(|| format!("reading {}", file.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id), Some(similar)) = (col("id"), col("similar")) else {
        eprintln!("{}:1: header: needs columns id and similar", file.display());
        return Ok(ExitCode::from(super::EXIT_INVALID));
    };
    let mut proposals = Vec::new();
    for row in reader.records() {
        let row = row.with_context(|| format!("reading {}", file.display()))?;
        proposals.push((row.get(id).unwrap_or("").trim().to_owned(), row.get(similar).unwrap_or("").to_owned()));
    }
    match accept::accept(knowledge, &proposals) {
        Ok(done) => {
            for (id, wording, why) in &done.skipped {
                eprintln!("skipped {id}: {wording:?}: {why}");
            }
            println!(
                "added {} similar question(s) to {} file(s); {} skipped",
                done.added.len(),
                done.files.len(),
                done.skipped.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::from(super::EXIT_INVALID))
        }
    }
}
