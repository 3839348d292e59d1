//! Ingest against a real RTSP server (GStreamer's RTSP server library, run as a child process
//! so that it can be killed and restarted like a camera that loses power).

#![allow(clippy::panic)] // tests report failures by panicking

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use e2e_tests::{Proc, bin, free_port};
use pipeline::{
    Camera, CameraMonitor, CameraState, RtspTransport, SourceOptions, SupervisorOptions,
};

fn start_server(port: u16, creds: Option<&str>) -> Proc {
    let dir = std::env::temp_dir();
    let log = dir.join(format!("rtsp-test-server-{port}.log"));
    let mut cmd = Command::new(bin("rtsp-test-server"));
    cmd.arg(port.to_string()).arg("320x240");
    if let Some(c) = creds {
        cmd.arg(c);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("rtsp-test-server");
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("ready line");
    assert_eq!(line.trim(), "ready");
    Proc { child, log }
}

fn fast_supervision() -> SupervisorOptions {
    SupervisorOptions {
        stall_timeout: Duration::from_secs(2),
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        loop_files: false,
        give_up_on_file_errors: true,
    }
}

/// Runs a camera on its own thread, reporting each frame's pts; stops when the receiver drops.
fn run(camera: Camera) -> (CameraMonitor, mpsc::Receiver<Option<Duration>>) {
    let monitor = camera.monitor();
    let (tx, rx) = mpsc::channel();
    let mut camera = camera;
    std::thread::spawn(move || {
        while let Ok(Some(f)) = camera.next_frame() {
            if tx.send(f.pts).is_err() {
                break;
            }
        }
    });
    (monitor, rx)
}

fn wait_until(what: &str, limit: Duration, mut pred: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !pred() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rtsp_options(id: &str, port: u16, transport: RtspTransport) -> SourceOptions {
    let mut o = SourceOptions::live(id, format!("rtsp://127.0.0.1:{port}/cam"));
    o.rtsp_transport = transport;
    o
}

#[test]
fn frames_arrive_over_rtsp_tcp_with_increasing_timestamps_and_the_stream_is_described() {
    let port = free_port();
    let _server = start_server(port, None);
    let (mon, rx) = run(Camera::new(
        rtsp_options("gate-tcp", port, RtspTransport::Tcp),
        fast_supervision(),
    ));
    let mut pts = Vec::new();
    for _ in 0..15 {
        pts.push(
            rx.recv_timeout(Duration::from_secs(20))
                .expect("frame")
                .expect("pts"),
        );
    }
    assert!(pts.windows(2).all(|w| w[1] > w[0]), "{pts:?}");
    let st = mon.status();
    assert_eq!(st.state, CameraState::Running);
    assert_eq!(st.stream.codec.as_deref(), Some("H.264"), "{st:?}");
    assert_eq!((st.stream.width, st.stream.height), (Some(320), Some(240)));
    assert!(st.stream.decoder.is_some());
    mon.stop();
}

#[test]
fn frames_arrive_over_rtsp_udp() {
    let port = free_port();
    let _server = start_server(port, None);
    let (mon, rx) = run(Camera::new(
        rtsp_options("gate-udp", port, RtspTransport::Udp),
        fast_supervision(),
    ));
    for _ in 0..10 {
        rx.recv_timeout(Duration::from_secs(20)).expect("frame");
    }
    mon.stop();
}

#[test]
fn the_camera_reconnects_by_itself_after_the_server_is_killed_and_restarted() {
    let port = free_port();
    let server = start_server(port, None);
    let (mon, rx) = run(Camera::new(
        rtsp_options("gate-restart", port, RtspTransport::Tcp),
        fast_supervision(),
    ));
    for _ in 0..5 {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("frame before the outage");
    }
    drop(server); // SIGKILL: the camera loses power
    wait_until(
        "the camera to notice the outage",
        Duration::from_secs(15),
        || {
            let s = mon.status();
            s.state == CameraState::Retrying || s.state == CameraState::Starting
        },
    );
    let during = mon.status();
    assert!(during.reconnects >= 1, "{during:?}");
    assert!(
        during
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("gate-restart")),
        "{during:?}"
    );
    while rx.try_recv().is_ok() {} // frames from before the outage
    std::thread::sleep(Duration::from_millis(500));
    let _server2 = start_server(port, None);
    rx.recv_timeout(Duration::from_secs(30))
        .expect("frames again after the restart");
    wait_until("Running again", Duration::from_secs(10), || {
        mon.status().state == CameraState::Running
    });
    mon.stop();
}

#[test]
fn a_camera_at_a_wrong_address_reports_a_clear_error_and_keeps_retrying() {
    let port = free_port(); // nothing listens here
    let (mon, _rx) = run(Camera::new(
        rtsp_options("gate-wrong", port, RtspTransport::Tcp),
        fast_supervision(),
    ));
    wait_until("two retries", Duration::from_secs(20), || {
        mon.status().reconnects >= 2
    });
    let st = mon.status();
    assert!(
        matches!(st.state, CameraState::Retrying | CameraState::Starting),
        "{st:?}"
    );
    let err = st.last_error.expect("error recorded");
    assert!(
        err.contains("gate-wrong") && err.contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    mon.stop();
    wait_until("stop", Duration::from_secs(10), || {
        mon.status().state == CameraState::Stopped
    });
}

#[test]
fn credentials_from_config_open_a_protected_camera_and_a_wrong_password_is_reported() {
    let port = free_port();
    let _server = start_server(port, Some("operator:s3cret-pw"));
    let mut good = rtsp_options("gate-auth", port, RtspTransport::Tcp);
    good.username = Some("operator".into());
    good.password = Some("s3cret-pw".into());
    let (mon, rx) = run(Camera::new(good, fast_supervision()));
    rx.recv_timeout(Duration::from_secs(20))
        .expect("frame with the right password");
    mon.stop();

    let mut bad = rtsp_options("gate-badauth", port, RtspTransport::Tcp);
    bad.username = Some("operator".into());
    bad.password = Some("wrong".into());
    let (mon, _rx) = run(Camera::new(bad, fast_supervision()));
    wait_until("a failed attempt", Duration::from_secs(20), || {
        mon.status().reconnects >= 1
    });
    let err = mon.status().last_error.expect("error");
    assert!(err.contains("gate-badauth"), "{err}");
    assert!(
        !err.contains("wrong") && !err.contains("s3cret"),
        "password leaked into {err}"
    );
    mon.stop();
}

#[test]
fn one_failing_camera_does_not_stall_another() {
    let port = free_port();
    let _server = start_server(port, None);
    let (bad, _bad_rx) = run(Camera::new(
        rtsp_options("dead-cam", free_port(), RtspTransport::Tcp),
        fast_supervision(),
    ));
    let (good, rx) = run(Camera::new(
        rtsp_options("live-cam", port, RtspTransport::Tcp),
        fast_supervision(),
    ));
    let t = Instant::now();
    for _ in 0..25 {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("frames from the healthy camera");
    }
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(bad.status().reconnects >= 1 || bad.status().state != CameraState::Running);
    bad.stop();
    good.stop();
}

#[test]
fn the_probe_command_reports_codec_resolution_and_decoder_or_why_it_failed() {
    let port = free_port();
    let _server = start_server(port, None);
    let (code, out, err) = e2e_tests::run_to_end(
        Command::new(bin("edge-agent")).args([
            "probe",
            &format!("rtsp://127.0.0.1:{port}/cam"),
            "--transport",
            "tcp",
            "--seconds",
            "2",
        ]),
        Duration::from_secs(60),
    )
    .expect("probe");
    assert_eq!(code, 0, "{out}\n{err}");
    for needle in [
        "codec: H.264",
        "resolution: 320x240",
        "decoder: ",
        "result: OK",
    ] {
        assert!(out.contains(needle), "{needle} missing:\n{out}");
    }
    let dead = free_port();
    let (code, out, err) = e2e_tests::run_to_end(
        Command::new(bin("edge-agent")).args([
            "probe",
            &format!("rtsp://admin:topsecret@127.0.0.1:{dead}/cam"),
        ]),
        Duration::from_secs(60),
    )
    .expect("probe");
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("result: FAILED"), "{out}");
    assert!(err.contains(&format!("127.0.0.1:{dead}")), "{err}");
    assert!(
        !out.contains("topsecret") && !err.contains("topsecret"),
        "credentials leaked:\n{out}\n{err}"
    );
}
