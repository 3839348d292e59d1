//! HTTP API (JSON, described by `/api/openapi.json`) and the web UI, served by axum.
//!
//! Every route but log-in, health and the OpenAPI document needs a session; what a role may
//! do is decided by [`crate::auth::Role::may`]; state-changing requests must carry the
//! session's CSRF token in `X-CSRF-Token`; every access to personal data (faces, identities,
//! watch-list hits, plates) is written to the audit log.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine;
use chrono::{DateTime, Duration as ChronoDuration, FixedOffset, Timelike, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{self, Permission, Role, SESSION_COOKIE};
use crate::config::Config;
use crate::faces::FaceService;
use crate::ingest::Ingest;
use crate::store::{EventFilter, Store, StoreError};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub ingest: Ingest,
    pub faces: Option<FaceService>,
    pub cfg: Arc<Config>,
}

const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const APP_CSS: &str = include_str!("../web/app.css");
pub const OPENAPI_JSON: &str = include_str!("../web/openapi.json");

/// Every API route as (method, path in OpenAPI form); the OpenAPI document must describe
/// exactly these (checked by a test).
pub const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/health"),
    ("get", "/api/openapi.json"),
    ("post", "/api/login"),
    ("post", "/api/logout"),
    ("get", "/api/session"),
    ("get", "/api/stats"),
    ("get", "/api/events"),
    ("get", "/api/events/stream"),
    ("get", "/api/events/{id}"),
    ("get", "/api/snapshots/{sha256}"),
    ("get", "/api/counts"),
    ("get", "/api/alerts"),
    ("get", "/api/alerts/{id}"),
    ("post", "/api/alerts/{id}/transition"),
    ("get", "/api/people"),
    ("post", "/api/people"),
    ("delete", "/api/people/{id}"),
    ("post", "/api/search/face"),
    ("get", "/api/search/plate"),
    ("get", "/api/quarantine"),
    ("get", "/api/edges"),
    ("get", "/api/audit"),
    ("get", "/api/users"),
    ("post", "/api/users"),
];

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/app.css", get(app_css))
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/session", get(session_info))
        .route("/api/stats", get(stats))
        .route("/api/events", get(list_events))
        .route("/api/events/stream", get(stream_events))
        .route("/api/events/{id}", get(get_event))
        .route("/api/snapshots/{sha256}", get(get_snapshot))
        .route("/api/counts", get(counts))
        .route("/api/alerts", get(list_alerts))
        .route("/api/alerts/{id}", get(get_alert))
        .route("/api/alerts/{id}/transition", post(transition_alert))
        .route("/api/people", get(list_people).post(enrol_person))
        .route("/api/people/{id}", axum::routing::delete(remove_person))
        .route("/api/search/face", post(search_face))
        .route("/api/search/plate", get(search_plate))
        .route("/api/quarantine", get(list_quarantine))
        .route("/api/edges", get(list_edges))
        .route("/api/audit", get(list_audit))
        .route("/api/users", get(list_users).post(add_user))
        // Enrolment requests carry photos (base64): allow up to 32 MiB.
        .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
        .with_state(state)
}

pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(msg: impl Into<String>) -> Self {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }
    fn not_found(msg: impl Into<String>) -> Self {
        ApiError(StatusCode::NOT_FOUND, msg.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError(StatusCode::NOT_FOUND, e.to_string()),
            StoreError::Invalid(m) => ApiError(StatusCode::CONFLICT, m),
            e => {
                tracing::error!(error = %e, "store error in HTTP handler");
                ApiError(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("event store unavailable: {e}"),
                )
            }
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The logged-in user making a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub role: Role,
    csrf: String,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The session of the request, if it may do `perm`; for state-changing methods also checks
/// the CSRF token.
async fn require(
    s: &AppState,
    headers: &HeaderMap,
    method: &Method,
    perm: Permission,
) -> ApiResult<Session> {
    let unauth = || ApiError(StatusCode::UNAUTHORIZED, "log in first".into());
    let token = cookie_token(headers).ok_or_else(unauth)?;
    let (username, role, csrf) = s
        .store
        .get_session(&auth::token_digest(&token))
        .await?
        .ok_or_else(unauth)?;
    let role = Role::parse(&role)
        .ok_or_else(|| ApiError(StatusCode::FORBIDDEN, format!("unknown role {role:?}")))?;
    if !role.may(perm) {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            format!("role {} may not do this ({perm:?})", role.as_str()),
        ));
    }
    if !matches!(*method, Method::GET | Method::HEAD) {
        let sent = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !auth::constant_time_eq(sent, &csrf) {
            return Err(ApiError(
                StatusCode::FORBIDDEN,
                "missing or wrong X-CSRF-Token header".into(),
            ));
        }
    }
    Ok(Session {
        username,
        role,
        csrf,
    })
}

