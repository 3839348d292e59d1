//! Ingest on real decodes: test sources and H.264 clips generated with GStreamer (x264enc) at
//! test time. RTSP tests against a real server live in `tests/tests/rtsp_ingest.rs`.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pipeline::{
    Backpressure, Camera, CameraState, FrameSource, PipelineError, SourceOptions, SupervisorOptions,
};

/// Encodes `frames` frames of a moving test pattern as H.264 in MP4.
fn clip(dir: &Path, name: &str, frames: u32, w: u32, h: u32) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("gst-launch-1.0")
        .args([
            "-q",
            "videotestsrc",
            &format!("num-buffers={frames}"),
            "pattern=ball",
            "!",
        ])
        .arg(format!("video/x-raw,width={w},height={h},framerate=25/1"))
        .args([
            "!",
            "x264enc",
            "tune=zerolatency",
            "speed-preset=ultrafast",
            "key-int-max=25",
        ])
        .args(["!", "h264parse", "!", "mp4mux", "!", "filesink"])
        .arg(format!("location={}", out.display()))
        .status()
        .expect("gst-launch-1.0 (installed by scripts/setup.sh)");
    assert!(status.success());
    out
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn a_test_source_delivers_rgb_frames_with_increasing_timestamps() {
    let mut opts = SourceOptions::live("cam_test", "testsrc://ball");
    opts.width = Some(320);
    let src = FrameSource::open(opts).expect("open");
    let mut last = None;
    for _ in 0..5 {
        let f = src
            .next_frame(Duration::from_secs(5))
            .expect("frame")
            .expect("not eos");
        assert_eq!(f.width, 320);
        assert!(f.stride >= 320 * 3);
        assert_eq!(f.data().len(), f.stride * (f.height as usize - 1) + 320 * 3);
        if let Some(prev) = last {
            assert!(f.pts > prev, "{:?} after {prev:?}", f.pts);
        }
        last = Some(f.pts);
    }
}

#[test]
fn an_odd_width_is_read_through_its_padded_stride() {
    // 321 * 3 = 963 bytes of pixels per row; GStreamer pads RGB rows to 964.
    let mut opts = SourceOptions::live("cam_odd", "testsrc://smpte");
    opts.width = Some(321);
    let src = FrameSource::open(opts).expect("open");
    let f = src
        .next_frame(Duration::from_secs(5))
        .expect("frame")
        .expect("not eos");
    assert_eq!(f.width, 321);
    assert_eq!(f.stride, 964, "GStreamer's stride is reported, not assumed");
    // SMPTE bars: the first pixel of every row in the top half is the same colour; a stride
    // error would shift colours row by row.
    let first = f.row(0)[..3].to_vec();
    for y in 0..f.height / 2 {
        assert_eq!(&f.row(y)[..3], first.as_slice(), "row {y} shifted");
    }
    assert_eq!(f.to_packed().len(), (321 * f.height * 3) as usize);
}

#[test]
fn a_slow_consumer_gets_the_newest_frame_and_every_drop_is_counted() {
    let mut cam = Camera::new(
        SourceOptions::live("cam_slow", "testsrc://ball"),
        SupervisorOptions::default(),
    );
    let mut seqs = Vec::new();
    for _ in 0..6 {
        let f = cam.next_frame().expect("frame").expect("running");
        seqs.push(f.seq);
        std::thread::sleep(Duration::from_millis(200)); // 25 fps source, 5 fps consumer
    }
    let st = cam.status();
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0] + 1),
        "frames were skipped, newest kept: {seqs:?}"
    );
    assert!(st.frames_dropped >= 10, "{st:?}");
    assert!(
        st.frames_decoded >= st.frames_delivered + st.frames_dropped,
        "{st:?}"
    );
    assert_eq!(st.state, CameraState::Running);
}

