//! `ioc-bridge`: MQTT ingest, event store, HTTP API and web page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ioc_bridge::config::{Config, DEFAULT_CONFIG};
use ioc_bridge::http::{AppState, router};
use ioc_bridge::ingest::{self, IngestStats};
use ioc_bridge::store::Store;

#[derive(Parser)]
#[command(
    name = "ioc-bridge",
    version,
    about = "IOC service: MQTT ingest, event store, HTTP API and dashboard"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the broker (if embedded), ingest and the HTTP server.
    Serve {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a config and report every problem.
    Validate {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print the documented default config.
    PrintDefaultConfig,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::PrintDefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Validate { config } => match Config::load(&config) {
            Ok(_) => {
                println!("{}: OK", config.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(2))
            }
        },
        Cmd::Serve { config } => match Config::load(&config) {
            Ok(cfg) => serve(cfg),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(ExitCode::from(2))
            }
        },
    };
    match res {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(cfg: Config) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let store = Store::open_sqlite(&cfg.store.sqlite_path).await?;
        if cfg.mqtt.embedded {
            let addr: SocketAddr = cfg
                .mqtt
                .embedded_listen
                .parse()
                .context("mqtt.embedded_listen")?;
            ioc_bridge::broker::start_embedded(addr)?;
        }
        let stats = Arc::new(IngestStats::default());
        let _client = ingest::start(&cfg.mqtt, store.clone(), stats.clone()).await?;
        let addr: SocketAddr = cfg.http.listen.parse().context("http.listen")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("HTTP server cannot listen on {addr}"))?;
        let local = listener.local_addr().context("HTTP listener address")?;
        // One line on stdout that scripts and people can read.
        println!("ioc-bridge dashboard: http://{local}/");
        tracing::info!(%local, db = %cfg.store.sqlite_path.display(), "serving");
        axum::serve(listener, router(AppState { store, stats }))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            })
            .await
            .context("HTTP server")?;
        Ok(ExitCode::SUCCESS)
    })
}
