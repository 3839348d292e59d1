//! Durable delivery under a broker outage: the edge agent and the IOC bridge both use an
//! external Debian mosquitto broker; mid-run the broker is killed and started again (without
//! persistence, so everything in it is lost). Every event the agent produced must reach the
//! IOC store exactly once, and the agent's outbox must end empty.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use e2e_tests::*;

fn celeb(rel: &str) -> PathBuf {
    testdata().join("faces/celebrities").join(rel)
}

#[test]
fn every_event_arrives_exactly_once_when_the_broker_dies_and_comes_back_mid_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two enrolled people alternating on screen: a recognition event every couple of seconds
    // for the whole 20 s clip, read in real time so the outage falls in the middle of it.
    let shown = [
        "angelina_jolie/img5.jpg",
        "matt_damon/img31.jpg",
        "angelina_jolie/img7.jpg",
        "matt_damon/img33.jpg",
        "angelina_jolie/img5.jpg",
        "matt_damon/img31.jpg",
        "angelina_jolie/img7.jpg",
        "matt_damon/img33.jpg",
        "angelina_jolie/img5.jpg",
        "matt_damon/img31.jpg",
    ];
    let slides: Vec<Slide> = shown
        .iter()
        .map(|p| Slide {
            photo: celeb(p),
            secs: 2.0,
        })
        .collect();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10).expect("slideshow");

    let port = free_port();
    let mut broker = start_mosquitto(dir.path(), port).expect("mosquitto");
    let bridge = Bridge::start_with(dir.path(), Some(port)).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        port,
        &gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    let outbox = dir.path().join("outbox");
    let metrics_port = free_port();
    let text = std::fs::read_to_string(&cfg).expect("config text");
    let text = text.replace("fast_file = true", "fast_file = false")
        + &format!(
            "[outbox]\ndir = \"{}\"\nmax_bytes = 67108864\nin_flight_window = 16\nresend_after_secs = 2\nflush_timeout_secs = 30\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n",
            outbox.display()
        );
    std::fs::write(&cfg, text).expect("write config");

    enrol_celebrities(
        &cfg,
        dir.path(),
        "enrol",
        &[
            ("angelina_jolie", &["img1.jpg", "img2.jpg", "img4.jpg"]),
            ("matt_damon", &["img29.jpg", "img30.jpg", "img32.jpg"]),
        ],
        false,
    )
    .expect("enrol");

    let agent = {
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            run_to_end(
                Command::new(bin("edge-agent"))
                    .args(["run", "--config"])
                    .arg(&cfg),
                Duration::from_secs(180),
            )
        })
    };
    // Let events flow, then cut the broker for a few seconds while the camera goes on.
    let t0 = Instant::now();
    bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(60), |v| {
            v["count"].as_u64() >= Some(1)
        })
        .expect("first events before the outage");
    let before_outage = bridge.get("/api/events?limit=1000").expect("events")["count"]
        .as_u64()
        .unwrap_or(0);
    let metrics = |name: &str| metric(metrics_port, name);
    let fps_seen = (0..25).any(|_| {
        let ok =
            metrics("gatewatch_camera_analysed_fps{camera=\"gate-1\"}").is_some_and(|v| v > 0.0);
        if !ok {
            std::thread::sleep(Duration::from_millis(200));
        }
        ok
    });
    assert!(fps_seen, "the metrics page reports the camera's fps");
    drop(broker);
    // While the broker is down, events pile up in the outbox (seen in the metrics).
    let cut = Instant::now();
    let mut max_depth = 0.0f64;
    while cut.elapsed() < Duration::from_secs(5) {
        max_depth = max_depth.max(metrics("gatewatch_outbox_depth").unwrap_or(0.0));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        max_depth >= 1.0,
        "events made during the outage wait in the outbox (depth seen: {max_depth})"
    );
    broker = start_mosquitto(dir.path(), port).expect("mosquitto again");
    let (code, out, err) = agent.join().expect("agent thread").expect("agent run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");
    assert!(
        t0.elapsed() > Duration::from_secs(10),
        "the clip must outlast the outage"
    );
    assert!(
        err.contains("MQTT connection lost"),
        "the agent must have seen the outage:\n{err}"
    );
    // What the agent says it produced (its log, without terminal colours).
    let plain = strip_ansi(&err);
    let published: u64 = plain
        .lines()
        .find(|l| l.contains("events flushed"))
        .and_then(|l| l.split("published=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'events flushed' line:\n{plain}"));
    assert!(
        published > before_outage + 2,
        "events must have been produced during and after the outage ({before_outage} before, {published} in all)"
    );
    let events = bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(20), |v| {
            v["count"].as_u64() >= Some(published)
        })
        .expect("every event stored");
    let list = events["events"].as_array().expect("array");
    let ids: BTreeSet<&str> = list.iter().filter_map(|e| e["event_id"].as_str()).collect();
    assert_eq!(
        list.len() as u64,
        published,
        "stored exactly what was published"
    );
    assert_eq!(ids.len(), list.len(), "each event id stored once");
    let remaining: Vec<_> = std::fs::read_dir(&outbox)
        .expect("outbox dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(remaining.is_empty(), "outbox must be empty: {remaining:?}");
    // The retained per-camera status says the camera stopped, and the edge says offline.
    let retained = retained_messages(port, "gw/v1/test-site/edge-1/#");
    let cam = retained
        .iter()
        .find(|(t, _)| t == "gw/v1/test-site/edge-1/cameras/gate-1/status")
        .unwrap_or_else(|| panic!("no retained camera status: {retained:?}"));
    let v: serde_json::Value = serde_json::from_slice(&cam.1).expect("json");
    assert_eq!(v["state"], "stopped", "{v}");
    let edge = retained
        .iter()
        .find(|(t, _)| t == "gw/v1/test-site/edge-1/status")
        .unwrap_or_else(|| panic!("no retained edge status: {retained:?}"));
    let v: serde_json::Value = serde_json::from_slice(&edge.1).expect("json");
    assert_eq!(v["state"], "offline", "{v}");
    drop(broker);
}

