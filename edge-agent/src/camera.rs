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
use wire::{
    BoxPx, CrossingDirection, EventBody, EventEnvelope, FaceMatch, GateCount, GateCrossing,
    Identity, SCHEMA_VERSION, Snapshot,
};

use crate::config::{CameraConfig, InDirection, IngestConfig, RtspTransportConfig, TrackingConfig};
use crate::gallery::{Gallery, WATCH_LIST};
use crate::gates::{Direction, GateLine, GateMonitor, MinuteCounter, Zone};
use crate::identity::{IdentityParams, TrackIdentity, Verdict};
use crate::recognise::{FaceResult, Recogniser};
use crate::tracker::{Tracker, TrackerParams};

/// Shared by every camera of the agent.
#[derive(Debug)]
pub struct CameraContext {
    pub site_id: String,
    pub edge_id: String,
    pub recogniser: Recogniser,
    pub gallery: Arc<RwLock<Gallery>>,
    pub repeat_after: Duration,
    pub stop: Arc<AtomicBool>,
    /// Person detector, loaded when some camera has gates or zones.
    pub people: Option<Arc<models::Yolox>>,
    pub tracking: TrackingConfig,
    /// How tracked people get their identity.
    pub identity: IdentityParams,
}

/// Per-camera gate analytics: tracker, gate lines and zones, per-minute counts.
#[derive(Debug)]
pub struct GateAnalytics {
    pub tracker: Tracker,
    pub monitor: GateMonitor,
    pub counter: MinuteCounter,
    /// Tracks seen in the latest frame: (id, box, detected this frame).
    pub current: Vec<(u64, [f32; 4], bool)>,
    /// Tracks that ended in the latest frame.
    pub ended: Vec<u64>,
    pub identities: HashMap<u64, (TrackIdentity, Option<BestShot>)>,
}

/// The best embedded face shot of a track: its evidence.
#[derive(Debug, Clone)]
pub struct BestShot {
    pub quality: f32,
    pub face: models::Face,
    pub snapshot: Option<Snapshot>,
}

impl GateAnalytics {
    /// `None` when the camera has no gates and no zones.
    pub fn for_camera(cam: &CameraConfig, t: &TrackingConfig) -> Option<Self> {
        if cam.gates.is_empty() && cam.zones.is_empty() {
            return None;
        }
        let gates = cam
            .gates
            .iter()
            .map(|g| GateLine {
                id: g.id.clone(),
                a: g.a,
                b: g.b,
                in_is_left_to_right: g.in_direction == InDirection::LeftToRight,
                margin: g.margin,
            })
            .collect();
        let zones = cam
            .zones
            .iter()
            .map(|z| Zone {
                id: z.id.clone(),
                polygon: z.polygon.clone(),
            })
            .collect();
        Some(Self {
            tracker: Tracker::new(TrackerParams {
                iou_min: t.iou_min,
                min_hits: t.min_hits,
                max_coast_secs: t.max_coast_ms as f32 / 1000.0,
                ..TrackerParams::default()
            }),
            monitor: GateMonitor::with_confirm(gates, zones, t.gate_confirm_frames),
            counter: MinuteCounter::default(),
            current: Vec::new(),
            ended: Vec::new(),
            identities: HashMap::new(),
        })
    }
}

