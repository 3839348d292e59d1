//! Durable MQTT delivery of events, and the edge's retained online/offline status.
//!
//! ```text
//! cameras --mpsc--> Publisher::run --push (fsync)--> Outbox (disk) --sender task--> MQTT QoS 1
//!                                                       ^                              |
//!                                                       +-- ack (event ids) <-- IOC after commit
//! ```
//!
//! An event is written to the on-disk outbox before it is sent and deleted only when the IOC
//! acknowledges it on `gw/v1/{site}/{edge}/acks` (after its database commit). After a broker
//! outage or network cut everything unacknowledged is sent again, oldest first; the IOC stores
//! each event id once. The event loop is polled by its own task and publishing happens from
//! another (awaiting `publish` in the polling task deadlocks when the request queue is full).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::{Notify, mpsc};
use wire::{EventBody, EventEnvelope};

use crate::config::Config;
use crate::gallery::WATCH_LIST;
use crate::outbox::{Outbox, Priority};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("MQTT broker at {host}:{port} is unreachable: {reason}")]
    Unreachable {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("MQTT broker at {host}:{port} did not answer within {secs} s")]
    Timeout { host: String, port: u16, secs: u64 },
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
}

/// Gallery updates that may wait for the gallery task.
const GALLERY_QUEUE: usize = 8192;

/// Delivery counters.
#[derive(Debug, Default)]
pub struct PublishStats {
    /// Events written to the outbox.
    pub queued: AtomicU64,
    /// Publications (first sends and resends).
    pub sent: AtomicU64,
    /// Events the IOC acknowledged.
    pub acked: AtomicU64,
    /// Events that could not be written to the outbox (disk full, I/O error).
    pub unwritable: AtomicU64,
    pub connection_errors: AtomicU64,
    /// Times everything in flight was sent again (reconnects, missing acks).
    pub resend_rounds: AtomicU64,
    /// Gallery updates from the IOC dropped because the gallery task was this far behind
    /// (the next sync, when the edge reconnects, brings them again).
    pub gallery_dropped: AtomicU64,
}

/// Which outbox priority an event gets.
pub fn priority_of(env: &EventEnvelope) -> Priority {
    match &env.body {
        EventBody::WatchlistHit(_) => Priority::Alert,
        EventBody::FaceMatch(m) if m.identity.list == WATCH_LIST => Priority::Alert,
        EventBody::FaceMatch(_)
        | EventBody::UnknownPerson(_)
        | EventBody::GateCrossing(_)
        | EventBody::PlateRead(_) => Priority::Event,
        EventBody::GateCount(_) => Priority::Count,
    }
}

/// A connected MQTT client, its outbox and its tasks.
#[derive(Debug)]
pub struct Publisher {
    client: AsyncClient,
    pub stats: Arc<PublishStats>,
    pub outbox: Arc<Mutex<Outbox>>,
    status_topic: String,
    notify: Arc<Notify>,
    /// Gallery updates from the IOC (raw payloads), taken once by the agent.
    gallery_rx: Mutex<Option<mpsc::Receiver<Vec<u8>>>>,
    poller: tokio::task::JoinHandle<()>,
    sender: tokio::task::JoinHandle<()>,
}

/// What the retained status message says about this edge.
#[derive(Debug, Clone)]
struct StatusInfo {
    site_id: String,
    edge_id: String,
    cameras: Vec<String>,
}

impl StatusInfo {
    fn of(cfg: &Config) -> Self {
        Self {
            site_id: cfg.site_id.clone(),
            edge_id: cfg.edge_id.clone(),
            cameras: cfg.cameras.iter().map(|c| c.id.clone()).collect(),
        }
    }

    fn payload(&self, state: &str) -> Vec<u8> {
        json!({
            "schema_version": wire::SCHEMA_VERSION,
            "site_id": self.site_id,
            "edge_id": self.edge_id,
            "state": state,
            "cameras": self.cameras,
            "at": chrono::Utc::now(),
        })
        .to_string()
        .into_bytes()
    }
}

fn status_payload(cfg: &Config, state: &str) -> Vec<u8> {
    StatusInfo::of(cfg).payload(state)
}