/// Retained messages under `filter` (collected for a second after subscribing).
fn retained_messages(port: u16, filter: &str) -> Vec<(String, Vec<u8>)> {
    let opts = rumqttc::MqttOptions::new("retained-reader", "127.0.0.1", port);
    let (client, mut conn) = rumqttc::Client::new(opts, 16);
    client
        .subscribe(filter, rumqttc::QoS::AtLeastOnce)
        .expect("subscribe");
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        match conn.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)))) if p.retain => {
                out.push((p.topic.clone(), p.payload.to_vec()));
            }
            Ok(Err(e)) => panic!("reading retained messages: {e}"),
            _ => {}
        }
    }
    out
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            // ESC [ ... letter
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn events_waiting_in_the_outbox_survive_an_agent_crash_and_are_delivered_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let slides: Vec<Slide> = ["angelina_jolie/img5.jpg", "matt_damon/img31.jpg"]
        .iter()
        .cycle()
        .take(10)
        .map(|p| Slide {
            photo: celeb(p),
            secs: 2.0,
        })
        .collect();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10).expect("slideshow");
    let port = free_port();
    let broker = start_mosquitto(dir.path(), port).expect("mosquitto");
    let bridge = Bridge::start_with(dir.path(), Some(port)).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        port,
        &gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    let outbox = dir.path().join("outbox");
    let base = std::fs::read_to_string(&cfg).expect("config text")
        + &format!(
            "[outbox]\ndir = \"{}\"\nresend_after_secs = 2\nflush_timeout_secs = 30\n",
            outbox.display()
        );
    std::fs::write(&cfg, base.replace("fast_file = true", "fast_file = false")).expect("write");
    enrol_celebrities(
        &cfg,
        dir.path(),
        "enrol",
        &[
            ("angelina_jolie", &["img1.jpg", "img2.jpg", "img4.jpg"]),
            ("matt_damon", &["img29.jpg", "img30.jpg", "img32.jpg"]),
        ],
        false,
    )
    .expect("enrol");

    // First run: events flow, then the broker goes away and events pile up on disk; then the
    // agent is killed outright (no flush, no goodbye).
    let log = std::fs::File::create(dir.path().join("agent-1.log")).expect("log");
    let mut agent = Command::new(bin("edge-agent"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stderr(log)
        .spawn()
        .expect("agent");
    bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(60), |v| {
            v["count"].as_u64() >= Some(1)
        })
        .expect("first event");
    drop(broker);
    let waiting = |min: usize| -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let ids: Vec<String> = std::fs::read_dir(&outbox)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter_map(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            n.ends_with(".json")
                                .then(|| n.split('.').nth(2).map(str::to_owned))
                                .flatten()
                        })
                        .collect()
                })
                .unwrap_or_default();
            if ids.len() >= min || Instant::now() > end {
                return ids;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let stranded = waiting(2);
    assert!(
        stranded.len() >= 2,
        "events made while the broker is down wait on disk: {stranded:?}"
    );
    agent.kill().expect("kill -9");
    let _ = agent.wait();

    // The broker and the agent come back; what was stranded goes first.
    let broker = start_mosquitto(dir.path(), port).expect("mosquitto again");
    std::fs::write(&cfg, &base).expect("write"); // the file read fast this time
    let (code, out, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["run", "--config"])
            .arg(&cfg),
        Duration::from_secs(120),
    )
    .expect("second run");
    assert_eq!(code, 0, "second run:\n{out}\n{err}");
    assert!(
        err.contains("outbox holds events from an earlier run"),
        "the restart must report the stranded events:\n{err}"
    );
    let stored = bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(20), |v| {
            let ids: Vec<&str> = v["events"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e["event_id"].as_str()).collect())
                .unwrap_or_default();
            stranded.iter().all(|s| ids.contains(&s.as_str()))
        })
        .expect("every stranded event stored");
    let ids: Vec<&str> = stored["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "each event stored once");
    assert!(waiting(0).is_empty(), "outbox empty at the end");
    drop(broker);
}

