//! One camera's worker: a named OS thread that reads frames (GStreamer), runs the face path
//! (ONNX) and hands events to the publisher through a bounded channel. Never runs on a tokio
//! worker. Events are sent with `blocking_send`: when the publisher is slow the camera waits
//! (and skips frames upstream, newest wins) rather than dropping an event.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use models::RgbView;
use pipeline::{FrameSource, PipelineError, SourceOptions};
use tokio::sync::mpsc;
use wire::{BoxPx, EventBody, EventEnvelope, FaceMatch, Identity, SCHEMA_VERSION, Snapshot};

use crate::config::CameraConfig;
use crate::gallery::Gallery;
use crate::recognise::{FaceResult, Recogniser};

/// Shared by every camera of the agent.
#[derive(Debug)]
pub struct CameraContext {
    pub site_id: String,
    pub edge_id: String,
    pub recogniser: Recogniser,
    pub gallery: Arc<RwLock<Gallery>>,
    pub repeat_after: Duration,
    pub stop: Arc<AtomicBool>,
}

/// Counters a camera exposes (read at any time).
#[derive(Debug, Default)]
pub struct CameraStats {
    pub frames: AtomicU64,
    pub faces: AtomicU64,
    pub matches: AtomicU64,
    pub reconnects: AtomicU64,
    pub errors: AtomicU64,
}

/// How a camera worker ended.
#[derive(Debug)]
pub enum CameraOutcome {
    /// End of file (not looping) or stop requested.
    Finished,
    /// Could not be read and will not be retried (e.g. a missing file).
    Failed(String),
}

fn is_file(uri: &str) -> bool {
    uri.starts_with("file://")
}

fn source_options(cam: &CameraConfig) -> SourceOptions {
    let mut o = SourceOptions::new(cam.id.clone(), cam.uri.clone());
    o.max_fps = cam.analysis_fps;
    o.width = cam.width;
    // A file read "fast" is decoded as quickly as analysis keeps up, never dropping; anything
    // else plays at its own pace with the newest frame winning.
    o.live = !(is_file(&cam.uri) && cam.fast_file);
    o
}

