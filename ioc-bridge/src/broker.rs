//! The embedded MQTT broker (rumqttd) for the one-command default deployment.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("embedded MQTT broker cannot listen on {addr}: {reason}")]
    Listen { addr: SocketAddr, reason: String },
    #[error("embedded MQTT broker thread could not start: {0}")]
    Thread(String),
}

/// Starts rumqttd on its own thread, listening on `v4` (MQTT 3.1.1: the edges) and `v5`
/// (MQTT 5: the bridges, with shared subscriptions). Both listeners share one router, so
/// what an edge publishes reaches the bridges.
pub fn start_embedded(v4: SocketAddr, v5: SocketAddr) -> Result<(), BrokerError> {
    // rumqttd only logs a bind failure on its own thread; check first for a clear error.
    for addr in [v4, v5] {
        TcpListener::bind(addr)
            .map(drop)
            .map_err(|e| BrokerError::Listen {
                addr,
                reason: e.to_string(),
            })?;
    }
    let server = |name: &str, listen: SocketAddr| ServerSettings {
        name: name.into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 60_000,
            max_payload_size: wire::MAX_ENVELOPE_BYTES + 4096,
            max_inflight_count: 200,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_000,
            max_outgoing_packet_count: 200,
            max_segment_size: 104_857_600,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("v4".to_string(), server("v4", v4))])),
        v5: Some(HashMap::from([("v5".to_string(), server("v5", v5))])),
        ..Default::default()
    };
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
            }
        })
        .map_err(|e| BrokerError::Thread(e.to_string()))?;
    // The broker binds on its own thread: wait until it accepts connections.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for addr in [v4, v5] {
        while std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
            .is_err()
        {
            if std::time::Instant::now() > deadline {
                return Err(BrokerError::Listen {
                    addr,
                    reason: "broker did not start listening within 10 s".into(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    tracing::info!(%v4, %v5, "embedded MQTT broker started");
    Ok(())
}
