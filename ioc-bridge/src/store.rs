//! The event store: SQLite (one file, WAL) by default, PostgreSQL by configuration, one schema
//! through per-backend migrations (`migrations/sqlite`, `migrations/postgres`) and one set of
//! queries (sqlx `Any`, `$n` placeholders, which both backends accept).
//!
//! Inserts are idempotent by event id and batched: a batch of events goes in one transaction,
//! and ingest acknowledges them only after it commits. Snapshots are content-addressed by
//! sha256 (stored once however many events refer to them). Rejected messages go to a quarantine
//! table with the reason.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use wire::{EventBody, EventEnvelope};

use crate::config::{StoreConfig, StoreKind};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{backend} database {target} cannot be opened: {reason}")]
    Open {
        backend: &'static str,
        target: String,
        reason: String,
    },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("snapshot of event {event_id} is invalid: {reason}")]
    Snapshot { event_id: String, reason: String },
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
}

/// What happened to an inserted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    Duplicate,
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A stored event as served by the API.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    pub event_id: String,
    pub schema_version: i64,
    pub site_id: String,
    pub edge_id: String,
    pub camera_id: String,
    pub kind: String,
    pub captured_at: String,
    pub stream_pts_ms: Option<i64>,
    pub received_at: String,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub person_list: Option<String>,
    pub distance: Option<f64>,
    pub snapshot_sha256: Option<String>,
    pub plate: Option<String>,
    pub payload: serde_json::Value,
}

/// Filters for listing events; all optional, combined with AND.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFilter {
    pub site: Option<String>,
    pub camera: Option<String>,
    pub kind: Option<String>,
    pub person: Option<String>,
    /// A plate, matched over confusable characters (0/O/D, 1/I, 8/B, 5/S, 2/Z, 6/G), ignoring
    /// dots, dashes and spaces.
    pub plate: Option<String>,
    /// RFC 3339 lower bound on capture time (inclusive).
    pub since: Option<String>,
    /// RFC 3339 upper bound on capture time (exclusive).
    pub until: Option<String>,
    /// Only events whose id sorts after this one (event ids are UUIDv7: time-ordered).
    pub after_id: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedMessage {
    pub id: i64,
    pub received_at: String,
    pub topic: String,
    pub reason: String,
    pub payload_preview: String,
}

/// One gate's count over one minute.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MinuteCount {
    pub site_id: String,
    pub camera_id: String,
    pub gate_id: String,
    pub minute_start: String,
    pub entries: i64,
    pub exits: i64,
}

/// An alert and its current state.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub event_id: String,
    pub site_id: String,
    pub camera_id: String,
    pub kind: String,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub raised_at: String,
    pub state: String,
    pub updated_at: String,
    pub updated_by: Option<String>,
}

/// One step in an alert's life.
#[derive(Debug, Clone, Serialize)]
pub struct AlertStep {
    pub at: String,
    pub actor: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: String,
}

/// An entry of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

/// An enrolled person as kept by the IOC.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRow {
    pub person_id: String,
    pub name: String,
    pub list: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub samples: i64,
}

/// A user account (without its password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub username: String,
    pub role: String,
    pub created_at: String,
}

/// Alert states, in the order an alert goes through them.
pub const ALERT_STATES: [&str; 3] = ["new", "in_progress", "closed"];

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Current time as stored: RFC 3339, UTC, millisecond precision (sorts as text).
pub fn now() -> String {
    ts(Utc::now())
}

/// A time in the stored form.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An event checked and prepared for insertion (snapshot decoded and its hash verified).
struct Prepared<'a> {
    env: &'a EventEnvelope,
    snapshot: Option<(Vec<u8>, &'a wire::Snapshot)>,
}

fn prepare(env: &EventEnvelope) -> Result<Prepared<'_>, StoreError> {
    let mut snapshot = None;
    if let Some(s) = &env.snapshot
        && let Some(b64) = &s.data_b64
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| StoreError::Snapshot {
                event_id: env.event_id.to_string(),
                reason: format!("not base64: {e}"),
            })?;
        use sha2::Digest;
        let got = hex::encode(sha2::Sha256::digest(&bytes));
        if got != s.sha256 {
            return Err(StoreError::Snapshot {
                event_id: env.event_id.to_string(),
                reason: format!("sha256 is {got}, envelope says {}", s.sha256),
            });
        }
        snapshot = Some((bytes, s));
    }
    Ok(Prepared { env, snapshot })
}

