//! MQTT publishing of events (QoS 1) and of the edge's retained online/offline status.
//!
//! The event loop is polled by its own task; publishing happens from another task (awaiting
//! `publish` in the polling task deadlocks when the request queue is full). Delivery here is
//! "QoS 1 and wait for every PUBACK before exit"; the durable on-disk outbox with IOC-level
//! acknowledgements is a later layer on top of this one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;
use wire::EventEnvelope;

use crate::config::Config;

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
}

/// Delivery counters.
#[derive(Debug, Default)]
pub struct PublishStats {
    pub queued: AtomicU64,
    pub acked: AtomicU64,
    pub connection_errors: AtomicU64,
}

/// A connected MQTT client and its event-loop task.
#[derive(Debug)]
pub struct Publisher {
    client: AsyncClient,
    pub stats: Arc<PublishStats>,
    status_topic: String,
    poller: tokio::task::JoinHandle<()>,
}

fn status_payload(cfg: &Config, state: &str) -> Vec<u8> {
    json!({
        "schema_version": wire::SCHEMA_VERSION,
        "site_id": cfg.site_id,
        "edge_id": cfg.edge_id,
        "state": state,
        "cameras": cfg.cameras.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        "at": chrono::Utc::now(),
    })
    .to_string()
    .into_bytes()
}

impl Publisher {
    /// Connects and waits for the broker's CONNACK, failing clearly if it never comes.
    pub async fn connect(cfg: &Config) -> Result<Self, PublishError> {
        let m = &cfg.mqtt;
        let status_topic = wire::topics::edge_status(&cfg.site_id, &cfg.edge_id);
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
        let (client, mut eventloop) = AsyncClient::new(opts, 64);
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
        let poller = tokio::spawn(poll(eventloop, stats.clone()));
        let me = Self {
            client,
            stats,
            status_topic,
            poller,
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
        Ok(me)
    }

    /// Publishes events until the channel closes (every sender dropped).
    pub async fn run(&self, mut rx: mpsc::Receiver<EventEnvelope>) {
        while let Some(env) = rx.recv().await {
            let topic = wire::topics::events(&env.site_id, &env.edge_id, &env.camera_id);
            // publish() only fails when the event loop is gone (shutdown); the request queue
            // applies backpressure by making this await.
            match self
                .client
                .publish(topic, QoS::AtLeastOnce, false, env.to_json())
                .await
            {
                Ok(()) => {
                    self.stats.queued.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => {
                    tracing::error!(event_id = %env.event_id, error = %e, "event could not be queued for MQTT");
                }
            }
        }
    }

    /// Waits until every queued event (and the status) is acknowledged, or `timeout`.
    /// Returns the number still unacknowledged.
    pub async fn drain(&self, timeout: Duration) -> u64 {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // +1 for the retained online status.
            let want = self.stats.queued.load(Ordering::SeqCst) + 1;
            let got = self.stats.acked.load(Ordering::SeqCst);
            if got >= want {
                return 0;
            }
            if tokio::time::Instant::now() >= deadline {
                return want - got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Publishes the retained offline status and disconnects cleanly.
    pub async fn shutdown(self, cfg: &Config) {
        let _ = self
            .client
            .publish(
                &self.status_topic,
                QoS::AtLeastOnce,
                true,
                status_payload(cfg, "offline"),
            )
            .await;
        let before = self.stats.acked.load(Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while self.stats.acked.load(Ordering::SeqCst) == before
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.poller).await;
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

async fn poll(mut eventloop: EventLoop, stats: Arc<PublishStats>) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                stats.acked.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(rumqttc::ConnectionError::RequestsDone) => return,
            Err(e) => {
                stats.connection_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "MQTT connection lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