fn lock(o: &Mutex<Outbox>) -> std::sync::MutexGuard<'_, Outbox> {
    o.lock().unwrap_or_else(|p| p.into_inner())
}

impl Publisher {
    /// Opens the outbox, connects and waits for the broker's CONNACK, failing clearly if it
    /// never comes. Events left in the outbox by an earlier run are sent first.
    pub async fn connect(cfg: &Config) -> Result<Self, PublishError> {
        let outbox = Outbox::open(&cfg.outbox.dir, cfg.outbox.max_bytes)?;
        for f in &outbox.foreign_files {
            tracing::warn!(file = %f.display(), "file in the outbox directory that is not an outbox entry; left alone");
        }
        if !outbox.state.is_empty() {
            tracing::info!(
                events = outbox.state.len(),
                bytes = outbox.state.used_bytes(),
                "outbox holds events from an earlier run; they go first"
            );
        }
        let m = &cfg.mqtt;
        let status_topic = wire::topics::edge_status(&cfg.site_id, &cfg.edge_id);
        let ack_topic = wire::topics::acks(&cfg.site_id, &cfg.edge_id);
        let mut opts = MqttOptions::new(cfg.client_id(), m.host.clone(), m.port);
        opts.set_keep_alive(Duration::from_secs(m.keep_alive_secs));
        opts.set_max_packet_size(
            wire::MAX_ENVELOPE_BYTES + 4096,
            wire::MAX_ENVELOPE_BYTES + 4096,
        );
        opts.set_last_will(LastWill::new(
            &status_topic,
            status_payload(cfg, "offline"),
            QoS::AtLeastOnce,
            true,
        ));
        let (client, mut eventloop) = AsyncClient::new(opts, 256);
        let secs = m.connect_timeout_secs;
        let first =
            tokio::time::timeout(Duration::from_secs(secs), wait_connack(&mut eventloop)).await;
        match first {
            Err(_) => {
                return Err(PublishError::Timeout {
                    host: m.host.clone(),
                    port: m.port,
                    secs,
                });
            }
            Ok(Err(reason)) => {
                return Err(PublishError::Unreachable {
                    host: m.host.clone(),
                    port: m.port,
                    reason,
                });
            }
            Ok(Ok(())) => {}
        }
        tracing::info!(host = %m.host, port = m.port, "connected to MQTT broker");
        let stats = Arc::new(PublishStats::default());
        let outbox = Arc::new(Mutex::new(outbox));
        let notify = Arc::new(Notify::new());
        let connected = Arc::new(AtomicBool::new(true));
        let gallery_topic = wire::topics::gallery(&cfg.site_id, &cfg.edge_id);
        for t in [&ack_topic, &gallery_topic] {
            let _ = client.subscribe(t.clone(), QoS::AtLeastOnce).await;
        }
        // Room for a whole-gallery sync from the IOC (one update per person) arriving at once.
        let (gallery_tx, gallery_rx) = mpsc::channel(GALLERY_QUEUE);
        let poller = tokio::spawn(poll(
            eventloop,
            client.clone(),
            PollCtx {
                ack_topic,
                gallery_topic,
                status_topic: status_topic.clone(),
                status: StatusInfo::of(cfg),
                gallery_tx,
                outbox: outbox.clone(),
                stats: stats.clone(),
                notify: notify.clone(),
                connected: connected.clone(),
            },
        ));
        let sender = tokio::spawn(send_loop(
            client.clone(),
            outbox.clone(),
            stats.clone(),
            notify.clone(),
            connected,
            SendParams {
                window: cfg.outbox.in_flight_window,
                resend_after: Duration::from_secs(cfg.outbox.resend_after_secs),
            },
        ));
        let me = Self {
            client,
            stats,
            outbox,
            status_topic,
            notify,
            gallery_rx: Mutex::new(Some(gallery_rx)),
            poller,
            sender,
        };
        let _ = me
            .client
            .publish(
                &me.status_topic,
                QoS::AtLeastOnce,
                true,
                status_payload(cfg, "online"),
            )
            .await;
        me.notify.notify_one();
        Ok(me)
    }

