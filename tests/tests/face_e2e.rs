//! The first complete path, every part real: a video made from real photos -> GStreamer decode
//! -> YuNet -> alignment -> MobileFaceNet -> HNSW gallery -> MQTT (embedded rumqttd) ->
//! ioc-bridge -> SQLite -> HTTP API.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

const ENROLLED: &[&str] = &[
    "angelina_jolie",
    "jennifer_aniston",
    "matt_damon",
    "mark_zuckerberg",
];

/// Photos used for enrolment (per person) and, disjoint from them, photos shown in the video.
fn celeb(rel: &str) -> PathBuf {
    testdata().join("faces/celebrities").join(rel)
}

struct Scene {
    slides: Vec<Slide>,
    /// Who is on each slide.
    people: Vec<&'static str>,
}

fn scene() -> Scene {
    // Enrolled people who appear (other photos than the enrolment ones), and two people who are
    // not enrolled at all. mark_zuckerberg is enrolled but never appears.
    let shown: &[(&'static str, &str)] = &[
        ("angelina_jolie", "angelina_jolie/img5.jpg"),
        ("katy_perry", "katy_perry/img26.jpg"),
        ("jennifer_aniston", "jennifer_aniston/img53.jpg"),
        ("matt_damon", "matt_damon/img31.jpg"),
        ("jack_dorsey", "jack_dorsey/img59.jpg"),
        ("angelina_jolie", "angelina_jolie/img7.jpg"),
        ("jennifer_aniston", "jennifer_aniston/img55.jpg"),
        ("katy_perry", "katy_perry/img42.jpg"),
        ("matt_damon", "matt_damon/img33.jpg"),
    ];
    Scene {
        slides: shown
            .iter()
            .map(|(_, p)| Slide {
                photo: celeb(p),
                secs: 2.0,
            })
            .collect(),
        people: shown.iter().map(|(who, _)| *who).collect(),
    }
}

fn enrolment_folder(dir: &std::path::Path) -> PathBuf {
    let root = dir.join("enrol");
    let photos: &[(&str, &[&str])] = &[
        ("angelina_jolie", &["img1.jpg", "img2.jpg", "img4.jpg"]),
        ("jennifer_aniston", &["img3.jpg", "img12.jpg", "img56.jpg"]),
        ("matt_damon", &["img29.jpg", "img30.jpg", "img32.jpg"]),
        ("mark_zuckerberg", &["img13.jpg", "img14.jpg", "img15.jpg"]),
    ];
    for (person, files) in photos {
        let d = root.join(person);
        std::fs::create_dir_all(&d).expect("mkdir");
        for f in *files {
            std::os::unix::fs::symlink(celeb(&format!("{person}/{f}")), d.join(f))
                .expect("symlink");
        }
    }
    // A photo with two people in it must be reported and skipped, not enrolled.
    let d = root.join("two_people");
    std::fs::create_dir_all(&d).expect("mkdir");
    std::os::unix::fs::symlink(
        testdata().join("faces/face_recognition_examples/two_people.jpg"),
        d.join("both.jpg"),
    )
    .expect("symlink");
    root
}

#[test]
fn enrolled_people_who_appear_reach_the_ioc_by_name_and_nobody_else_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = scene();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&sc.slides, &video, 640, 480, 10).expect("slideshow");

    let bridge = Bridge::start(dir.path()).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        bridge.mqtt_port,
        &gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");

    // Enrol.
    let (code, out, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["enrol", "--config"])
            .arg(&cfg)
            .arg("--photos")
            .arg(enrolment_folder(dir.path())),
        Duration::from_secs(120),
    )
    .expect("enrol");
    assert_eq!(code, 0, "enrol failed:\n{out}\n{err}");
    assert!(
        out.contains("two_people/both.jpg: 2 faces found"),
        "the group photo must be reported by name:\n{out}"
    );
    assert!(out.contains("4 person(s)"), "{out}");
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&gallery).expect("gallery")).expect("json");
    assert_eq!(g["embedder"]["id"], "mobilefacenet_192d");
    assert_eq!(
        g["embedder"]["sha256"],
        "a8059cbf3ee799c04b06636da86f7a9d067f9440fa83460130f1fe86d01b74ff"
    );
    assert_eq!(g["index"]["max_connections"], 16);
    assert_eq!(g["people"].as_array().map(Vec::len), Some(4));

    // Run the agent over the whole video; it exits when the file ends and events are acked.
    let (code, out, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["run", "--config"])
            .arg(&cfg),
        Duration::from_secs(300),
    )
    .expect("run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");

    let events = bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(20), |v| {
            v["count"].as_u64() > Some(0)
        })
        .expect("events");
    let events = events["events"].as_array().expect("array").clone();
    let windows = slide_windows(&sc.slides);

    // Every event names the person actually on screen at that moment.
    let mut per_slide: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for e in &events {
        assert_eq!(e["kind"], "face_match");
        assert_eq!(e["site_id"], "test-site");
        assert_eq!(e["camera_id"], "gate-1");
        assert!(e["payload"]["face_box"]["w"].as_f64() > Some(40.0), "{e}");
        let id = e["event_id"].as_str().expect("id");
        assert_eq!(
            bridge.get(&format!("/api/events/{id}")).expect("event")["event_id"],
            id
        );
        let person = e["person_id"].as_str().expect("person").to_string();
        assert!(
            ENROLLED.contains(&person.as_str()),
            "unexpected identity {person}"
        );
        let dist = e["distance"].as_f64().expect("distance");
        let threshold = e["payload"]["threshold"].as_f64().expect("threshold");
        assert!(dist < threshold, "{e}");
        // The snapshot is stored and served as a JPEG.
        let sha = e["snapshot_sha256"].as_str().expect("snapshot");
        let resp = ureq::get(&format!("{}/api/snapshots/{sha}", bridge.http))
            .header("Cookie", &bridge.cookie)
            .call()
            .expect("snapshot");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("image/jpeg")
        );
        per_slide
            .entry(slide_of(e, &windows))
            .or_default()
            .push(person);
    }
    for (i, who) in sc.people.iter().enumerate() {
        let got = per_slide.get(&i).cloned().unwrap_or_default();
        if ENROLLED.contains(who) {
            assert!(
                !got.is_empty(),
                "slide {i} shows {who} but no event was stored; events: {per_slide:?}"
            );
            assert!(
                got.iter().all(|p| p == who),
                "slide {i} shows {who} but events name {got:?}"
            );
        } else {
            assert!(
                got.is_empty(),
                "slide {i} shows {who} (not enrolled) but events name {got:?}"
            );
        }
    }
    assert!(
        !events.iter().any(|e| e["person_id"] == "mark_zuckerberg"),
        "mark_zuckerberg never appears"
    );
    // The edge reported itself and went offline cleanly.
    let edges = bridge.get("/api/edges").expect("edges");
    assert_eq!(edges["edges"][0]["edge_id"], "edge-1", "{edges}");
    assert_eq!(edges["edges"][0]["state"], "offline", "{edges}");
}

/// Index of the slide on screen when the event's frame was captured (by stream timestamp).
fn slide_of(e: &serde_json::Value, windows: &[(u64, u64)]) -> usize {
    let pts = e["stream_pts_ms"]
        .as_u64()
        .unwrap_or_else(|| panic!("event without stream_pts_ms: {e}"));
    windows
        .iter()
        .position(|(a, b)| pts >= *a && pts < *b)
        .unwrap_or_else(|| panic!("pts {pts} outside the video"))
}
