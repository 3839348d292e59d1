//! ioc-bridge configuration (TOML), validated with every problem reported at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub mqtt: MqttConfig,
    pub store: StoreConfig,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub models: Option<ModelsConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of the dashboard and JSON API.
    pub listen: String,
    /// Offset of local time from UTC in minutes, for hourly and daily counts (Vietnam: 420).
    #[serde(default = "default_utc_offset_mins")]
    pub utc_offset_mins: i32,
}

fn default_utc_offset_mins() -> i32 {
    420
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Run an embedded broker.
    pub embedded: bool,
    /// Where the embedded broker listens for MQTT 3.1.1 clients (the edges).
    #[serde(default = "default_embedded_listen")]
    pub embedded_listen: String,
    /// Where the embedded broker listens for MQTT 5 clients (this bridge and its peers).
    #[serde(default = "default_embedded_listen_v5")]
    pub embedded_listen_v5: String,
    /// MQTT 5 broker the bridge subscribes to (for the embedded broker: its MQTT 5 listener).
    pub host: String,
    pub port: u16,
    /// Client id; every bridge sharing the load needs its own.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Shared-subscription group: bridges in one group split the edges' events between them
    /// (`$share/{group}/gw/v1/+/+/events/+`).
    #[serde(default = "default_share_group")]
    pub share_group: String,
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// How long the broker keeps this bridge's session (and queues its messages) while it is
    /// away. Short by default: in a share group the broker goes on handing a dead bridge its
    /// share until the session expires (the edges send those events again, unacknowledged).
    #[serde(default = "default_session_expiry_secs")]
    pub session_expiry_secs: u32,
}

fn default_embedded_listen() -> String {
    "127.0.0.1:1883".into()
}
fn default_embedded_listen_v5() -> String {
    "127.0.0.1:1884".into()
}
fn default_client_id() -> String {
    "ioc-bridge".into()
}
fn default_share_group() -> String {
    "ioc".into()
}
fn default_connect_timeout_secs() -> u64 {
    10
}
fn default_session_expiry_secs() -> u32 {
    120
}

/// Which database holds the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite` (one file, the default) or `postgres`.
    #[serde(default, rename = "type")]
    pub kind: StoreKind,
    /// SQLite database file.
    #[serde(default)]
    pub sqlite_path: PathBuf,
    /// PostgreSQL connection URL, e.g. `postgres://ioc@127.0.0.1:5432/ioc`.
    #[serde(default)]
    pub postgres_url: String,
}

/// How ingest batches its writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Most events committed in one transaction.
    pub batch_max: usize,
    /// Longest a message waits for its batch to fill before it is committed anyway.
    pub batch_wait_ms: u64,
    /// MQTT connections in the share group. A broker lets only so many unacknowledged
    /// messages be in flight per connection (rumqttd: 100) and acknowledgements wait for the
    /// commit, so throughput grows with connections until the database is the limit.
    pub connections: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            batch_max: 256,
            batch_wait_ms: 5,
            connections: 8,
        }
    }
}

/// How long data is kept; older data is purged once an hour. 0 keeps forever.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Recognitions, watch-list hits and unknown people (personal data), with their snapshots.
    pub face_events_days: u32,
    /// Gate crossings (with their snapshots).
    pub crossing_events_days: u32,
    /// Plate readings (personal data: a plate names its owner), with their snapshots.
    pub plate_events_days: u32,
    /// Per-minute counts (`gate_count` events and the count table).
    pub counts_days: u32,
    /// Visitors are deleted this many days after their validity ended.
    pub expired_visitors_days: u32,
    /// The audit log.
    pub audit_days: u32,
    /// Records of people removed at the IOC, kept so that edges offline at the time drop
    /// them when they reconnect.
    pub gallery_tombstones_days: u32,
    /// How often the purge runs.
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            face_events_days: 30,
            crossing_events_days: 90,
            plate_events_days: 90,
            counts_days: 730,
            expired_visitors_days: 7,
            audit_days: 365,
            gallery_tombstones_days: 90,
            interval_secs: 3600,
        }
    }
}

/// Users and sessions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A session ends this long after log-in.
    pub session_hours: u32,
    /// Set the cookie's `Secure` flag (behind TLS).
    pub secure_cookies: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            secure_cookies: false,
        }
    }
}

/// Models for enrolment and face search (the same manifests as the edges).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    pub manifests_dir: PathBuf,
    pub dir: PathBuf,
    /// ONNX Runtime shared library (`ORT_DYLIB_PATH` when empty).
    #[serde(default)]
    pub ort_dylib_path: PathBuf,
    pub face_detector: String,
    pub face_embedder: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{} has {} problem(s):\n  - {}", path.display(), problems.len(), problems.join("\n  - "))]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

