//! Command-line arguments and dispatch. Each command lives in its own file.

mod ask;
mod chat;
mod check;
mod demo_backend;
mod eval;
mod eval_complaints;
mod learn;
mod report;
mod serve;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bizbot::bot::{Bot, Overrides, ReloadError};
use bizbot::embed::Encoder;
use bizbot::{Config, Engine, KnowledgeBase};
use clap::{Parser, Subcommand};

/// Exit code for invalid knowledge or input (clap uses 2 for usage errors too).
pub(crate) const EXIT_INVALID: u8 = 2;

/// bizbot: a runtime for Chinese customer-service business bots.
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Args {
    /// Config file (TOML); defaults are compiled in, BIZBOT__SECTION__KEY overrides.
    #[arg(long, global = true, env = "BIZBOT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate knowledge: exit 0 when clean, 2 with every problem listed.
    Check(check::CheckArgs),
    /// One question: top matches, scores and the decision.
    Ask(ask::AskArgs),
    /// Accuracy on a labelled query set.
    Eval(eval::EvalArgs),
    /// Precision and recall of complaint detection on a labelled set.
    EvalComplaints(eval_complaints::EvalComplaintsArgs),
    /// An interactive session in the terminal.
    Chat(chat::ChatArgs),
    /// Answer rate (overall, by channel, by category), hand-offs by reason and by
    /// day, ratings and unanswered questions from the turn log.
    Report(report::ReportArgs),
    /// Review files for knowledge editors from the turn log (confirmed customer
    /// wordings, unanswered questions grouped by meaning, poorly rated entries);
    /// `--accept FILE` writes accepted similar questions into the knowledge.
    Learn(learn::LearnArgs),
    /// The HTTP service.
    Serve(serve::ServeArgs),
    /// The demo company's CRM and shop back-ends (for the demo scenarios).
    DemoBackend(demo_backend::DemoBackendArgs),
}

/// The config file: `--config`, else `./bizbot.toml` when it exists, else none
/// (compiled-in defaults and environment only).
fn config_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| Some(PathBuf::from("bizbot.toml")).filter(|p| p.is_file()))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Command::DemoBackend(a) = &args.command {
        return demo_backend::run(a);
    }
    let config_file = config_path(args.config);
    let config = bizbot::config::load(config_file.as_deref()).context("loading the configuration")?;
    match args.command {
        Command::Check(a) => check::run(&config, &a),
        Command::Ask(a) => ask::run(&config, config_file, &a),
        Command::Eval(a) => eval::run(&config, config_file, &a),
        Command::EvalComplaints(a) => eval_complaints::run(&config, &a),
        Command::Chat(a) => chat::run(config, config_file, &a),
        Command::Report(a) => report::run(&config, &a),
        Command::Learn(a) => learn::run(&config, &a),
        Command::Serve(a) => serve::run(config, config_file, &a),
        Command::DemoBackend(_) => unreachable!("handled above"),
    }
}

/// The knowledge path: the flag, else the config's.
pub(crate) fn knowledge_path<'a>(config: &'a Config, flag: Option<&'a Path>) -> &'a Path {
    flag.unwrap_or(&config.knowledge.path)
}

/// Load knowledge, or print every problem and return the exit code.
pub(crate) fn load_knowledge(path: &Path) -> Result<KnowledgeBase, ExitCode> {
    KnowledgeBase::load(path).map_err(|e| {
        print_problems(e.problems(), path);
        ExitCode::from(EXIT_INVALID)
    })
}

/// The encoder; `None` when the model is disabled (`model.enabled = false`: bizbot
/// runs lexical-only). A model that is enabled but cannot be loaded is an error:
/// a bot that quietly lost its model answers much worse.
pub(crate) fn encoder(config: &Config) -> anyhow::Result<Option<Arc<dyn Encoder>>> {
    match bizbot::engine::load_encoder(&config.model) {
        Ok(Some(e)) if config.model.query_cache > 0 => {
            Ok(Some(Arc::new(bizbot::embed::QueryCache::new(e, config.model.query_cache))))
        }
        Ok(Some(e)) => Ok(Some(e)),
        Ok(None) => {
            tracing::info!("embedding model disabled (model.enabled = false): lexical-only retrieval");
            Ok(None)
        }
        Err(e) => Err(anyhow::anyhow!(
            "the embedding model (model.model_dir = {}) cannot be loaded: {e}\n\
             run ./scripts/setup.sh to fetch it, point model.model_dir and model.runtime_library at it \
             (relative paths are read from the config file's folder), or set model.enabled = false \
             for lexical-only retrieval",
            config.model.model_dir.display()
        )),
    }
}

/// Load knowledge and build the engine.
pub(crate) fn engine(config: &Config, knowledge: Option<&Path>) -> anyhow::Result<Result<Engine, ExitCode>> {
    let kb = match load_knowledge(knowledge_path(config, knowledge)) {
        Ok(kb) => kb,
        Err(code) => return Ok(Err(code)),
    };
    let engine = Engine::build(kb, &config.engine_settings(), encoder(config)?).context("indexing the knowledge")?;
    Ok(Ok(engine))
}

/// Start the bot on `config`'s knowledge, or print every knowledge problem and
/// return the exit code.
pub(crate) fn start_bot(
    config: Config,
    config_path: Option<PathBuf>,
    overrides: Overrides,
) -> anyhow::Result<Result<Bot, ExitCode>> {
    let encoder = encoder(&config)?;
    let path = overrides.knowledge.clone().unwrap_or_else(|| config.knowledge.path.clone());
    match Bot::with_overrides(config, config_path, overrides, encoder) {
        Ok(bot) => Ok(Ok(bot)),
        Err(ReloadError::Knowledge(e)) => {
            print_problems(e.problems(), &path);
            Ok(Err(ExitCode::from(EXIT_INVALID)))
        }
        Err(e) => Err(e).context("starting the bot"),
    }
}

fn print_problems(problems: &[bizbot::knowledge::Problem], path: &Path) {
    for p in problems {
        eprintln!("{p}");
    }
    eprintln!("{} problem(s) in {}", problems.len(), path.display());
}
