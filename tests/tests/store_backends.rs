//! The IOC event store behaves the same on SQLite and on PostgreSQL (a real server started on
//! loopback for the test): idempotent inserts, content-addressed snapshots, a bad snapshot
//! quarantined without losing its batch, alerts with their history, per-minute counts,
//! filters, sessions, the audit log and retention.

#![allow(clippy::panic)] // tests report failures by panicking

use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use e2e_tests::*;
use ioc_bridge::store::{EventFilter, Inserted, Store};
use sha2::Digest;
use wire::*;

/// A real JPEG (a face photo from the test data), as an edge would attach it.
fn snapshot() -> Snapshot {
    let bytes =
        std::fs::read(testdata().join("faces/celebrities/angelina_jolie/img1.jpg")).expect("photo");
    Snapshot {
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        content_type: "image/jpeg".into(),
        width: 0,
        height: 0,
        data_b64: Some(base64::engine::general_purpose::STANDARD.encode(&bytes)),
    }
}

fn envelope(camera: &str, at: chrono::DateTime<Utc>, body: EventBody, snap: bool) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: "site-a".into(),
        edge_id: "edge-1".into(),
        camera_id: camera.into(),
        captured_at: at,
        stream_pts_ms: Some(1000),
        body,
        snapshot: snap.then(snapshot),
    }
}

fn hit(person: &str, list: &str) -> FaceMatch {
    FaceMatch {
        identity: Identity {
            person_id: person.into(),
            name: person.replace('_', " "),
            list: list.into(),
        },
        distance: 0.31,
        threshold: 0.55,
        face_box: BoxPx {
            x: 10.0,
            y: 10.0,
            w: 80.0,
            h: 80.0,
        },
        detection_score: 0.9,
        embedder_id: "mobilefacenet_192d".into(),
        track_id: Some(7),
        votes: Some(3),
    }
}

fn count(gate: &str, minute: chrono::DateTime<Utc>, i: u32, o: u32) -> EventBody {
    EventBody::GateCount(GateCount {
        gate_id: gate.into(),
        minute_start: minute,
        entries: i,
        exits: o,
    })
}

