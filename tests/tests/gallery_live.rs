//! People enrolled at the IOC reach the gates while the agent runs, without a restart: a person
//! enrolled through the bridge's HTTP API (photos in, embeddings computed by the bridge with the
//! models crate, pushed over MQTT) is recognised from then on, a person removed there is no
//! longer named, and the gallery file on disk follows. The same photos answer a face search.
//! Real video from real photos, real broker, real binaries.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

fn celeb(rel: &str) -> PathBuf {
    testdata().join("faces/celebrities").join(rel)
}

fn photos(paths: &[&str]) -> Vec<String> {
    paths
        .iter()
        .map(|p| photo_b64(&celeb(p)).expect("photo"))
        .collect()
}

#[test]
fn a_person_enrolled_at_the_ioc_is_recognised_and_a_removed_one_is_not_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 0-4 s Matt (not enrolled yet), 4-8 s Angelina (enrolled), 8-16 s Matt (enrolled at the
    // IOC meanwhile), 16-20 s Angelina (removed at the IOC meanwhile).
    let slides: Vec<Slide> = [
        "matt_damon/img31.jpg",
        "angelina_jolie/img5.jpg",
        "matt_damon/img33.jpg",
        "matt_damon/img31.jpg",
        "angelina_jolie/img7.jpg",
    ]
    .iter()
    .zip([4.0, 4.0, 4.0, 4.0, 4.0])
    .map(|(p, secs)| Slide {
        photo: celeb(p),
        secs,
    })
    .collect();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10).expect("slideshow");
    let bridge = Bridge::start_custom(dir.path(), None, &bridge_models_toml()).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        bridge.mqtt_port,
        &gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    let text = std::fs::read_to_string(&cfg)
        .expect("config")
        .replace("fast_file = true", "fast_file = false");
    std::fs::write(&cfg, text).expect("write");
    // Angelina is enrolled at the IOC before the edge has ever connected: she reaches it by
    // the sync every edge gets when it comes online.
    let (code, enrolled) = bridge
        .post(
            "/api/people",
            &serde_json::json!({
                "person_id": "angelina_jolie",
                "name": "Angelina Jolie",
                "list": "staff",
                "photos_b64": photos(&["angelina_jolie/img1.jpg", "angelina_jolie/img2.jpg", "angelina_jolie/img4.jpg"]),
            }),
        )
        .expect("enrol");
    assert_eq!(code, 200, "{enrolled}");
    assert_eq!(
        enrolled["pushed_to_edges"],
        serde_json::json!([]),
        "no edge known yet: {enrolled}"
    );
    assert!(
        !gallery.exists(),
        "the edge starts without a gallery of its own"
    );
    let agent = {
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            run_to_end(
                Command::new(bin("edge-agent"))
                    .args(["run", "--config"])
                    .arg(&cfg),
                Duration::from_secs(120),
            )
        })
    };
    let person_events = |who: &str| -> Vec<u64> {
        bridge
            .get(&format!("/api/events?person={who}&limit=1000"))
            .expect("events")["events"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|e| e["stream_pts_ms"].as_u64())
            .collect()
    };
    // Once Angelina is seen (4-8 s), Matt is enrolled at the IOC; once Matt is seen, Angelina
    // is removed there.
    bridge
        .wait_for(
            "/api/events?person=angelina_jolie",
            Duration::from_secs(60),
            |v| v["count"].as_u64() >= Some(1),
        )
        .expect("angelina recognised");
    let edges = bridge.get("/api/edges").expect("edges");
    assert_eq!(
        edges["edges"][0]["edge_id"], "edge-1",
        "the edge announced itself: {edges}"
    );
    let (code, enrolled) = bridge
        .post(
            "/api/people",
            &serde_json::json!({
                "person_id": "matt_damon",
                "name": "Matt Damon",
                "list": "staff",
                "photos_b64": photos(&["matt_damon/img29.jpg", "matt_damon/img30.jpg", "matt_damon/img32.jpg"]),
            }),
        )
        .expect("enrol");
    assert_eq!(code, 200, "{enrolled}");
    assert_eq!(enrolled["samples"], 3, "{enrolled}");
    assert_eq!(
        enrolled["pushed_to_edges"],
        serde_json::json!([wire::topics::gallery("test-site", "edge-1")]),
        "{enrolled}"
    );
    if let Err(e) = bridge.wait_for(
        "/api/events?person=matt_damon",
        Duration::from_secs(60),
        |v| v["count"].as_u64() >= Some(1),
    ) {
        let log = agent
            .join()
            .map(|r| r.map(|(_, _, err)| err).unwrap_or_default())
            .unwrap_or_default();
        panic!("matt not recognised after his enrolment: {e}\nagent log:\n{log}");
    }
    let (code, removed) = bridge
        .send("DELETE", "/api/people/nobody_here", None)
        .expect("delete");
    assert_eq!(code, 404, "removing nobody is named: {removed}");
    let (code, removed) = bridge
        .send("DELETE", "/api/people/angelina_jolie", None)
        .expect("delete");
    assert_eq!(code, 200, "{removed}");
    assert_eq!(
        removed["pushed_to_edges"],
        serde_json::json!([wire::topics::gallery("test-site", "edge-1")]),
        "{removed}"
    );
    let (code, out, err) = agent.join().expect("thread").expect("run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");
    assert!(err.contains("gallery updated"), "{err}");

    // The edge said goodbye, and its camera's last status is kept, marked stale.
    let edges = bridge
        .wait_for("/api/edges", Duration::from_secs(10), |v| {
            v["edges"][0]["state"] == "offline" && v["edges"][0]["cameras"][0]["state"] == "stopped"
        })
        .expect("edge and camera status");
    let cam = &edges["edges"][0]["cameras"][0];
    assert_eq!(cam["camera_id"], "gate-1", "{edges}");
    assert_eq!(cam["stale"], true, "{edges}");
    assert!(
        cam["status"]["frames_decoded"].as_u64() >= Some(150),
        "20 s at 10 fps were decoded: {edges}"
    );
    let matt = person_events("matt_damon");
    let angelina = person_events("angelina_jolie");
    assert!(
        matt.iter().all(|t| *t >= 8000) && !matt.is_empty(),
        "Matt is named only after he was added (his first slide came before): {matt:?}"
    );
    assert!(
        angelina.iter().all(|t| (4000..8000).contains(t)),
        "Angelina is named on her first slide only, not after her removal: {angelina:?}"
    );
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&gallery).expect("gallery")).expect("json");
    let people: Vec<&str> = g["people"]
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["person_id"].as_str())
        .collect();
    assert_eq!(
        people,
        vec!["matt_damon"],
        "the gallery file follows the updates"
    );

    // A face search with a photo not used for his enrolment finds Matt first,
    // with his recognitions; Angelina is gone from the IOC as well.
    let (code, found) = bridge
        .post(
            "/api/search/face",
            &serde_json::json!({ "photo_b64": photos(&["matt_damon/img33.jpg"])[0] }),
        )
        .expect("face search");
    assert_eq!(code, 200, "{found}");
    let candidates = found["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 1, "only Matt is enrolled now: {found}");
    assert_eq!(
        candidates[0]["person"]["person_id"], "matt_damon",
        "{found}"
    );
    assert_eq!(candidates[0]["is_match"], true, "{found}");
    assert_eq!(
        candidates[0]["recent_events"].as_array().map(Vec::len),
        Some(matt.len().min(20)),
        "{found}"
    );
    let audit = bridge.get("/api/audit?limit=100").expect("audit");
    let actions: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| Some((e["action"].as_str()?, e["subject"].as_str()?)))
        .collect();
    for want in [
        ("enrol_person", "angelina_jolie"),
        ("enrol_person", "matt_damon"),
        ("remove_person", "angelina_jolie"),
        ("search_face", "people"),
    ] {
        assert!(
            actions.contains(&want),
            "no audit entry {want:?}: {actions:?}"
        );
    }
}
