//! Edge agent configuration (TOML). Every field is documented in `print-default-config`.
//! Relative paths are resolved against the directory of the config file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole agent configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Site this edge box belongs to (e.g. a tourist site or industrial park): `[A-Za-z0-9_-]`.
    pub site_id: String,
    /// This edge box's id, unique within the site.
    pub edge_id: String,
    pub mqtt: MqttConfig,
    pub models: ModelsConfig,
    #[serde(default)]
    pub recognition: RecognitionConfig,
    pub gallery: GalleryConfig,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub tracking: TrackingConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Cameras analysed by this box.
    pub cameras: Vec<CameraConfig>,
}

/// Broker the agent publishes events to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// MQTT client id; empty means `edge-<site_id>-<edge_id>`.
    #[serde(default)]
    pub client_id: String,
    /// MQTT keep-alive.
    #[serde(default = "default_keep_alive_secs")]
    pub keep_alive_secs: u64,
    /// How long to wait for the broker at start before giving up with an error.
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
}

fn default_keep_alive_secs() -> u64 {
    30
}
fn default_connect_timeout_secs() -> u64 {
    10
}

/// Which models to run and where they live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Directory of model manifests (`<id>.toml`).
    pub manifests_dir: PathBuf,
    /// Directory the weights were installed into by `scripts/setup.sh`.
    pub dir: PathBuf,
    /// `libonnxruntime.so`; empty means the `ORT_DYLIB_PATH` environment variable.
    #[serde(default)]
    pub ort_dylib_path: Option<PathBuf>,
    /// Face detector manifest id.
    pub face_detector: String,
    /// Face embedder manifest id.
    pub face_embedder: String,
    /// Threads one inference may use.
    #[serde(default = "default_intra_threads")]
    pub intra_threads: usize,
}

fn default_intra_threads() -> usize {
    2
}

/// How faces become identities.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionConfig {
    /// Faces whose box is smaller than this (shorter side, pixels) are not embedded.
    pub min_face_px: u32,
    /// Override of the embedder manifest's operating threshold (a distance under its metric).
    /// Leave unset to use the calibrated value from the manifest.
    #[serde(default)]
    pub match_threshold: Option<f32>,
    /// The same person on the same camera is announced again only after this long.
    pub repeat_after_secs: u64,
    /// Override of the detector manifest's score threshold.
    #[serde(default)]
    pub detector_score_threshold: Option<f32>,
    /// Tracked people: a face farther than this from everyone in the gallery votes "unknown"
    /// (between the match threshold and this, a shot abstains).
    #[serde(default = "default_unknown_threshold")]
    pub unknown_threshold: f32,
    /// Tracked people: agreeing face shots needed to name someone (or call them unknown).
    #[serde(default = "default_votes_needed")]
    pub votes_needed: u32,
    /// Tracked people: face shots embedded per track at most.
    #[serde(default = "default_max_attempts")]
    pub max_attempts_per_track: u32,
}

fn default_unknown_threshold() -> f32 {
    0.65
}
fn default_votes_needed() -> u32 {
    2
}
fn default_max_attempts() -> u32 {
    5
}

impl Default for RecognitionConfig {
    fn default() -> Self {
        Self {
            min_face_px: 40,
            match_threshold: None,
            repeat_after_secs: 30,
            detector_score_threshold: None,
            unknown_threshold: default_unknown_threshold(),
            votes_needed: default_votes_needed(),
            max_attempts_per_track: default_max_attempts(),
        }
    }
}

/// The on-disk outbox: events wait here until the IOC acknowledges them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Directory of the outbox (one file per event).
    pub dir: PathBuf,
    /// Largest total size of the events waiting; when full, per-minute counts give way first,
    /// then ordinary events; alerts last (every loss is counted in the metrics). An event larger
    /// than this (a big snapshot) can never wait and is counted as lost: keep it well above
    /// the largest snapshot, at least 64 KiB.
    pub max_bytes: u64,
    /// Events sent and not yet acknowledged, at most.
    pub in_flight_window: usize,
    /// Send unacknowledged events again when no acknowledgement arrived for this long.
    pub resend_after_secs: u64,
    /// On shutdown, wait this long for the IOC to acknowledge what is left (the rest stays on
    /// disk for the next start).
    pub flush_timeout_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("outbox"),
            max_bytes: 256 * 1024 * 1024,
            in_flight_window: 64,
            resend_after_secs: 10,
            flush_timeout_secs: 15,
        }
    }
}

