//! Two IOC bridges split one province's events through an MQTT 5 shared subscription
//! (mosquitto) into one PostgreSQL: every event is stored exactly once, both bridges take a
//! share, the edge gets an acknowledgement for every event from whichever bridge stored it, and
//! when one bridge dies the other stores everything the edge sends again (the broker may hold
//! the dead bridge's share, or lose it), so nothing is lost and nothing is stored twice.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use e2e_tests::*;
use wire::*;

fn crossing(i: u64) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: "ga-sai-gon".into(),
        edge_id: "edge-hall-a".into(),
        camera_id: format!("gate-{}", i % 4),
        captured_at: chrono::Utc::now(),
        stream_pts_ms: Some(i * 40),
        body: EventBody::GateCrossing(GateCrossing {
            gate_id: "main".into(),
            direction: if i.is_multiple_of(3) {
                CrossingDirection::Out
            } else {
                CrossingDirection::In
            },
            track_id: i,
            person_box: BoxPx {
                x: 10.0,
                y: 20.0,
                w: 60.0,
                h: 160.0,
            },
        }),
        snapshot: None,
    }
}

/// Publishes `events` as an edge does (QoS 1), sending again every `resend_after` whatever is
/// not yet acknowledged (as the edge's outbox does), and returns the ids the IOC acknowledged
/// on the edge's ack topic within `limit`.
fn publish_and_collect_acks(
    port: u16,
    events: &[EventEnvelope],
    limit: Duration,
    resend_after: Duration,
) -> BTreeSet<uuid::Uuid> {
    let mut opts = rumqttc::MqttOptions::new(
        format!("edge-sim-{}", uuid::Uuid::now_v7().simple()),
        "127.0.0.1",
        port,
    );
    opts.set_max_packet_size(2 << 20, 2 << 20);
    // Pings wake the loop below at least this often.
    opts.set_keep_alive(Duration::from_secs(1));
    let (client, mut conn) = rumqttc::Client::new(opts, 64);
    client
        .subscribe(
            topics::acks("ga-sai-gon", "edge-hall-a"),
            rumqttc::QoS::AtLeastOnce,
        )
        .expect("subscribe");
    let want: BTreeSet<uuid::Uuid> = events.iter().map(|e| e.event_id).collect();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let end = Instant::now() + limit;
    let sender = {
        let (client, acked, want) = (client.clone(), acked.clone(), want.clone());
        let msgs: Vec<(uuid::Uuid, String, Vec<u8>)> = events
            .iter()
            .map(|e| {
                (
                    e.event_id,
                    topics::events(&e.site_id, &e.edge_id, &e.camera_id),
                    e.to_json(),
                )
            })
            .collect();
        std::thread::spawn(move || {
            while Instant::now() < end {
                let done = acked.lock().map(|a| a.clone()).unwrap_or_default();
                if want.is_subset(&done) {
                    return;
                }
                for (id, t, p) in &msgs {
                    if !done.contains(id) {
                        client
                            .publish(t.clone(), rumqttc::QoS::AtLeastOnce, false, p.clone())
                            .expect("publish");
                    }
                }
                std::thread::sleep(resend_after);
            }
        })
    };
    for ev in conn.iter() {
        match ev {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                let ack = EventAck::parse(&p.payload).expect("a valid ack");
                if let Ok(mut a) = acked.lock() {
                    a.extend(ack.event_ids);
                }
            }
            Ok(_) => {}
            Err(e) => panic!("edge simulator: {e}"),
        }
        let done = acked.lock().map(|a| want.is_subset(&a)).unwrap_or(false);
        if done || Instant::now() > end {
            break;
        }
    }
    let _ = client.disconnect();
    sender.join().expect("sender");
    acked.lock().map(|a| a.clone()).unwrap_or_default()
}

fn stored_by(bridge: &Bridge) -> u64 {
    bridge.get("/api/stats").expect("stats")["ingest"]["stored"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn two_bridges_share_the_events_store_each_once_and_one_carries_on_when_the_other_dies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = Postgres::start(dir.path()).expect("postgres");
    let mqtt = free_port();
    let _broker = start_mosquitto(dir.path(), mqtt).expect("mosquitto");
    let store = format!(
        "[store]\ntype = \"postgres\"\npostgres_url = \"{}\"\n",
        pg.url
    );
    let mut bridges = Vec::new();
    for name in ["a", "b"] {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        bridges.push(Bridge::start_custom(&d, Some(mqtt), &store).expect("bridge"));
    }

    let first: Vec<EventEnvelope> = (0..400).map(crossing).collect();
    let acked = publish_and_collect_acks(
        mqtt,
        &first,
        Duration::from_secs(60),
        Duration::from_secs(10),
    );
    assert_eq!(
        acked.len(),
        first.len(),
        "every event acknowledged to the edge"
    );
    let (a, b) = (stored_by(&bridges[0]), stored_by(&bridges[1]));
    assert_eq!(
        a + b,
        400,
        "each event stored by exactly one bridge: {a} + {b}"
    );
    assert!(
        a > 0 && b > 0,
        "both bridges take a share of the load: {a} and {b}"
    );
    let stats = bridges[1].get("/api/stats").expect("stats");
    assert_eq!(
        stats["store"]["events_by_kind"]["gate_crossing"], 400,
        "one database, each event once: {stats}"
    );

    // Bridge a crashes. What the broker had given it, or queued for it, is not acknowledged, so
    // the edge sends it again (as its outbox does) and b stores it: nothing is lost, nothing
    // is stored twice.
    let stopped = bridges.remove(0).kill();
    let before = stored_by(&bridges[0]);
    let second: Vec<EventEnvelope> = (400..600).map(crossing).collect();
    let acked = publish_and_collect_acks(
        mqtt,
        &second,
        Duration::from_secs(60),
        Duration::from_secs(2),
    );
    assert_eq!(acked.len(), second.len(), "every event acknowledged by b");
    let stats = bridges[0].get("/api/stats").expect("stats");
    assert_eq!(
        stats["store"]["events_by_kind"]["gate_crossing"], 600,
        "{stats}"
    );
    assert_eq!(stored_by(&bridges[0]) - before, 200, "b stored all of them");
    // a comes back with the same client id and session; whatever the broker still held for it
    // arrives now and is recognised as already stored.
    let a_bridge = stopped.start().expect("restart a");
    std::thread::sleep(Duration::from_secs(2));
    let stats = a_bridge.get("/api/stats").expect("stats");
    assert_eq!(
        stats["store"]["events_by_kind"]["gate_crossing"], 600,
        "{stats}"
    );
    assert_eq!(stats["ingest"]["stored"], 0, "nothing new for a: {stats}");
}