async fn exercise(store: Store) {
    let now = Utc::now();
    // Idempotent by event id; the snapshot stored once for two events.
    let a = envelope(
        "gate-1",
        now,
        EventBody::FaceMatch(hit("matt_damon", "staff")),
        true,
    );
    let b = envelope(
        "gate-1",
        now,
        EventBody::FaceMatch(hit("matt_damon", "staff")),
        true,
    );
    let r = store
        .insert_batch(&[a.clone(), b.clone()])
        .await
        .expect("batch");
    assert!(
        matches!(r[..], [Ok(Inserted::New), Ok(Inserted::New)]),
        "{r:?}"
    );
    assert_eq!(
        store.insert_event(&a).await.expect("again"),
        Inserted::Duplicate
    );
    let sha = a.snapshot.as_ref().map(|s| s.sha256.clone()).expect("sha");
    let (ct, bytes) = store
        .get_snapshot(&sha)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(ct, "image/jpeg");
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), sha);

    // A snapshot whose hash does not match is refused alone; the rest of its batch is stored.
    let mut bad = envelope(
        "gate-2",
        now,
        EventBody::FaceMatch(hit("matt_damon", "staff")),
        true,
    );
    if let Some(s) = &mut bad.snapshot {
        s.sha256 = "0".repeat(64);
    }
    let good = envelope(
        "gate-2",
        now,
        EventBody::FaceMatch(hit("matt_damon", "staff")),
        false,
    );
    let r = store
        .insert_batch(&[bad.clone(), good.clone()])
        .await
        .expect("batch");
    assert!(
        r[0].as_ref()
            .err()
            .is_some_and(|e| e.to_string().contains("sha256")),
        "{r:?}"
    );
    assert!(matches!(r[1], Ok(Inserted::New)));
    assert!(
        store
            .get_event(&bad.event_id.to_string())
            .await
            .expect("get")
            .is_none()
    );

    // Filters.
    let f = |camera: &str| EventFilter {
        camera: Some(camera.into()),
        ..Default::default()
    };
    assert_eq!(
        store.list_events(&f("gate-1")).await.expect("list").len(),
        2
    );
    assert_eq!(
        store.list_events(&f("gate-2")).await.expect("list").len(),
        1
    );
    let later = EventFilter {
        since: Some(ioc_bridge::store::ts(now + Duration::seconds(1))),
        ..Default::default()
    };
    assert!(store.list_events(&later).await.expect("list").is_empty());
    let by_person = EventFilter {
        person: Some("matt_damon".into()),
        ..Default::default()
    };
    assert_eq!(store.list_events(&by_person).await.expect("list").len(), 3);

    // A watch-list hit raises an alert in state new; it goes through its states with who and
    // when recorded; a closed alert cannot go back to new.
    let w = envelope(
        "gate-1",
        now,
        EventBody::WatchlistHit(hit("wanted_person", "watch")),
        true,
    );
    store.insert_event(&w).await.expect("hit");
    store.insert_event(&w).await.expect("redelivered hit");
    let id = w.event_id.to_string();
    let open = store
        .list_alerts(Some("new"), None, 10)
        .await
        .expect("alerts");
    assert_eq!(open.len(), 1, "one alert for a hit delivered twice");
    assert_eq!(open[0].person_id.as_deref(), Some("wanted_person"));
    let a1 = store
        .transition_alert(&id, "in_progress", "op-lan", "guard sent")
        .await
        .expect("take");
    assert_eq!(
        (a1.state.as_str(), a1.updated_by.as_deref()),
        ("in_progress", Some("op-lan"))
    );
    store
        .transition_alert(&id, "closed", "op-minh", "false alarm: twin brother")
        .await
        .expect("close");
    let e = store
        .transition_alert(&id, "new", "op-lan", "")
        .await
        .expect_err("closed -> new");
    assert!(e.to_string().contains("cannot go to new"), "{e}");
    let (alert, history) = store.get_alert(&id).await.expect("get").expect("alert");
    assert_eq!(alert.state, "closed");
    let steps: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h.actor.as_str(), h.to_state.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("edge:edge-1", "new"),
            ("op-lan", "in_progress"),
            ("op-minh", "closed")
        ]
    );

    // Per-minute counts: two edges' reports of one minute add up; a redelivery does not.
    let minute = Utc
        .with_ymd_and_hms(2026, 12, 1, 3, 15, 0)
        .single()
        .expect("time");
    let c1 = envelope("gate-1", minute, count("main", minute, 4, 1), false);
    let c2 = envelope("gate-1", minute, count("main", minute, 2, 0), false);
    let c3 = envelope(
        "gate-1",
        minute + Duration::minutes(1),
        count("main", minute + Duration::minutes(1), 0, 3),
        false,
    );
    store
        .insert_batch(&[c1.clone(), c2, c3, c1])
        .await
        .expect("counts");
    let rows = store
        .minute_counts(
            Some("site-a"),
            "2026-12-01T00:00:00.000Z",
            "2026-12-02T00:00:00.000Z",
        )
        .await
        .expect("counts");
    let got: Vec<(i64, i64)> = rows.iter().map(|r| (r.entries, r.exits)).collect();
    assert_eq!(got, [(6, 1), (0, 3)], "{rows:?}");

    // Sessions end at their expiry; the audit log keeps what was accessed.
    store
        .upsert_user("op-lan", "$argon2id$placeholder", "operator")
        .await
        .expect("user");
    store
        .create_session(
            "tokhash",
            "op-lan",
            "csrf",
            &ioc_bridge::store::ts(now + Duration::hours(1)),
        )
        .await
        .expect("session");
    store
        .create_session(
            "oldhash",
            "op-lan",
            "csrf",
            &ioc_bridge::store::ts(now - Duration::hours(1)),
        )
        .await
        .expect("session");
    assert!(store.get_session("tokhash").await.expect("s").is_some());
    assert!(
        store.get_session("oldhash").await.expect("s").is_none(),
        "expired"
    );
    store
        .audit("op-lan", "view_snapshot", &sha, "")
        .await
        .expect("audit");
    let log = store.list_audit(10).await.expect("audit");
    assert_eq!(log[0].action, "view_snapshot");

    // Retention: face events older than the period go, with their alerts; snapshots no event
    // refers to any more go too; counts stay.
    let old = envelope(
        "gate-9",
        now - Duration::days(40),
        EventBody::WatchlistHit(hit("old_case", "watch")),
        false,
    );
    store.insert_event(&old).await.expect("old");
    let cfg = ioc_bridge::config::RetentionConfig::default();
    let purged = ioc_bridge::retention::purge(&store, &cfg)
        .await
        .expect("purge");
    assert_eq!(purged.face_events, 1, "{purged:?}");
    assert!(
        store
            .get_event(&old.event_id.to_string())
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get_alert(&old.event_id.to_string())
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .get_event(&a.event_id.to_string())
            .await
            .expect("get")
            .is_some()
    );
    assert_eq!(
        store
            .minute_counts(None, "2026-12-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z")
            .await
            .expect("c")
            .len(),
        2
    );

    // The snapshot still referred to by recent events stays.
    assert!(store.get_snapshot(&sha).await.expect("get").is_some());

    // People: samples per embedder; a removal leaves a tombstone for edges that were away,
    // and enrolling the person again lifts it.
    let person = |id: &str| wire::GalleryPerson {
        person_id: id.into(),
        name: id.replace('_', " "),
        list: "staff".into(),
        valid_from: None,
        valid_until: None,
    };
    for id in ["le_van_c", "pham_thi_d"] {
        store
            .upsert_person(&person(id), "admin")
            .await
            .expect("person");
        store
            .add_sample(id, &sha, "mobilefacenet_192d", &[0.6, 0.8])
            .await
            .expect("sample");
    }
    let samples = store
        .samples("mobilefacenet_192d", None)
        .await
        .expect("samples");
    assert_eq!(samples.len(), 2);
    assert_eq!(
        samples[0].1,
        vec![0.6, 0.8],
        "embeddings round-trip exactly"
    );
    assert!(store.samples("other", None).await.expect("s").is_empty());
    assert!(
        store
            .delete_person("le_van_c", "admin")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_person("le_van_c", "admin")
            .await
            .expect("delete")
    );
    assert_eq!(store.tombstones().await.expect("t"), ["le_van_c"]);
    store
        .upsert_person(&person("le_van_c"), "admin")
        .await
        .expect("again");
    assert!(store.tombstones().await.expect("t").is_empty());
    store
        .delete_person("pham_thi_d", "admin")
        .await
        .expect("delete");
    assert_eq!(
        store
            .purge_tombstones("9999-01-01T00:00:00.000Z")
            .await
            .expect("p"),
        1
    );

    // Camera statuses: one row per camera, the latest wins.
    for state in ["starting", "running"] {
        store
            .upsert_camera_status(
                "site-a",
                "edge-1",
                "gate-1",
                state,
                &format!("{{\"state\":\"{state}\",\"frames_decoded\":10}}"),
            )
            .await
            .expect("camera");
    }
    let cams = store.list_cameras().await.expect("cameras");
    assert_eq!(cams.len(), 1, "{cams:?}");
    assert_eq!(cams[0]["state"], "running");
    assert_eq!(cams[0]["status"]["frames_decoded"], 10);

    // More events than one statement holds, with a redelivery inside the same batch: each
    // stored once, the second copy reported as a duplicate.
    let many: Vec<EventEnvelope> = (0..150)
        .map(|i| {
            envelope(
                "gate-7",
                now,
                EventBody::FaceMatch(hit(&format!("p{i}"), "staff")),
                false,
            )
        })
        .collect();
    let mut batch = many.clone();
    batch.insert(100, many[3].clone());
    let res = store.insert_batch(&batch).await.expect("batch");
    let dup = res
        .iter()
        .filter(|r| matches!(r, Ok(Inserted::Duplicate)))
        .count();
    assert_eq!(dup, 1, "{res:?}");
    assert!(
        matches!(res[100], Ok(Inserted::Duplicate)),
        "{:?}",
        res[100]
    );
    let stored = store
        .list_events(&EventFilter {
            camera: Some("gate-7".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(stored.len(), 150);
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn the_sqlite_store_keeps_events_alerts_counts_and_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    rt().block_on(async {
        let store = Store::open_sqlite(&dir.path().join("ioc.db"))
            .await
            .expect("open");
        exercise(store).await;
    });
}

#[test]
fn the_postgres_store_behaves_the_same_with_the_same_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = Postgres::start(dir.path()).expect("start PostgreSQL");
    rt().block_on(async {
        let store = Store::open_postgres(&pg.url).await.expect("open");
        assert_eq!(store.backend(), ioc_bridge::store::Backend::Postgres);
        exercise(store).await;
        // Migrations are applied once: opening again finds the schema in place.
        Store::open_postgres(&pg.url).await.expect("reopen");
    });
}

#[test]
fn an_unreachable_postgres_is_a_clear_error_without_the_password() {
    rt().block_on(async {
        let port = free_port();
        let e = Store::open_postgres(&format!("postgres://ioc:s3cret@127.0.0.1:{port}/ioc"))
            .await
            .expect_err("nobody listens");
        let t = e.to_string();
        assert!(
            t.contains("PostgreSQL") && t.contains(&port.to_string()),
            "{t}"
        );
        assert!(!t.contains("s3cret"), "password leaked: {t}");
    });
}
