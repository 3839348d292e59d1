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
use pipeline::{Backpressure, Camera, RtspTransport, SourceOptions, SupervisorOptions};
use tokio::sync::mpsc;
use wire::{BoxPx, EventBody, EventEnvelope, FaceMatch, Identity, SCHEMA_VERSION, Snapshot};

use crate::config::{CameraConfig, IngestConfig, RtspTransportConfig};
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

/// Source options for a camera from its config.
pub fn source_options(cam: &CameraConfig) -> SourceOptions {
    let mut o = SourceOptions::new(cam.id.clone(), cam.uri.clone());
    o.max_fps = cam.analysis_fps;
    o.width = cam.width;
    o.username = cam.username.clone();
    o.password = cam.password.as_ref().map(|s| s.0.clone());
    o.rtsp_transport = match cam.rtsp_transport {
        RtspTransportConfig::Auto => RtspTransport::Auto,
        RtspTransportConfig::Tcp => RtspTransport::Tcp,
        RtspTransportConfig::Udp => RtspTransport::Udp,
    };
    // A file read "fast" is decoded as quickly as analysis keeps up, never dropping; anything
    // else plays at its own pace with the newest frame winning.
    if is_file(&cam.uri) && cam.fast_file {
        o.backpressure = Backpressure::Block;
        o.realtime = false;
    } else {
        o.backpressure = Backpressure::LatestWins;
        o.realtime = true;
    }
    o
}

/// A supervised camera for this config.
pub fn open_camera(cam: &CameraConfig, ingest: &IngestConfig) -> Camera {
    Camera::new(
        source_options(cam),
        SupervisorOptions {
            stall_timeout: Duration::from_secs(ingest.stall_timeout_secs),
            backoff_initial: Duration::from_millis(ingest.backoff_initial_ms),
            backoff_max: Duration::from_millis(ingest.backoff_max_ms),
            loop_files: cam.loop_file,
            give_up_on_file_errors: true,
        },
    )
}

/// Runs until the stream ends (files), the camera is stopped, or a permanent failure.
pub fn run_camera(
    mut camera: Camera,
    ctx: Arc<CameraContext>,
    stats: Arc<CameraStats>,
    tx: mpsc::Sender<EventEnvelope>,
) -> CameraOutcome {
    let mut last_announced: HashMap<String, Duration> = HashMap::new();
    let started = Instant::now();
    let id = camera.camera_id().to_owned();
    loop {
        if ctx.stop.load(Ordering::SeqCst) {
            camera.monitor().stop();
        }
        let frame = match camera.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => {
                let st = camera.status();
                tracing::info!(camera = %id, frames = st.frames_delivered, "camera stopped");
                return CameraOutcome::Finished;
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(camera = %id, error = %e, "camera cannot be read; giving up");
                return CameraOutcome::Failed(e.to_string());
            }
        };
        stats.frames.fetch_add(1, Ordering::Relaxed);
        let Some(view) =
            RgbView::with_stride(frame.width, frame.height, frame.stride, frame.data())
        else {
            tracing::warn!(camera = %id, "frame with inconsistent layout skipped");
            continue;
        };
        let results = {
            let gallery = ctx.gallery.read().unwrap_or_else(|p| p.into_inner());
            match ctx.recogniser.analyse(view, &gallery) {
                Ok(r) => r,
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(camera = %id, error = %e, "inference failed on a frame");
                    continue;
                }
            }
        };
        stats
            .faces
            .fetch_add(results.len() as u64, Ordering::Relaxed);
        // Stream time orders repeats (wall time would be wrong for files read fast); a stream
        // that restarted (time went backwards) starts afresh.
        let now = frame.pts.unwrap_or_else(|| started.elapsed());
        for r in results.iter().filter(|r| r.is_match) {
            let Some(best) = &r.best else { continue };
            let pid = &best.person.person_id;
            if let Some(prev) = last_announced.get(pid)
                && now >= *prev
                && now - *prev < ctx.repeat_after
            {
                continue;
            }
            last_announced.insert(pid.clone(), now);
            stats.matches.fetch_add(1, Ordering::Relaxed);
            let captured_at: DateTime<Utc> = frame.captured_at.into();
            let env = face_match_event(&ctx, &id, view, r, captured_at, frame.pts);
            tracing::info!(camera = %id, person = %pid, distance = best.distance, "face match");
            if tx.blocking_send(env).is_err() {
                return CameraOutcome::Finished;
            }
        }
    }
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
