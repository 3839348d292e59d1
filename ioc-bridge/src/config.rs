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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address of the dashboard and JSON API.
    pub listen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Run an embedded broker.
    pub embedded: bool,
    /// Where the embedded broker listens.
    #[serde(default = "default_embedded_listen")]
    pub embedded_listen: String,
    /// Broker the bridge subscribes to (the embedded one's address when `embedded`).
    pub host: String,
    pub port: u16,
    #[serde(default = "default_client_id")]
    pub client_id: String,
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
}

fn default_embedded_listen() -> String {
    "127.0.0.1:1883".into()
}
fn default_client_id() -> String {
    "ioc-bridge".into()
}
fn default_connect_timeout_secs() -> u64 {
    10
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file.
    pub sqlite_path: PathBuf,
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
        if cfg.store.sqlite_path.is_relative() {
            cfg.store.sqlite_path = base.join(&cfg.store.sqlite_path);
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
        if self.mqtt.embedded && self.mqtt.embedded_listen.parse::<SocketAddr>().is_err() {
            p.push(format!(
                "mqtt.embedded_listen {:?} is not an address like 127.0.0.1:1883",
                self.mqtt.embedded_listen
            ));
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
        if self.mqtt.connect_timeout_secs == 0 {
            p.push("mqtt.connect_timeout_secs must be at least 1".into());
        }
        if self.store.sqlite_path.as_os_str().is_empty() {
            p.push("store.sqlite_path is empty".into());
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
            "[http]\nlisten = \"nowhere\"\n[mqtt]\nembedded = true\nembedded_listen = \"x\"\nhost = \"\"\nport = 0\n[store]\nsqlite_path = \"a.db\"\n",
        )
        .expect("write");
        let e = Config::load(&path).expect_err("must fail");
        let t = e.to_string();
        for n in [
            "http.listen",
            "mqtt.embedded_listen",
            "mqtt.host",
            "mqtt.port",
        ] {
            assert!(t.contains(n), "{n} missing in {t}");
        }
    }

    #[test]
    fn the_default_config_is_valid() {
        let cfg: Config = toml::from_str(DEFAULT_CONFIG).expect("parses");
        assert!(cfg.validate().is_empty(), "{:?}", cfg.validate());
    }
}
