//! MQTT ingest: subscribe to every edge's events, validate, store, then acknowledge.
//!
//! Manual acknowledgements: the PUBACK for an event goes back only after its row is committed,
//! so an event the broker considers delivered is always in the database. A malformed message
//! goes to quarantine (and is acknowledged, so it is not redelivered forever); a database error
//! leaves the message unacknowledged so the broker redelivers it after reconnection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, Publish, QoS};
use tokio::sync::mpsc;
use wire::EventEnvelope;

use crate::config::MqttConfig;
use crate::store::{Inserted, Store};

#[derive(Debug, Default)]
pub struct IngestStats {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub quarantined: AtomicU64,
    pub store_errors: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("MQTT broker at {host}:{port} is unreachable: {reason}")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("MQTT broker at {host}:{port} did not answer within {secs} s")]
    Timeout { host: String, port: u16, secs: u64 },
}

/// Connects, subscribes, and spawns the ingest tasks.
pub async fn start(
    cfg: &MqttConfig,
    store: Store,
    stats: Arc<IngestStats>,
) -> Result<AsyncClient, IngestError> {
    let mut opts = MqttOptions::new(cfg.client_id.clone(), cfg.host.clone(), cfg.port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_manual_acks(true);
    // Persistent session: events published while the bridge is away wait in the broker.
    opts.set_clean_session(false);
    opts.set_max_packet_size(wire::MAX_ENVELOPE_BYTES + 4096, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(opts, 256);
    let secs = cfg.connect_timeout_secs;
    // Ready only once subscribed: messages published after start() returns are never missed.
    let ready = async {
        wait_connack(&mut eventloop).await?;
        subscribe(&client).await;
        wait_subacks(&mut eventloop, SUBSCRIPTIONS).await
    };
    match tokio::time::timeout(Duration::from_secs(secs), ready).await {
        Err(_) => {
            return Err(IngestError::Timeout {
                host: cfg.host.clone(),
                port: cfg.port,
                secs,
            });
        }
        Ok(Err(reason)) => {
            return Err(IngestError::Unreachable {
                host: cfg.host.clone(),
                port: cfg.port,
                reason,
            });
        }
        Ok(Ok(())) => {}
    }
    let (tx, rx) = mpsc::channel::<Publish>(1024);
    tokio::spawn(poll(eventloop, client.clone(), tx));
    tokio::spawn(handle(rx, client.clone(), store, stats));
    tracing::info!(host = %cfg.host, port = cfg.port, "ingest connected");
    Ok(client)
}

/// Number of topic filters `subscribe` asks for.
const SUBSCRIPTIONS: usize = 2;

async fn wait_subacks(eventloop: &mut EventLoop, mut n: usize) -> Result<(), String> {
    while n > 0 {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                {
                    return Err("broker refused the subscription".into());
                }
                n -= 1;
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

async fn subscribe(client: &AsyncClient) {
    for filter in [
        wire::topics::events_filter_all(),
        format!("{}/+/+/status", wire::TOPIC_ROOT),
    ] {
        if let Err(e) = client.subscribe(filter.clone(), QoS::AtLeastOnce).await {
            tracing::error!(%filter, error = %e, "subscribe failed");
        }
    }
}

async fn wait_connack(eventloop: &mut EventLoop) -> Result<(), String> {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

async fn poll(mut eventloop: EventLoop, client: AsyncClient, tx: mpsc::Sender<Publish>) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if tx.send(p).await.is_err() {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                // Subscribe from another task: awaiting client requests inside the polling
                // task can deadlock when the request queue is full.
                if !ack.session_present {
                    let c = client.clone();
                    tokio::spawn(async move { subscribe(&c).await });
                }
            }
            Ok(_) => {}
            Err(rumqttc::ConnectionError::RequestsDone) => return,
            Err(e) => {
                tracing::warn!(error = %e, "ingest lost the broker; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn handle(
    mut rx: mpsc::Receiver<Publish>,
    client: AsyncClient,
    store: Store,
    stats: Arc<IngestStats>,
) {
    while let Some(p) = rx.recv().await {
        stats.received.fetch_add(1, Ordering::Relaxed);
        let (ack, stored) = process(&p, &store, &stats).await;
        if ack && let Err(e) = client.ack(&p).await {
            tracing::warn!(error = %e, "could not acknowledge a message");
        }
        // Application-level acknowledgement to the edge: it deletes the event from its
        // outbox only now that the row is committed (new or already there).
        if let Some((site, edge, id)) = stored {
            let topic = wire::topics::acks(&site, &edge);
            let payload = wire::EventAck::new(vec![id]).to_json();
            if let Err(e) = client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
            {
                tracing::warn!(error = %e, "could not acknowledge an event to its edge");
            }
        }
    }
}

/// Returns whether the message may be acknowledged (stored, duplicate, or quarantined), and
/// for a committed event its (site, edge, event id) to acknowledge to the edge.
async fn process(
    p: &Publish,
    store: &Store,
    stats: &IngestStats,
) -> (bool, Option<(String, String, uuid::Uuid)>) {
    let topic = p.topic.as_str();
    let parts: Vec<&str> = topic.split('/').collect();
    if topic.ends_with("/status") && parts.len() == 5 {
        let status = String::from_utf8_lossy(&p.payload).into_owned();
        let state = serde_json::from_str::<serde_json::Value>(&status)
            .ok()
            .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        if let Err(e) = store
            .upsert_edge_status(parts[2], parts[3], &state, &status)
            .await
        {
            tracing::error!(error = %e, "edge status not stored");
        }
        return (true, None);
    }
    let reject = |reason: String| async move {
        stats.quarantined.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(topic, %reason, "message quarantined");
        match store.quarantine(topic, &reason, &p.payload).await {
            Ok(()) => true,
            Err(e) => {
                stats.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "quarantine write failed; message left unacknowledged");
                false
            }
        }
    };
    let env = match EventEnvelope::parse(&p.payload) {
        Ok(env) => env,
        Err(e) => return (reject(e.to_string()).await, None),
    };
    // Parsed envelopes are acknowledged to their edge once kept, stored or quarantined:
    // sending a quarantined one again would not change the verdict.
    let done = Some((env.site_id.clone(), env.edge_id.clone(), env.event_id));
    let expected = wire::topics::events(&env.site_id, &env.edge_id, &env.camera_id);
    if expected != topic {
        let kept = reject(format!(
            "envelope belongs on {expected}, arrived on {topic}"
        ))
        .await;
        return (kept, None);
    }
    match store.insert_event(&env).await {
        Ok(Inserted::New) => {
            stats.stored.fetch_add(1, Ordering::Relaxed);
            (true, done)
        }
        Ok(Inserted::Duplicate) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            (true, done)
        }
        Err(crate::store::StoreError::Snapshot { reason, .. }) => {
            let kept = reject(format!("snapshot: {reason}")).await;
            (kept, if kept { done } else { None })
        }
        Err(e) => {
            stats.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(event_id = %env.event_id, error = %e, "event not stored; left unacknowledged for redelivery");
            (false, None)
        }
    }
}