pub const DEFAULT_CONFIG: &str = include_str!("../../configs/ioc-bridge.default.toml");

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |problems| ConfigError {
            path: path.to_owned(),
            problems,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| err(vec![format!("cannot read: {e}")]))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| err(vec![e.to_string()]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if !p.as_os_str().is_empty() && p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut cfg.store.sqlite_path);
        if let Some(m) = &mut cfg.models {
            fix(&mut m.manifests_dir);
            fix(&mut m.dir);
            fix(&mut m.ort_dylib_path);
        }
        let problems = cfg.validate();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(err(problems))
        }
    }

    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.http.listen.parse::<SocketAddr>().is_err() {
            p.push(format!(
                "http.listen {:?} is not an address like 127.0.0.1:8080",
                self.http.listen
            ));
        }
        if !(-720..=840).contains(&self.http.utc_offset_mins) {
            p.push(format!(
                "http.utc_offset_mins {} is not between -720 and 840",
                self.http.utc_offset_mins
            ));
        }
        if self.mqtt.embedded {
            for (name, v) in [
                ("mqtt.embedded_listen", &self.mqtt.embedded_listen),
                ("mqtt.embedded_listen_v5", &self.mqtt.embedded_listen_v5),
            ] {
                if v.parse::<SocketAddr>().is_err() {
                    p.push(format!(
                        "{name} {v:?} is not an address like 127.0.0.1:1883"
                    ));
                }
            }
            if self.mqtt.embedded_listen == self.mqtt.embedded_listen_v5 {
                p.push("mqtt.embedded_listen and mqtt.embedded_listen_v5 must differ".into());
            }
        }
        if self.mqtt.host.trim().is_empty() {
            p.push("mqtt.host is empty".into());
        }
        if self.mqtt.port == 0 {
            p.push("mqtt.port must be 1-65535".into());
        }
        if self.mqtt.client_id.is_empty() {
            p.push("mqtt.client_id is empty".into());
        }
        if self.mqtt.share_group.is_empty() || self.mqtt.share_group.contains(['/', '+', '#']) {
            p.push(format!(
                "mqtt.share_group {:?} must be a non-empty name without '/', '+' or '#'",
                self.mqtt.share_group
            ));
        }
        if self.mqtt.connect_timeout_secs == 0 {
            p.push("mqtt.connect_timeout_secs must be at least 1".into());
        }
        match self.store.kind {
            StoreKind::Sqlite if self.store.sqlite_path.as_os_str().is_empty() => {
                p.push("store.sqlite_path is empty (store.type = \"sqlite\")".into());
            }
            StoreKind::Postgres
                if !self.store.postgres_url.starts_with("postgres://")
                    && !self.store.postgres_url.starts_with("postgresql://") =>
            {
                p.push(format!(
                    "store.postgres_url {:?} is not a postgres:// URL (store.type = \"postgres\")",
                    self.store.postgres_url
                ));
            }
            _ => {}
        }
        if self.ingest.batch_max == 0 || self.ingest.batch_max > 10_000 {
            p.push(format!(
                "ingest.batch_max {} must be 1-10000",
                self.ingest.batch_max
            ));
        }
        if self.ingest.connections == 0 || self.ingest.connections > 64 {
            p.push(format!(
                "ingest.connections {} must be 1-64",
                self.ingest.connections
            ));
        }
        if self.ingest.batch_wait_ms > 1000 {
            p.push(format!(
                "ingest.batch_wait_ms {} is over 1000 (events would wait too long)",
                self.ingest.batch_wait_ms
            ));
        }
        if self.retention.interval_secs == 0 {
            p.push("retention.interval_secs must be at least 1".into());
        }
        if self.auth.session_hours == 0 {
            p.push("auth.session_hours must be at least 1".into());
        }
        if let Some(m) = &self.models {
            if !m.manifests_dir.is_dir() {
                p.push(format!(
                    "models.manifests_dir {} is not a directory",
                    m.manifests_dir.display()
                ));
            }
            if !m.dir.is_dir() {
                p.push(format!("models.dir {} is not a directory", m.dir.display()));
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.toml");
        std::fs::write(
            &path,
            "[http]\nlisten = \"nowhere\"\n[mqtt]\nembedded = true\nembedded_listen = \"x\"\nhost = \"\"\nport = 0\nshare_group = \"a/b\"\n\
             [store]\ntype = \"postgres\"\npostgres_url = \"mysql://x\"\n[ingest]\nbatch_max = 0\n",
        )
        .expect("write");
        let e = Config::load(&path).expect_err("must fail");
        let t = e.to_string();
        for n in [
            "http.listen",
            "mqtt.embedded_listen",
            "mqtt.host",
            "mqtt.port",
            "mqtt.share_group",
            "store.postgres_url",
            "ingest.batch_max",
        ] {
            assert!(t.contains(n), "{n} missing in {t}");
        }
    }

    #[test]
    fn an_unknown_key_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.toml");
        std::fs::write(
            &path,
            DEFAULT_CONFIG.replace("face_events_days", "face_event_days"),
        )
        .expect("write");
        let t = Config::load(&path).expect_err("must fail").to_string();
        assert!(t.contains("face_event_days"), "{t}");
    }

    #[test]
    fn the_default_config_is_valid() {
        let cfg: Config = toml::from_str(DEFAULT_CONFIG).expect("parses");
        assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    }
}
