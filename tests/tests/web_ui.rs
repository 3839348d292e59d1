//! The operator's web UI in real headless Chromium (Debian's, driven by playwright-core from
//! tests/browser): log in (a wrong password refused first), watch a watch-list hit published by
//! an edge arrive on the live wall with its snapshot, take the alert through New -> In progress
//! -> Closed, read the hourly count chart, find the hit in the site's gate view, and enrol a
//! visitor from the People page with a photo file. What the page shows is checked against what
//! was published and against the API afterwards (alert history, people, audit log).

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use chrono::{DurationRound, TimeDelta, Utc};
use e2e_tests::*;
use sha2::Digest;
use wire::*;

const OPERATOR: &str = "nguyen.van.an";
const OPERATOR_PASSWORD: &str = "ca-truc-dem-2026";
const CLOSE_NOTE: &str = "Bảo vệ cổng Bắc đã xác minh";

fn envelope(camera: &str, at: chrono::DateTime<Utc>, body: EventBody) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: "ha-long-port".into(),
        edge_id: "edge-north".into(),
        camera_id: camera.into(),
        captured_at: at,
        stream_pts_ms: None,
        body,
        snapshot: None,
    }
}

/// Reads `TAG {json}` lines from the browser script until `tag` (or FAIL) arrives.
fn expect_line(rx: &mpsc::Receiver<String>, tag: &str, log: &str) -> serde_json::Value {
    loop {
        let line = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(l) => l,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("browser said nothing for 90 s waiting for {tag}; {log}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the browser script ended before {tag}; {log}")
            }
        };
        let (t, rest) = line.split_once(' ').unwrap_or((line.as_str(), "null"));
        if t == "FAIL" {
            panic!("browser failed waiting for {tag}: {rest}\nscreenshots in {log}");
        }
        if t == tag {
            return serde_json::from_str(rest).unwrap_or(serde_json::Value::Null);
        }
    }
}

