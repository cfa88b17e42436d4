//! `bizbot check`: validate knowledge.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use bizbot::{Config, KnowledgeBase};
use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
pub(crate) struct CheckArgs {
    /// Knowledge folder or single CSV/Markdown file (default: knowledge.path).
    #[arg(long)]
    knowledge: Option<PathBuf>,
    /// Print one JSON object: {ok, entries, files, categories, problems: [{file, line, field, message}]}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(config: &Config, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let path = super::knowledge_path(config, args.knowledge.as_deref());
    match KnowledgeBase::load(path) {
        Ok(kb) => {
            let categories: BTreeSet<&str> = kb.faqs.iter().map(|f| f.category.as_str()).collect();
            if args.json {
                let out = json!({"ok": true, "entries": kb.faqs.len(), "files": kb.files.len(),
                    "categories": categories.len(), "scenarios": kb.scenarios.len(), "problems": []});
                println!("{out}");
            } else {
                println!(
                    "ok: {} entries in {} categories, {} scenario(s) from {} file(s), {} synonym group(s), {} user word(s)",
                    kb.faqs.len(),
                    categories.len(),
                    kb.scenarios.len(),
                    kb.files.len(),
                    kb.vocabulary.synonym_groups.len(),
                    kb.vocabulary.user_words.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if args.json {
                println!("{}", json!({"ok": false, "problems": e.problems()}));
            } else {
                for p in e.problems() {
                    println!("{p}");
                }
                eprintln!("{} problem(s) in {}", e.problems().len(), path.display());
            }
            Ok(ExitCode::from(super::EXIT_INVALID))
        }
    }
}
