//! `edge-agent`: run cameras, enrol people, check configs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use edge_agent::camera::{self, CameraContext, CameraOutcome, CameraStats};
use edge_agent::config::{Config, DEFAULT_CONFIG, DecoderConfig};
use edge_agent::enrol;
use edge_agent::gallery::Gallery;
use edge_agent::publisher::Publisher;

#[derive(Parser)]
#[command(
    name = "edge-agent",
    version,
    about = "Gate analytics on an edge box: cameras -> faces -> events over MQTT"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every camera in the config and publish events until stopped (or until every file
    /// camera has reached its end).
    Run {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Enrol people from a folder of photos laid out as <person>/<photo>.jpg.
    Enrol {
        #[arg(long, short)]
        config: PathBuf,
        /// Folder with one sub-folder per person.
        #[arg(long)]
        photos: PathBuf,
        /// List the people are put on (staff, visitor, watch, ...).
        #[arg(long, default_value = "staff")]
        list: String,
        /// Start a new gallery instead of adding to the existing one.
        #[arg(long)]
        replace: bool,
    },
    /// Check a config and report every problem.
    Validate {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print the documented default config.
    PrintDefaultConfig,
    /// Open a camera URI and report what was found (codec, resolution, fps, decoder) or why it
    /// failed. Exit code 0 when frames were decoded.
    Probe {
        /// rtsp://host/path, file:///path.mp4, http://host/mjpeg, testsrc://ball
        uri: String,
        #[arg(long)]
        username: Option<String>,
        /// Password (prefer the CAMERA_PASSWORD environment variable: not kept in shell history)
        #[arg(long, env = "CAMERA_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// RTSP transport: auto, tcp or udp
        #[arg(long, default_value = "auto")]
        transport: String,
        /// How long to read frames to measure the rate
        #[arg(long, default_value_t = 3)]
        seconds: u64,
        /// Never use hardware decoders
        #[arg(long)]
        software: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,hnsw_rs=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::PrintDefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Probe {
            uri,
            username,
            password,
            transport,
            seconds,
            software,
        } => probe(&uri, username, password, &transport, seconds, software),
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
        Cmd::Enrol {
            config,
            photos,
            list,
            replace,
        } => load_config(&config).and_then(|cfg| match cfg {
            Some(cfg) => enrol_cmd(&cfg, &photos, &list, replace),
            None => Ok(ExitCode::from(2)),
        }),
        Cmd::Run { config } => load_config(&config).and_then(|cfg| match cfg {
            Some(cfg) => run_cmd(cfg),
            None => Ok(ExitCode::from(2)),
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: &std::path::Path) -> Result<Option<Config>> {
    match Config::load(path) {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(None)
        }
    }
}

fn enrol_cmd(
    cfg: &Config,
    photos: &std::path::Path,
    list: &str,
    replace: bool,
) -> Result<ExitCode> {
    if let Err(e) = wire::validate_id("list", list) {
        anyhow::bail!("{e}");
    }
    let models = edge_agent::load_models(cfg).context("loading face models")?;
    let rec = edge_agent::recogniser(cfg, models);
    let mut gallery = if replace {
        Gallery::new(rec.embedder_identity(), Default::default())
    } else {
        enrol::open_or_new(&cfg.gallery.path, &rec)?
    };
    let report = enrol::enrol_folder(&rec, &mut gallery, photos, list)?;
    for s in &report.skipped {
        println!("skipped {}: {}", s.photo.display(), s.reason);
    }
    gallery.save(&cfg.gallery.path)?;
    println!(
        "enrolled {} photo(s) of {} person(s) on list {list}; {} skipped; gallery {} now holds {} people ({} samples, embedder {})",
        report.enrolled_photos,
        report.people.len(),
        report.skipped.len(),
        cfg.gallery.path.display(),
        gallery.people().len(),
        gallery.sample_count(),
        gallery.embedder().id,
    );
    if report.enrolled_photos == 0 {
        eprintln!(
            "error: no photo under {} could be enrolled",
            photos.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_cmd(cfg: Config) -> Result<ExitCode> {
    // Everything that can be wrong is checked before any camera starts.
    let models = edge_agent::load_models(&cfg).context("loading face models")?;
    let rec = edge_agent::recogniser(&cfg, models);
    if !cfg.gallery.path.exists() {
        tracing::warn!(
            path = %cfg.gallery.path.display(),
            "no gallery file yet: starting with an empty gallery; the IOC sends its gallery when \
             this edge comes online (or enrol locally with `edge-agent enrol`)"
        );
    }
    let gallery = edge_agent::enrol::open_or_new(&cfg.gallery.path, &rec)
        .with_context(|| format!("loading the gallery {}", cfg.gallery.path.display()))?;
    tracing::info!(
        people = gallery.people().len(),
        samples = gallery.sample_count(),
        threshold = rec.threshold,
        "gallery loaded"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move { run_async(cfg, rec, gallery).await })
}

async fn run_async(
    cfg: Config,
    rec: edge_agent::recognise::Recogniser,
    gallery: Gallery,
) -> Result<ExitCode> {
    let people = if cfg
        .cameras
        .iter()
        .any(|c| !c.gates.is_empty() || !c.zones.is_empty())
    {
        Some(Arc::new(
            edge_agent::load_person_detector(&cfg).context("loading the person detector")?,
        ))
    } else {
        None
    };
    let publisher = Arc::new(Publisher::connect(&cfg).await?);
    let stop = Arc::new(AtomicBool::new(false));
    let rec_threshold = rec.threshold;
    let ctx = Arc::new(CameraContext {
        site_id: cfg.site_id.clone(),
        edge_id: cfg.edge_id.clone(),
        recogniser: rec,
        gallery: Arc::new(RwLock::new(gallery)),
        repeat_after: Duration::from_secs(cfg.recognition.repeat_after_secs),
        stop: stop.clone(),
        identity: edge_agent::identity::IdentityParams {
            match_threshold: rec_threshold,
            unknown_threshold: cfg.recognition.unknown_threshold.max(rec_threshold),
            votes_needed: cfg.recognition.votes_needed,
            max_attempts: cfg.recognition.max_attempts_per_track,
            ..Default::default()
        },
        people,
        tracking: cfg.tracking.clone(),
    });
    // Gallery changes from the IOC apply live and are saved.
    let gallery_task = publisher.take_gallery_updates().map(|mut updates| {
        let gallery = ctx.gallery.clone();
        let path = cfg.gallery.path.clone();
        tokio::spawn(async move {
            // Everything already waiting is applied together and the file saved once: a
            // whole-gallery sync is one update per person.
            while let Some(first) = updates.recv().await {
                let mut raws = vec![first];
                while raws.len() < 1024 {
                    match updates.try_recv() {
                        Ok(r) => raws.push(r),
                        Err(_) => break,
                    }
                }
                let parsed: Vec<wire::GalleryUpdate> = raws
                    .iter()
                    .filter_map(|raw| match wire::GalleryUpdate::parse(raw) {
                        Ok(u) => Some(u),
                        Err(e) => {
                            tracing::warn!(error = %e, "malformed gallery update ignored");
                            None
                        }
                    })
                    .collect();
                if parsed.is_empty() {
                    continue;
                }
                let (gallery, path) = (gallery.clone(), path.clone());
                let applied = tokio::task::spawn_blocking(move || {
                    let mut g = gallery.write().unwrap_or_else(|p| p.into_inner());
                    let lines: Vec<(uuid::Uuid, Result<String, _>)> =
                        parsed.iter().map(|u| (u.update_id, g.apply(u))).collect();
                    g.save(&path)?;
                    Ok::<_, edge_agent::gallery::GalleryError>(lines)
                })
                .await;
                match applied {
                    Ok(Ok(lines)) => {
                        for (id, r) in lines {
                            match r {
                                Ok(line) => tracing::info!(update = %id, "gallery updated: {line}"),
                                Err(e) => tracing::warn!(update = %id, error = %e, "gallery update not applied"),
                            }
                        }
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "gallery file not saved"),
                    Err(e) => tracing::error!(error = %e, "gallery task failed"),
                }
            }
        })
    });
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let pub_task = {
        let p = publisher.clone();
        tokio::spawn(async move { p.run(rx).await })
    };
    pipeline::set_decoder_preference(match cfg.ingest.decoder {
        DecoderConfig::Auto => pipeline::DecoderPreference::Auto,
        DecoderConfig::Software => pipeline::DecoderPreference::Software,
    })?;
    let mut workers = Vec::new();
    let mut monitors = Vec::new();
    for cam in cfg.cameras.clone() {
        let (ctx, tx) = (ctx.clone(), tx.clone());
        let stats = Arc::new(CameraStats::default());
        let id = cam.id.clone();
        let supervised = camera::open_camera(&cam, &cfg.ingest);
        let gates = camera::GateAnalytics::for_camera(&cam, &cfg.tracking);
        monitors.push(supervised.monitor());
        let handle = std::thread::Builder::new()
            .name(format!("cam-{id}"))
            .spawn({
                let stats = stats.clone();
                move || camera::run_camera(supervised, ctx, stats, tx, gates)
            })
            .with_context(|| format!("starting the thread of camera {id}"))?;
        workers.push((id, stats, handle));
    }
    drop(tx);
    let metrics_task = if cfg.metrics.listen.is_empty() {
        None
    } else {
        let addr: std::net::SocketAddr = cfg.metrics.listen.parse().context("metrics.listen")?;
        let sources = edge_agent::metrics::MetricsSources {
            cameras: workers
                .iter()
                .zip(&monitors)
                .map(|((id, stats, _), m)| (id.clone(), m.clone(), stats.clone()))
                .collect(),
            publish: publisher.stats.clone(),
            outbox: publisher.outbox.clone(),
        };
        Some(
            edge_agent::metrics::serve(addr, sources)
                .await
                .with_context(|| format!("serving metrics on {addr}"))?,
        )
    };
    {
        let stop = stop.clone();
        let monitors = monitors.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("stopping: finishing cameras and flushing events");
                stop.store(true, Ordering::SeqCst);
                monitors.iter().for_each(|m| m.stop());
            }
        });
    }
    // Camera health once a minute (and a few seconds after start): in the log, and as a
    // retained status per camera at gw/v1/{site}/{edge}/cameras/{camera}/status.
    let status_task = {
        let monitors = monitors.clone();
        let publisher = publisher.clone();
        let (site, edge) = (cfg.site_id.clone(), cfg.edge_id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                for m in &monitors {
                    let s = m.status();
                    publisher
                        .publish_retained(
                            wire::topics::camera_status(&site, &edge, &s.camera_id),
                            camera_status_payload(&s),
                        )
                        .await;
                    tracing::info!(
                        camera = %s.camera_id,
                        state = ?s.state,
                        decoded = s.frames_decoded,
                        delivered = s.frames_delivered,
                        dropped = s.frames_dropped,
                        reconnects = s.reconnects,
                        decoder = s.stream.decoder.as_deref().unwrap_or("-"),
                        last_error = s.last_error.as_deref().unwrap_or("-"),
                        "camera status"
                    );
                }
            }
        })
    };
    let mut failed = Vec::new();
    for (id, stats, handle) in workers {
        let outcome = tokio::task::spawn_blocking(move || handle.join())
            .await
            .context("joining a camera thread")?;
        match outcome {
            Ok(CameraOutcome::Finished) => {}
            Ok(CameraOutcome::Failed(reason)) => failed.push(format!("{id}: {reason}")),
            Err(_) => failed.push(format!("{id}: camera thread panicked")),
        }
        let st = monitors
            .iter()
            .map(|m| m.status())
            .find(|s| s.camera_id == id);
        tracing::info!(
            camera = %id,
            decoded = st.as_ref().map(|s| s.frames_decoded),
            dropped = st.as_ref().map(|s| s.frames_dropped),
            reconnects = st.as_ref().map(|s| s.reconnects),
            frames = stats.frames.load(Ordering::Relaxed),
            faces = stats.faces.load(Ordering::Relaxed),
            matches = stats.matches.load(Ordering::Relaxed),
            entries = stats.entries.load(Ordering::Relaxed),
            exits = stats.exits.load(Ordering::Relaxed),
            "camera finished"
        );
    }
    status_task.abort();
    let _ = status_task.await;
    if let Some(t) = gallery_task {
        t.abort();
        let _ = t.await;
    } // releases its handle on the publisher
    for m in &monitors {
        let mut s = m.status();
        s.state = pipeline::CameraState::Stopped;
        publisher
            .publish_retained(
                wire::topics::camera_status(&cfg.site_id, &cfg.edge_id, &s.camera_id),
                camera_status_payload(&s),
            )
            .await;
    }
    if let Some(t) = metrics_task {
        t.abort();
    }
    let _ = pub_task.await;
    let left = publisher
        .drain(Duration::from_secs(cfg.outbox.flush_timeout_secs))
        .await;
    let published = publisher.stats.queued.load(Ordering::SeqCst);
    let lost = publisher
        .outbox
        .lock()
        .map(|o| o.state.lost)
        .unwrap_or_default();
    if let Ok(p) = Arc::try_unwrap(publisher) {
        p.shutdown(&cfg).await;
    }
    tracing::info!(
        published,
        unacknowledged = left,
        lost = lost.total(),
        "events flushed"
    );
    if left > 0 {
        eprintln!(
            "error: {left} event(s) were not acknowledged by the IOC; they stay in the outbox {} for the next start",
            cfg.outbox.dir.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if !failed.is_empty() {
        eprintln!("error: camera(s) failed:\n  {}", failed.join("\n  "));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn camera_status_payload(s: &pipeline::CameraStatus) -> Vec<u8> {
    serde_json::json!({
        "schema_version": wire::SCHEMA_VERSION,
        "camera_id": s.camera_id,
        "state": format!("{:?}", s.state).to_lowercase(),
        "frames_decoded": s.frames_decoded,
        "frames_dropped": s.frames_dropped,
        "reconnects": s.reconnects,
        "codec": s.stream.codec,
        "decoder": s.stream.decoder,
        "last_error": s.last_error,
        "at": chrono::Utc::now(),
    })
    .to_string()
    .into_bytes()
}

fn probe(
    uri: &str,
    username: Option<String>,
    password: Option<String>,
    transport: &str,
    seconds: u64,
    software: bool,
) -> Result<ExitCode> {
    use pipeline::{FrameSource, RtspTransport, SourceOptions};
    let mut opts = SourceOptions::live("probe", uri);
    opts.username = username;
    opts.password = password;
    opts.rtsp_transport = match transport {
        "auto" => RtspTransport::Auto,
        "tcp" => RtspTransport::Tcp,
        "udp" => RtspTransport::Udp,
        other => anyhow::bail!("--transport must be auto, tcp or udp, got {other:?}"),
    };
    pipeline::set_decoder_preference(if software {
        pipeline::DecoderPreference::Software
    } else {
        pipeline::DecoderPreference::Auto
    })?;
    let hw = pipeline::hardware_decoders_present();
    println!("uri: {}", pipeline::redact_uri(uri));
    println!(
        "hardware decoders on this machine: {}",
        if hw.is_empty() {
            "none".to_string()
        } else {
            hw.join(", ")
        }
    );
    let t0 = std::time::Instant::now();
    let src = match FrameSource::open(opts) {
        Ok(s) => s,
        Err(e) => {
            println!("result: FAILED");
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let first_ms = t0.elapsed().as_millis();
    let t1 = std::time::Instant::now();
    let mut frames = 0u64;
    let mut first_pts = None;
    let mut last_pts = None;
    let mut ended = false;
    while t1.elapsed() < Duration::from_secs(seconds) {
        match src.next_frame(Duration::from_secs(5)) {
            Ok(Some(f)) => {
                frames += 1;
                first_pts = first_pts.or(f.pts);
                last_pts = f.pts;
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Err(e) => {
                println!("result: FAILED after {frames} frames");
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let info = src.info();
    let fmt = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "?".into());
    println!("codec: {}", info.codec.as_deref().unwrap_or("unknown"));
    println!("resolution: {}x{}", fmt(info.width), fmt(info.height));
    match info.fps {
        Some(f) => println!("fps (declared): {f:.2}"),
        None => println!("fps (declared): unknown"),
    }
    if let (Some(a), Some(b)) = (first_pts, last_pts)
        && frames > 1
        && b > a
    {
        println!(
            "fps (measured from timestamps): {:.2}",
            (frames - 1) as f64 / (b - a).as_secs_f64()
        );
    }
    println!(
        "decoder: {} ({})",
        info.decoder.as_deref().unwrap_or("none (raw video)"),
        if info.hardware_decoder {
            "hardware"
        } else {
            "software"
        }
    );
    println!("first frame after: {first_ms} ms");
    println!(
        "frames read: {frames}{}",
        if ended { " (end of stream)" } else { "" }
    );
    println!("result: OK");
    Ok(ExitCode::SUCCESS)
}
