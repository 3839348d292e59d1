//! Gallery changes from the IOC apply while the agent runs, without a restart: a person added
//! over MQTT is recognised from then on, a person removed is no longer named, and the gallery
//! file on disk follows. Real video from real photos, real broker, real binaries.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

fn celeb(rel: &str) -> PathBuf {
    testdata().join("faces/celebrities").join(rel)
}

fn enrol(
    cfg: &std::path::Path,
    dir: &std::path::Path,
    person: &str,
    photos: &[&str],
    replace: bool,
) {
    enrol_celebrities(
        cfg,
        dir,
        &format!("enrol-{person}"),
        &[(person, photos)],
        replace,
    )
    .unwrap_or_else(|e| panic!("enrol {person}: {e}"));
}

fn publish(port: u16, topic: &str, payload: Vec<u8>) {
    let opts = rumqttc::MqttOptions::new("ioc-test-pusher", "127.0.0.1", port);
    let (client, mut conn) = rumqttc::Client::new(opts, 16);
    client
        .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload)
        .expect("publish");
    for ev in conn.iter() {
        match ev {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => break,
            Ok(_) => {}
            Err(e) => panic!("publishing the gallery update: {e}"),
        }
    }
    let _ = client.disconnect();
}

#[test]
fn a_person_added_over_mqtt_is_recognised_and_a_removed_one_is_not_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 0-4 s Matt (not enrolled yet), 4-8 s Angelina (enrolled), 8-16 s Matt (added over MQTT
    // meanwhile), 16-20 s Angelina (removed over MQTT meanwhile).
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
    let text = std::fs::read_to_string(&cfg)
        .expect("config")
        .replace("fast_file = true", "fast_file = false");
    std::fs::write(&cfg, text).expect("write");
    enrol(
        &cfg,
        dir.path(),
        "angelina_jolie",
        &["img1.jpg", "img2.jpg", "img4.jpg"],
        false,
    );
    // Matt's embeddings, computed the way the IOC does (same models), in another gallery.
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&other_dir).expect("mkdir");
    let other_gallery = other_dir.join("gallery.json");
    let other_cfg = write_agent_config(
        &other_dir,
        bridge.mqtt_port,
        &other_gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    enrol(
        &other_cfg,
        dir.path(),
        "matt_damon",
        &["img29.jpg", "img30.jpg", "img32.jpg"],
        true,
    );
    let g: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&other_gallery).expect("gallery")).expect("json");
    let embeddings: Vec<Vec<f32>> = g["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| serde_json::from_value(s["embedding"].clone()).expect("embedding"))
        .collect();
    let update = |op: wire::GalleryOp| wire::GalleryUpdate {
        schema_version: wire::SCHEMA_VERSION,
        update_id: uuid::Uuid::now_v7(),
        embedder_id: g["embedder"]["id"].as_str().expect("id").into(),
        embedder_sha256: g["embedder"]["sha256"].as_str().expect("sha").into(),
        op,
    };
    let topic = wire::topics::gallery("test-site", "edge-1");

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
    // Once Angelina is seen (4-8 s), Matt is added; once Matt is seen, Angelina is removed.
    bridge
        .wait_for(
            "/api/events?person=angelina_jolie",
            Duration::from_secs(60),
            |v| v["count"].as_u64() >= Some(1),
        )
        .expect("angelina recognised");
    publish(
        bridge.mqtt_port,
        &topic,
        update(wire::GalleryOp::UpsertPerson {
            person: wire::GalleryPerson {
                person_id: "matt_damon".into(),
                name: "Matt Damon".into(),
                list: "staff".into(),
                valid_from: None,
                valid_until: None,
            },
            embeddings,
        })
        .to_json(),
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
        panic!("matt not recognised after the update: {e}\nagent log:\n{log}");
    }
    publish(
        bridge.mqtt_port,
        &topic,
        update(wire::GalleryOp::RemovePerson {
            person_id: "angelina_jolie".into(),
        })
        .to_json(),
    );
    let (code, out, err) = agent.join().expect("thread").expect("run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");
    assert!(err.contains("gallery updated"), "{err}");

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
}
