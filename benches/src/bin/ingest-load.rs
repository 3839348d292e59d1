//! Load generator for the IOC ingest: simulates many edges, each an MQTT client publishing
//! `gate_crossing` events (QoS 1) with a window of unacknowledged events, exactly as the edge
//! agent's outbox does, and counting the IOC's application acknowledgements
//! (`gw/v1/{site}/{edge}/acks`, sent after the database commit).
//!
//! Prints sustained events/s (first publish to last acknowledgement) and the publish-to-ack
//! latency p50/p99. Used by `benches/ingest_load.sh`.
//!
//! `ingest-load HOST PORT EDGES EVENTS_PER_EDGE WINDOW`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::{Mutex, Semaphore};
use wire::{BoxPx, CrossingDirection, EventBody, EventEnvelope, GateCrossing, SCHEMA_VERSION};

fn envelope(site: &str, edge: &str, camera: &str, n: u64) -> EventEnvelope {
    EventEnvelope {
        schema_version: SCHEMA_VERSION,
        event_id: uuid::Uuid::now_v7(),
        site_id: site.into(),
        edge_id: edge.into(),
        camera_id: camera.into(),
        captured_at: chrono::Utc::now(),
        stream_pts_ms: Some(n * 200),
        body: EventBody::GateCrossing(GateCrossing {
            gate_id: "main".into(),
            direction: if n.is_multiple_of(2) {
                CrossingDirection::In
            } else {
                CrossingDirection::Out
            },
            track_id: n,
            person_box: BoxPx {
                x: 100.0,
                y: 80.0,
                w: 60.0,
                h: 160.0,
            },
        }),
        snapshot: None,
    }
}

async fn run_edge(
    host: String,
    port: u16,
    edge: usize,
    events: u64,
    window: usize,
) -> Result<Vec<Duration>> {
    let (site, edge_id) = (format!("site-{}", edge % 10), format!("edge-{edge}"));
    let mut opts = MqttOptions::new(format!("load-{edge}"), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_inflight(window.min(u16::MAX as usize) as u16);
    let (client, mut el) = AsyncClient::new(opts, window * 2 + 16);
    let sent: Arc<Mutex<HashMap<uuid::Uuid, Instant>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(window));
    let ack_topic = wire::topics::acks(&site, &edge_id);
    client.subscribe(&ack_topic, QoS::AtLeastOnce).await?;
    // Wait for the subscription before publishing, so no acknowledgement is missed.
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = el.poll().await? {
            break;
        }
    }
    let reader = {
        let sent = sent.clone();
        let permits = permits.clone();
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(events as usize);
            while (lat.len() as u64) < events {
                match el.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let Ok(ack) = wire::EventAck::parse(&p.payload) else {
                            continue;
                        };
                        let mut s = sent.lock().await;
                        for id in ack.event_ids {
                            if let Some(t) = s.remove(&id) {
                                lat.push(t.elapsed());
                                permits.add_permits(1);
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => bail!("edge {edge}: {e}"),
                }
            }
            Ok(lat)
        })
    };
    let topic = wire::topics::events(&site, &edge_id, "cam-1");
    for n in 0..events {
        permits.acquire().await?.forget();
        let env = envelope(&site, &edge_id, "cam-1", n);
        sent.lock().await.insert(env.event_id, Instant::now());
        client
            .publish(&topic, QoS::AtLeastOnce, false, env.to_json())
            .await?;
    }
    let lat = reader.await??;
    let _ = client.disconnect().await;
    Ok(lat)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 5 {
        bail!("usage: ingest-load HOST PORT EDGES EVENTS_PER_EDGE WINDOW");
    }
    let host = a[0].clone();
    let port: u16 = a[1].parse().context("PORT")?;
    let edges: usize = a[2].parse().context("EDGES")?;
    let per_edge: u64 = a[3].parse().context("EVENTS_PER_EDGE")?;
    let window: usize = a[4].parse().context("WINDOW")?;
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..edges)
        .map(|e| tokio::spawn(run_edge(host.clone(), port, e, per_edge, window)))
        .collect();
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let q =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "edges={edges} events={} window={window} seconds={secs:.2} events_per_sec={:.0} ack_latency_ms_p50={:.1} p99={:.1}",
        lat.len(),
        lat.len() as f64 / secs,
        q(0.5),
        q(0.99)
    );
    Ok(())
}
