//! `bizbot demo-backend`: the demo company's CRM and shop, for the demo scenarios.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
pub(crate) struct DemoBackendArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8081")]
    bind: String,
}

pub(crate) fn run(args: &DemoBackendArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(&args.bind).await.with_context(|| format!("binding {}", args.bind))?;
        tracing::info!("demo back-end on http://{}", listener.local_addr()?);
        axum::serve(listener, bizbot::server::demo_backend_router()).await.context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
