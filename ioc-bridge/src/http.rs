//! HTTP API (JSON) and the operators' web page, served by axum.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

use crate::ingest::IngestStats;
use crate::store::{EventFilter, Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub stats: Arc<IngestStats>,
}

const INDEX_HTML: &str = include_str!("../web/index.html");

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/health", get(health))
        .route("/api/stats", get(stats))
        .route("/api/events", get(list_events))
        .route("/api/events/{id}", get(get_event))
        .route("/api/snapshots/{sha256}", get(get_snapshot))
        .route("/api/quarantine", get(list_quarantine))
        .route("/api/edges", get(list_edges))
        .with_state(state)
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store error in HTTP handler");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("event store unavailable: {e}"),
        )
    }
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn health(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "store": "ok" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "store": e.to_string() })),
        )
            .into_response(),
    }
}

async fn stats(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let counts = s.store.counts().await?;
    let st = &s.stats;
    Ok(Json(json!({
        "store": counts,
        "ingest": {
            "received": st.received.load(Ordering::Relaxed),
            "stored": st.stored.load(Ordering::Relaxed),
            "duplicates": st.duplicates.load(Ordering::Relaxed),
            "quarantined": st.quarantined.load(Ordering::Relaxed),
            "store_errors": st.store_errors.load(Ordering::Relaxed),
        }
    })))
}

fn check_time(name: &str, v: &Option<String>) -> Result<(), ApiError> {
    if let Some(t) = v {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("{name}: {t:?} is not RFC 3339: {e}"),
            )
        })?;
    }
    Ok(())
}

async fn list_events(
    State(s): State<AppState>,
    q: Result<Query<EventFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(mut f) = q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    check_time("since", &f.since)?;
    check_time("until", &f.until)?;
    // Normalise to the stored form (UTC, millisecond precision) so text comparison is exact.
    for t in [&mut f.since, &mut f.until].into_iter().flatten() {
        if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
            *t = d
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        }
    }
    let events = s.store.list_events(&f).await?;
    Ok(Json(json!({ "count": events.len(), "events": events })))
}

async fn get_event(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match s.store.get_event(&id).await? {
        Some(e) => Ok(Json(json!(e))),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no event {id}"))),
    }
}

async fn get_snapshot(
    State(s): State<AppState>,
    Path(sha): Path<String>,
) -> Result<Response, ApiError> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "snapshot id must be a sha256 in hex".into(),
        ));
    }
    match s.store.get_snapshot(&sha.to_ascii_lowercase()).await? {
        Some((ct, bytes)) => Ok((
            [
                (header::CONTENT_TYPE, ct),
                (
                    header::CACHE_CONTROL,
                    "private, max-age=86400, immutable".into(),
                ),
            ],
            bytes,
        )
            .into_response()),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no snapshot {sha}"),
        )),
    }
}

async fn list_quarantine(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let q = s.store.list_quarantine(100).await?;
    Ok(Json(json!({ "count": q.len(), "messages": q })))
}

async fn list_edges(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({ "edges": s.store.list_edges().await? })))
}
