//! `ioc-bridge`: MQTT ingest, event store, HTTP API and web page.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ioc_bridge::config::{Config, DEFAULT_CONFIG};
use ioc_bridge::http::{AppState, router};
use ioc_bridge::ingest;
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
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user or change their password and role; the password is read from stdin.
    Add {
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        username: String,
        /// operator, police, security or admin.
        #[arg(long)]
        role: String,
    },
    /// List the users.
    List {
        #[arg(long, short)]
        config: PathBuf,
    },
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
        Cmd::User { cmd } => user_cmd(cmd),
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

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn user_cmd(cmd: UserCmd) -> Result<ExitCode> {
    let (UserCmd::Add { config, .. } | UserCmd::List { config }) = &cmd;
    let cfg = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    runtime()?.block_on(async move {
        let store = Store::open(&cfg.store).await?;
        match cmd {
            UserCmd::Add { username, role, .. } => {
                ioc_bridge::auth::validate_username(&username)?;
                if ioc_bridge::auth::Role::parse(&role).is_none() {
                    anyhow::bail!("role {role:?} is not one of {:?}", ioc_bridge::auth::ROLES);
                }
                let mut password = String::new();
                std::io::stdin()
                    .read_line(&mut password)
                    .context("reading the password from stdin")?;
                let password = password.trim_end_matches(['\r', '\n']);
                let hash = ioc_bridge::auth::hash_password(password)?;
                store.upsert_user(&username, &hash, &role).await?;
                println!("user {username} ({role}) saved");
            }
            UserCmd::List { .. } => {
                for u in store.list_users().await? {
                    println!("{}\t{}\t{}", u.username, u.role, u.created_at);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn serve(cfg: Config) -> Result<ExitCode> {
    runtime()?.block_on(async move {
        let store = Store::open(&cfg.store).await?;
        if cfg.mqtt.embedded {
            let v4: SocketAddr = cfg
                .mqtt
                .embedded_listen
                .parse()
                .context("mqtt.embedded_listen")?;
            let v5: SocketAddr = cfg
                .mqtt
                .embedded_listen_v5
                .parse()
                .context("mqtt.embedded_listen_v5")?;
            ioc_bridge::broker::start_embedded(v4, v5)?;
        }
        let faces = match &cfg.models {
            Some(m) => Some(
                ioc_bridge::faces::FaceService::start(m)
                    .context("loading the face models for enrolment and face search")?,
            ),
            None => {
                tracing::warn!("no [models] section: enrolment and face search are off");
                None
            }
        };
        let (online, online_rx) = tokio::sync::broadcast::channel(1024);
        let ingest = ingest::start(&cfg.mqtt, &cfg.ingest, store.clone(), online).await?;
        match &faces {
            Some(f) => {
                tokio::spawn(ioc_bridge::gallery_sync::run(
                    store.clone(),
                    ingest.client.clone(),
                    f.embedder.clone(),
                    online_rx,
                ));
            }
            None => {
                tracing::warn!("no [models] section: edges coming online are not sent the gallery")
            }
        }
        tokio::spawn(ioc_bridge::retention::run(
            store.clone(),
            cfg.retention.clone(),
        ));
        let addr: SocketAddr = cfg.http.listen.parse().context("http.listen")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("HTTP server cannot listen on {addr}"))?;
        let local = listener.local_addr().context("HTTP listener address")?;
        // One line on stdout that scripts and people can read.
        println!("ioc-bridge dashboard: http://{local}/");
        tracing::info!(%local, backend = ?store.backend(), "serving");
        let state = AppState {
            store,
            ingest,
            faces,
            cfg: Arc::new(cfg),
        };
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            })
            .await
            .context("HTTP server")?;
        Ok(ExitCode::SUCCESS)
    })
}
