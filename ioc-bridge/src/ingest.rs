//! MQTT ingest: an MQTT 5 shared subscription to every edge's events, validation, batched
//! idempotent storage, then acknowledgement.
//!
//! ```text
//!  broker ──$share/{group}/gw/v1/+/+/events/+──▶ poll task ──bounded channel──▶ batcher
//!                                                                               │ validate
//!                                                                               │ one transaction
//!                                                                               ▼ commit
//!             PUBACKs (in order) ◀── after commit ──  EventAck per edge on gw/v1/{s}/{e}/acks
//! ```
//!
//! Manual acknowledgements: the PUBACK for an event goes back only after its row is committed,
//! so an event the broker considers delivered is always in the database. A malformed message
//! goes to quarantine (and is acknowledged, so it is not redelivered forever). When the
//! database is down the batch is kept in memory, unacknowledged, and written again with
//! back-off until it succeeds; meanwhile the channel fills and the broker holds the rest.
//! Several bridges in one share group split the events; an edge's acknowledgement comes from
//! whichever stored its event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions};
use tokio::sync::{broadcast, mpsc};
use wire::EventEnvelope;

use crate::config::{IngestConfig, MqttConfig};
use crate::store::{Inserted, Store, StoreError};

#[derive(Debug, Default)]
pub struct IngestStats {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub quarantined: AtomicU64,
    pub store_errors: AtomicU64,
    pub batches: AtomicU64,
}

/// What the live wall is told about each newly stored event (no picture bytes).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveEvent {
    pub event_id: String,
    pub site_id: String,
    pub edge_id: String,
    pub camera_id: String,
    pub kind: String,
    pub captured_at: String,
    pub person_id: Option<String>,
    pub person_name: Option<String>,
    pub snapshot_sha256: Option<String>,
    pub payload: serde_json::Value,
}

