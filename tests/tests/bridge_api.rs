//! The IOC's HTTP API guards what it serves: no session, no data; a state change without the
//! CSRF token is refused; each role gets what it needs and nothing more; logging out ends the
//! session; failed log-ins and every look at personal data are audited. Plate search finds a
//! plate read by an edge from a query typed with the characters cameras and people confuse.
//! A real bridge, its embedded broker and SQLite, driven over HTTP and MQTT.

#![allow(clippy::panic)] // tests report failures by panicking

use std::time::Duration;

use chrono::Utc;
use e2e_tests::*;
use wire::*;

fn plate_event(plate: &str, camera: &str) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: "cat-lai-port".into(),
        edge_id: "edge-gate-2".into(),
        camera_id: camera.into(),
        captured_at: Utc::now(),
        stream_pts_ms: None,
        body: EventBody::PlateRead(PlateRead {
            plate: plate.into(),
            confidence: 0.91,
            plate_box: BoxPx {
                x: 300.0,
                y: 400.0,
                w: 120.0,
                h: 40.0,
            },
            vehicle: Some("truck".into()),
            track_id: Some(12),
        }),
        snapshot: None,
    }
}

/// A request as someone else: (status, body).
fn call(
    http: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{http}{path}");
    let mut resp = match method {
        "GET" => {
            let mut r = agent.get(&url);
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(&url);
            if let Some(c) = cookie {
                r = r.header("Cookie", c);
            }
            if let Some(t) = csrf {
                r = r.header("X-CSRF-Token", t);
            }
            r.send_json(body.unwrap_or(serde_json::json!({})))
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let v = resp
        .body_mut()
        .read_json()
        .unwrap_or(serde_json::Value::Null);
    (status, v)
}

#[test]
fn roles_sessions_csrf_and_audit_guard_the_api_and_plate_search_forgives_confusions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bridge = Bridge::start(dir.path()).expect("bridge");
    let http = bridge.http.as_str();
    for (user, role) in [("csgt.hung", "police"), ("baove.lan", "security")] {
        let (code, body) = bridge
            .post(
                "/api/users",
                &serde_json::json!({"username": user, "password": "mat-khau-du-dai", "role": role}),
            )
            .expect("add user");
        assert_eq!(code, 200, "{body}");
    }
    let (code, body) = bridge
        .post(
            "/api/users",
            &serde_json::json!({"username": "x", "password": "short", "role": "police"}),
        )
        .expect("add user");
    assert_eq!(code, 422, "a short password is refused: {body}");
    let (code, body) = bridge
        .post(
            "/api/users",
            &serde_json::json!({"username": "y", "password": "long-enough-pw", "role": "mayor"}),
        )
        .expect("add user");
    assert_eq!(code, 400, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("mayor")),
        "{body}"
    );

    // An edge reads the same truck twice at the port gate and a motorbike once.
    let reads = [
        plate_event("51C-123.45", "gate-in"),
        plate_event("51C-123.45", "gate-out"),
        plate_event("59-X1 234.56", "gate-in"),
    ];
    publish_raw(
        bridge.mqtt_port,
        reads
            .iter()
            .map(|e| {
                (
                    topics::events(&e.site_id, &e.edge_id, &e.camera_id),
                    e.to_json(),
                )
            })
            .collect(),
    )
    .expect("publish");
    bridge
        .wait_for("/api/stats", Duration::from_secs(10), |v| {
            v["store"]["events_by_kind"]["plate_read"] == 3
        })
        .expect("plates stored");

    // No session: nothing but the log-in page, health and the API description.
    let (code, body) = call(http, "GET", "/api/events", None, None, None);
    assert_eq!(code, 401, "{body}");
    assert_eq!(call(http, "GET", "/api/health", None, None, None).0, 200);
    assert_eq!(
        call(http, "GET", "/api/openapi.json", None, None, None).0,
        200
    );
    let (code, body) = call(
        http,
        "GET",
        "/api/events",
        Some("gw_session=forged-token"),
        None,
        None,
    );
    assert_eq!(code, 401, "a made-up session token is refused: {body}");

    // A failed log-in is refused without saying which half was wrong, and is audited.
    let (code, body) = call(
        http,
        "POST",
        "/api/login",
        None,
        None,
        Some(serde_json::json!({"username": "csgt.hung", "password": "guess"})),
    );
    assert_eq!(code, 401, "{body}");
    assert_eq!(body["error"], "wrong user name or password");

    // Traffic police: events and plates, but no alert handling, enrolment, users or audit.
    let (police, police_csrf) = login(http, "csgt.hung", "mat-khau-du-dai").expect("log in");
    let (code, found) = call(
        http,
        "GET",
        "/api/search/plate?q=5IC-I23.4S",
        Some(&police),
        None,
        None,
    );
    assert_eq!(code, 200, "{found}");
    let plates = found["plates"].as_array().expect("plates");
    assert_eq!(
        plates.len(),
        1,
        "I/1 and S/5 confusions fold together: {found}"
    );
    assert_eq!(plates[0]["plate"], "51C-123.45", "{found}");
    assert_eq!(plates[0]["events"], 2, "{found}");
    assert_eq!(plates[0]["distance"], 0, "{found}");
    let (_, near) = call(
        http,
        "GET",
        "/api/search/plate?q=59X1-234.57&max_distance=1",
        Some(&police),
        None,
        None,
    );
    assert_eq!(
        near["plates"][0]["plate"], "59-X1 234.56",
        "one misread digit: {near}"
    );
    assert_eq!(near["plates"][0]["distance"], 1, "{near}");
    let (_, far) = call(
        http,
        "GET",
        "/api/search/plate?q=30A-999.99",
        Some(&police),
        None,
        None,
    );
    assert_eq!(far["plates"], serde_json::json!([]), "{far}");
    let (code, evs) = call(
        http,
        "GET",
        "/api/events?plate=51C12345",
        Some(&police),
        None,
        None,
    );
    assert_eq!(code, 200, "{evs}");
    assert_eq!(
        evs["count"], 2,
        "events by plate, formatting ignored: {evs}"
    );
    for (method, path, body) in [
        (
            "POST",
            "/api/alerts/0/transition",
            serde_json::json!({"to": "closed"}),
        ),
        (
            "POST",
            "/api/people",
            serde_json::json!({"person_id": "a", "name": "A", "list": "staff", "photos_b64": ["eA=="]}),
        ),
        (
            "POST",
            "/api/users",
            serde_json::json!({"username": "z", "password": "long-enough-pw", "role": "admin"}),
        ),
        ("GET", "/api/audit", serde_json::Value::Null),
    ] {
        let (code, body) = call(
            http,
            method,
            path,
            Some(&police),
            Some(&police_csrf),
            Some(body),
        );
        assert_eq!(code, 403, "police may not {method} {path}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("role police")),
            "the refusal names the role: {body}"
        );
    }

    // Site security may handle alerts and enrol, but not manage users; without the CSRF
    // token (or with another session's) no state changes.
    let (security, security_csrf) = login(http, "baove.lan", "mat-khau-du-dai").expect("log in");
    let enrol = serde_json::json!({"person_id": "le_van_c", "name": "Lê Văn C", "list": "staff", "photos_b64": ["eA=="]});
    let (code, body) = call(
        http,
        "POST",
        "/api/people",
        Some(&security),
        None,
        Some(enrol.clone()),
    );
    assert_eq!(code, 403, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("CSRF")),
        "{body}"
    );
    let (code, body) = call(
        http,
        "POST",
        "/api/people",
        Some(&security),
        Some(&police_csrf),
        Some(enrol.clone()),
    );
    assert_eq!(code, 403, "another session's token is refused: {body}");
    let (code, body) = call(
        http,
        "POST",
        "/api/people",
        Some(&security),
        Some(&security_csrf),
        Some(enrol),
    );
    assert_eq!(
        code, 503,
        "allowed, but this bridge has no face models, and says so: {body}"
    );
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("[models]")),
        "{body}"
    );
    let (code, _) = call(
        http,
        "POST",
        "/api/users",
        Some(&security),
        Some(&security_csrf),
        Some(serde_json::json!({"username": "z", "password": "long-enough-pw", "role": "admin"})),
    );
    assert_eq!(code, 403);

    // Logging out ends the session for good.
    let (code, _) = call(
        http,
        "POST",
        "/api/logout",
        Some(&police),
        Some(&police_csrf),
        None,
    );
    assert_eq!(code, 200);
    let (code, body) = call(http, "GET", "/api/events", Some(&police), None, None);
    assert_eq!(code, 401, "{body}");

    // The audit log, for the admin: who looked at plates, and the failed log-in.
    let audit = bridge.get("/api/audit?limit=200").expect("audit");
    let entries: Vec<(String, String, String)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (f("username"), f("action"), f("subject"))
        })
        .collect();
    for want in [
        ("csgt.hung", "login_failed", "csgt.hung"),
        ("csgt.hung", "login", "csgt.hung"),
        ("csgt.hung", "search_plate", "5IC-I23.4S"),
        ("csgt.hung", "list_events", "events"),
        ("baove.lan", "login", "baove.lan"),
    ] {
        assert!(
            entries
                .iter()
                .any(|(u, a, s)| (u.as_str(), a.as_str(), s.as_str()) == want),
            "no audit entry {want:?}: {entries:?}"
        );
    }
}