async fn audit(s: &AppState, who: &Session, action: &str, subject: &str, detail: String) {
    if let Err(e) = s.store.audit(&who.username, action, subject, &detail).await {
        tracing::error!(error = %e, action, subject, "audit entry not written");
    }
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response()
}

async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn health(State(s): State<AppState>) -> Response {
    match s.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "store": "ok", "backend": s.store.backend() }))
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "store": e.to_string() })),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(s): State<AppState>,
    body: Result<Json<LoginBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(b) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    let denied = || {
        ApiError(
            StatusCode::UNAUTHORIZED,
            "wrong user name or password".into(),
        )
    };
    let (hash, role) = s.store.get_user(&b.username).await?.ok_or_else(denied)?;
    // Verify on the blocking pool: argon2 takes tens of milliseconds of CPU by design.
    let pw = b.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        tracing::warn!(user = %b.username, "failed log-in");
        s.store
            .audit(&b.username, "login_failed", &b.username, "wrong password")
            .await?;
        return Err(denied());
    }
    let token = auth::random_token();
    let csrf = auth::random_token();
    let hours = i64::from(s.cfg.auth.session_hours);
    let expires = Utc::now() + ChronoDuration::hours(hours);
    s.store
        .create_session(
            &auth::token_digest(&token),
            &b.username,
            &csrf,
            &crate::store::ts(expires),
        )
        .await?;
    s.store.audit(&b.username, "login", &b.username, "").await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        hours * 3600,
        if s.cfg.auth.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let mut resp =
        Json(json!({ "username": b.username, "role": role, "csrf_token": csrf })).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(t) = cookie_token(&headers) {
        s.store.delete_session(&auth::token_digest(&t)).await?;
    }
    let mut resp = Json(json!({ "logged_out": true })).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("gw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

async fn session_info(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    Ok(Json(json!({
        "username": who.username,
        "role": who.role,
        "csrf_token": who.csrf,
        "may": {
            "handle_alerts": who.role.may(Permission::HandleAlerts),
            "enrol": who.role.may(Permission::Enrol),
            "admin": who.role.may(Permission::Admin),
        },
        "utc_offset_mins": s.cfg.http.utc_offset_mins,
        "face_search": s.faces.is_some(),
    })))
}

async fn stats(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    let counts = s.store.counts().await?;
    let st = &s.ingest.stats;
    Ok(Json(json!({
        "store": counts,
        "ingest": {
            "received": st.received.load(Ordering::Relaxed),
            "stored": st.stored.load(Ordering::Relaxed),
            "duplicates": st.duplicates.load(Ordering::Relaxed),
            "quarantined": st.quarantined.load(Ordering::Relaxed),
            "store_errors": st.store_errors.load(Ordering::Relaxed),
            "batches": st.batches.load(Ordering::Relaxed),
        }
    })))
}

/// RFC 3339 in, stored form (UTC, milliseconds) out.
fn normalise_time(name: &str, v: &mut Option<String>) -> ApiResult<()> {
    if let Some(t) = v {
        let d = DateTime::parse_from_rfc3339(t)
            .map_err(|e| ApiError::bad(format!("{name}: {t:?} is not RFC 3339: {e}")))?;
        *t = crate::store::ts(d.with_timezone(&Utc));
    }
    Ok(())
}

fn is_personal(kind: &str) -> bool {
    matches!(kind, "face_match" | "watchlist_hit" | "unknown_person")
}

async fn list_events(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<EventFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    let Query(mut f) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    normalise_time("since", &mut f.since)?;
    normalise_time("until", &mut f.until)?;
    let events = s.store.list_events(&f).await?;
    let personal = events
        .iter()
        .filter(|e| is_personal(&e.kind) || e.plate.is_some())
        .count();
    if personal > 0 {
        audit(
            &s,
            &who,
            "list_events",
            "events",
            format!("{personal} event(s) with personal data; filter {f:?}"),
        )
        .await;
    }
    Ok(Json(json!({ "count": events.len(), "events": events })))
}

async fn get_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    match s.store.get_event(&id).await? {
        Some(e) => {
            if is_personal(&e.kind) || e.plate.is_some() {
                audit(&s, &who, "view_event", &id, e.kind.clone()).await;
            }
            Ok(Json(json!(e)))
        }
        None => Err(ApiError::not_found(format!("no event {id}"))),
    }
}