/// Counters a camera exposes (read at any time).
#[derive(Debug, Default)]
pub struct CameraStats {
    pub frames: AtomicU64,
    /// Analysed frames per second (exponential moving average), in thousandths.
    pub fps_milli: AtomicU64,
    /// Time spent in inference (people + faces), microseconds, and frames it covers.
    pub inference_us: AtomicU64,
    /// Time of the latest frame's inference, microseconds.
    pub last_inference_us: AtomicU64,
    pub people: AtomicU64,
    pub entries: AtomicU64,
    pub exits: AtomicU64,
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
    mut gates: Option<GateAnalytics>,
) -> CameraOutcome {
    let mut last_announced: HashMap<String, Duration> = HashMap::new();
    let started = Instant::now();
    let mut last_frame_at: Option<Instant> = None;
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
                if let Some(g) = gates.as_mut() {
                    // Tracks still open end here; every open minute is published.
                    for t in g.tracker.finish() {
                        g.monitor.forget(t);
                    }
                    for (minute, gate_id, c) in g.counter.flush() {
                        let env = count_event(&ctx, &id, minute, gate_id, c);
                        if tx.blocking_send(env).is_err() {
                            break;
                        }
                    }
                }
                return CameraOutcome::Finished;
            }
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(camera = %id, error = %e, "camera cannot be read; giving up");
                return CameraOutcome::Failed(e.to_string());
            }
        };
        stats.frames.fetch_add(1, Ordering::Relaxed);
        let now_wall = Instant::now();
        if let Some(prev) = last_frame_at.replace(now_wall) {
            let dt = now_wall.duration_since(prev).as_secs_f64().max(1e-3);
            let old = stats.fps_milli.load(Ordering::Relaxed) as f64 / 1000.0;
            let fps = if old == 0.0 {
                1.0 / dt
            } else {
                0.8 * old + 0.2 / dt
            };
            stats
                .fps_milli
                .store((fps * 1000.0) as u64, Ordering::Relaxed);
        }
        let infer_start = Instant::now();
        let Some(view) =
            RgbView::with_stride(frame.width, frame.height, frame.stride, frame.data())
        else {
            tracing::warn!(camera = %id, "frame with inconsistent layout skipped");
            continue;
        };
        let captured_at: DateTime<Utc> = frame.captured_at.into();
        if let (Some(g), Some(det)) = (gates.as_mut(), ctx.people.as_ref()) {
            let t = frame.pts.unwrap_or_else(|| started.elapsed()).as_secs_f64();
            match gate_step(g, det, &ctx, view, t, captured_at.timestamp()) {
                Ok((crossings, counts)) => {
                    for (track_id, gate_id, dir, bbox) in crossings {
                        match dir {
                            Direction::In => stats.entries.fetch_add(1, Ordering::Relaxed),
                            Direction::Out => stats.exits.fetch_add(1, Ordering::Relaxed),
                        };
                        tracing::info!(camera = %id, gate = %gate_id, track = track_id, direction = ?dir, "gate crossing");
                        let env = envelope(
                            &ctx,
                            &id,
                            captured_at,
                            frame.pts,
                            EventBody::GateCrossing(GateCrossing {
                                gate_id,
                                direction: match dir {
                                    Direction::In => CrossingDirection::In,
                                    Direction::Out => CrossingDirection::Out,
                                },
                                track_id,
                                person_box: BoxPx {
                                    x: bbox[0],
                                    y: bbox[1],
                                    w: bbox[2],
                                    h: bbox[3],
                                },
                            }),
                            snapshot(view, bbox, 0.05),
                        );
                        if tx.blocking_send(env).is_err() {
                            return CameraOutcome::Finished;
                        }
                    }
                    for (minute, gate_id, c) in counts {
                        if tx
                            .blocking_send(count_event(&ctx, &id, minute, gate_id, c))
                            .is_err()
                        {
                            return CameraOutcome::Finished;
                        }
                    }
                }
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(camera = %id, error = %e, "person detection failed on a frame");
                }
            }
            stats
                .people
                .store(g.tracker.len() as u64, Ordering::Relaxed);
        }
        if let Some(g) = gates.as_mut() {
            let verdicts = match track_identities(g, &ctx, view) {
                Ok(v) => v,
                Err(e) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(camera = %id, error = %e, "face inference failed on a frame");
                    Vec::new()
                }
            };
            let us = infer_start.elapsed().as_micros() as u64;
            stats.inference_us.fetch_add(us, Ordering::Relaxed);
            stats.last_inference_us.store(us, Ordering::Relaxed);
            for (track_id, verdict, shot) in verdicts {
                let env = verdict_event(&ctx, &id, track_id, verdict, shot, captured_at, frame.pts);
                if tx.blocking_send(env).is_err() {
                    return CameraOutcome::Finished;
                }
            }
            continue;
        }
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
        let us = infer_start.elapsed().as_micros() as u64;
        stats.inference_us.fetch_add(us, Ordering::Relaxed);
        stats.last_inference_us.store(us, Ordering::Relaxed);
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
            let env = face_match_event(&ctx, &id, view, r, captured_at, frame.pts);
            if best.person.list == WATCH_LIST {
                tracing::warn!(camera = %id, person = %pid, distance = best.distance, "WATCH-LIST HIT");
            } else {
                tracing::info!(camera = %id, person = %pid, distance = best.distance, "face match");
            }
            if tx.blocking_send(env).is_err() {
                return CameraOutcome::Finished;
            }
        }
    }
}

type VerdictOut = (u64, Verdict, Option<BestShot>);