/// How camera streams are decoded and supervised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// `auto`: hardware decoders (VA-API, NVDEC, V4L2) when present, else software.
    /// `software`: never use hardware decoders.
    pub decoder: DecoderConfig,
    /// No frame for this long counts as a failure and restarts the camera.
    pub stall_timeout_secs: u64,
    /// First wait before reopening a failed camera; doubles (with jitter) up to the maximum.
    pub backoff_initial_ms: u64,
    pub backoff_max_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            decoder: DecoderConfig::Auto,
            stall_timeout_secs: 10,
            backoff_initial_ms: 500,
            backoff_max_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecoderConfig {
    Auto,
    Software,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RtspTransportConfig {
    #[default]
    Auto,
    Tcp,
    Udp,
}

/// Where the enrolled people are stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryConfig {
    /// Gallery file written by `edge-agent enrol`.
    pub path: PathBuf,
}

/// One camera.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Camera id, unique on this edge: `[A-Za-z0-9_-]`.
    pub id: String,
    /// `rtsp://user:pass@host/path`, `file:///abs/path.mp4`, `http://...` or `testsrc://ball`.
    /// Credentials are never logged.
    pub uri: String,
    /// Frames analysed per second (older frames are skipped, newest kept).
    pub analysis_fps: u32,
    /// User name for the camera (RTSP/HTTP), given to the source rather than put in the URI.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for the camera; never logged.
    #[serde(default)]
    pub password: Option<Secret>,
    /// RTSP transport: `auto` (UDP, falling back to TCP), `tcp` or `udp`.
    #[serde(default)]
    pub rtsp_transport: RtspTransportConfig,
    /// Scale frames to this width before analysis; unset keeps the stream's size.
    #[serde(default)]
    pub width: Option<u32>,
    /// For `file://` sources: start again at the end (demo scenes). Otherwise the camera stops
    /// at the end of the file.
    #[serde(default)]
    pub loop_file: bool,
    /// For `file://` sources: read as fast as analysis allows instead of at the file's pace.
    #[serde(default)]
    pub fast_file: bool,
    /// Directional gate lines counted on this camera (people are detected and tracked only on
    /// cameras with gates or zones).
    #[serde(default)]
    pub gates: Vec<GateConfig>,
    /// Polygon zones (occupancy, entering and leaving).
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
}

/// A gate line in normalised frame coordinates (0..1, origin top left, y down).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateConfig {
    /// Gate id (`[A-Za-z0-9_-]`), unique on the camera; appears in events and counts.
    pub id: String,
    /// Start and end of the line.
    pub a: [f32; 2],
    pub b: [f32; 2],
    /// Which crossing is an entry: `left_to_right` means walking from the left of the a->b
    /// direction to its right (as seen in the image) is "in".
    pub in_direction: InDirection,
    /// Half-width of the dead band around the line (normalised): someone standing on the line
    /// is not counted until they are this far past it.
    #[serde(default = "default_gate_margin")]
    pub margin: f32,
}

fn default_gate_margin() -> f32 {
    0.03
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InDirection {
    LeftToRight,
    RightToLeft,
}

/// A polygon zone in normalised frame coordinates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub id: String,
    /// At least three vertices.
    pub polygon: Vec<[f32; 2]>,
}

/// Prometheus metrics over HTTP.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// `host:port` serving `GET /metrics`; empty turns the endpoint off.
    #[serde(default)]
    pub listen: String,
}