/// Runs until the stream ends (files), the stop flag is set, or a permanent failure.
pub fn run_camera(
    cam: CameraConfig,
    ctx: Arc<CameraContext>,
    stats: Arc<CameraStats>,
    tx: mpsc::Sender<EventEnvelope>,
) -> CameraOutcome {
    let mut backoff = Duration::from_millis(500);
    let mut last_announced: HashMap<String, Duration> = HashMap::new();
    loop {
        if ctx.stop.load(Ordering::SeqCst) {
            return CameraOutcome::Finished;
        }
        let mut source = match FrameSource::open(source_options(&cam)) {
            Ok(s) => s,
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                if is_file(&cam.uri) {
                    tracing::error!(camera = %cam.id, error = %e, "camera cannot be read; giving up on this file");
                    return CameraOutcome::Failed(e.to_string());
                }
                tracing::warn!(camera = %cam.id, error = %e, retry_in_ms = backoff.as_millis() as u64, "camera unavailable, retrying");
                sleep_unless_stopped(&ctx.stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        backoff = Duration::from_millis(500);
        last_announced.clear(); // stream time restarts with a new pipeline
        let started = Instant::now();
        let ended = read_frames(
            &cam,
            &ctx,
            &stats,
            &tx,
            &mut source,
            &mut last_announced,
            started,
        );
        match ended {
            Ok(()) if ctx.stop.load(Ordering::SeqCst) => return CameraOutcome::Finished,
            Ok(()) if is_file(&cam.uri) && !cam.loop_file => {
                tracing::info!(camera = %cam.id, frames = stats.frames.load(Ordering::Relaxed), "end of file");
                return CameraOutcome::Finished;
            }
            Ok(()) => {}
            Err(ReadEnd::ChannelClosed) => return CameraOutcome::Finished,
            Err(ReadEnd::Pipeline(e)) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(camera = %cam.id, error = %e, "camera stream failed, restarting");
                sleep_unless_stopped(&ctx.stop, backoff);
            }
        }
    }
}

enum ReadEnd {
    Pipeline(PipelineError),
    ChannelClosed,
}

fn sleep_unless_stopped(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_frames(
    cam: &CameraConfig,
    ctx: &CameraContext,
    stats: &CameraStats,
    tx: &mpsc::Sender<EventEnvelope>,
    source: &mut FrameSource,
    last_announced: &mut HashMap<String, Duration>,
    started: Instant,
) -> Result<(), ReadEnd> {
    while !ctx.stop.load(Ordering::SeqCst) {
        let Some(frame) = source.next_frame().map_err(ReadEnd::Pipeline)? else {
            return Ok(());
        };
        stats.frames.fetch_add(1, Ordering::Relaxed);
        let Some(view) = RgbView::new(frame.width, frame.height, &frame.data) else {
            tracing::warn!(camera = %cam.id, "frame with inconsistent size skipped");
            continue;
        };
        let results = {
            let gallery = ctx.gallery.read().unwrap_or_else(|p| p.into_inner());
            match ctx.recogniser.analyse(view, &gallery) {
                Ok(r) => r,
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(camera = %cam.id, error = %e, "inference failed on a frame");
                    continue;
                }
            }
        };
        stats
            .faces
            .fetch_add(results.len() as u64, Ordering::Relaxed);
        // Stream time orders repeats: wall time would be wrong for files read fast.
        let now = frame.pts.unwrap_or_else(|| started.elapsed());
        for r in results.iter().filter(|r| r.is_match) {
            let Some(best) = &r.best else { continue };
            let pid = &best.person.person_id;
            if let Some(prev) = last_announced.get(pid)
                && now.saturating_sub(*prev) < ctx.repeat_after
            {
                continue;
            }
            last_announced.insert(pid.clone(), now);
            stats.matches.fetch_add(1, Ordering::Relaxed);
            let captured_at: DateTime<Utc> = frame.captured_at.into();
            let env = face_match_event(ctx, &cam.id, view, r, captured_at, frame.pts);
            tracing::info!(camera = %cam.id, person = %pid, distance = best.distance, "face match");
            if tx.blocking_send(env).is_err() {
                return Err(ReadEnd::ChannelClosed);
            }
        }
    }
    Ok(())
}

fn face_match_event(
    ctx: &CameraContext,
    camera_id: &str,
    view: RgbView<'_>,
    r: &FaceResult,
    captured_at: DateTime<Utc>,
    pts: Option<Duration>,
) -> EventEnvelope {
    let best = r.best.as_ref();
    let [x, y, w, h] = r.face.bbox;
    let person = best.map(|b| b.person.clone());
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: ctx.site_id.clone(),
        edge_id: ctx.edge_id.clone(),
        camera_id: camera_id.to_owned(),
        captured_at,
        stream_pts_ms: pts.map(|p| p.as_millis() as u64),
        body: EventBody::FaceMatch(FaceMatch {
            identity: Identity {
                person_id: person
                    .as_ref()
                    .map(|p| p.person_id.clone())
                    .unwrap_or_default(),
                name: person.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                list: person.as_ref().map(|p| p.list.clone()).unwrap_or_default(),
            },
            distance: best.map(|b| b.distance).unwrap_or(f32::MAX),
            threshold: ctx.recogniser.threshold,
            face_box: BoxPx { x, y, w, h },
            detection_score: r.face.score,
            embedder_id: ctx.recogniser.models.embedder.id().to_owned(),
        }),
        snapshot: snapshot(view, r.face.bbox),
    }
}

/// JPEG of the face with a margin, as evidence.
fn snapshot(view: RgbView<'_>, bbox: [f32; 4]) -> Option<Snapshot> {
    use sha2::Digest;
    let [x, y, w, h] = bbox;
    let m = 0.3;
    let crop = models::imageops::crop(
        view,
        x - w * m,
        y - h * m,
        w * (1.0 + 2.0 * m),
        h * (1.0 + 2.0 * m),
    );
    let mut buf = Cursor::new(Vec::new());
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 85);
    crop.write_with_encoder(enc).ok()?;
    let bytes = buf.into_inner();
    use base64::Engine;
    Some(Snapshot {
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        content_type: "image/jpeg".into(),
        width: crop.width(),
        height: crop.height(),
        data_b64: Some(base64::engine::general_purpose::STANDARD.encode(&bytes)),
    })
}
