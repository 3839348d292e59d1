//! Bad input gets a clear error naming the thing, never a panic, and nothing already accepted
//! is lost. Each test runs the real binaries.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

fn agent(args: &[&str], cfg: &Path) -> (i32, String, String) {
    run_to_end(
        Command::new(bin("edge-agent"))
            .args(args)
            .arg("--config")
            .arg(cfg),
        Duration::from_secs(120),
    )
    .expect("edge-agent")
}

fn assert_clean_failure(code: i32, err: &str) {
    assert_ne!(code, 0, "must fail:\n{err}");
    assert!(!err.contains("panicked"), "must not panic:\n{err}");
}

/// A gallery with one enrolled person, built by the real `enrol` command.
fn enrolled(dir: &Path, cfg: &Path) {
    let photos = dir.join("photos/barack_obama");
    std::fs::create_dir_all(&photos).expect("mkdir");
    std::os::unix::fs::symlink(
        testdata().join("faces/face_recognition_examples/obama.jpg"),
        photos.join("obama.jpg"),
    )
    .expect("symlink");
    let (code, out, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["enrol", "--config"])
            .arg(cfg)
            .arg("--photos")
            .arg(dir.join("photos")),
        Duration::from_secs(120),
    )
    .expect("enrol");
    assert_eq!(code, 0, "{out}\n{err}");
}

fn testsrc_config(dir: &Path, port: u16) -> PathBuf {
    write_agent_config(
        dir,
        port,
        &dir.join("gallery.json"),
        &[("cam-1", "testsrc://ball".into())],
        "",
    )
    .expect("config")
}

#[test]
fn a_malformed_agent_config_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "site_id = \"bad site\"\nedge_id = \"\"\n[mqtt]\nhost = \"\"\nport = 0\n[models]\nmanifests_dir = \"/nope\"\n\
         dir = \"/nope\"\nface_detector = \"a\"\nface_embedder = \"b\"\n[gallery]\npath = \"g.json\"\n",
    )
    .expect("write");
    // `cameras` is missing: a parse error names it.
    let (code, _, err) = agent(&["validate"], &cfg);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cameras"), "{err}");
    // With cameras present, every semantic problem is listed at once.
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg).expect("read")
            + "[[cameras]]\nid = \"c 1\"\nuri = \"file:///missing.mp4\"\nanalysis_fps = 500\n",
    )
    .expect("write");
    let (code, _, err) = agent(&["validate"], &cfg);
    assert_eq!(code, 2, "{err}");
    for needle in [
        "site_id",
        "edge_id",
        "mqtt.host",
        "mqtt.port",
        "manifests_dir",
        "models.dir",
        "/missing.mp4",
        "analysis_fps",
    ] {
        assert!(err.contains(needle), "{needle} not reported:\n{err}");
    }
    // `run` refuses the same config the same way, before touching anything.
    let (code, _, err2) = agent(&["run"], &cfg);
    assert_eq!(code, 2);
    assert!(err2.contains("mqtt.port"), "{err2}");
}

#[test]
fn missing_and_corrupt_model_files_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty_models = dir.path().join("models");
    std::fs::create_dir_all(&empty_models).expect("mkdir");
    let cfg = testsrc_config(dir.path(), 1);
    let text = std::fs::read_to_string(&cfg).expect("read").replace(
        &models_dir().display().to_string(),
        &empty_models.display().to_string(),
    );
    std::fs::write(&cfg, text).expect("write");
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains("yunet_s_640_640") && err.contains("scripts/setup.sh"),
        "{err}"
    );

    // Same file name, wrong bytes.
    let f = empty_models.join("face_detection/yunet_s_640_640.onnx");
    std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
    std::fs::write(&f, b"not a model").expect("write");
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains("sha256") && err.contains("yunet_s_640_640.onnx"),
        "{err}"
    );
}

#[test]
fn a_model_whose_inputs_do_not_match_is_refused_with_expected_and_got() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifests = dir.path().join("manifests");
    std::fs::create_dir_all(&manifests).expect("mkdir");
    let src = workspace().join("models/manifests");
    std::fs::copy(
        src.join("mobilefacenet_192d.toml"),
        manifests.join("mobilefacenet_192d.toml"),
    )
    .expect("copy");
    // The detector manifest points at the embedder's weights.
    let det = std::fs::read_to_string(src.join("yunet_s_640_640.toml"))
        .expect("read")
        .replace(
            "face_detection/yunet_s_640_640.onnx",
            "face_recognition/mobilefacenet_192d.onnx",
        )
        .replace(
            "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            "a8059cbf3ee799c04b06636da86f7a9d067f9440fa83460130f1fe86d01b74ff",
        );
    std::fs::write(manifests.join("yunet_s_640_640.toml"), det).expect("write");
    let cfg = testsrc_config(dir.path(), 1);
    let text = std::fs::read_to_string(&cfg)
        .expect("read")
        .replace(&src.display().to_string(), &manifests.display().to_string());
    std::fs::write(&cfg, text).expect("write");
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains(
            "model yunet_s_640_640: tensor input: expected [1,3,640,640], got [?,3,112,112]"
        ),
        "{err}"
    );
}