const EVENT_COLUMNS: &str = "event_id, schema_version, site_id, edge_id, camera_id, kind, captured_at, stream_pts_ms, \
     received_at, person_id, person_name, person_list, distance, snapshot_sha256, plate, payload";

impl Store {
    /// Opens (creating if needed) the configured database and applies its migrations.
    pub async fn open(cfg: &StoreConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        match cfg.kind {
            StoreKind::Sqlite => Self::open_sqlite(&cfg.sqlite_path).await,
            StoreKind::Postgres => Self::open_postgres(&cfg.postgres_url).await,
        }
    }

    /// Opens an SQLite file (WAL journal, synchronous NORMAL: a commit survives a process
    /// crash; the last commits before a power cut may be lost, never the file).
    pub async fn open_sqlite(path: &std::path::Path) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let open_err = |reason: String| StoreError::Open {
            backend: "SQLite",
            target: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let opts = AnyConnectOptions::from_str(&url).map_err(|e| open_err(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(Self {
            pool,
            backend: Backend::Sqlite,
        })
    }

    /// Connects to PostgreSQL (`postgres://user@host:port/db`).
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let open_err = |reason: String| StoreError::Open {
            backend: "PostgreSQL",
            target: redact(url),
            reason,
        };
        let opts = AnyConnectOptions::from_str(url).map_err(|e| open_err(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(Self {
            pool,
            backend: Backend::Postgres,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores one event (see [`Store::insert_batch`]).
    pub async fn insert_event(&self, env: &EventEnvelope) -> Result<Inserted, StoreError> {
        let mut out = self.insert_batch(std::slice::from_ref(env)).await?;
        out.pop().unwrap_or(Ok(Inserted::Duplicate))
    }

    /// Stores a batch of events in one transaction, with their snapshots, the per-minute gate
    /// counts they carry and the alerts they raise. Per event: `New`, `Duplicate` (already
    /// stored, nothing changed) or a snapshot error (the event is not stored; the others are).
    /// An `Err` means nothing was committed.
    pub async fn insert_batch(
        &self,
        envs: &[EventEnvelope],
    ) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
        let prepared: Vec<Result<Prepared<'_>, StoreError>> = envs.iter().map(prepare).collect();
        let received = now();
        let good: Vec<&Prepared<'_>> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        let mut tx = self.pool.begin().await?;
        let mut inserted = insert_prepared(self.backend, &mut tx, &good, &received)
            .await?
            .into_iter();
        tx.commit().await?;
        let mut out = Vec::with_capacity(envs.len());
        for p in prepared {
            out.push(match p {
                Ok(_) => Ok(inserted.next().unwrap_or(Inserted::Duplicate)),
                Err(e) => Err(e),
            });
        }
        Ok(out)
    }

    /// Records a message that could not be accepted.
    pub async fn quarantine(
        &self,
        topic: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO quarantine (received_at, topic, reason, payload) VALUES ($1, $2, $3, $4)",
        )
        .bind(now())
        .bind(topic.to_owned())
        .bind(reason.to_owned())
        .bind(payload.to_vec())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an edge's retained status message.
    pub async fn upsert_edge_status(
        &self,
        site: &str,
        edge: &str,
        state: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO edges (site_id, edge_id, state, status, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (site_id, edge_id) DO UPDATE SET state = excluded.state, status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(site.to_owned())
        .bind(edge.to_owned())
        .bind(state.to_owned())
        .bind(status.to_owned())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a camera's retained status message.
    pub async fn upsert_camera_status(
        &self,
        site: &str,
        edge: &str,
        camera: &str,
        state: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cameras (site_id, edge_id, camera_id, state, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (site_id, edge_id, camera_id) DO UPDATE SET state = excluded.state, status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(site.to_owned())
        .bind(edge.to_owned())
        .bind(camera.to_owned())
        .bind(state.to_owned())
        .bind(status.to_owned())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every camera's last reported status, by site, edge and camera.
    pub async fn list_cameras(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT site_id, edge_id, camera_id, state, status, updated_at FROM cameras ORDER BY site_id, edge_id, camera_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(4)?;
                Ok(serde_json::json!({
                    "site_id": r.try_get::<String, _>(0)?,
                    "edge_id": r.try_get::<String, _>(1)?,
                    "camera_id": r.try_get::<String, _>(2)?,
                    "state": r.try_get::<String, _>(3)?,
                    "status": serde_json::from_str::<serde_json::Value>(&status).unwrap_or(serde_json::Value::Null),
                    "updated_at": r.try_get::<String, _>(5)?,
                }))
            })
            .collect()
    }

    /// Events matching `f`, newest first (at most 1000).
    pub async fn list_events(&self, f: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1=1");
        let plate_key = f.plate.as_deref().map(wire::plate_key);
        let mut binds: Vec<String> = Vec::new();
        for (col, op, v) in [
            ("site_id", "=", &f.site),
            ("camera_id", "=", &f.camera),
            ("kind", "=", &f.kind),
            ("person_id", "=", &f.person),
            ("plate_key", "=", &plate_key),
            ("captured_at", ">=", &f.since),
            ("captured_at", "<", &f.until),
            ("event_id", ">", &f.after_id),
        ] {
            if let Some(v) = v {
                binds.push(v.clone());
                sql.push_str(&format!(" AND {col} {op} ${}", binds.len()));
            }
        }
        sql.push_str(&format!(
            " ORDER BY captured_at DESC, event_id DESC LIMIT ${}",
            binds.len() + 1
        ));
        // Only fixed column names and operators are formatted in; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(row_to_event).collect()
    }

    pub async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(row_to_event).transpose()
    }

    /// Plates seen, ranked by how close they are to `query` (edit distance over the
    /// confusable-folded forms), closest first.
    pub async fn search_plates(
        &self,
        query: &str,
        max_distance: usize,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let key = wire::plate_key(query);
        let rows = sqlx::query(
            "SELECT plate, plate_key, COUNT(*), MAX(captured_at) FROM events WHERE plate_key IS NOT NULL \
             GROUP BY plate, plate_key",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut hits: Vec<(usize, serde_json::Value)> = rows
            .iter()
            .filter_map(|r| {
                let plate: String = r.try_get(0).ok()?;
                let k: String = r.try_get(1).ok()?;
                let d = models::plate::edit_distance(&key, &k);
                (d <= max_distance).then(|| {
                    (
                        d,
                        serde_json::json!({
                            "plate": plate,
                            "distance": d,
                            "events": r.try_get::<i64, _>(2).unwrap_or(0),
                            "last_seen": r.try_get::<String, _>(3).unwrap_or_default(),
                        }),
                    )
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                b.1["last_seen"]
                    .as_str()
                    .unwrap_or("")
                    .cmp(a.1["last_seen"].as_str().unwrap_or(""))
            })
        });
        Ok(hits.into_iter().take(limit).map(|(_, v)| v).collect())
    }

    /// A snapshot's content type and bytes.
    pub async fn get_snapshot(
        &self,
        sha256: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT content_type, data FROM snapshots WHERE sha256 = $1")
            .bind(sha256.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<Vec<u8>, _>(1)?)))
            .transpose()
    }

    /// Stores a picture (content-addressed); returns its sha256.
    pub async fn put_snapshot(
        &self,
        bytes: &[u8],
        content_type: &str,
        width: u32,
        height: u32,
    ) -> Result<String, StoreError> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        sqlx::query(
            "INSERT INTO snapshots (sha256, content_type, width, height, data, first_seen) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha.clone())
        .bind(content_type.to_owned())
        .bind(i64::from(width))
        .bind(i64::from(height))
        .bind(bytes.to_vec())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(sha)
    }

    pub async fn list_quarantine(&self, limit: i64) -> Result<Vec<QuarantinedMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, received_at, topic, reason, payload FROM quarantine ORDER BY id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: Vec<u8> = r.try_get(4)?;
                let preview =
                    String::from_utf8_lossy(&payload[..payload.len().min(200)]).into_owned();
                Ok(QuarantinedMessage {
                    id: r.try_get(0)?,
                    received_at: r.try_get(1)?,
                    topic: r.try_get(2)?,
                    reason: r.try_get(3)?,
                    payload_preview: preview,
                })
            })
            .collect()
    }

    pub async fn list_edges(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = sqlx::query(
            "SELECT site_id, edge_id, state, status, updated_at FROM edges ORDER BY site_id, edge_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get(3)?;
                Ok(serde_json::json!({
                    "site_id": r.try_get::<String, _>(0)?,
                    "edge_id": r.try_get::<String, _>(1)?,
                    "state": r.try_get::<String, _>(2)?,
                    "status": serde_json::from_str::<serde_json::Value>(&status).unwrap_or(serde_json::Value::Null),
                    "updated_at": r.try_get::<String, _>(4)?,
                }))
            })
            .collect()
    }

    /// Event counts per kind (for the dashboard header).
    pub async fn counts(&self) -> Result<serde_json::Value, StoreError> {
        let rows = sqlx::query("SELECT kind, COUNT(*) FROM events GROUP BY kind")
            .fetch_all(&self.pool)
            .await?;
        let mut m = serde_json::Map::new();
        for r in rows {
            m.insert(
                r.try_get::<String, _>(0)?,
                serde_json::Value::from(r.try_get::<i64, _>(1)?),
            );
        }
        let q: i64 = sqlx::query("SELECT COUNT(*) FROM quarantine")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let open: i64 = sqlx::query("SELECT COUNT(*) FROM alerts WHERE state <> 'closed'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(serde_json::json!({ "events_by_kind": m, "quarantined": q, "open_alerts": open }))
    }

    /// Per-minute gate counts with `since <= minute_start < until`, optionally for one site.
    pub async fn minute_counts(
        &self,
        site: Option<&str>,
        since: &str,
        until: &str,
    ) -> Result<Vec<MinuteCount>, StoreError> {
        let mut q = sqlx::query(
            "SELECT site_id, camera_id, gate_id, minute_start, CAST(SUM(entries) AS BIGINT), CAST(SUM(exits) AS BIGINT) FROM gate_counts \
             WHERE minute_start >= $1 AND minute_start < $2 AND ($3 = '' OR site_id = $3) \
             GROUP BY site_id, camera_id, gate_id, minute_start ORDER BY minute_start, site_id, camera_id, gate_id",
        );
        q = q
            .bind(since.to_owned())
            .bind(until.to_owned())
            .bind(site.unwrap_or("").to_owned());
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(MinuteCount {
                    site_id: r.try_get(0)?,
                    camera_id: r.try_get(1)?,
                    gate_id: r.try_get(2)?,
                    minute_start: r.try_get(3)?,
                    entries: r.try_get(4)?,
                    exits: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Alerts, newest first, optionally in one state.
    pub async fn list_alerts(
        &self,
        state: Option<&str>,
        site: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Alert>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, site_id, camera_id, kind, person_id, person_name, raised_at, state, updated_at, updated_by \
             FROM alerts WHERE ($1 = '' OR state = $1) AND ($2 = '' OR site_id = $2) \
             ORDER BY raised_at DESC, event_id DESC LIMIT $3",
        )
        .bind(state.unwrap_or("").to_owned())
        .bind(site.unwrap_or("").to_owned())
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_alert).collect()
    }

    pub async fn get_alert(&self, id: &str) -> Result<Option<(Alert, Vec<AlertStep>)>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT event_id, site_id, camera_id, kind, person_id, person_name, raised_at, state, updated_at, updated_by \
             FROM alerts WHERE event_id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let alert = row_to_alert(&row)?;
        let steps = sqlx::query(
            "SELECT at, actor, from_state, to_state, note FROM alert_history WHERE event_id = $1 ORDER BY id",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AlertStep {
                at: r.try_get(0)?,
                actor: r.try_get(1)?,
                from_state: r.try_get(2)?,
                to_state: r.try_get(3)?,
                note: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some((alert, steps)))
    }

    /// Moves an alert to `to` (new -> in_progress -> closed; a closed alert may be reopened
    /// to in_progress), recording who did it, when and why.
    pub async fn transition_alert(
        &self,
        id: &str,
        to: &str,
        actor: &str,
        note: &str,
    ) -> Result<Alert, StoreError> {
        if !ALERT_STATES.contains(&to) {
            return Err(StoreError::Invalid(format!(
                "alert state {to:?} is not one of {ALERT_STATES:?}"
            )));
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT state FROM alerts WHERE event_id = $1")
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "alert",
                id: id.to_owned(),
            })?;
        let from: String = row.try_get(0)?;
        let allowed = matches!(
            (from.as_str(), to),
            ("new", "in_progress")
                | ("new", "closed")
                | ("in_progress", "closed")
                | ("closed", "in_progress")
        );
        if !allowed {
            return Err(StoreError::Invalid(format!(
                "alert {id} is {from}; it cannot go to {to}"
            )));
        }
        let at = now();
        sqlx::query(
            "UPDATE alerts SET state = $1, updated_at = $2, updated_by = $3 WHERE event_id = $4",
        )
        .bind(to.to_owned())
        .bind(at.clone())
        .bind(actor.to_owned())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO alert_history (event_id, at, actor, from_state, to_state, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_owned())
        .bind(at)
        .bind(actor.to_owned())
        .bind(Some(from))
        .bind(to.to_owned())
        .bind(note.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_alert(id)
            .await?
            .map(|(a, _)| a)
            .ok_or_else(|| StoreError::NotFound {
                what: "alert",
                id: id.to_owned(),
            })
    }

    /// Writes an audit-log entry.
    pub async fn audit(
        &self,
        username: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, username, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now())
        .bind(username.to_owned())
        .bind(action.to_owned())
        .bind(subject.to_owned())
        .bind(detail.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, username, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    username: r.try_get(2)?,
                    action: r.try_get(3)?,
                    subject: r.try_get(4)?,
                    detail: r.try_get(5)?,
                })
            })
            .collect()
    }

    // --- users and sessions -------------------------------------------------------------

    pub async fn upsert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(username.to_owned())
        .bind(password_hash.to_owned())
        .bind(role.to_owned())
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// (password hash, role) of a user.
    pub async fn get_user(&self, username: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT password_hash, role FROM users WHERE username = $1")
            .bind(username.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query("SELECT username, role, created_at FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(UserRow {
                    username: r.try_get(0)?,
                    role: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                })
            })
            .collect()
    }

    pub async fn create_session(
        &self,
        token_sha256: &str,
        username: &str,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_sha256, username, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_sha256.to_owned())
        .bind(username.to_owned())
        .bind(csrf.to_owned())
        .bind(now())
        .bind(expires_at.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// (username, role, csrf token) of a live session.
    pub async fn get_session(
        &self,
        token_sha256: &str,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.username, u.role, s.csrf_token FROM sessions s JOIN users u ON u.username = s.username \
             WHERE s.token_sha256 = $1 AND s.expires_at > $2",
        )
        .bind(token_sha256.to_owned())
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()
    }

    pub async fn delete_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(token_sha256.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- people -------------------------------------------------------------------------

    /// Creates or updates a person (name, list, validity).
    pub async fn upsert_person(
        &self,
        p: &wire::GalleryPerson,
        created_by: &str,
    ) -> Result<(), StoreError> {
        // Enrolled again: no longer removed (one transaction, so a sync never sees both).
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM gallery_tombstones WHERE person_id = $1")
            .bind(p.person_id.clone())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO people (person_id, name, list, valid_from, valid_until, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, \
             list = excluded.list, valid_from = excluded.valid_from, valid_until = excluded.valid_until",
        )
        .bind(p.person_id.clone())
        .bind(p.name.clone())
        .bind(p.list.clone())
        .bind(p.valid_from.map(ts))
        .bind(p.valid_until.map(ts))
        .bind(now())
        .bind(created_by.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_sample(
        &self,
        person_id: &str,
        photo_sha256: &str,
        embedder_id: &str,
        embedding: &[f32],
    ) -> Result<(), StoreError> {
        let bytes: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
        sqlx::query(
            "INSERT INTO person_samples (person_id, photo_sha256, embedder_id, embedding, added_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id, photo_sha256, embedder_id) DO NOTHING",
        )
        .bind(person_id.to_owned())
        .bind(photo_sha256.to_owned())
        .bind(embedder_id.to_owned())
        .bind(bytes)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_people(&self, list: Option<&str>) -> Result<Vec<PersonRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.person_id, p.name, p.list, p.valid_from, p.valid_until, p.created_at, p.created_by, \
             (SELECT COUNT(*) FROM person_samples s WHERE s.person_id = p.person_id) \
             FROM people p WHERE ($1 = '' OR p.list = $1) ORDER BY p.person_id",
        )
        .bind(list.unwrap_or("").to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PersonRow {
                    person_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    list: r.try_get(2)?,
                    valid_from: r.try_get(3)?,
                    valid_until: r.try_get(4)?,
                    created_at: r.try_get(5)?,
                    created_by: r.try_get(6)?,
                    samples: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// Every sample of every person for one embedder: (person, embedding, photo sha256).
    pub async fn samples(
        &self,
        embedder_id: &str,
        person_id: Option<&str>,
    ) -> Result<Vec<(PersonRow, Vec<f32>, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.person_id, p.name, p.list, p.valid_from, p.valid_until, p.created_at, p.created_by, \
             s.embedding, s.photo_sha256 FROM person_samples s JOIN people p ON p.person_id = s.person_id \
             WHERE s.embedder_id = $1 AND ($2 = '' OR p.person_id = $2) ORDER BY p.person_id, s.photo_sha256",
        )
        .bind(embedder_id.to_owned())
        .bind(person_id.unwrap_or("").to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let bytes: Vec<u8> = r.try_get(7)?;
                let emb = bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                Ok((
                    PersonRow {
                        person_id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        list: r.try_get(2)?,
                        valid_from: r.try_get(3)?,
                        valid_until: r.try_get(4)?,
                        created_at: r.try_get(5)?,
                        created_by: r.try_get(6)?,
                        samples: 0,
                    },
                    emb,
                    r.try_get(8)?,
                ))
            })
            .collect()
    }

    /// Removes a person and their samples; returns whether they existed.
    /// Deletes a person and their samples, leaving a tombstone so that edges that were
    /// offline drop them too when they come back.
    pub async fn delete_person(
        &self,
        person_id: &str,
        removed_by: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM person_samples WHERE person_id = $1")
            .bind(person_id.to_owned())
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query("DELETE FROM people WHERE person_id = $1")
            .bind(person_id.to_owned())
            .execute(&mut *tx)
            .await?;
        let removed = r.rows_affected() > 0;
        if removed {
            sqlx::query(
                "INSERT INTO gallery_tombstones (person_id, removed_at, removed_by) VALUES ($1, $2, $3) \
                 ON CONFLICT (person_id) DO UPDATE SET removed_at = excluded.removed_at, removed_by = excluded.removed_by",
            )
            .bind(person_id.to_owned())
            .bind(now())
            .bind(removed_by.to_owned())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// People removed at the IOC (tombstones), oldest first.
    pub async fn tombstones(&self) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT person_id FROM gallery_tombstones ORDER BY removed_at, person_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// Forgets tombstones older than `before` (an edge offline for longer is re-enrolled by
    /// hand).
    pub async fn purge_tombstones(&self, before: &str) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM gallery_tombstones WHERE removed_at < $1")
            .bind(before.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    // --- retention ----------------------------------------------------------------------

    /// Deletes events of `kind` (all kinds when `None`) captured before `before`; returns how
    /// many. Alerts and their history go with their events.
    pub async fn purge_events(&self, kind: Option<&str>, before: &str) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let k = kind.unwrap_or("").to_owned();
        for sql in [
            "DELETE FROM alert_history WHERE event_id IN (SELECT event_id FROM events WHERE ($1 = '' OR kind = $1) AND captured_at < $2)",
            "DELETE FROM alerts WHERE event_id IN (SELECT event_id FROM events WHERE ($1 = '' OR kind = $1) AND captured_at < $2)",
        ] {
            sqlx::query(sql)
                .bind(k.clone())
                .bind(before.to_owned())
                .execute(&mut *tx)
                .await?;
        }
        let r = sqlx::query("DELETE FROM events WHERE ($1 = '' OR kind = $1) AND captured_at < $2")
            .bind(k)
            .bind(before.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Deletes per-minute gate counts before `before`.
    pub async fn purge_counts(&self, before: &str) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM gate_counts WHERE minute_start < $1")
            .bind(before.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Deletes snapshots no event and no enrolment sample refers to any more.
    pub async fn purge_orphan_snapshots(&self) -> Result<u64, StoreError> {
        let r = sqlx::query(
            "DELETE FROM snapshots WHERE sha256 NOT IN (SELECT snapshot_sha256 FROM events WHERE snapshot_sha256 IS NOT NULL) \
             AND sha256 NOT IN (SELECT photo_sha256 FROM person_samples)",
        )
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Deletes visitors whose validity ended before `before` (personal data kept no longer
    /// than needed); returns their ids.
    pub async fn purge_expired_people(&self, before: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT person_id FROM people WHERE valid_until IS NOT NULL AND valid_until < $1",
        )
        .bind(before.to_owned())
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        for id in &ids {
            self.delete_person(id, "retention").await?;
        }
        Ok(ids)
    }

    /// Deletes sessions past their expiry and audit entries before `before`.
    pub async fn purge_sessions_and_audit(&self, audit_before: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now())
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(audit_before.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Rows per multi-row INSERT: 64 events x 17 parameters stays far below SQLite's (32,766) and
/// PostgreSQL's (65,535) limits on parameters per statement.
const ROWS_PER_STATEMENT: usize = 64;

/// The `events` row of one envelope.
struct EventRow {
    event_id: String,
    schema_version: i64,
    site_id: String,
    edge_id: String,
    camera_id: String,
    kind: &'static str,
    captured_at: String,
    stream_pts_ms: Option<String>,
    person_id: Option<String>,
    person_name: Option<String>,
    person_list: Option<String>,
    distance: Option<String>,
    snapshot_sha256: Option<String>,
    plate: Option<String>,
    plate_key: Option<String>,
    payload: String,
}

fn event_row(env: &EventEnvelope) -> EventRow {
    let (person_id, person_name, person_list, distance) = match &env.body {
        EventBody::FaceMatch(m) | EventBody::WatchlistHit(m) => (
            Some(m.identity.person_id.clone()),
            Some(m.identity.name.clone()),
            Some(m.identity.list.clone()),
            Some(f64::from(m.distance)),
        ),
        EventBody::UnknownPerson(u) => (None, None, None, u.best_distance.map(f64::from)),
        EventBody::GateCrossing(_) | EventBody::GateCount(_) | EventBody::PlateRead(_) => {
            (None, None, None, None)
        }
    };
    let plate: Option<String> = match &env.body {
        EventBody::PlateRead(p) => Some(p.plate.trim().to_uppercase()),
        _ => None,
    };
    EventRow {
        event_id: env.event_id.to_string(),
        schema_version: i64::from(env.schema_version),
        site_id: env.site_id.clone(),
        edge_id: env.edge_id.clone(),
        camera_id: env.camera_id.clone(),
        kind: env.body.kind(),
        captured_at: ts(env.captured_at),
        // Nullable numbers travel as text and are cast in SQL: PostgreSQL caches a statement
        // with the parameter types of its first use, and a NULL typed otherwise would break
        // later executions that carry a number.
        stream_pts_ms: env
            .stream_pts_ms
            .map(|v| v.min(i64::MAX as u64).to_string()),
        person_id,
        person_name,
        person_list,
        distance: distance.map(|d| d.to_string()),
        snapshot_sha256: env.snapshot.as_ref().map(|s| s.sha256.clone()),
        plate_key: plate.as_deref().map(wire::plate_key),
        plate,
        payload: env.body.payload_json(),
    }
}

/// `($1, ..., $n), ($n+1, ...)` for `rows` rows of `cols` parameters, each column wrapped by
/// `wrap` (for casts). SQLite gets anonymous `?` placeholders instead: it finds a named
/// parameter by a linear scan for each bind (sqlx binds `$n` by name), which makes binding a
/// large statement quadratic; anonymous ones bind in order.
fn values_clause(
    backend: Backend,
    rows: usize,
    cols: usize,
    wrap: impl Fn(usize, String) -> String,
) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            let p = match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${}", r * cols + c + 1),
            };
            out.push_str(&wrap(c, p));
        }
        out.push(')');
    }
    out
}

/// Inserts a batch in one transaction: snapshots, then events in multi-row statements that
/// report which ids were new, then the rows derived from new events only (counts, alerts), so
/// that a redelivered event changes nothing.
async fn insert_prepared(
    backend: Backend,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ps: &[&Prepared<'_>],
    received: &str,
) -> Result<Vec<Inserted>, StoreError> {
    // Snapshots, each distinct one once.
    let mut seen = std::collections::HashSet::new();
    let snaps: Vec<&(Vec<u8>, &wire::Snapshot)> = ps
        .iter()
        .filter_map(|p| p.snapshot.as_ref())
        .filter(|(_, s)| seen.insert(s.sha256.as_str()))
        .collect();
    for chunk in snaps.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO snapshots (sha256, content_type, width, height, data, first_seen) VALUES {} \
             ON CONFLICT (sha256) DO NOTHING",
            values_clause(backend, chunk.len(), 6, |_, p| p)
        );
        // Only placeholders are generated here; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (bytes, s) in chunk {
            q = q
                .bind(s.sha256.clone())
                .bind(s.content_type.clone())
                .bind(i64::from(s.width))
                .bind(i64::from(s.height))
                .bind(bytes.clone())
                .bind(received.to_owned());
        }
        q.execute(&mut **tx).await?;
    }
    // Events; RETURNING names the rows actually inserted (not those already stored).
    let mut new_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in ps.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO events (event_id, schema_version, site_id, edge_id, camera_id, kind, captured_at, stream_pts_ms, \
             received_at, person_id, person_name, person_list, distance, snapshot_sha256, plate, plate_key, payload) \
             VALUES {} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            values_clause(backend, chunk.len(), 17, |c, p| match c {
                7 => format!("CAST({p} AS BIGINT)"),
                12 => format!("CAST({p} AS DOUBLE PRECISION)"),
                _ => p,
            })
        );
        // Only placeholders are generated here; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            let r = event_row(p.env);
            q = q
                .bind(r.event_id)
                .bind(r.schema_version)
                .bind(r.site_id)
                .bind(r.edge_id)
                .bind(r.camera_id)
                .bind(r.kind.to_owned())
                .bind(r.captured_at)
                .bind(r.stream_pts_ms)
                .bind(received.to_owned())
                .bind(r.person_id)
                .bind(r.person_name)
                .bind(r.person_list)
                .bind(r.distance)
                .bind(r.snapshot_sha256)
                .bind(r.plate)
                .bind(r.plate_key)
                .bind(r.payload);
        }
        for row in q.fetch_all(&mut **tx).await? {
            new_ids.insert(row.try_get::<String, _>(0)?);
        }
    }
    // Derived rows, for new events only (the first occurrence of an id within the batch).
    let mut out = Vec::with_capacity(ps.len());
    for p in ps {
        let env = p.env;
        if !new_ids.remove(&env.event_id.to_string()) {
            out.push(Inserted::Duplicate);
            continue;
        }
        out.push(Inserted::New);
        match &env.body {
            EventBody::GateCount(c) => {
                sqlx::query(
                    "INSERT INTO gate_counts (site_id, edge_id, camera_id, gate_id, minute_start, entries, exits) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site_id, edge_id, camera_id, gate_id, minute_start) \
                     DO UPDATE SET entries = gate_counts.entries + excluded.entries, exits = gate_counts.exits + excluded.exits",
                )
                .bind(env.site_id.clone())
                .bind(env.edge_id.clone())
                .bind(env.camera_id.clone())
                .bind(c.gate_id.clone())
                .bind(ts(c.minute_start))
                .bind(i64::from(c.entries))
                .bind(i64::from(c.exits))
                .execute(&mut **tx)
                .await?;
            }
            EventBody::WatchlistHit(m) => {
                sqlx::query(
                    "INSERT INTO alerts (event_id, site_id, camera_id, kind, person_id, person_name, raised_at, state, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', $8) ON CONFLICT (event_id) DO NOTHING",
                )
                .bind(env.event_id.to_string())
                .bind(env.site_id.clone())
                .bind(env.camera_id.clone())
                .bind(env.body.kind().to_owned())
                .bind(m.identity.person_id.clone())
                .bind(m.identity.name.clone())
                .bind(ts(env.captured_at))
                .bind(received.to_owned())
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO alert_history (event_id, at, actor, from_state, to_state, note) VALUES ($1, $2, $3, $4, 'new', $5)",
                )
                .bind(env.event_id.to_string())
                .bind(received.to_owned())
                .bind(format!("edge:{}", env.edge_id))
                .bind(None::<String>)
                .bind("raised by the edge".to_owned())
                .execute(&mut **tx)
                .await?;
            }
            _ => {}
        }
    }
    Ok(out)
}

