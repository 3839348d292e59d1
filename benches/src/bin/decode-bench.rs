//! End-to-end decode harness: decoded frames per second through our ingest (`pipeline`
//! FrameSource: uridecodebin -> videoconvert -> RGB appsink -> mailbox -> consumer thread) for
//! 1, 4 and 8 cameras, against the same decode in bare `gst-launch-1.0 ... ! fakesink`
//! processes measured in the same run. Clips are encoded at run time with x264enc from a real
//! video in ../shared/testdata, scaled to 720p and 1080p.
//!
//! Usage: decode-bench [FRAMES_PER_CLIP] [CAMERA_COUNTS, e.g. 1,4,8]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pipeline::{Backpressure, FrameSource, SourceOptions};

fn encode(src: &Path, out: &Path, w: u32, h: u32, frames: u32) -> Result<()> {
    let status = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("uridecodebin")
        .arg(format!("uri=file://{}", src.display()))
        .args([
            "!",
            "videoconvert",
            "!",
            "videoscale",
            "!",
            "videorate",
            "!",
        ])
        .arg(format!(
            "video/x-raw,format=I420,width={w},height={h},framerate=25/1"
        ))
        .args(["!", "identity"])
        .arg(format!("eos-after={frames}"))
        .args([
            "!",
            "x264enc",
            "speed-preset=veryfast",
            "tune=zerolatency",
            "key-int-max=50",
            "bitrate=4000",
        ])
        .args(["!", "h264parse", "!", "mp4mux", "!", "filesink"])
        .arg(format!("location={}", out.display()))
        .status()
        .context("gst-launch-1.0")?;
    if !status.success() {
        bail!("encoding {} failed", out.display());
    }
    Ok(())
}

/// Our ingest: one FrameSource per camera, one consumer thread each, every frame read.
fn ours(clip: &Path, cameras: usize) -> Result<(u64, Duration)> {
    let t = Instant::now();
    let handles: Vec<_> = (0..cameras)
        .map(|i| {
            let clip = clip.to_owned();
            std::thread::spawn(move || -> Result<u64> {
                let mut o =
                    SourceOptions::new(format!("bench-{i}"), format!("file://{}", clip.display()));
                o.backpressure = Backpressure::Block;
                let src = FrameSource::open(o)?;
                let mut n = 0u64;
                let mut sum = 0u64;
                while let Some(f) = src.next_frame(Duration::from_secs(30))? {
                    sum = sum.wrapping_add(f.row(f.height / 2)[0] as u64); // touch the pixels
                    n += 1;
                }
                std::hint::black_box(sum);
                Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h
            .join()
            .map_err(|_| anyhow::anyhow!("bench thread panicked"))??;
    }
    Ok((total, t.elapsed()))
}

/// Bare GStreamer: the same decode and conversion into a fakesink, one process per camera.
fn bare(clip: &Path, cameras: usize, frames: u64) -> Result<(u64, Duration)> {
    let t = Instant::now();
    let mut children = Vec::new();
    for _ in 0..cameras {
        children.push(
            Command::new("gst-launch-1.0")
                .arg("-q")
                .arg("uridecodebin")
                .arg(format!("uri=file://{}", clip.display()))
                .args([
                    "!",
                    "queue",
                    "max-size-buffers=2",
                    "!",
                    "videoscale",
                    "!",
                    "videoconvert",
                    "!",
                ])
                .args(["video/x-raw,format=RGB", "!", "fakesink", "sync=false"])
                .spawn()?,
        );
    }
    for mut c in children {
        if !c.wait()?.success() {
            bail!("gst-launch-1.0 failed");
        }
    }
    Ok((frames * cameras as u64, t.elapsed()))
}

const REPEATS: usize = 3;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let frames: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let counts: Vec<usize> = args
        .next()
        .unwrap_or_else(|| "1,4,8".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    pipeline::init()?;
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let source = ws.join("../shared/testdata/video/traffic_parking_lot_topdown_intel.mp4");
    let dir = std::env::temp_dir().join("gatewatch-decode-bench");
    std::fs::create_dir_all(&dir)?;
    println!(
        "| clip | cameras | ours fps (total, median) | bare gst-launch fps (total, median) | ours / bare | per-repeat ratios |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, w, h) in [("720p H.264", 1280u32, 720u32), ("1080p H.264", 1920, 1080)] {
        let clip: PathBuf = dir.join(format!("{h}p.mp4"));
        if !clip.exists() {
            encode(&source, &clip, w, h, frames)?;
        }
        // Warm the page cache and GStreamer's registry.
        let (n1, _) = ours(&clip, 1)?;
        for &c in &counts {
            // Alternate the two, REPEATS times each, and report medians.
            let (mut fs, mut bfs) = (Vec::new(), Vec::new());
            for _ in 0..REPEATS {
                let (n, d) = ours(&clip, c)?;
                fs.push(n as f64 / d.as_secs_f64());
                let (bn, bd) = bare(&clip, c, n1)?;
                bfs.push(bn as f64 / bd.as_secs_f64());
            }
            let (f, bf) = (median(&mut fs), median(&mut bfs));
            println!(
                "| {label} ({n1} frames) | {c} | {f:.1} | {bf:.1} | {:.3} | {} |",
                f / bf,
                fs.iter()
                    .zip(&bfs)
                    .map(|(a, b)| format!("{:.2}", a / b))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}