#[test]
fn a_file_is_read_completely_in_block_mode_and_then_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = clip(dir.path(), "a.mp4", 50, 320, 240);
    let mut cam = Camera::new(
        SourceOptions::new("cam_file", uri(&path)),
        SupervisorOptions::default(),
    );
    let mut n = 0;
    while let Some(f) = cam.next_frame().expect("frame") {
        assert_eq!((f.width, f.height), (320, 240));
        n += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let st = cam.status();
    assert_eq!(n, 50);
    assert_eq!(st.frames_dropped, 0);
    assert_eq!(st.frames_decoded, 50);
    assert_eq!(st.state, CameraState::Stopped);
    assert_eq!(st.stream.codec.as_deref(), Some("H.264"));
    assert!(st.stream.decoder.is_some(), "{st:?}");
    assert_eq!((st.stream.width, st.stream.height), (Some(320), Some(240)));
}

#[test]
fn the_analysis_rate_limits_frames_before_conversion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = clip(dir.path(), "b.mp4", 100, 320, 240); // 4 s at 25 fps
    let mut opts = SourceOptions::new("cam_rate", uri(&path));
    opts.max_fps = 5;
    let mut cam = Camera::new(opts, SupervisorOptions::default());
    let mut n = 0;
    while cam.next_frame().expect("frame").is_some() {
        n += 1;
    }
    assert!(
        (19..=22).contains(&n),
        "4 s at 5 fps is about 20 frames, got {n}"
    );
    assert_eq!(cam.status().frames_decoded, 100);
}

#[test]
fn corrupt_bytes_in_the_middle_of_a_stream_do_not_stop_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = clip(dir.path(), "c.mp4", 250, 320, 240); // 10 s
    let mut bytes = std::fs::read(&path).expect("read");
    let mid = bytes.len() / 2;
    let mut x = 0x1234_5678u32;
    for b in &mut bytes[mid..mid + 4000] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(&path, bytes).expect("write");
    let mut cam = Camera::new(
        SourceOptions::new("cam_corrupt", uri(&path)),
        SupervisorOptions::default(),
    );
    let mut last_pts = Duration::ZERO;
    let mut n = 0;
    let t = Instant::now();
    while let Some(f) = cam
        .next_frame()
        .unwrap_or_else(|e| panic!("corruption must not end the camera: {e}"))
    {
        last_pts = f.pts.unwrap_or_default();
        n += 1;
        assert!(t.elapsed() < Duration::from_secs(60), "no progress");
    }
    assert!(
        last_pts > Duration::from_secs(9),
        "decoding went on past the damage: last pts {last_pts:?}, {n} frames"
    );
    assert!(n >= 200, "{n} frames of 250");
}

#[test]
fn a_missing_file_is_a_permanent_error_naming_the_camera() {
    let mut cam = Camera::new(
        SourceOptions::new("cam_gone", "file:///nonexistent/clip.mp4"),
        SupervisorOptions::default(),
    );
    let err = cam.next_frame().expect_err("must fail");
    let msg = err.to_string();
    assert!(matches!(err, PipelineError::Open { .. }), "{msg}");
    assert!(
        msg.contains("cam_gone") && msg.contains("clip.mp4"),
        "{msg}"
    );
    let st = cam.status();
    assert_eq!(st.state, CameraState::Stopped);
    assert!(st.last_error.is_some());
}

#[test]
fn an_unknown_scheme_is_refused_before_gstreamer_runs() {
    let err = FrameSource::open(SourceOptions::new("c", "ftp://x/y")).expect_err("must fail");
    assert!(matches!(err, PipelineError::BadUri { .. }), "{err}");
}

#[test]
fn a_file_that_is_not_video_is_an_open_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("junk.mp4");
    std::fs::write(&p, vec![0x42u8; 10_000]).expect("write");
    let err = FrameSource::open(SourceOptions::new("cam_junk", uri(&p))).expect_err("must fail");
    assert!(err.to_string().contains("cam_junk"), "{err}");
}

#[test]
fn block_mode_never_drops_even_with_a_slow_consumer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = clip(dir.path(), "d.mp4", 30, 320, 240);
    let mut opts = SourceOptions::new("cam_block", uri(&path));
    opts.backpressure = Backpressure::Block;
    let mut cam = Camera::new(opts, SupervisorOptions::default());
    let mut seqs = Vec::new();
    while let Some(f) = cam.next_frame().expect("frame") {
        seqs.push(f.seq);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seqs, (0..30).collect::<Vec<_>>());
}