/// Person detection and tracking (cameras with gates or zones).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingConfig {
    /// Person detector manifest id.
    pub person_detector: String,
    /// Person detections below this score are ignored.
    pub person_score_threshold: f32,
    /// A detection joins a track when their boxes overlap at least this much (IoU).
    pub iou_min: f32,
    /// Consecutive detections before a track counts.
    pub min_hits: u32,
    /// How long a track survives without detections (occlusion) before it ends.
    pub max_coast_ms: u64,
    /// Analysed frames in a row a person must be seen beyond a gate line's dead band before
    /// they count as having crossed it (1: at once). 2 ignores one-frame jumps of a box.
    pub gate_confirm_frames: u32,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        Self {
            person_detector: "yolox_nano_coco80".into(),
            person_score_threshold: 0.4,
            iou_min: 0.2,
            min_hits: 2,
            max_coast_ms: 1500,
            gate_confirm_frames: 2,
        }
    }
}

/// A secret from the config: printed as `***` in debug output and logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Every problem found in a config, reported together.
#[derive(Debug, thiserror::Error)]
#[error("{} has {} problem(s):\n  - {}", path.display(), problems.len(), problems.join("\n  - "))]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl Config {
    /// Reads, resolves relative paths against the file's directory, and validates.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_owned(),
            problems: vec![format!("cannot read: {e}")],
        })?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| ConfigError {
            path: path.to_owned(),
            problems: vec![e.to_string()],
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.resolve_paths(base);
        let problems = cfg.validate();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError {
                path: path.to_owned(),
                problems,
            })
        }
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !p.as_os_str().is_empty() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.models.manifests_dir);
        fix(&mut self.models.dir);
        if let Some(p) = self.models.ort_dylib_path.as_mut() {
            fix(p);
        }
        fix(&mut self.gallery.path);
        fix(&mut self.outbox.dir);
    }

    /// The MQTT client id in use.
    pub fn client_id(&self) -> String {
        if self.mqtt.client_id.is_empty() {
            format!("edge-{}-{}", self.site_id, self.edge_id)
        } else {
            self.mqtt.client_id.clone()
        }
    }

    /// Returns every problem found (empty when valid).
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (field, v) in [("site_id", &self.site_id), ("edge_id", &self.edge_id)] {
            if let Err(e) = wire::validate_id(field, v) {
                p.push(e.to_string());
            }
        }
        if self.mqtt.host.trim().is_empty() {
            p.push("mqtt.host is empty".into());
        }
        if self.mqtt.port == 0 {
            p.push("mqtt.port must be 1-65535".into());
        }
        if self.mqtt.keep_alive_secs < 5 {
            p.push("mqtt.keep_alive_secs must be at least 5".into());
        }
        if self.mqtt.connect_timeout_secs == 0 {
            p.push("mqtt.connect_timeout_secs must be at least 1".into());
        }
        if !self.models.manifests_dir.is_dir() {
            p.push(format!(
                "models.manifests_dir {} is not a directory",
                self.models.manifests_dir.display()
            ));
        } else {
            for (field, id) in [
                ("face_detector", &self.models.face_detector),
                ("face_embedder", &self.models.face_embedder),
            ] {
                let f = self.models.manifests_dir.join(format!("{id}.toml"));
                if !f.is_file() {
                    p.push(format!(
                        "models.{field} {id:?}: no manifest at {}",
                        f.display()
                    ));
                }
            }
        }
        if !self.models.dir.is_dir() {
            p.push(format!(
                "models.dir {} is not a directory (run scripts/setup.sh)",
                self.models.dir.display()
            ));
        }
        let o = &self.outbox;
        if o.dir.as_os_str().is_empty() {
            p.push("outbox.dir is empty".into());
        }
        if o.max_bytes < 64 * 1024 {
            p.push(format!(
                "outbox.max_bytes must be at least 64 KiB (65536), got {}",
                o.max_bytes
            ));
        }
        if o.in_flight_window == 0 || o.in_flight_window > 10_000 {
            p.push(format!(
                "outbox.in_flight_window must be 1-10000, got {}",
                o.in_flight_window
            ));
        }
        if o.resend_after_secs == 0 {
            p.push("outbox.resend_after_secs must be at least 1".into());
        }
        if self.models.intra_threads == 0 || self.models.intra_threads > 64 {
            p.push("models.intra_threads must be 1-64".into());
        }
        let r = &self.recognition;
        if r.min_face_px < 16 {
            p.push(
                "recognition.min_face_px must be at least 16 (smaller faces cannot be recognised)"
                    .into(),
            );
        }
        if let Some(t) = r.match_threshold
            && !(t.is_finite() && t > 0.0)
        {
            p.push("recognition.match_threshold must be a positive distance".into());
        }
        if let Some(t) = r.detector_score_threshold
            && !(t > 0.0 && t < 1.0)
        {
            p.push("recognition.detector_score_threshold must be between 0 and 1".into());
        }
        let i = &self.ingest;
        if i.stall_timeout_secs == 0 {
            p.push("ingest.stall_timeout_secs must be at least 1".into());
        }
        if i.backoff_initial_ms == 0 || i.backoff_initial_ms > i.backoff_max_ms {
            p.push(
                "ingest.backoff_initial_ms must be at least 1 and at most ingest.backoff_max_ms"
                    .into(),
            );
        }
        if self.cameras.is_empty() {
            p.push("no [[cameras]] configured".into());
        }
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            p.push(format!(
                "metrics.listen {:?} is not host:port (e.g. 127.0.0.1:9108)",
                self.metrics.listen
            ));
        }
        if r.votes_needed == 0 || r.votes_needed > r.max_attempts_per_track {
            p.push(format!(
                "recognition.votes_needed must be 1..=max_attempts_per_track ({}), got {}",
                r.max_attempts_per_track, r.votes_needed
            ));
        }
        if let Some(m) = r.match_threshold
            && r.unknown_threshold < m
        {
            p.push(format!(
                "recognition.unknown_threshold ({}) must not be below match_threshold ({m})",
                r.unknown_threshold
            ));
        }
        let t = &self.tracking;
        if self
            .cameras
            .iter()
            .any(|c| !c.gates.is_empty() || !c.zones.is_empty())
        {
            let f = self
                .models
                .manifests_dir
                .join(format!("{}.toml", t.person_detector));
            if !f.is_file() {
                p.push(format!(
                    "tracking.person_detector {:?}: no manifest at {}",
                    t.person_detector,
                    f.display()
                ));
            }
        }
        if !(0.05..=0.95).contains(&t.person_score_threshold) {
            p.push(format!(
                "tracking.person_score_threshold must be 0.05-0.95, got {}",
                t.person_score_threshold
            ));
        }
        if !(0.01..=0.9).contains(&t.iou_min) {
            p.push(format!(
                "tracking.iou_min must be 0.01-0.9, got {}",
                t.iou_min
            ));
        }
        if t.min_hits == 0 || t.min_hits > 30 {
            p.push(format!(
                "tracking.min_hits must be 1-30, got {}",
                t.min_hits
            ));
        }
        if !(1..=10).contains(&t.gate_confirm_frames) {
            p.push(format!(
                "tracking.gate_confirm_frames must be 1-10, got {}",
                t.gate_confirm_frames
            ));
        }
        if t.max_coast_ms > 60_000 {
            p.push(format!(
                "tracking.max_coast_ms must be at most 60000, got {}",
                t.max_coast_ms
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.cameras.iter().enumerate() {
            let name = format!("cameras[{i}] ({})", c.id);
            if let Err(e) = wire::validate_id("id", &c.id) {
                p.push(format!("{name}: {e}"));
            }
            if !seen.insert(c.id.clone()) {
                p.push(format!("{name}: duplicate camera id"));
            }
            if c.analysis_fps == 0 || c.analysis_fps > 60 {
                p.push(format!(
                    "{name}: analysis_fps must be 1-60, got {}",
                    c.analysis_fps
                ));
            }
            if let Some(w) = c.width
                && !(64..=7680).contains(&w)
            {
                p.push(format!("{name}: width must be 64-7680, got {w}"));
            }
            match c.uri.split_once("://") {
                Some(("file", rest)) => {
                    let path = Path::new(rest);
                    if !path.is_file() {
                        p.push(format!(
                            "{name}: video file {} does not exist",
                            path.display()
                        ));
                    }
                }
                Some(("rtsp" | "rtsps" | "http" | "https" | "testsrc", _)) => {}
                _ => p.push(format!(
                    "{name}: uri {} must start with rtsp://, file://, http(s):// or testsrc://",
                    pipeline::redact_uri(&c.uri)
                )),
            }
            let in_unit = |v: &[f32; 2]| v.iter().all(|x| (0.0..=1.0).contains(x));
            let mut ids = std::collections::HashSet::new();
            for (gi, g) in c.gates.iter().enumerate() {
                let gname = format!("{name}: gates[{gi}] ({})", g.id);
                if let Err(e) = wire::validate_id("id", &g.id) {
                    p.push(format!("{gname}: {e}"));
                }
                if !ids.insert(g.id.clone()) {
                    p.push(format!("{gname}: duplicate gate/zone id"));
                }
                if !in_unit(&g.a) || !in_unit(&g.b) {
                    p.push(format!(
                        "{gname}: a and b are normalised coordinates and must be within 0..1, got {:?} and {:?}",
                        g.a, g.b
                    ));
                }
                if (g.a[0] - g.b[0]).hypot(g.a[1] - g.b[1]) < 0.02 {
                    p.push(format!("{gname}: a and b are (almost) the same point"));
                }
                if !(0.0..=0.2).contains(&g.margin) {
                    p.push(format!("{gname}: margin must be 0-0.2, got {}", g.margin));
                }
            }
            for (zi, z) in c.zones.iter().enumerate() {
                let zname = format!("{name}: zones[{zi}] ({})", z.id);
                if let Err(e) = wire::validate_id("id", &z.id) {
                    p.push(format!("{zname}: {e}"));
                }
                if !ids.insert(z.id.clone()) {
                    p.push(format!("{zname}: duplicate gate/zone id"));
                }
                if z.polygon.len() < 3 {
                    p.push(format!(
                        "{zname}: polygon needs at least 3 vertices, got {}",
                        z.polygon.len()
                    ));
                }
                if !z.polygon.iter().all(in_unit) {
                    p.push(format!(
                        "{zname}: polygon vertices are normalised and must be within 0..1"
                    ));
                }
            }
            if (c.loop_file || c.fast_file) && !c.uri.starts_with("file://") {
                p.push(format!(
                    "{name}: loop_file and fast_file only apply to file:// sources"
                ));
            }
        }
        p
    }
}

/// The documented default configuration printed by `print-default-config`.
pub const DEFAULT_CONFIG: &str = include_str!("../../configs/edge-agent.default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("agent.toml");
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn every_problem_in_a_config_is_reported_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            r#"
site_id = "bad site"
edge_id = "e1"
[mqtt]
host = ""
port = 0
[models]
manifests_dir = "nope"
dir = "nope"
face_detector = "x"
face_embedder = "y"
[recognition]
min_face_px = 4
repeat_after_secs = 1
[gallery]
path = "g.json"
[[cameras]]
id = "c1"
uri = "ftp://x"
analysis_fps = 0
[[cameras]]
id = "c1"
uri = "file:///does/not/exist.mp4"
analysis_fps = 5
"#,
        );
        let err = Config::load(&p).expect_err("must fail");
        let text = err.to_string();
        for needle in [
            "site_id",
            "mqtt.host",
            "mqtt.port",
            "models.manifests_dir",
            "models.dir",
            "min_face_px",
            "ftp://x",
            "analysis_fps",
            "duplicate camera id",
            "/does/not/exist.mp4",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert!(err.problems.len() >= 10, "{text}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            "site_id = \"s\"\nedge_id = \"e\"\ncamreas = []\n",
        );
        let err = Config::load(&p).expect_err("must fail");
        assert!(err.to_string().contains("camreas"), "{err}");
    }

    #[test]
    fn camera_passwords_never_appear_in_debug_output() {
        let mut cfg: Config = toml::from_str(DEFAULT_CONFIG).expect("default config parses");
        cfg.cameras[0].password = Some(Secret("hunter2".into()));
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn the_default_config_parses() {
        let cfg: Config = toml::from_str(DEFAULT_CONFIG).expect("default config parses");
        assert_eq!(cfg.models.face_embedder, "mobilefacenet_192d");
    }
}
