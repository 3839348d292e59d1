//! Gate analytics end to end: a deterministic gate video composed from real photos (people
//! crossing both ways, one lingering on the line, one passing behind a pillar, two at once),
//! its ground truth computed from the walkers' paths, the real edge-agent (YOLOX people, SORT
//! tracker, gate line) publishing to the real ioc-bridge. The stored crossings and per-minute
//! counts must equal the ground truth exactly.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use e2e_tests::gate_scene::{Gate, GateScene, Key, Walker};
use e2e_tests::*;

fn walker(person: &str, photo: &str, keys: &[(f64, f32, f32)]) -> Walker {
    Walker {
        person: person.into(),
        photo: testdata()
            .join("faces/celebrities")
            .join(person)
            .join(photo),
        w: 110,
        h: 150,
        keys: keys.iter().map(|&(t, x, y)| Key { t, x, y }).collect(),
    }
}

fn scene() -> GateScene {
    // Frame 640x480; the gate line is at y = 0.6 (288 px); feet = y + 150. People enter and leave
    // the picture at its edges, as they do at a real gate.
    let mut linger = vec![(6.0, 250.0, -150.0), (8.5, 250.0, 138.0)];
    // Sways on the line (feet within +-8 px = 0.017 of it, inside the 0.03 dead band).
    for i in 0..8 {
        let t = 8.5 + 0.5 * (i + 1) as f64;
        linger.push((t, 250.0, if i % 2 == 0 { 146.0 } else { 130.0 }));
    }
    linger.push((13.0, 250.0, 138.0));
    linger.push((16.0, 250.0, 480.0));
    GateScene {
        width: 640,
        height: 480,
        fps: 10,
        secs: 24.0,
        gate: Gate {
            id: "main".into(),
            y: 0.6,
            x0: 0.05,
            x1: 0.95,
        },
        walkers: vec![
            // In, alone.
            walker(
                "angelina_jolie",
                "img5.jpg",
                &[(0.0, 60.0, -150.0), (6.0, 60.0, 480.0)],
            ),
            // Out, overlapping in time with the first.
            walker(
                "matt_damon",
                "img31.jpg",
                &[(2.0, 420.0, 480.0), (8.0, 420.0, -150.0)],
            ),
            // Lingers on the line, then goes in: one entry.
            walker("jennifer_aniston", "img53.jpg", &linger),
            // Walks along above the line behind the pillar (hidden about a second), then in.
            walker(
                "katy_perry",
                "img26.jpg",
                &[
                    (9.0, -110.0, 20.0),
                    (13.0, 500.0, 20.0),
                    (16.5, 500.0, 480.0),
                ],
            ),
            // Out, later.
            walker(
                "mark_zuckerberg",
                "img13.jpg",
                &[(13.5, 80.0, 480.0), (18.5, 80.0, -150.0)],
            ),
            // Two in at once.
            walker(
                "scarlett_johansson",
                "img47.jpg",
                &[(18.5, 40.0, -150.0), (23.5, 40.0, 480.0)],
            ),
            walker(
                "jack_dorsey",
                "img59.jpg",
                &[(18.5, 470.0, -150.0), (23.5, 470.0, 480.0)],
            ),
        ],
        // Pillar between x 220 and 380, from the top to just above the line.
        pillars: vec![[220, 0, 160, 200]],
    }
}

