//! Prometheus metrics over HTTP (`GET /metrics`, text exposition format 0.0.4): per camera the
//! analysed fps, inference latency, decoded/dropped frames, reconnects and state; the outbox
//! depth, bytes and losses by priority; MQTT delivery counters.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use pipeline::CameraMonitor;

use crate::camera::CameraStats;
use crate::outbox::Outbox;
use crate::publisher::PublishStats;

/// Everything the metrics page reads.
#[derive(Debug, Clone)]
pub struct MetricsSources {
    pub cameras: Vec<(String, CameraMonitor, Arc<CameraStats>)>,
    pub publish: Arc<PublishStats>,
    pub outbox: Arc<Mutex<Outbox>>,
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Renders the metrics page.
pub fn render(src: &MetricsSources) -> String {
    let mut o = String::new();
    type Get = fn(&pipeline::CameraStatus, &CameraStats) -> f64;
    let per_camera: &[(&str, &str, &str, Get)] = &[
        (
            "gatewatch_camera_analysed_fps",
            "gauge",
            "Frames analysed per second (moving average).",
            |_, s| s.fps_milli.load(Ordering::Relaxed) as f64 / 1000.0,
        ),
        (
            "gatewatch_camera_frames_analysed_total",
            "counter",
            "Frames analysed.",
            |_, s| s.frames.load(Ordering::Relaxed) as f64,
        ),
        (
            "gatewatch_camera_frames_decoded_total",
            "counter",
            "Frames decoded by GStreamer.",
            |c, _| c.frames_decoded as f64,
        ),
        (
            "gatewatch_camera_frames_dropped_total",
            "counter",
            "Frames replaced by a newer one before analysis (latest frame wins).",
            |c, _| c.frames_dropped as f64,
        ),
        (
            "gatewatch_camera_reconnects_total",
            "counter",
            "Times the stream was reopened after a failure.",
            |c, _| c.reconnects as f64,
        ),
        (
            "gatewatch_camera_running",
            "gauge",
            "1 while frames are flowing.",
            |c, _| (c.state == pipeline::CameraState::Running) as u8 as f64,
        ),
        (
            "gatewatch_inference_seconds_sum",
            "counter",
            "Time spent in inference (people and faces).",
            |_, s| s.inference_us.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "gatewatch_inference_seconds_count",
            "counter",
            "Frames the inference time covers.",
            |_, s| s.frames.load(Ordering::Relaxed) as f64,
        ),
        (
            "gatewatch_inference_last_seconds",
            "gauge",
            "Inference time of the latest frame.",
            |_, s| s.last_inference_us.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "gatewatch_gate_entries_total",
            "counter",
            "Gate entries counted.",
            |_, s| s.entries.load(Ordering::Relaxed) as f64,
        ),
        (
            "gatewatch_gate_exits_total",
            "counter",
            "Gate exits counted.",
            |_, s| s.exits.load(Ordering::Relaxed) as f64,
        ),
        (
            "gatewatch_camera_errors_total",
            "counter",
            "Frames whose analysis failed.",
            |_, s| s.errors.load(Ordering::Relaxed) as f64,
        ),
    ];
    let statuses: Vec<_> = src
        .cameras
        .iter()
        .map(|(id, m, s)| (id, m.status(), s))
        .collect();
    for (name, kind, help, get) in per_camera {
        metric(&mut o, name, kind, help);
        for (id, st, stats) in &statuses {
            let _ = writeln!(o, "{name}{{camera=\"{id}\"}} {}", get(st, stats));
        }
    }
    let (depth, bytes, in_flight, lost) = {
        let ob = src.outbox.lock().unwrap_or_else(|p| p.into_inner());
        (
            ob.state.len(),
            ob.state.used_bytes(),
            ob.state.in_flight(),
            ob.state.lost,
        )
    };
    metric(
        &mut o,
        "gatewatch_outbox_depth",
        "gauge",
        "Events waiting for the IOC's acknowledgement.",
    );
    let _ = writeln!(o, "gatewatch_outbox_depth {depth}");
    metric(
        &mut o,
        "gatewatch_outbox_bytes",
        "gauge",
        "Bytes of the events waiting.",
    );
    let _ = writeln!(o, "gatewatch_outbox_bytes {bytes}");
    metric(
        &mut o,
        "gatewatch_outbox_in_flight",
        "gauge",
        "Events sent and not yet acknowledged.",
    );
    let _ = writeln!(o, "gatewatch_outbox_in_flight {in_flight}");
    metric(
        &mut o,
        "gatewatch_outbox_lost_total",
        "counter",
        "Events given up because the outbox was full, by priority.",
    );
    for (p, n) in [
        ("count", lost.counts),
        ("event", lost.events),
        ("alert", lost.alerts),
    ] {
        let _ = writeln!(o, "gatewatch_outbox_lost_total{{priority=\"{p}\"}} {n}");
    }
    let p = &src.publish;
    for (name, help, v) in [
        (
            "gatewatch_events_queued_total",
            "Events written to the outbox.",
            &p.queued,
        ),
        (
            "gatewatch_events_sent_total",
            "Event publications, first sends and resends.",
            &p.sent,
        ),
        (
            "gatewatch_events_acked_total",
            "Events acknowledged by the IOC.",
            &p.acked,
        ),
        (
            "gatewatch_events_unwritable_total",
            "Events that could not be written to the outbox.",
            &p.unwritable,
        ),
        (
            "gatewatch_mqtt_connection_errors_total",
            "MQTT connection failures.",
            &p.connection_errors,
        ),
        (
            "gatewatch_mqtt_resend_rounds_total",
            "Times unacknowledged events were sent again.",
            &p.resend_rounds,
        ),
        (
            "gatewatch_gallery_updates_dropped_total",
            "Gallery updates from the IOC dropped because the gallery task was behind.",
            &p.gallery_dropped,
        ),
    ] {
        metric(&mut o, name, "counter", help);
        let _ = writeln!(o, "{name} {}", v.load(Ordering::Relaxed));
    }
    o
}

/// Serves `GET /metrics` on `listen` until the task is dropped.
pub async fn serve(
    listen: std::net::SocketAddr,
    src: MetricsSources,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let src = src.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    render(&src),
                )
            }
        }),
    );
    tracing::info!(%listen, "metrics at http://{listen}/metrics");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    }))
}