/// Identity per track: faces are given to the person track they sit in (face centre in the
/// upper 60% of the box); only shots clearly better than the track's best so far are embedded
/// (at most `max_attempts` per track), each a vote; verdicts come out once per track, and
/// tracks that end are decided with what they have.
fn track_identities(
    g: &mut GateAnalytics,
    ctx: &CameraContext,
    view: RgbView<'_>,
) -> Result<Vec<VerdictOut>, models::ModelError> {
    use models::{Embedder, FaceDetector};
    let rec = &ctx.recogniser;
    let p = ctx.identity;
    let mut out = Vec::new();
    for id in std::mem::take(&mut g.ended) {
        if let Some((mut ti, shot)) = g.identities.remove(&id)
            && let Some(v) = ti.finish(&p)
        {
            out.push((id, v, shot));
        }
    }
    let seen: Vec<(u64, [f32; 4])> = g
        .current
        .iter()
        .filter(|(_, _, detected)| *detected)
        .map(|(id, b, _)| (*id, *b))
        .collect();
    // Face detection only while some track in view still needs a shot.
    let open = |id: &u64| {
        g.identities
            .get(id)
            .is_none_or(|(ti, _)| !ti.is_decided() && ti.attempts() < p.max_attempts)
    };
    if !seen.iter().any(|(id, _)| open(id)) {
        return Ok(out);
    }
    let faces = rec.models.detector.detect(view)?;
    let mut wanted = Vec::new();
    for f in faces {
        if f.min_side() < rec.min_face_px as f32 {
            continue;
        }
        let (cx, cy) = (f.bbox[0] + f.bbox[2] / 2.0, f.bbox[1] + f.bbox[3] / 2.0);
        let owner = seen
            .iter()
            .filter(|(_, b)| {
                cx >= b[0] && cx <= b[0] + b[2] && cy >= b[1] && cy <= b[1] + 0.6 * b[3]
            })
            .min_by(|a, b| (a.1[2] * a.1[3]).total_cmp(&(b.1[2] * b.1[3])))
            .map(|(id, _)| *id);
        let Some(track) = owner else { continue };
        let entry = g.identities.entry(track).or_default();
        if entry.0.is_decided() {
            continue;
        }
        let Some(crop) = rec.models.embedder.align(view, &f) else {
            continue;
        };
        let grey: Vec<f32> = crop
            .pixels()
            .map(|px| 0.299 * px[0] as f32 + 0.587 * px[1] as f32 + 0.114 * px[2] as f32)
            .collect();
        let sharp = crate::identity::laplacian_variance(
            &grey,
            crop.width() as usize,
            crop.height() as usize,
        );
        let q = crate::identity::shot_quality(
            f.min_side(),
            crate::identity::frontalness(&f.landmarks),
            sharp,
        );
        if entry.0.wants_shot(&p, q) {
            wanted.push((track, q, f, crop));
        }
    }
    if wanted.is_empty() {
        return Ok(out);
    }
    let crops: Vec<_> = wanted.iter().map(|w| w.3.clone()).collect();
    let embeddings = rec.models.embedder.embed(&crops)?;
    let gallery = ctx.gallery.read().unwrap_or_else(|p| p.into_inner());
    for ((track, q, face, _), emb) in wanted.into_iter().zip(embeddings) {
        let best = gallery.best(&emb).map(|m| (m.person, m.distance));
        let entry = g.identities.entry(track).or_default();
        if entry.1.as_ref().is_none_or(|b| q > b.quality) {
            entry.1 = Some(BestShot {
                quality: q,
                snapshot: snapshot(view, face.bbox, 0.3),
                face,
            });
        }
        if let Some(v) = entry.0.add(&p, q, best) {
            out.push((track, v, entry.1.clone()));
        }
    }
    Ok(out)
}

fn verdict_event(
    ctx: &CameraContext,
    camera_id: &str,
    track_id: u64,
    verdict: Verdict,
    shot: Option<BestShot>,
    captured_at: DateTime<Utc>,
    pts: Option<Duration>,
) -> EventEnvelope {
    let rec = &ctx.recogniser;
    let (face_box, score) = shot
        .as_ref()
        .map(|s| {
            let [x, y, w, h] = s.face.bbox;
            (BoxPx { x, y, w, h }, s.face.score)
        })
        .unwrap_or((
            BoxPx {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
            },
            0.0,
        ));
    let snap = shot.and_then(|s| s.snapshot);
    let matched = |person: crate::gallery::Person, distance: f32, votes: u32| FaceMatch {
        identity: Identity {
            person_id: person.person_id,
            name: person.name,
            list: person.list,
        },
        distance,
        threshold: rec.threshold,
        face_box,
        detection_score: score,
        embedder_id: rec.models.embedder.id().to_owned(),
        track_id: Some(track_id),
        votes: Some(votes),
    };
    let body = match verdict {
        Verdict::Recognised {
            person,
            distance,
            votes,
        } => {
            tracing::info!(camera = %camera_id, track = track_id, person = %person.person_id, distance, votes, "person recognised");
            EventBody::FaceMatch(matched(person, distance, votes))
        }
        Verdict::WatchListHit {
            person,
            distance,
            votes,
        } => {
            tracing::warn!(camera = %camera_id, track = track_id, person = %person.person_id, distance, votes, "WATCH-LIST HIT");
            EventBody::WatchlistHit(matched(person, distance, votes))
        }
        Verdict::Unknown {
            best_distance,
            votes,
        } => {
            tracing::info!(camera = %camera_id, track = track_id, votes, "unknown person");
            EventBody::UnknownPerson(wire::UnknownPerson {
                track_id,
                best_distance: best_distance.is_finite().then_some(best_distance),
                unknown_threshold: ctx.identity.unknown_threshold,
                votes,
                face_box,
                embedder_id: rec.models.embedder.id().to_owned(),
            })
        }
    };
    envelope(ctx, camera_id, captured_at, pts, body, snap)
}

