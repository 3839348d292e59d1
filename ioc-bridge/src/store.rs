//! The event store (SQLite, WAL). Inserts are idempotent by event id; snapshots are
//! content-addressed by sha256; rejected messages go to a quarantine table.

use std::path::Path;
use std::str::FromStr;

use base64::Engine;
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use wire::{EventBody, EventEnvelope};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path:?} cannot be opened: {reason}")]
    Open { path: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("snapshot of event {event_id} is invalid: {reason}")]
    Snapshot { event_id: String, reason: String },
}

/// What happened to an inserted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    Duplicate,
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
    /// RFC 3339 lower bound on capture time (inclusive).
    pub since: Option<String>,
    /// RFC 3339 upper bound on capture time (exclusive).
    pub until: Option<String>,
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

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) the database and applies migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let open_err = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| open_err(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))?;
        Ok(Self { pool })
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Stores an event and its snapshot in one transaction. Returns `Duplicate` (and changes
    /// nothing) when the event id is already stored.
    pub async fn insert_event(&self, env: &EventEnvelope) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut snapshot_sha = None;
        if let Some(s) = &env.snapshot {
            if let Some(b64) = &s.data_b64 {
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
                sqlx::query(
                    "INSERT OR IGNORE INTO snapshots (sha256, content_type, width, height, data, first_seen) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(&s.sha256)
                .bind(&s.content_type)
                .bind(s.width as i64)
                .bind(s.height as i64)
                .bind(bytes)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            }
            snapshot_sha = Some(s.sha256.clone());
        }
        let (person_id, person_name, person_list, distance, payload) = match &env.body {
            EventBody::FaceMatch(m) | EventBody::WatchlistHit(m) => (
                Some(m.identity.person_id.clone()),
                Some(m.identity.name.clone()),
                Some(m.identity.list.clone()),
                Some(m.distance as f64),
                serde_json::to_string(m).unwrap_or_default(),
            ),
            EventBody::UnknownPerson(u) => (
                None,
                None,
                None,
                u.best_distance.map(f64::from),
                serde_json::to_string(u).unwrap_or_default(),
            ),
            EventBody::GateCrossing(c) => (
                None,
                None,
                None,
                None,
                serde_json::to_string(c).unwrap_or_default(),
            ),
            EventBody::GateCount(c) => (
                None,
                None,
                None,
                None,
                serde_json::to_string(c).unwrap_or_default(),
            ),
        };
        let res = sqlx::query(
            "INSERT OR IGNORE INTO events (event_id, schema_version, site_id, edge_id, camera_id, kind, \
             captured_at, stream_pts_ms, received_at, person_id, person_name, person_list, distance, snapshot_sha256, \
             payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(env.event_id.to_string())
        .bind(env.schema_version as i64)
        .bind(&env.site_id)
        .bind(&env.edge_id)
        .bind(&env.camera_id)
        .bind(env.body.kind())
        .bind(env.captured_at.to_rfc3339_opts(SecondsFormat::Millis, true))
        .bind(env.stream_pts_ms.map(|v| v.min(i64::MAX as u64) as i64))
        .bind(now())
        .bind(person_id)
        .bind(person_name)
        .bind(person_list)
        .bind(distance)
        .bind(snapshot_sha)
        .bind(payload)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if res.rows_affected() == 1 {
            Inserted::New
        } else {
            Inserted::Duplicate
        })
    }

    /// Records a message that could not be accepted.
    pub async fn quarantine(
        &self,
        topic: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO quarantine (received_at, topic, reason, payload) VALUES (?, ?, ?, ?)",
        )
        .bind(now())
        .bind(topic)
        .bind(reason)
        .bind(payload)
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
            "INSERT INTO edges (site_id, edge_id, state, status, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (site_id, edge_id) DO UPDATE SET state = excluded.state, status = excluded.status, \
             updated_at = excluded.updated_at",
        )
        .bind(site)
        .bind(edge)
        .bind(state)
        .bind(status)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Events matching `f`, newest first (at most 1000).
    pub async fn list_events(&self, f: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut sql = String::from(
            "SELECT event_id, schema_version, site_id, edge_id, camera_id, kind, captured_at, stream_pts_ms, received_at, \
             person_id, person_name, person_list, distance, snapshot_sha256, payload FROM events WHERE 1=1",
        );
        let mut binds: Vec<String> = Vec::new();
        for (col, op, v) in [
            ("site_id", "=", &f.site),
            ("camera_id", "=", &f.camera),
            ("kind", "=", &f.kind),
            ("person_id", "=", &f.person),
            ("captured_at", ">=", &f.since),
            ("captured_at", "<", &f.until),
        ] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} {op} ?"));
                binds.push(v.clone());
            }
        }
        sql.push_str(" ORDER BY captured_at DESC, event_id DESC LIMIT ?");
        // Only fixed column names and operators are formatted in; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.into_iter().map(row_to_event).collect()
    }

    pub async fn get_event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(
            "SELECT event_id, schema_version, site_id, edge_id, camera_id, kind, captured_at, stream_pts_ms, received_at, \
             person_id, person_name, person_list, distance, snapshot_sha256, payload FROM events WHERE event_id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(row_to_event).transpose()
    }

    /// A snapshot's content type and bytes.
    pub async fn get_snapshot(
        &self,
        sha256: &str,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT content_type, data FROM snapshots WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get::<String, _>(0), r.get::<Vec<u8>, _>(1))))
    }

    pub async fn list_quarantine(&self, limit: i64) -> Result<Vec<QuarantinedMessage>, StoreError> {
        let rows = sqlx::query("SELECT id, received_at, topic, reason, payload FROM quarantine ORDER BY id DESC LIMIT ?")
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let payload: Vec<u8> = r.get(4);
                let preview =
                    String::from_utf8_lossy(&payload[..payload.len().min(200)]).into_owned();
                QuarantinedMessage {
                    id: r.get(0),
                    received_at: r.get(1),
                    topic: r.get(2),
                    reason: r.get(3),
                    payload_preview: preview,
                }
            })
            .collect())
    }

    pub async fn list_edges(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let rows = sqlx::query("SELECT site_id, edge_id, state, status, updated_at FROM edges ORDER BY site_id, edge_id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let status: String = r.get(3);
                serde_json::json!({
                    "site_id": r.get::<String, _>(0),
                    "edge_id": r.get::<String, _>(1),
                    "state": r.get::<String, _>(2),
                    "status": serde_json::from_str::<serde_json::Value>(&status).unwrap_or(serde_json::Value::Null),
                    "updated_at": r.get::<String, _>(4),
                })
            })
            .collect())
    }

    /// Event counts per kind (for the dashboard header).
    pub async fn counts(&self) -> Result<serde_json::Value, StoreError> {
        let rows = sqlx::query("SELECT kind, COUNT(*) FROM events GROUP BY kind")
            .fetch_all(&self.pool)
            .await?;
        let mut m = serde_json::Map::new();
        for r in rows {
            m.insert(
                r.get::<String, _>(0),
                serde_json::Value::from(r.get::<i64, _>(1)),
            );
        }
        let q: i64 = sqlx::query("SELECT COUNT(*) FROM quarantine")
            .fetch_one(&self.pool)
            .await?
            .get(0);
        Ok(serde_json::json!({ "events_by_kind": m, "quarantined": q }))
    }
}

fn row_to_event(r: sqlx::sqlite::SqliteRow) -> Result<StoredEvent, StoreError> {
    let payload: String = r.try_get(14)?;
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
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}