    /// Writes every event from the cameras to the outbox until the channel closes (every
    /// sender dropped). Nothing is dropped silently: evictions and unwritable events are
    /// counted and logged (alerts at error level).
    pub async fn run(&self, mut rx: mpsc::Receiver<EventEnvelope>) {
        while let Some(env) = rx.recv().await {
            let priority = priority_of(&env);
            let payload = env.to_json();
            let outbox = self.outbox.clone();
            let camera = env.camera_id.clone();
            let id = env.event_id;
            let pushed = tokio::task::spawn_blocking(move || {
                lock(&outbox).push(id, &camera, priority, &payload)
            })
            .await;
            match pushed {
                Ok(Ok(adm)) => {
                    for (_, m) in &adm.evicted {
                        if m.priority == Priority::Alert {
                            tracing::error!(event_id = %m.event_id, camera = %m.camera_id, "outbox full: an older alert was dropped for a newer one");
                        } else {
                            tracing::warn!(event_id = %m.event_id, camera = %m.camera_id, priority = ?m.priority, "outbox full: event dropped to make room");
                        }
                    }
                    if adm.accepted.is_some() {
                        self.stats.queued.fetch_add(1, Ordering::SeqCst);
                    } else {
                        tracing::error!(event_id = %id, ?priority, "outbox full of higher-priority events: event dropped");
                    }
                }
                Ok(Err(e)) => {
                    self.stats.unwritable.fetch_add(1, Ordering::SeqCst);
                    tracing::error!(event_id = %id, error = %e, "event could not be stored in the outbox");
                }
                Err(e) => {
                    self.stats.unwritable.fetch_add(1, Ordering::SeqCst);
                    tracing::error!(event_id = %id, error = %e, "outbox writer failed");
                }
            }
            self.notify.notify_one();
        }
    }

    /// The stream of gallery updates from the IOC (raw payloads); `None` after the first call.
    pub fn take_gallery_updates(&self) -> Option<mpsc::Receiver<Vec<u8>>> {
        self.gallery_rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Publishes a retained status message (QoS 1); a failure is logged, never fatal.
    pub async fn publish_retained(&self, topic: String, payload: Vec<u8>) {
        if let Err(e) = self
            .client
            .publish(topic, QoS::AtLeastOnce, true, payload)
            .await
        {
            tracing::warn!(error = %e, "retained status not published");
        }
    }

    /// Events still waiting for the IOC's acknowledgement.
    pub fn pending(&self) -> usize {
        lock(&self.outbox).state.len()
    }

    /// Waits until the IOC has acknowledged everything in the outbox, or `timeout`. Returns the
    /// number still unacknowledged (they stay on disk for the next run).
    pub async fn drain(&self, timeout: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = self.pending() as u64;
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return left;
            }
            self.notify.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Publishes the retained offline status and disconnects cleanly.
    pub async fn shutdown(self, cfg: &Config) {
        self.sender.abort();
        let _ = self
            .client
            .publish(
                &self.status_topic,
                QoS::AtLeastOnce,
                true,
                status_payload(cfg, "offline"),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.poller).await;
    }
}

struct SendParams {
    window: usize,
    resend_after: Duration,
}

/// Publishes what the outbox allows (window of unacknowledged events), oldest first; sends
/// everything in flight again when no acknowledgement came for `resend_after`.
async fn send_loop(
    client: AsyncClient,
    outbox: Arc<Mutex<Outbox>>,
    stats: Arc<PublishStats>,
    notify: Arc<Notify>,
    connected: Arc<AtomicBool>,
    p: SendParams,
) {
    let mut last_progress = tokio::time::Instant::now();
    let mut last_acked = 0;
    loop {
        let _ = tokio::time::timeout(Duration::from_millis(250), notify.notified()).await;
        let acked = stats.acked.load(Ordering::SeqCst);
        if acked != last_acked {
            last_acked = acked;
            last_progress = tokio::time::Instant::now();
        }
        if !connected.load(Ordering::SeqCst) {
            continue;
        }
        let batch = {
            let mut o = lock(&outbox);
            if o.state.in_flight() > 0 && last_progress.elapsed() >= p.resend_after {
                o.state.requeue_in_flight();
                stats.resend_rounds.fetch_add(1, Ordering::Relaxed);
                last_progress = tokio::time::Instant::now();
                tracing::info!(
                    "no acknowledgement for a while: sending unacknowledged events again"
                );
            }
            match o.take_sendable(p.window) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "outbox entry unreadable");
                    Vec::new()
                }
            }
        };
        if !batch.is_empty() && last_progress.elapsed() > p.resend_after {
            last_progress = tokio::time::Instant::now();
        }
        for item in batch {
            let Ok(env_topic) = topic_of(&item.payload) else {
                tracing::error!(event_id = %item.event_id, "outbox entry is not an event envelope; dropped");
                lock(&outbox).ack(item.event_id);
                continue;
            };
            match client
                .publish(env_topic, QoS::AtLeastOnce, false, item.payload)
                .await
            {
                Ok(()) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT client closed; event stays in the outbox");
                    return;
                }
            }
        }
    }
}