#[test]
fn an_operator_logs_in_sees_a_live_hit_handles_its_alert_and_reads_the_count_chart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shots = dir.path().join("screenshots");
    std::fs::create_dir_all(&shots).expect("shots dir");
    let bridge = Bridge::start_custom(dir.path(), None, &bridge_models_toml()).expect("bridge");
    let (code, body) = bridge
        .post(
            "/api/users",
            &serde_json::json!({"username": OPERATOR, "password": OPERATOR_PASSWORD, "role": "operator"}),
        )
        .expect("add operator");
    assert_eq!(code, 200, "{body}");

    // Counts for the two previous hours, two turnstiles, several minutes each.
    let hour = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour");
    let minutes: &[(i64, i64, &str, u32, u32)] = &[
        (-2, 5, "turnstile-1", 12, 3),
        (-2, 6, "turnstile-2", 4, 1),
        (-2, 41, "turnstile-1", 7, 0),
        (-1, 0, "turnstile-1", 2, 9),
        (-1, 30, "turnstile-2", 5, 5),
        (-1, 59, "turnstile-2", 1, 6),
    ];
    let mut expected: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    let mut msgs = Vec::new();
    for &(h, m, gate, i, o) in minutes {
        let start = hour + TimeDelta::hours(h) + TimeDelta::minutes(m);
        let e = envelope(
            "gate-north",
            start + TimeDelta::seconds(60),
            EventBody::GateCount(GateCount {
                gate_id: gate.into(),
                minute_start: start,
                entries: i,
                exits: o,
            }),
        );
        let v = expected.entry(h).or_default();
        v.0 += i;
        v.1 += o;
        msgs.push((
            topics::events(&e.site_id, &e.edge_id, &e.camera_id),
            e.to_json(),
        ));
    }
    publish_raw(bridge.mqtt_port, msgs).expect("publish counts");
    bridge
        .wait_for("/api/stats", Duration::from_secs(10), |v| {
            v["store"]["events_by_kind"]["gate_count"].as_u64() == Some(minutes.len() as u64)
        })
        .expect("counts stored");

    let mut node = Command::new("node")
        .arg(workspace().join("tests/browser/ioc_ui.mjs"))
        .env("GW_URL", &bridge.http)
        .env("GW_USER", OPERATOR)
        .env("GW_PASS", OPERATOR_PASSWORD)
        .env("GW_SHOTS", &shots)
        .env("GW_CLOSE_NOTE", CLOSE_NOTE)
        .env("GW_SITE", "ha-long-port")
        .env(
            "GW_ENROL_PHOTO",
            testdata().join("faces/celebrities/angelina_jolie/img1.jpg"),
        )
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("node.log")).expect("node log"))
        .spawn()
        .expect("node (run scripts/setup.sh: it installs Node packages and Debian chromium)");
    let stdout = node.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let where_ = format!(
        "{} (node log {})",
        shots.display(),
        dir.path().join("node.log").display()
    );
    // Keep the directory when the test fails, for the screenshots.
    let dir = dir.keep();

    let ready = expect_line(&rx, "READY", &where_);
    assert!(
        ready["refused"]
            .as_str()
            .is_some_and(|s| s.to_lowercase().contains("password")),
        "a wrong password must be refused by name: {ready}"
    );
    assert_eq!(ready["who"], format!("{OPERATOR} (operator)"));

    // An edge reports a watch-list hit with a real photo as evidence.
    let photo =
        std::fs::read(testdata().join("faces/celebrities/matt_damon/img30.jpg")).expect("photo");
    let decoded = image::load_from_memory(&photo).expect("jpeg");
    let (pw, ph) = (decoded.width(), decoded.height());
    let mut hit = envelope(
        "gate-north",
        Utc::now(),
        EventBody::WatchlistHit(FaceMatch {
            identity: Identity {
                person_id: "matt_damon".into(),
                name: "Matt Damon".into(),
                list: "watch".into(),
            },
            distance: 0.29,
            threshold: 0.55,
            face_box: BoxPx {
                x: 40.0,
                y: 30.0,
                w: 120.0,
                h: 140.0,
            },
            detection_score: 0.93,
            embedder_id: "mobilefacenet_192d".into(),
            track_id: Some(3),
            votes: Some(4),
        }),
    );
    hit.snapshot = Some(Snapshot {
        sha256: hex::encode(sha2::Sha256::digest(&photo)),
        content_type: "image/jpeg".into(),
        width: pw,
        height: ph,
        data_b64: Some(base64::engine::general_purpose::STANDARD.encode(&photo)),
    });
    publish_raw(
        bridge.mqtt_port,
        vec![(
            topics::events(&hit.site_id, &hit.edge_id, &hit.camera_id),
            hit.to_json(),
        )],
    )
    .expect("publish hit");

    let live = expect_line(&rx, "LIVE", &where_);
    assert_eq!(live["event_id"], hit.event_id.to_string(), "{live}");
    assert_eq!(live["text"], "WATCH LIST: Matt Damon", "{live}");
    assert_eq!(live["where"], "ha-long-port / gate-north", "{live}");
    assert_eq!(
        live["snapshot_width"], pw,
        "the evidence photo is shown: {live}"
    );
    assert_eq!(live["snapshot_height"], ph, "{live}");
    assert_eq!(live["open_alerts_badge"], "1", "{live}");

    let alert = expect_line(&rx, "ALERT", &where_);
    let shown: Vec<String> = alert["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(shown.len(), 3, "raised, taken, closed: {alert}");
    assert!(shown[0].contains("→ new"), "{shown:?}");
    assert!(
        shown[1].contains(OPERATOR) && shown[1].contains("new → in_progress"),
        "{shown:?}"
    );
    assert!(
        shown[2].contains(OPERATOR)
            && shown[2].contains("in_progress → closed")
            && shown[2].contains(CLOSE_NOTE),
        "{shown:?}"
    );
    assert!(
        alert["last_change"]
            .as_str()
            .is_some_and(|s| s.starts_with(OPERATOR)),
        "{alert}"
    );

    let counts = expect_line(&rx, "COUNTS", &where_);
    let bars = counts["bars"].as_array().expect("bars");
    assert_eq!(
        bars.len(),
        expected.len(),
        "one bar pair per hour: {counts}"
    );
    let mut tallest = 0.0f64;
    for (bar, (h, (i, o))) in bars.iter().zip(&expected) {
        let start = chrono::DateTime::parse_from_rfc3339(bar["start"].as_str().expect("start"))
            .expect("rfc3339");
        assert_eq!(start, hour + TimeDelta::hours(*h), "{bar}");
        assert_eq!(
            start.offset().local_minus_utc(),
            7 * 3600,
            "local time: {bar}"
        );
        assert_eq!(bar["entries"], *i, "hour {h}: {bar}");
        assert_eq!(bar["exits"], *o, "hour {h}: {bar}");
        tallest = tallest
            .max(bar["entries_height"].as_f64().unwrap_or(0.0))
            .max(bar["exits_height"].as_f64().unwrap_or(0.0));
    }
    // Bars are drawn to scale: the largest value fills the chart height, others in proportion.
    let max = expected.values().map(|&(i, o)| i.max(o)).max().unwrap_or(1) as f64;
    for bar in bars {
        let ratio = bar["entries"].as_f64().unwrap_or(0.0) / max;
        let h = bar["entries_height"].as_f64().unwrap_or(-1.0);
        assert!(
            (h - ratio * tallest).abs() < 0.5,
            "bar height {h} for {bar}"
        );
    }
    assert_eq!(counts["table_rows"], 4, "hour x gate rows: {counts}");
    let gate = expect_line(&rx, "GATE", &where_);
    assert_eq!(
        gate["hits"],
        serde_json::json!([hit.event_id.to_string()]),
        "{gate}"
    );
    assert_eq!(gate["known"], 0, "{gate}");
    let enrol = expect_line(&rx, "ENROL", &where_);
    assert_eq!(
        enrol["result"], "enrolled Trần Thị Mai: 1 photo(s), sent to 0 edge(s)",
        "{enrol}"
    );
    assert_eq!(enrol["row"][0], "tran_thi_mai", "{enrol}");
    assert_eq!(enrol["row"][2], "visitor", "{enrol}");
    assert_eq!(enrol["row"][4], "1", "one photo: {enrol}");
    expect_line(&rx, "DONE", &where_);
    let status = node.wait().expect("node exit");
    assert!(status.success(), "browser script: {status}");

    // The API agrees with what the page showed, and the operator's looks are audited.
    let a = bridge
        .get(&format!("/api/alerts/{}", hit.event_id))
        .expect("alert");
    assert_eq!(a["alert"]["state"], "closed", "{a}");
    let actors: Vec<&str> = a["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["actor"].as_str())
        .collect();
    assert_eq!(actors[1..], [OPERATOR, OPERATOR], "{a}");
    let audit = bridge.get("/api/audit?limit=500").expect("audit");
    let mine: Vec<(String, String)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["username"] == OPERATOR)
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["subject"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let id = hit.event_id.to_string();
    let people = bridge.get("/api/people").expect("people");
    assert_eq!(people["people"][0]["person_id"], "tran_thi_mai", "{people}");
    assert_eq!(people["people"][0]["created_by"], OPERATOR, "{people}");
    let sha = hit
        .snapshot
        .as_ref()
        .map(|s| s.sha256.clone())
        .unwrap_or_default();
    assert!(
        mine.iter().any(|(a, s)| a == "view_snapshot" && *s == sha),
        "the evidence photo the operator saw is audited: {mine:?}"
    );
    assert!(
        mine.iter()
            .any(|(a, s)| a == "enrol_person" && s == "tran_thi_mai"),
        "{mine:?}"
    );
    for action in ["list_alerts", "view_alert", "alert_transition"] {
        assert!(
            mine.iter()
                .any(|(a, s)| a == action && (action == "list_alerts" || *s == id)),
            "no {action} audit entry for {OPERATOR}: {mine:?}"
        );
    }
    if std::env::var_os("GATEWATCH_KEEP_SCREENSHOTS").is_some() {
        eprintln!("screenshots kept in {}", shots.display());
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
}