/// Live events as server-sent events (`event: stored`, data = the event without its picture).
async fn stream_events(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    audit(&s, &who, "watch_live", "events", String::new()).await;
    let rx = s.ingest.live.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let ev = match rx.recv().await {
            Ok(ev) => SseEvent::default()
                .event("stored")
                .data(serde_json::to_string(&ev).unwrap_or_default()),
            // A slow browser missed some: tell it, so it can reload the list.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                SseEvent::default().event("lagged").data(n.to_string())
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(ev), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn get_snapshot(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(sha): Path<String>,
) -> ApiResult<Response> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewPersonalData).await?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad("snapshot id must be a sha256 in hex"));
    }
    let sha = sha.to_ascii_lowercase();
    match s.store.get_snapshot(&sha).await? {
        Some((ct, bytes)) => {
            audit(&s, &who, "view_snapshot", &sha, String::new()).await;
            Ok((
                [
                    (header::CONTENT_TYPE, ct),
                    (header::CACHE_CONTROL, "private, no-store".into()),
                ],
                bytes,
            )
                .into_response())
        }
        None => Err(ApiError::not_found(format!("no snapshot {sha}"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountsQuery {
    site: Option<String>,
    /// `hour` or `day` (local time, `http.utc_offset_mins`).
    period: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// In/out counts per gate, per local hour or day.
async fn counts(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<CountsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    let Query(mut q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    let period = q.period.clone().unwrap_or_else(|| "hour".into());
    if period != "hour" && period != "day" {
        return Err(ApiError::bad(format!(
            "period {period:?} must be \"hour\" or \"day\""
        )));
    }
    normalise_time("since", &mut q.since)?;
    normalise_time("until", &mut q.until)?;
    let until = q
        .until
        .clone()
        .unwrap_or_else(|| crate::store::ts(Utc::now() + ChronoDuration::minutes(1)));
    let since = q.since.clone().unwrap_or_else(|| {
        let back = if period == "day" { 31 } else { 2 };
        crate::store::ts(Utc::now() - ChronoDuration::days(back))
    });
    let rows = s
        .store
        .minute_counts(q.site.as_deref(), &since, &until)
        .await?;
    let offset = FixedOffset::east_opt(s.cfg.http.utc_offset_mins * 60)
        .ok_or_else(|| ApiError::bad("bad utc offset"))?;
    let mut buckets: BTreeMap<(String, String, String, String), (i64, i64)> = BTreeMap::new();
    for r in rows {
        let Ok(t) = DateTime::parse_from_rfc3339(&r.minute_start) else {
            continue;
        };
        let local = t.with_timezone(&offset);
        let start = if period == "day" {
            local.date_naive().and_hms_opt(0, 0, 0)
        } else {
            local.date_naive().and_hms_opt(local.hour(), 0, 0)
        };
        let Some(start) = start.and_then(|n| n.and_local_timezone(offset).single()) else {
            continue;
        };
        let e = buckets
            .entry((start.to_rfc3339(), r.site_id, r.camera_id, r.gate_id))
            .or_default();
        e.0 += r.entries;
        e.1 += r.exits;
    }
    let list: Vec<serde_json::Value> = buckets
        .into_iter()
        .map(|((start, site, cam, gate), (i, o))| {
            json!({ "start": start, "site_id": site, "camera_id": cam, "gate_id": gate, "entries": i, "exits": o })
        })
        .collect();
    Ok(Json(json!({
        "period": period,
        "utc_offset_mins": s.cfg.http.utc_offset_mins,
        "since": since,
        "until": until,
        "buckets": list,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsQuery {
    state: Option<String>,
    site: Option<String>,
    limit: Option<i64>,
}

async fn list_alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<AlertsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewPersonalData).await?;
    let Query(q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    if let Some(st) = &q.state
        && !crate::store::ALERT_STATES.contains(&st.as_str())
    {
        return Err(ApiError::bad(format!(
            "state {st:?} is not one of {:?}",
            crate::store::ALERT_STATES
        )));
    }
    let alerts = s
        .store
        .list_alerts(
            q.state.as_deref(),
            q.site.as_deref(),
            q.limit.unwrap_or(200),
        )
        .await?;
    if !alerts.is_empty() {
        audit(
            &s,
            &who,
            "list_alerts",
            "alerts",
            format!("{} alert(s)", alerts.len()),
        )
        .await;
    }
    Ok(Json(json!({ "count": alerts.len(), "alerts": alerts })))
}

async fn get_alert(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewPersonalData).await?;
    let (alert, history) = s
        .store
        .get_alert(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    let event = s.store.get_event(&id).await?;
    audit(&s, &who, "view_alert", &id, String::new()).await;
    Ok(Json(
        json!({ "alert": alert, "history": history, "event": event }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransitionBody {
    to: String,
    #[serde(default)]
    note: String,
}

async fn transition_alert(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<TransitionBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::POST, Permission::HandleAlerts).await?;
    let Json(b) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    let a = s
        .store
        .transition_alert(&id, &b.to, &who.username, &b.note)
        .await?;
    audit(&s, &who, "alert_transition", &id, format!("to {}", b.to)).await;
    Ok(Json(json!({ "alert": a })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeopleQuery {
    list: Option<String>,
}

async fn list_people(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PeopleQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewPersonalData).await?;
    let Query(q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    let people = s.store.list_people(q.list.as_deref()).await?;
    audit(
        &s,
        &who,
        "list_people",
        q.list.as_deref().unwrap_or("*"),
        format!("{} people", people.len()),
    )
    .await;
    Ok(Json(json!({ "count": people.len(), "people": people })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    person_id: String,
    name: String,
    list: String,
    #[serde(default)]
    valid_from: Option<DateTime<Utc>>,
    #[serde(default)]
    valid_until: Option<DateTime<Utc>>,
    /// JPEG or PNG photos, base64; each must show exactly one face.
    photos_b64: Vec<String>,
}

fn decode_photos(photos: &[String]) -> ApiResult<Vec<Vec<u8>>> {
    photos
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // Accept data URLs from browsers as well as bare base64.
            let b64 = p.split_once(";base64,").map_or(p.as_str(), |(_, b)| b);
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| ApiError::bad(format!("photo {i}: not base64: {e}")))
        })
        .collect()
}

fn faces(s: &AppState) -> ApiResult<&FaceService> {
    s.faces.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            crate::faces::FaceError::NotConfigured.to_string(),
        )
    })
}

fn face_error(e: crate::faces::FaceError) -> ApiError {
    use crate::faces::FaceError as F;
    match e {
        F::Decode { .. } | F::Unusable { .. } => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
        F::Busy => ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        e => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Enrols a person with photos: embeddings computed here, stored, and pushed to every edge.
async fn enrol_person(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<EnrolBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::POST, Permission::Enrol).await?;
    let Json(b) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    let mut problems = Vec::new();
    if let Err(e) = wire::validate_id("person_id", &b.person_id) {
        problems.push(e.to_string());
    }
    if let Err(e) = wire::validate_id("list", &b.list) {
        problems.push(e.to_string());
    }
    if b.name.trim().is_empty() {
        problems.push("name is empty".into());
    }
    if b.photos_b64.is_empty() {
        problems.push("photos_b64: at least one photo is needed".into());
    }
    if let (Some(f), Some(u)) = (b.valid_from, b.valid_until)
        && u <= f
    {
        problems.push("valid_until must be after valid_from".into());
    }
    if !problems.is_empty() {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            problems.join("; "),
        ));
    }
    let fs = faces(&s)?;
    let photos = decode_photos(&b.photos_b64)?;
    let embeddings = fs.embed_photos(photos.clone()).await.map_err(face_error)?;
    let person = wire::GalleryPerson {
        person_id: b.person_id.clone(),
        name: b.name.trim().to_owned(),
        list: b.list.clone(),
        valid_from: b.valid_from,
        valid_until: b.valid_until,
    };
    s.store.upsert_person(&person, &who.username).await?;
    for (bytes, e) in photos.iter().zip(&embeddings) {
        let (w, h) = image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .ok()
            .and_then(|r| r.into_dimensions().ok())
            .unwrap_or((0, 0));
        let ct = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
            "image/png"
        } else {
            "image/jpeg"
        };
        let sha = s.store.put_snapshot(bytes, ct, w, h).await?;
        s.store
            .add_sample(&b.person_id, &sha, &fs.embedder.id, e)
            .await?;
    }
    // Every sample of the person (earlier enrolments too) goes to the edges.
    let all: Vec<Vec<f32>> = s
        .store
        .samples(&fs.embedder.id, Some(&b.person_id))
        .await?
        .into_iter()
        .map(|(_, e, _)| e)
        .collect();
    let update = wire::GalleryUpdate {
        schema_version: wire::SCHEMA_VERSION,
        update_id: uuid::Uuid::now_v7(),
        embedder_id: fs.embedder.id.clone(),
        embedder_sha256: fs.embedder.sha256.clone(),
        op: wire::GalleryOp::UpsertPerson {
            person: person.clone(),
            embeddings: all.clone(),
        },
    };
    let edges = push_to_edges(&s, &update).await?;
    audit(
        &s,
        &who,
        "enrol_person",
        &b.person_id,
        format!("{} photo(s), list {}", photos.len(), b.list),
    )
    .await;
    Ok(Json(json!({
        "person": person,
        "samples": all.len(),
        "embedder_id": fs.embedder.id,
        "pushed_to_edges": edges,
    })))
}

/// Publishes a gallery update to every edge the IOC knows (QoS 1); returns their topics.
async fn push_to_edges(s: &AppState, u: &wire::GalleryUpdate) -> ApiResult<Vec<String>> {
    let payload = u.to_json();
    let mut topics = Vec::new();
    for e in s.store.list_edges().await? {
        let (Some(site), Some(edge)) = (e["site_id"].as_str(), e["edge_id"].as_str()) else {
            continue;
        };
        let topic = wire::topics::gallery(site, edge);
        s.ingest
            .client
            .publish(
                topic.clone(),
                rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                false,
                payload.clone(),
            )
            .await
            .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, format!("MQTT: {e}")))?;
        topics.push(topic);
    }
    Ok(topics)
}

async fn remove_person(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::DELETE, Permission::Enrol).await?;
    if !s.store.delete_person(&id, &who.username).await? {
        return Err(ApiError::not_found(format!("no person {id}")));
    }
    let mut edges = Vec::new();
    if let Some(fs) = &s.faces {
        let update = wire::GalleryUpdate {
            schema_version: wire::SCHEMA_VERSION,
            update_id: uuid::Uuid::now_v7(),
            embedder_id: fs.embedder.id.clone(),
            embedder_sha256: fs.embedder.sha256.clone(),
            op: wire::GalleryOp::RemovePerson {
                person_id: id.clone(),
            },
        };
        edges = push_to_edges(&s, &update).await?;
    }
    audit(&s, &who, "remove_person", &id, String::new()).await;
    Ok(Json(json!({ "removed": id, "pushed_to_edges": edges })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceSearchBody {
    photo_b64: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// The enrolled people closest to the face in a photo, with their recent events.
async fn search_face(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<FaceSearchBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::POST, Permission::ViewPersonalData).await?;
    let Json(b) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    let fs = faces(&s)?;
    let photo = decode_photos(std::slice::from_ref(&b.photo_b64))?;
    let probe = fs
        .embed_photos(photo)
        .await
        .map_err(face_error)?
        .pop()
        .ok_or_else(|| ApiError::bad("no embedding"))?;
    let mut best: BTreeMap<String, (f32, crate::store::PersonRow)> = BTreeMap::new();
    for (p, e, _) in s.store.samples(&fs.embedder.id, None).await? {
        let d = fs.embedder.distance(&probe, &e);
        let entry = best.entry(p.person_id.clone()).or_insert((f32::MAX, p));
        if d < entry.0 {
            entry.0 = d;
        }
    }
    let mut ranked: Vec<(f32, crate::store::PersonRow)> = best.into_values().collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    for (d, p) in ranked.into_iter().take(b.limit.unwrap_or(5).clamp(1, 50)) {
        let events = s
            .store
            .list_events(&EventFilter {
                person: Some(p.person_id.clone()),
                limit: Some(20),
                ..Default::default()
            })
            .await?;
        out.push(json!({
            "person": p,
            "distance": d,
            "is_match": d < fs.embedder.threshold,
            "recent_events": events,
        }));
    }
    audit(
        &s,
        &who,
        "search_face",
        "people",
        format!("{} candidate(s)", out.len()),
    )
    .await;
    Ok(Json(
        json!({ "threshold": fs.embedder.threshold, "embedder_id": fs.embedder.id, "candidates": out }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlateQuery {
    q: String,
    max_distance: Option<usize>,
    limit: Option<usize>,
}

async fn search_plate(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PlateQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::GET, Permission::ViewPersonalData).await?;
    let Query(q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    if wire::plate_key(&q.q).is_empty() {
        return Err(ApiError::bad("q must contain letters or digits of a plate"));
    }
    let hits = s
        .store
        .search_plates(
            &q.q,
            q.max_distance.unwrap_or(1).min(4),
            q.limit.unwrap_or(50).clamp(1, 500),
        )
        .await?;
    audit(
        &s,
        &who,
        "search_plate",
        &q.q,
        format!("{} plate(s)", hits.len()),
    )
    .await;
    Ok(Json(
        json!({ "query": q.q, "key": wire::plate_key(&q.q), "plates": hits }),
    ))
}

async fn list_quarantine(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    let q = s.store.list_quarantine(100).await?;
    Ok(Json(json!({ "count": q.len(), "messages": q })))
}

async fn list_edges(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::ViewEvents).await?;
    let mut edges = s.store.list_edges().await?;
    // Cameras grouped by their edge once (a province has thousands).
    let mut by_edge: BTreeMap<(String, String), Vec<serde_json::Value>> = BTreeMap::new();
    for c in s.store.list_cameras().await? {
        let key = (
            c["site_id"].as_str().unwrap_or_default().to_owned(),
            c["edge_id"].as_str().unwrap_or_default().to_owned(),
        );
        by_edge.entry(key).or_default().push(c);
    }
    for e in &mut edges {
        let key = (
            e["site_id"].as_str().unwrap_or_default().to_owned(),
            e["edge_id"].as_str().unwrap_or_default().to_owned(),
        );
        // While the edge is offline its cameras' last statuses may be out of date.
        let stale = e["state"] != "online";
        let mut mine = by_edge.remove(&key).unwrap_or_default();
        for c in &mut mine {
            c["stale"] = stale.into();
        }
        e["cameras"] = mine.into();
    }
    Ok(Json(json!({ "edges": edges })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
}

async fn list_audit(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::Admin).await?;
    let Query(q) = q.map_err(|e| ApiError::bad(e.body_text()))?;
    let entries = s.store.list_audit(q.limit.unwrap_or(500)).await?;
    Ok(Json(json!({ "count": entries.len(), "entries": entries })))
}

async fn list_users(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    require(&s, &headers, &Method::GET, Permission::Admin).await?;
    Ok(Json(json!({ "users": s.store.list_users().await? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    username: String,
    password: String,
    role: String,
}

async fn add_user(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<UserBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let who = require(&s, &headers, &Method::POST, Permission::Admin).await?;
    let Json(b) = body.map_err(|e| ApiError::bad(e.body_text()))?;
    auth::validate_username(&b.username).map_err(|e| ApiError::bad(e.to_string()))?;
    if Role::parse(&b.role).is_none() {
        return Err(ApiError::bad(format!(
            "role {:?} is not one of {:?}",
            b.role,
            auth::ROLES
        )));
    }
    let pw = b.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&pw))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    s.store.upsert_user(&b.username, &hash, &b.role).await?;
    audit(&s, &who, "add_user", &b.username, b.role.clone()).await;
    Ok(Json(json!({ "username": b.username, "role": b.role })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_exactly_the_api_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("OpenAPI is JSON");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true)
        );
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for m in item.as_object().expect("path item").keys() {
                if ["get", "post", "delete", "put", "patch"].contains(&m.as_str()) {
                    documented.push((m.clone(), path.clone()));
                }
            }
        }
        documented.sort();
        let mut routes: Vec<(String, String)> = API_ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; gw_session=abc; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("abc"));
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }
}