impl LiveEvent {
    fn of(env: &EventEnvelope) -> Self {
        let (person_id, person_name) = match &env.body {
            wire::EventBody::FaceMatch(m) | wire::EventBody::WatchlistHit(m) => (
                Some(m.identity.person_id.clone()),
                Some(m.identity.name.clone()),
            ),
            _ => (None, None),
        };
        Self {
            event_id: env.event_id.to_string(),
            site_id: env.site_id.clone(),
            edge_id: env.edge_id.clone(),
            camera_id: env.camera_id.clone(),
            kind: env.body.kind().into(),
            captured_at: crate::store::ts(env.captured_at),
            person_id,
            person_name,
            snapshot_sha256: env.snapshot.as_ref().map(|s| s.sha256.clone()),
            payload: serde_json::from_str(&env.body.payload_json())
                .unwrap_or(serde_json::Value::Null),
        }
    }
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

/// The running ingest: its client (also used to push gallery updates to edges), statistics
/// and the feed of newly stored events.
#[derive(Clone)]
pub struct Ingest {
    pub client: AsyncClient,
    pub stats: Arc<IngestStats>,
    pub live: broadcast::Sender<LiveEvent>,
}

/// The topic filters the bridge subscribes to: events (shared), edge and camera statuses
/// (retained; every bridge keeps them).
fn filters(cfg: &MqttConfig) -> [String; 3] {
    [
        format!(
            "$share/{}/{}",
            cfg.share_group,
            wire::topics::events_filter_all()
        ),
        format!("{}/+/+/status", wire::TOPIC_ROOT),
        format!("{}/+/+/cameras/+/status", wire::TOPIC_ROOT),
    ]
}

/// Connects, subscribes, and spawns the ingest tasks. Edges announcing themselves online are
/// sent on `online` (subscribe to it before calling, or retained announcements are missed).
///
/// `ingest.connections` MQTT connections join the share group: a broker lets only so many
/// unacknowledged messages be in flight per connection (rumqttd: 100), and acknowledgements wait
/// for the commit, so one connection would cap throughput at that many per commit round.
/// Connection 0 (client id `mqtt.client_id`) also takes the edge and camera statuses and sends
/// acknowledgements and gallery updates to the edges; the others are `{client_id}-{n}`.
pub async fn start(
    cfg: &MqttConfig,
    ingest: &IngestConfig,
    store: Store,
    online: broadcast::Sender<(String, String)>,
) -> Result<Ingest, IngestError> {
    let all = filters(cfg);
    let (tx, rx) = mpsc::channel::<(usize, Publish)>(4 * ingest.batch_max.max(64));
    let mut clients = Vec::new();
    for n in 0..ingest.connections.max(1) {
        let client_id = if n == 0 {
            cfg.client_id.clone()
        } else {
            format!("{}-{n}", cfg.client_id)
        };
        let subs: Vec<String> = if n == 0 {
            all.to_vec()
        } else {
            all[..1].to_vec()
        };
        let (client, eventloop) = connect(cfg, client_id, &subs).await?;
        tokio::spawn(poll(eventloop, client.clone(), n, tx.clone(), subs));
        clients.push(client);
    }
    drop(tx);
    let client = clients[0].clone();
    let stats = Arc::new(IngestStats::default());
    let (live, _) = broadcast::channel(1024);
    tokio::spawn(handle(
        rx,
        clients,
        store,
        stats.clone(),
        Feeds {
            live: live.clone(),
            online,
        },
        ingest.clone(),
    ));
    tracing::info!(host = %cfg.host, port = cfg.port, group = %cfg.share_group, connections = ingest.connections, "ingest connected (MQTT 5, shared subscription)");
    Ok(Ingest {
        client,
        stats,
        live,
    })
}

/// One ingest connection, subscribed to `subs` before it is returned, so that nothing
/// published afterwards is missed.
async fn connect(
    cfg: &MqttConfig,
    client_id: String,
    subs: &[String],
) -> Result<(AsyncClient, EventLoop), IngestError> {
    let mut opts = MqttOptions::new(client_id, cfg.host.clone(), cfg.port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_manual_acks(true);
    // Persistent session: events published while the bridge is away wait in the broker.
    opts.set_clean_start(false);
    opts.set_session_expiry_interval(Some(cfg.session_expiry_secs));
    opts.set_max_packet_size(Some((wire::MAX_ENVELOPE_BYTES + 4096) as u32));
    opts.set_receive_maximum(Some(1024));
    let (client, mut eventloop) = AsyncClient::new(opts, 4096);
    let secs = cfg.connect_timeout_secs;
    let ready = async {
        wait_connack(&mut eventloop).await?;
        subscribe(&client, subs).await;
        wait_subacks(&mut eventloop, subs.len()).await
    };
    match tokio::time::timeout(Duration::from_secs(secs), ready).await {
        Err(_) => Err(IngestError::Timeout {
            host: cfg.host.clone(),
            port: cfg.port,
            secs,
        }),
        Ok(Err(reason)) => Err(IngestError::Unreachable {
            host: cfg.host.clone(),
            port: cfg.port,
            reason,
        }),
        Ok(Ok(())) => Ok((client, eventloop)),
    }
}

async fn wait_subacks(eventloop: &mut EventLoop, mut n: usize) -> Result<(), String> {
    while n > 0 {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if let Some(c) = ack
                    .return_codes
                    .iter()
                    .find(|c| !matches!(c, SubscribeReasonCode::Success(_)))
                {
                    return Err(format!("broker refused the subscription: {c:?}"));
                }
                n -= 1;
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

async fn subscribe(client: &AsyncClient, subs: &[String]) {
    for filter in subs {
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

async fn poll(
    mut eventloop: EventLoop,
    client: AsyncClient,
    n: usize,
    tx: mpsc::Sender<(usize, Publish)>,
    subs: Vec<String>,
) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if tx.send((n, p)).await.is_err() {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                // Subscribe from another task: awaiting client requests inside the polling
                // task can deadlock when the request queue is full.
                if !ack.session_present {
                    let c = client.clone();
                    let subs = subs.clone();
                    tokio::spawn(async move { subscribe(&c, &subs).await });
                }
            }
            Ok(_) => {}
            Err(ConnectionError::RequestsDone) => return,
            Err(e) => {
                tracing::warn!(error = %e, "ingest lost the broker; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// One received message, classified.
enum Item {
    CameraStatus {
        site: String,
        edge: String,
        camera: String,
        state: String,
        raw: String,
    },
    Status {
        site: String,
        edge: String,
        state: String,
        raw: String,
    },
    Event(Box<EventEnvelope>),
    Reject {
        reason: String,
        /// Parsed envelopes that are quarantined are acknowledged to their edge as well:
        /// sending them again would not change the verdict.
        ack_to: Option<(String, String, uuid::Uuid)>,
    },
}

fn classify(p: &Publish) -> Item {
    let topic = String::from_utf8_lossy(&p.topic);
    let parts: Vec<&str> = topic.split('/').collect();
    if topic.ends_with("/status")
        && (parts.len() == 5 || (parts.len() == 7 && parts[4] == "cameras"))
    {
        let raw = String::from_utf8_lossy(&p.payload).into_owned();
        let state = serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        if parts.len() == 7 {
            return Item::CameraStatus {
                site: parts[2].into(),
                edge: parts[3].into(),
                camera: parts[5].into(),
                state,
                raw,
            };
        }
        return Item::Status {
            site: parts[2].into(),
            edge: parts[3].into(),
            state,
            raw,
        };
    }
    let env = match EventEnvelope::parse(&p.payload) {
        Ok(env) => env,
        Err(e) => {
            return Item::Reject {
                reason: e.to_string(),
                ack_to: None,
            };
        }
    };
    let expected = wire::topics::events(&env.site_id, &env.edge_id, &env.camera_id);
    if expected != topic {
        return Item::Reject {
            reason: format!("envelope belongs on {expected}, arrived on {topic}"),
            ack_to: Some((env.site_id.clone(), env.edge_id.clone(), env.event_id)),
        };
    }
    Item::Event(Box::new(env))
}

/// Where stored messages are announced inside the bridge.
struct Feeds {
    live: broadcast::Sender<LiveEvent>,
    /// `(site_id, edge_id)` of each edge announcing itself online (start, reconnect): the
    /// gallery sync answers with the IOC's gallery.
    online: broadcast::Sender<(String, String)>,
}

async fn handle(
    mut rx: mpsc::Receiver<(usize, Publish)>,
    clients: Vec<AsyncClient>,
    store: Store,
    stats: Arc<IngestStats>,
    feeds: Feeds,
    cfg: IngestConfig,
) {
    let wait = Duration::from_millis(cfg.batch_wait_ms);
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + wait;
        while batch.len() < cfg.batch_max {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(p)) => batch.push(p),
                        _ => break,
                    }
                }
            }
        }
        stats
            .received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let pubs: Vec<&Publish> = batch.iter().map(|(_, p)| p).collect();
        let acks = store_batch(&pubs, &store, &stats, &feeds).await;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        // Committed: acknowledge to the broker on the connection each came by, in the order
        // received...
        for (n, p) in &batch {
            if let Err(e) = clients[*n].ack(p).await {
                tracing::warn!(error = %e, "could not acknowledge a message");
            }
        }
        let client = &clients[0];
        // ...and to each edge, which deletes the events from its outbox only now.
        for ((site, edge), ids) in acks {
            let topic = wire::topics::acks(&site, &edge);
            let payload = wire::EventAck::new(ids).to_json();
            if let Err(e) = client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
            {
                tracing::warn!(error = %e, "could not acknowledge events to their edge");
            }
        }
    }
}

type EdgeAcks = BTreeMap<(String, String), Vec<uuid::Uuid>>;

/// Writes a batch until it is committed (retrying with back-off while the database is
/// down); returns the event ids to acknowledge to each edge.
async fn store_batch(
    batch: &[&Publish],
    store: &Store,
    stats: &IngestStats,
    feeds: &Feeds,
) -> EdgeAcks {
    let mut acks: EdgeAcks = BTreeMap::new();
    let (mut pubs, mut envs) = (Vec::new(), Vec::new());
    let mut rejects = Vec::new();
    for p in batch {
        match classify(p) {
            Item::Status {
                site,
                edge,
                state,
                raw,
            } => {
                retry("edge status", stats, || {
                    store.upsert_edge_status(&site, &edge, &state, &raw)
                })
                .await;
                if state == "online" {
                    // No receiver (no gallery sync configured) is fine.
                    let _ = feeds.online.send((site, edge));
                }
            }
            Item::CameraStatus {
                site,
                edge,
                camera,
                state,
                raw,
            } => {
                retry("camera status", stats, || {
                    store.upsert_camera_status(&site, &edge, &camera, &state, &raw)
                })
                .await;
            }
            Item::Event(env) => {
                pubs.push(p);
                envs.push(*env);
            }
            Item::Reject { reason, ack_to } => rejects.push((p, reason, ack_to)),
        }
    }
    if !envs.is_empty() {
        let results = retry("event batch", stats, || store.insert_batch(&envs)).await;
        for ((p, env), r) in pubs.iter().zip(&envs).zip(results) {
            match r {
                Ok(inserted) => {
                    if inserted == Inserted::New {
                        stats.stored.fetch_add(1, Ordering::Relaxed);
                        let _ = feeds.live.send(LiveEvent::of(env));
                    } else {
                        stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    acks.entry((env.site_id.clone(), env.edge_id.clone()))
                        .or_default()
                        .push(env.event_id);
                }
                Err(e) => rejects.push((
                    p,
                    e.to_string(),
                    Some((env.site_id.clone(), env.edge_id.clone(), env.event_id)),
                )),
            }
        }
    }
    for (p, reason, ack_to) in rejects {
        let topic = String::from_utf8_lossy(&p.topic).into_owned();
        stats.quarantined.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%topic, %reason, "message quarantined");
        retry("quarantine", stats, || {
            store.quarantine(&topic, &reason, &p.payload)
        })
        .await;
        if let Some((site, edge, id)) = ack_to {
            acks.entry((site, edge)).or_default().push(id);
        }
    }
    acks
}

/// Runs a store operation until it succeeds, backing off from 200 ms to 5 s; every failure is
/// counted and logged. Nothing received is dropped while the database is down.
async fn retry<T, F, Fut>(what: &str, stats: &IngestStats, mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut delay = Duration::from_millis(200);
    loop {
        match op().await {
            Ok(v) => return v,
            Err(e) => {
                stats.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "{what} not stored; kept unacknowledged and retried in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