type CrossingOut = (u64, String, Direction, [f32; 4]);
type CountOut = (i64, String, crate::gates::MinuteCount);

/// One frame of gate analytics: detect people, track, check gates and zones, close minutes.
fn gate_step(
    g: &mut GateAnalytics,
    det: &models::Yolox,
    ctx: &CameraContext,
    view: RgbView<'_>,
    t_secs: f64,
    unix_secs: i64,
) -> Result<(Vec<CrossingOut>, Vec<CountOut>), models::ModelError> {
    use models::ObjectDetector;
    let boxes: Vec<[f32; 4]> = det
        .detect(view)?
        .into_iter()
        .filter(|d| d.label == "person" && d.score >= ctx.tracking.person_score_threshold)
        .map(|d| d.bbox)
        .collect();
    let upd = g.tracker.update(t_secs, &boxes);
    g.current = upd
        .tracks
        .iter()
        .map(|t| (t.id, t.bbox, t.detection.is_some()))
        .collect();
    g.ended = upd.removed.clone();
    let mut crossings = Vec::new();
    for tr in &upd.tracks {
        // Only positions actually seen move a track across a line, never predictions.
        if tr.detection.is_none() {
            continue;
        }
        let p = crate::gates::anchor(tr.bbox, view.width, view.height);
        let (cs, _zones) = g.monitor.observe(tr.id, p);
        for c in cs {
            g.counter.add(unix_secs, &c.gate_id, c.direction);
            crossings.push((tr.id, c.gate_id, c.direction, tr.bbox));
        }
    }
    for id in upd.removed {
        g.monitor.forget(id);
    }
    let ids: Vec<String> = g.monitor.gates().iter().map(|l| l.id.clone()).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    g.counter.touch(unix_secs, &refs);
    Ok((crossings, g.counter.closed_before(unix_secs)))
}

fn envelope(
    ctx: &CameraContext,
    camera_id: &str,
    captured_at: DateTime<Utc>,
    pts: Option<Duration>,
    body: EventBody,
    snapshot: Option<Snapshot>,
) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: ctx.site_id.clone(),
        edge_id: ctx.edge_id.clone(),
        camera_id: camera_id.to_owned(),
        captured_at,
        stream_pts_ms: pts.map(|p| p.as_millis() as u64),
        body,
        snapshot,
    }
}

fn count_event(
    ctx: &CameraContext,
    camera_id: &str,
    minute: i64,
    gate_id: String,
    c: crate::gates::MinuteCount,
) -> EventEnvelope {
    let minute_start = DateTime::<Utc>::from_timestamp(minute, 0).unwrap_or_default();
    envelope(
        ctx,
        camera_id,
        Utc::now(),
        None,
        EventBody::GateCount(GateCount {
            gate_id,
            minute_start,
            entries: c.entries,
            exits: c.exits,
        }),
        None,
    )
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
    let matched = FaceMatch {
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
        track_id: None,
        votes: None,
    };
    // A watch-listed person is an alert on every camera, tracked or not.
    let body = if matched.identity.list == WATCH_LIST {
        EventBody::WatchlistHit(matched)
    } else {
        EventBody::FaceMatch(matched)
    };
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: ctx.site_id.clone(),
        edge_id: ctx.edge_id.clone(),
        camera_id: camera_id.to_owned(),
        captured_at,
        stream_pts_ms: pts.map(|p| p.as_millis() as u64),
        body,
        snapshot: snapshot(view, r.face.bbox, 0.3),
    }
}

/// JPEG of a box with a margin (a fraction of its size), as evidence.
fn snapshot(view: RgbView<'_>, bbox: [f32; 4], m: f32) -> Option<Snapshot> {
    use sha2::Digest;
    let [x, y, w, h] = bbox;
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