fn topic_of(payload: &[u8]) -> Result<String, wire::WireError> {
    let env = EventEnvelope::parse(payload)?;
    Ok(wire::topics::events(
        &env.site_id,
        &env.edge_id,
        &env.camera_id,
    ))
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

struct PollCtx {
    ack_topic: String,
    gallery_topic: String,
    status_topic: String,
    status: StatusInfo,
    gallery_tx: mpsc::Sender<Vec<u8>>,
    outbox: Arc<Mutex<Outbox>>,
    stats: Arc<PublishStats>,
    notify: Arc<Notify>,
    connected: Arc<AtomicBool>,
}

async fn poll(mut eventloop: EventLoop, client: AsyncClient, cx: PollCtx) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == cx.ack_topic => {
                match wire::EventAck::parse(&p.payload) {
                    Ok(ack) => {
                        let mut o = lock(&cx.outbox);
                        let n = ack.event_ids.iter().filter(|id| o.ack(**id)).count();
                        cx.stats.acked.fetch_add(n as u64, Ordering::SeqCst);
                        drop(o);
                        cx.notify.notify_one();
                    }
                    Err(e) => tracing::warn!(error = %e, "malformed acknowledgement ignored"),
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) if p.topic == cx.gallery_topic => {
                // Applied by the agent's gallery task; never blocks this loop.
                if cx.gallery_tx.try_send(p.payload.to_vec()).is_err() {
                    cx.stats.gallery_dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::error!("gallery update dropped: the gallery task is not keeping up");
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                // Reconnected: whatever was in flight may be lost; send it all again in order
                // (the IOC stores each event id once).
                lock(&cx.outbox).state.requeue_in_flight();
                cx.stats.resend_rounds.fetch_add(1, Ordering::Relaxed);
                cx.connected.store(true, Ordering::SeqCst);
                tracing::info!("reconnected to the MQTT broker; resending unacknowledged events");
                // Subscribe again (a clean session forgets), then say online again: the IOC
                // answers an online edge with its gallery, which must find the subscription
                // in place. From another task: awaiting requests here could deadlock.
                let c = client.clone();
                let topics = if ack.session_present {
                    Vec::new()
                } else {
                    vec![cx.ack_topic.clone(), cx.gallery_topic.clone()]
                };
                let (status_topic, online) = (cx.status_topic.clone(), cx.status.payload("online"));
                tokio::spawn(async move {
                    for t in topics {
                        let _ = c.subscribe(t, QoS::AtLeastOnce).await;
                    }
                    if let Err(e) = c
                        .publish(status_topic, QoS::AtLeastOnce, true, online)
                        .await
                    {
                        tracing::warn!(error = %e, "online status not republished after reconnecting");
                    }
                });
                cx.notify.notify_one();
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(rumqttc::ConnectionError::RequestsDone) => return,
            Err(e) => {
                cx.connected.store(false, Ordering::SeqCst);
                cx.stats.connection_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "MQTT connection lost; reconnecting (events wait in the outbox)");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