/// The metric value of the first line starting with `name` on the agent's metrics page.
fn metric(port: u16, name: &str) -> Option<f64> {
    let body = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    body.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Ids named by the agent's log lines containing `what` (`event_id=...`).
fn logged_ids(log: &str, what: &str) -> BTreeSet<String> {
    log.lines()
        .filter(|l| l.contains(what))
        .filter_map(|l| l.split("event_id=").nth(1))
        .filter_map(|s| s.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_full_outbox_gives_up_ordinary_events_and_keeps_every_watch_list_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A watch-listed person comes by now and then between members of staff, read in real time
    // (about one event a second): two alerts, then six ordinary events. When the outbox is full
    // each new alert takes the place of an ordinary event, so this mix leaves ordinary events
    // to give way for far longer than the outage lasts, however slowly the broker and the
    // bridge come back on a loaded machine.
    let slides: Vec<Slide> = [
        "angelina_jolie/img5.jpg",
        "matt_damon/img31.jpg",
        "matt_damon/img31.jpg",
        "matt_damon/img31.jpg",
    ]
    .iter()
    .cycle()
    .take(16)
    .map(|p| Slide {
        photo: celeb(p),
        secs: 2.0,
    })
    .collect();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10).expect("slideshow");
    let port = free_port();
    let mut broker = start_mosquitto(dir.path(), port).expect("mosquitto");
    let bridge = Bridge::start_with(dir.path(), Some(port)).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        port,
        &gallery,
        &[("gate-1", format!("file://{}", video.display()))],
        "",
    )
    .expect("config");
    let outbox = dir.path().join("outbox");
    let metrics_port = free_port();
    // Room for a handful of events with their snapshots: an outage of several seconds fills it.
    let text = std::fs::read_to_string(&cfg)
        .expect("config text")
        .replace("fast_file = true", "fast_file = false")
        + &format!(
            "[outbox]\ndir = \"{}\"\nmax_bytes = {}\nresend_after_secs = 2\nflush_timeout_secs = 30\n\
             [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n",
            outbox.display(),
            OUTBOX_BYTES
        );
    std::fs::write(&cfg, text).expect("write config");
    enrol_celebrities_on(
        &cfg,
        dir.path(),
        "watch",
        &[("angelina_jolie", &["img1.jpg", "img2.jpg", "img4.jpg"])],
        "watch",
        false,
    )
    .expect("enrol the watch list");
    enrol_celebrities(
        &cfg,
        dir.path(),
        "staff",
        &[("matt_damon", &["img29.jpg", "img30.jpg", "img32.jpg"])],
        false,
    )
    .expect("enrol staff");

    let agent = {
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            run_to_end(
                Command::new(bin("edge-agent"))
                    .args(["run", "--config"])
                    .arg(&cfg),
                Duration::from_secs(180),
            )
        })
    };
    bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(60), |v| {
            v["count"].as_u64() >= Some(1)
        })
        .expect("first events before the outage");
    drop(broker);
    // Wait until the outbox has had to give something up (ordinary events), then a little more.
    let cut = Instant::now();
    let lost_events = || {
        metric(
            metrics_port,
            "gatewatch_outbox_lost_total{priority=\"event\"}",
        )
        .unwrap_or(0.0)
    };
    while lost_events() < 1.0 && cut.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        lost_events() >= 1.0,
        "the outbox filled up during the outage"
    );
    std::thread::sleep(Duration::from_secs(2));
    let lost_alerts = metric(
        metrics_port,
        "gatewatch_outbox_lost_total{priority=\"alert\"}",
    );
    assert_eq!(
        lost_alerts,
        Some(0.0),
        "no alert is given up while ordinary events can go"
    );
    broker = start_mosquitto(dir.path(), port).expect("mosquitto again");
    let (code, out, err) = agent.join().expect("agent thread").expect("agent run");
    assert_eq!(code, 0, "edge-agent run failed:\n{out}\n{err}");
    let log = strip_ansi(&err);
    assert!(
        !log.contains("an older alert was dropped")
            && !log.contains("outbox full of higher-priority events"),
        "no alert was lost:\n{log}"
    );
    let evicted = logged_ids(&log, "outbox full: event dropped to make room");
    assert!(
        !evicted.is_empty(),
        "evictions are logged with their event ids:\n{log}"
    );
    let published: u64 = log
        .lines()
        .find(|l| l.contains("events flushed"))
        .and_then(|l| l.split("published=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'events flushed' line:\n{log}"));
    let lost_total: u64 = log
        .lines()
        .find(|l| l.contains("events flushed"))
        .and_then(|l| l.split("lost=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no lost= in the 'events flushed' line:\n{log}"));
    assert_eq!(
        lost_total,
        evicted.len() as u64,
        "every loss counted once:\n{log}"
    );
    let want = published - evicted.len() as u64;
    let stored = bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(20), |v| {
            v["count"].as_u64() >= Some(want)
        })
        .expect("what was kept is stored");
    let list = stored["events"].as_array().expect("events");
    let ids: BTreeSet<&str> = list.iter().filter_map(|e| e["event_id"].as_str()).collect();
    assert_eq!(ids.len(), list.len(), "each event stored once");
    assert_eq!(list.len() as u64, want, "stored = published - evicted");
    assert!(
        evicted.iter().all(|e| !ids.contains(e.as_str())),
        "an evicted event reached the IOC"
    );
    // Every alert the agent raised is at the IOC; what gave way were ordinary events.
    let raised = log.lines().filter(|l| l.contains("WATCH-LIST HIT")).count();
    let alerts: Vec<_> = list
        .iter()
        .filter(|e| e["kind"] == "watchlist_hit")
        .collect();
    assert!(
        raised >= 3,
        "the watch-listed person was seen again and again:\n{log}"
    );
    assert_eq!(alerts.len(), raised, "every watch-list hit is stored");
    assert!(alerts.iter().all(|e| e["person_id"] == "angelina_jolie"));
    assert!(
        list.iter()
            .all(|e| e["kind"] == "watchlist_hit" || e["kind"] == "face_match"),
        "only recognitions in this scene"
    );
    let eviction_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("outbox full: event dropped to make room"))
        .collect();
    assert!(
        eviction_lines.iter().all(|l| l.contains("priority=Event")),
        "only ordinary events gave way: {eviction_lines:#?}"
    );
    drop(broker);
}

