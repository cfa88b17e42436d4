//! `bizbot serve`: the HTTP service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bizbot::Config;
use bizbot::bot::Overrides;
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct ServeArgs {
    /// Listen address (default: server.bind).
    #[arg(long)]
    bind: Option<String>,
    /// Knowledge folder or single CSV/Markdown file (default: knowledge.path).
    #[arg(long)]
    knowledge: Option<PathBuf>,
}

pub(crate) fn run(config: Config, config_path: Option<PathBuf>, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides { knowledge: args.knowledge.clone(), bind: args.bind.clone() };
    let bot = match super::start_bot(config, config_path, overrides)? {
        Ok(bot) => Arc::new(bot),
        Err(code) => return Ok(code),
    };
    let snapshot = bot.snapshot();
    tracing::info!(
        entries = snapshot.engine.knowledge().faqs.len(),
        model = snapshot.engine.has_dense(),
        "knowledge loaded from {}",
        snapshot.config.knowledge.path.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async move {
        let bind = bot.snapshot().config.server.bind.clone();
        let listener = tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("binding {bind}"))?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        bizbot::server::serve(listener, bot).await.context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