#[test]
fn an_unreachable_broker_at_start_is_named_with_its_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let cfg = testsrc_config(dir.path(), port);
    enrolled(dir.path(), &cfg);
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains(&format!("MQTT broker at 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn an_unreadable_video_is_reported_with_the_camera_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bridge = Bridge::start(dir.path()).expect("bridge");
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, vec![0x5a_u8; 64 * 1024]).expect("write");
    let cfg = write_agent_config(
        dir.path(),
        bridge.mqtt_port,
        &dir.path().join("gallery.json"),
        &[("door-3", format!("file://{}", junk.display()))],
        "",
    )
    .expect("config");
    enrolled(dir.path(), &cfg);
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains("camera door-3") && err.contains("junk.mp4"),
        "{err}"
    );
}

#[test]
fn a_gallery_from_another_embedder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = testsrc_config(dir.path(), 1);
    enrolled(dir.path(), &cfg);
    let text = std::fs::read_to_string(&cfg).expect("read").replace(
        "mobilefacenet_192d",
        "face_reidentification_retail_0095_256d",
    );
    std::fs::write(&cfg, text).expect("write");
    let (code, _, err) = agent(&["run"], &cfg);
    assert_clean_failure(code, &err);
    assert!(
        err.contains("mobilefacenet_192d") && err.contains("re-enrol"),
        "{err}"
    );
}

#[test]
fn a_malformed_bridge_config_lists_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("b.toml");
    std::fs::write(
        &cfg,
        "[http]\nlisten = \"everywhere\"\n[mqtt]\nembedded = true\nembedded_listen = \"x\"\nhost = \"\"\nport = 0\n\
         [store]\nsqlite_path = \"a.db\"\n",
    )
    .expect("write");
    let (code, _, err) = run_to_end(
        Command::new(bin("ioc-bridge"))
            .args(["serve", "--config"])
            .arg(&cfg),
        Duration::from_secs(30),
    )
    .expect("bridge");
    assert_eq!(code, 2, "{err}");
    for n in [
        "http.listen",
        "mqtt.embedded_listen",
        "mqtt.host",
        "mqtt.port",
    ] {
        assert!(err.contains(n), "{n} not reported:\n{err}");
    }
}

fn valid_event() -> wire::EventEnvelope {
    wire::EventEnvelope {
        schema_version: wire::SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: "s1".into(),
        edge_id: "e1".into(),
        camera_id: "c1".into(),
        captured_at: chrono::Utc::now(),
        stream_pts_ms: Some(40),
        body: wire::EventBody::FaceMatch(wire::FaceMatch {
            identity: wire::Identity {
                person_id: "tran_thi_b".into(),
                name: "Trần Thị B".into(),
                list: "staff".into(),
            },
            distance: 0.3,
            threshold: 0.55,
            face_box: wire::BoxPx {
                x: 1.0,
                y: 1.0,
                w: 50.0,
                h: 60.0,
            },
            detection_score: 0.9,
            embedder_id: "mobilefacenet_192d".into(),
            track_id: None,
            votes: None,
        }),
        snapshot: None,
    }
}

#[test]
fn malformed_mqtt_messages_are_quarantined_and_ingest_goes_on_storing_each_event_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bridge = Bridge::start(dir.path()).expect("bridge");
    let topic = wire::topics::events("s1", "e1", "c1");
    let good = valid_event();
    let mut future = serde_json::to_value(&good).expect("json");
    future["schema_version"] = 7.into();
    let mut bad_snapshot = good.clone();
    bad_snapshot.event_id = uuid::Uuid::now_v7();
    bad_snapshot.snapshot = Some(wire::Snapshot {
        sha256: "0".repeat(64),
        content_type: "image/jpeg".into(),
        width: 1,
        height: 1,
        data_b64: Some("aGVsbG8=".into()),
    });
    publish_raw(
        bridge.mqtt_port,
        vec![
            (topic.clone(), b"{not json".to_vec()),
            (topic.clone(), future.to_string().into_bytes()),
            (
                wire::topics::events("s1", "e1", "other-cam"),
                good.to_json(),
            ),
            (topic.clone(), bad_snapshot.to_json()),
            (topic.clone(), good.to_json()),
            (topic.clone(), good.to_json()), // redelivery: stored once
        ],
    )
    .expect("publish");
    let q = bridge
        .wait_for("/api/quarantine", Duration::from_secs(10), |v| {
            v["count"].as_u64() >= Some(4)
        })
        .expect("quarantine");
    let reasons: Vec<String> = q["messages"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("schema_version 7")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("arrived on")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("snapshot")),
        "{reasons:?}"
    );
    let ev = bridge
        .wait_for("/api/stats", Duration::from_secs(10), |v| {
            v["ingest"]["duplicates"].as_u64() >= Some(1)
        })
        .expect("stats");
    assert_eq!(ev["store"]["events_by_kind"]["face_match"], 1, "{ev}");
    let one = bridge
        .get(&format!("/api/events/{}", good.event_id))
        .expect("event");
    assert_eq!(one["person_name"], "Trần Thị B");
}