/// Outbox size for the outbox-full test: a few events with their face snapshots.
const OUTBOX_BYTES: u64 = 200_000;

#[test]
fn ctrl_c_stops_the_cameras_flushes_the_open_minute_and_leaves_nothing_unacknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let slides: Vec<Slide> = ["angelina_jolie/img5.jpg", "matt_damon/img31.jpg"]
        .iter()
        .cycle()
        .take(30)
        .map(|p| Slide {
            photo: celeb(p),
            secs: 2.0,
        })
        .collect();
    let video = dir.path().join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10).expect("slideshow");
    let port = free_port();
    let broker = start_mosquitto(dir.path(), port).expect("mosquitto");
    let bridge = Bridge::start_with(dir.path(), Some(port)).expect("bridge");
    let gallery = dir.path().join("gallery.json");
    let cfg = write_agent_config(
        dir.path(),
        port,
        &gallery,
        &[
            ("gate-1", format!("file://{}", video.display())),
            ("gate-2", format!("file://{}", video.display())),
        ],
        "",
    )
    .expect("config");
    let outbox = dir.path().join("outbox");
    // Real time (a 60 s clip). gate-1 recognises faces frame by frame (an event per
    // appearance); gate-2 has a gate line, so its per-minute counts are kept in memory until
    // their minute ends or the agent stops.
    let text = std::fs::read_to_string(&cfg)
        .expect("config text")
        .replace("fast_file = true", "fast_file = false")
        + &format!(
            "[[cameras.gates]]\nid = \"main\"\na = [0.0, 0.9]\nb = [1.0, 0.9]\nin_direction = \"left_to_right\"\n\
             [outbox]\ndir = \"{}\"\nflush_timeout_secs = 30\n",
            outbox.display()
        );
    std::fs::write(&cfg, text).expect("write config");
    enrol_celebrities(
        &cfg,
        dir.path(),
        "enrol",
        &[
            ("angelina_jolie", &["img1.jpg", "img2.jpg", "img4.jpg"]),
            ("matt_damon", &["img29.jpg", "img30.jpg", "img32.jpg"]),
        ],
        false,
    )
    .expect("enrol");
    let t0 = Instant::now();
    let mut agent = Command::new(bin("edge-agent"))
        .args(["run", "--config"])
        .arg(&cfg)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("agent.log")).expect("log"))
        .spawn()
        .expect("agent");
    bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(60), |v| {
            v["count"].as_u64() >= Some(2)
        })
        .expect("events flow");
    let interrupted_at = chrono::Utc::now();
    let sigint_after = t0.elapsed();
    let st = Command::new("kill")
        .args(["-INT", &agent.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(st.success());
    let end = Instant::now() + Duration::from_secs(45);
    let status = loop {
        if let Some(s) = agent.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < end,
            "the agent did not stop within 45 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = strip_ansi(&std::fs::read_to_string(dir.path().join("agent.log")).expect("log"));
    assert!(status.success(), "exit after Ctrl-C: {status:?}\n{log}");
    assert!(
        t0.elapsed() < Duration::from_secs(55),
        "stopped before the clip ended (Ctrl-C after {sigint_after:?}, exit after {:?})",
        t0.elapsed()
    );
    assert!(
        log.contains("stopping: finishing cameras and flushing events"),
        "{log}"
    );
    let flushed = log
        .lines()
        .find(|l| l.contains("events flushed"))
        .unwrap_or_else(|| panic!("no 'events flushed' line:\n{log}"));
    assert!(flushed.contains("unacknowledged=0"), "{flushed}");
    let published: u64 = flushed
        .split("published=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{flushed}"));
    // Everything the agent made before it stopped is stored, once, and nothing waits on disk.
    let stored = bridge
        .wait_for("/api/events?limit=1000", Duration::from_secs(10), |v| {
            v["count"].as_u64() >= Some(published)
        })
        .expect("every event stored");
    let list = stored["events"].as_array().expect("events");
    assert_eq!(list.len() as u64, published);
    let remaining = std::fs::read_dir(&outbox).expect("outbox dir").count();
    assert_eq!(remaining, 0, "outbox empty after a graceful stop");
    // The minute that was open at Ctrl-C was counted and sent, not lost.
    let open_minute = interrupted_at.timestamp() / 60 * 60;
    let counted = list.iter().any(|e| {
        e["kind"] == "gate_count"
            && e["camera_id"] == "gate-2"
            && e["payload"]["gate_id"] == "main"
            && e["payload"]["minute_start"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.timestamp() >= open_minute)
    });
    assert!(counted, "no count for the minute open at Ctrl-C: {list:#?}");
    let retained = retained_messages(port, "gw/v1/test-site/edge-1/#");
    let edge = retained
        .iter()
        .find(|(t, _)| t == "gw/v1/test-site/edge-1/status")
        .unwrap_or_else(|| panic!("no retained edge status: {retained:?}"));
    let v: serde_json::Value = serde_json::from_slice(&edge.1).expect("json");
    assert_eq!(v["state"], "offline", "{v}");
    drop(broker);
}
