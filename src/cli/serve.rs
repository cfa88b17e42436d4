//! `bizbot serve`: the HTTP service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bizbot::Config;
use bizbot::bot::{Bot, ReloadError};
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct ServeArgs {
    /// Listen address (default: server.bind).
    #[arg(long)]
    bind: Option<String>,
}

pub(crate) fn run(config: Config, config_path: Option<PathBuf>, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = config;
    if let Some(bind) = &args.bind {
        config.server.bind.clone_from(bind);
    }
    let bind = config.server.bind.clone();
    let encoder = super::encoder(&config);
    let bot = match Bot::new(config, config_path, encoder) {
        Ok(bot) => Arc::new(bot),
        Err(ReloadError::Knowledge(e)) => {
            for p in e.problems() {
                eprintln!("{p}");
            }
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
        Err(e) => return Err(e).context("starting the bot"),
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
        let listener = tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("binding {bind}"))?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        bizbot::server::serve(listener, bot).await.context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
