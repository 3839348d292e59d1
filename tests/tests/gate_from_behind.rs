//! Gate counting from behind, on a real video: in `people_one_by_one_room_intel.mp4` six people,
//! one at a time, walk in from below the camera with their backs to it, stand at the far wall
//! facing away and leave through the right edge; no face is ever visible. The hand-labelled
//! ground truth (`tests/data/people_one_by_one_room_intel.truth.json`) gives when each one
//! enters and leaves. The real edge-agent (YOLOX people, SORT tracker, two gate lines) must
//! count exactly six entries on the entrance line and six exits on the side line, each at the
//! labelled moment, and nothing else.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

/// How far (seconds) a crossing may be from the labelled moment: labels are from one frame per
/// second, and a person takes about two seconds to walk past a line.
const SLACK_SECS: f64 = 4.0;

#[test]
fn people_seen_only_from_behind_are_counted_once_each_way_at_the_labelled_moments() {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("tests/data/people_one_by_one_room_intel.truth.json"),
        )
        .expect("ground truth file"),
    )
    .expect("ground truth JSON");
    let people = truth["people"].as_array().expect("people");
    let times = |k: &str| -> Vec<f64> { people.iter().filter_map(|p| p[k].as_f64()).collect() };
    let (enter_at, leave_at) = (times("enters_at_secs"), times("leaves_at_secs"));
    assert_eq!(enter_at.len(), 6, "ground truth lists six people");

    let video = testdata().join("video/people_one_by_one_room_intel.mp4");
    assert!(video.is_file(), "missing {}", video.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let bridge = Bridge::start(dir.path()).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        bridge.mqtt_port,
        &gallery,
        &[("room-cam", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    // The camera looks down at the room from just behind the door: people are cut off by the
    // bottom edge as they come in (feet at y = 1.0), and stand with their feet at y = 0.86-0.95.
    // The entrance is a line at y = 0.96 (dead band +-0.01), crossed upwards by
    // whoever walks in; the side door a vertical line at x = 0.75 they cross on the way out
    // (they stand at x = 0.56-0.64).
    let text = std::fs::read_to_string(&cfg).expect("config text")
        + "[[cameras.gates]]\nid = \"entrance\"\na = [0.05, 0.96]\nb = [0.7, 0.96]\nin_direction = \"right_to_left\"\nmargin = 0.01\n\
           [[cameras.gates]]\nid = \"side-door\"\na = [0.75, 0.5]\nb = [0.75, 1.0]\nin_direction = \"left_to_right\"\n";
    std::fs::write(&cfg, text).expect("write config");
    // A gallery as on a real gate (nobody in the video is in it).
    enrol_celebrities(
        &cfg,
        dir.path(),
        "enrol",
        &[("angelina_jolie", &["img1.jpg"])],
        false,
    )
    .expect("enrol");

    let (code, out, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["run", "--config"])
            .arg(&cfg),
        Duration::from_secs(400),
    )
    .expect("run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");

    let crossings = bridge
        .get("/api/events?kind=gate_crossing&limit=1000")
        .expect("crossings");
    let list = crossings["events"].as_array().expect("events").clone();
    let at = |gate: &str, dir: &str| -> Vec<f64> {
        let mut v: Vec<f64> = list
            .iter()
            .filter(|e| e["payload"]["gate_id"] == gate && e["payload"]["direction"] == dir)
            .filter_map(|e| e["stream_pts_ms"].as_f64())
            .map(|ms| ms / 1000.0)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let summary = || {
        list.iter()
            .map(|e| {
                format!(
                    "{} {} track {} at {:.1} s",
                    e["payload"]["gate_id"],
                    e["payload"]["direction"],
                    e["payload"]["track_id"],
                    e["stream_pts_ms"].as_f64().unwrap_or(-1000.0) / 1000.0
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (ins, outs) = (at("entrance", "in"), at("side-door", "out"));
    assert!(
        at("entrance", "out").is_empty() && at("side-door", "in").is_empty(),
        "nobody walks out through the entrance or in through the side door:\n{}",
        summary()
    );
    assert_eq!(ins.len(), 6, "six entries:\n{}", summary());
    assert_eq!(outs.len(), 6, "six exits:\n{}", summary());
    for (got, want) in ins.iter().zip(&enter_at) {
        assert!(
            (got - want).abs() <= SLACK_SECS,
            "an entry at {got:.1} s, labelled {want} s:\n{}",
            summary()
        );
    }
    for (got, want) in outs.iter().zip(&leave_at) {
        assert!(
            (got - want).abs() <= SLACK_SECS,
            "an exit at {got:.1} s, labelled {want} s:\n{}",
            summary()
        );
    }
    // Each track crosses each line at most once.
    for gate in ["entrance", "side-door"] {
        let on_gate: Vec<u64> = list
            .iter()
            .filter(|e| e["payload"]["gate_id"] == gate)
            .filter_map(|e| e["payload"]["track_id"].as_u64())
            .collect();
        let unique: BTreeSet<u64> = on_gate.iter().copied().collect();
        assert_eq!(
            unique.len(),
            on_gate.len(),
            "a track crossed {gate} twice:\n{}",
            summary()
        );
    }
    // No face is visible: nobody is recognised.
    let faces = bridge
        .get("/api/events?kind=face_match&limit=1000")
        .expect("face matches");
    assert_eq!(faces["count"], 0, "{faces:#}");
    // The per-minute counts agree with the crossings.
    let counts = bridge
        .get("/api/events?kind=gate_count&limit=1000")
        .expect("counts");
    let counts = counts["events"].as_array().expect("events").clone();
    let sum = |gate: &str, k: &str| -> u64 {
        counts
            .iter()
            .filter(|e| e["payload"]["gate_id"] == gate)
            .filter_map(|e| e["payload"][k].as_u64())
            .sum()
    };
    assert_eq!(
        (sum("entrance", "entries"), sum("side-door", "exits")),
        (6, 6),
        "{counts:#?}"
    );
}