fn row_to_event(r: &AnyRow) -> Result<StoredEvent, StoreError> {
    let payload: String = r.try_get(15)?;
    Ok(StoredEvent {
        event_id: r.try_get(0)?,
        schema_version: r.try_get(1)?,
        site_id: r.try_get(2)?,
        edge_id: r.try_get(3)?,
        camera_id: r.try_get(4)?,
        kind: r.try_get(5)?,
        captured_at: r.try_get(6)?,
        stream_pts_ms: r.try_get(7)?,
        received_at: r.try_get(8)?,
        person_id: r.try_get(9)?,
        person_name: r.try_get(10)?,
        person_list: r.try_get(11)?,
        distance: r.try_get(12)?,
        snapshot_sha256: r.try_get(13)?,
        plate: r.try_get(14)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}

fn row_to_alert(r: &AnyRow) -> Result<Alert, StoreError> {
    Ok(Alert {
        event_id: r.try_get(0)?,
        site_id: r.try_get(1)?,
        camera_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        person_id: r.try_get(4)?,
        person_name: r.try_get(5)?,
        raised_at: r.try_get(6)?,
        state: r.try_get(7)?,
        updated_at: r.try_get(8)?,
        updated_by: r.try_get(9)?,
    })
}

/// A connection URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed_from_connection_urls_in_errors() {
        assert_eq!(
            redact("postgres://ioc:secret@127.0.0.1:5432/ioc"),
            "postgres://ioc@127.0.0.1:5432/ioc"
        );
        assert_eq!(
            redact("postgres://127.0.0.1/ioc"),
            "postgres://127.0.0.1/ioc"
        );
    }
}