#[test]
fn crossings_and_minute_counts_match_the_ground_truth_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = scene();
    for w in &sc.walkers {
        assert!(w.photo.is_file(), "missing photo {}", w.photo.display());
    }
    let video = dir.path().join("gate.mp4");
    let truth = sc.render(&video, 0.03).expect("render scene");
    assert_eq!(
        (truth.entries, truth.exits),
        (5, 2),
        "scene design: {truth:?}"
    );
    assert!(video.with_extension("json").is_file(), "ground truth JSON");

    let bridge = Bridge::start(dir.path()).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        bridge.mqtt_port,
        &gallery,
        &[("gate-cam", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    let text = std::fs::read_to_string(&cfg)
        .expect("config text")
        .replace("analysis_fps = 5", "analysis_fps = 10")
        + "[[cameras.gates]]\nid = \"main\"\na = [0.05, 0.6]\nb = [0.95, 0.6]\nin_direction = \"left_to_right\"\nmargin = 0.03\n";
    std::fs::write(&cfg, text).expect("write config");
    // An enrolled gallery (one person), as on a real gate.
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
        Duration::from_secs(300),
    )
    .expect("run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");

    let crossings = bridge
        .get("/api/events?kind=gate_crossing&limit=1000")
        .expect("crossings");
    let list = crossings["events"].as_array().expect("events").clone();
    let dirs: Vec<&str> = list
        .iter()
        .filter_map(|e| e["payload"]["direction"].as_str())
        .collect();
    let entries = dirs.iter().filter(|d| **d == "in").count() as u32;
    let exits = dirs.iter().filter(|d| **d == "out").count() as u32;
    assert_eq!(
        (entries, exits),
        (truth.entries, truth.exits),
        "crossings stored {list:#?}\nagent log:\n{err}"
    );
    // One crossing per walker: every crossing comes from a different track.
    let tracks: BTreeSet<u64> = list
        .iter()
        .filter_map(|e| e["payload"]["track_id"].as_u64())
        .collect();
    assert_eq!(tracks.len(), list.len(), "a track crossed twice: {list:#?}");
    for e in &list {
        assert_eq!(e["payload"]["gate_id"], "main");
        assert!(
            e["snapshot_sha256"].is_string(),
            "crossing without evidence: {e}"
        );
    }

    // Identity per track: the one enrolled person (angelina_jolie, the first to walk in) is
    // recognised once, on the track that crossed; nobody else is named; the others are
    // unknown, at most once per track.
    let faces = bridge
        .get("/api/events?kind=face_match&limit=1000")
        .expect("face matches");
    let faces = faces["events"].as_array().expect("events").clone();
    assert_eq!(
        faces.len(),
        1,
        "one recognition: {faces:#?}\nagent log:\n{err}"
    );
    assert_eq!(faces[0]["person_id"], "angelina_jolie");
    let first_in = list
        .iter()
        .filter(|e| e["payload"]["direction"] == "in")
        .min_by_key(|e| e["stream_pts_ms"].as_u64())
        .expect("an entry");
    assert_eq!(
        faces[0]["payload"]["track_id"], first_in["payload"]["track_id"],
        "recognised on the track that walked in"
    );
    assert!(faces[0]["payload"]["votes"].as_u64() >= Some(2));
    assert!(
        faces[0]["snapshot_sha256"].is_string(),
        "best shot as evidence"
    );
    let unknown = bridge
        .get("/api/events?kind=unknown_person&limit=1000")
        .expect("unknown");
    let unknown = unknown["events"].as_array().expect("events").clone();
    let unknown_tracks: BTreeSet<u64> = unknown
        .iter()
        .filter_map(|e| e["payload"]["track_id"].as_u64())
        .collect();
    assert_eq!(
        unknown_tracks.len(),
        unknown.len(),
        "one verdict per track: {unknown:#?}"
    );
    assert!(
        !unknown_tracks.contains(&first_in["payload"]["track_id"].as_u64().unwrap_or(0)),
        "the recognised track is not also unknown"
    );
    assert!(
        (4..=6).contains(&unknown.len()),
        "the six people not enrolled are unknown (some may show too little face): {unknown:#?}"
    );

    // Per-minute counts add up to the same totals.
    let counts = bridge
        .get("/api/events?kind=gate_count&limit=1000")
        .expect("counts");
    let counts = counts["events"].as_array().expect("events").clone();
    assert!(!counts.is_empty(), "no gate_count events");
    let sum = |k: &str| -> u64 { counts.iter().filter_map(|e| e["payload"][k].as_u64()).sum() };
    assert_eq!(
        (sum("entries"), sum("exits")),
        (truth.entries as u64, truth.exits as u64),
        "{counts:#?}"
    );
}
