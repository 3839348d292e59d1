//! GStreamer ingest: a camera URI in, decoded RGB frames with timestamps out.
//!
//! This crate owns everything that touches GStreamer: building the decode pipeline for a URI
//! (RTSP, file, HTTP, test sources), pulling frames off an `appsink` while honouring the stride
//! GStreamer reports, and turning bus errors into typed [`PipelineError`]s that name the camera.
//! It is a synchronous library: call [`FrameSource::next_frame`] from a dedicated thread, never
//! from an async runtime's worker.
//!
//! ```text
//! uridecodebin(uri) -> videoconvert -> videoscale -> videorate(max-rate) -> RGB caps -> appsink
//! ```

use std::sync::Once;
use std::time::{Duration, Instant, SystemTime};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

/// Errors raised while opening or reading a camera.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("GStreamer could not be initialised: {reason}")]
    Init { reason: String },
    #[error("camera {camera}: {uri} is not a usable URI: {reason}")]
    BadUri {
        camera: String,
        uri: String,
        reason: String,
    },
    #[error("camera {camera}: could not build the decode pipeline: {reason}")]
    Build { camera: String, reason: String },
    #[error("camera {camera}: could not open {uri}: {reason}")]
    Open {
        camera: String,
        uri: String,
        reason: String,
    },
    #[error("camera {camera}: stream error from {element}: {reason}")]
    Stream {
        camera: String,
        element: String,
        reason: String,
    },
    #[error("camera {camera}: no frame for {waited_ms} ms")]
    Stalled { camera: String, waited_ms: u64 },
    #[error("camera {camera}: frame {width}x{height} has an unusable layout: {reason}")]
    BadFrame {
        camera: String,
        width: u32,
        height: u32,
        reason: String,
    },
}

/// How a camera is read.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Camera id, used in every error and log line.
    pub camera_id: String,
    /// `rtsp://`, `file://`, `http(s)://` or `testsrc://` (GStreamer `videotestsrc`, for demos).
    pub uri: String,
    /// Deliver at most this many frames per second (0 = every decoded frame).
    pub max_fps: u32,
    /// Scale frames to this width (height keeps the aspect ratio); `None` keeps the stream size.
    pub width: Option<u32>,
    /// `true`: play at the stream's own pace and let newest frames replace unread ones (live
    /// cameras). `false`: decode as fast as the consumer reads and never drop (files, tests).
    pub live: bool,
    /// How long to wait for the first frame and between frames before reporting a stall.
    pub stall_timeout: Duration,
}

impl SourceOptions {
    /// Options for `uri` with defaults suited to a file: every frame, as fast as it is read.
    pub fn new(camera_id: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            camera_id: camera_id.into(),
            uri: uri.into(),
            max_fps: 0,
            width: None,
            live: false,
            stall_timeout: Duration::from_secs(10),
        }
    }
}

/// One decoded frame, tightly packed RGB (row `y` starts at `y * width * 3`).
#[derive(Debug, Clone)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// `width * height * 3` bytes, RGB.
    pub data: Vec<u8>,
    /// Presentation timestamp within the stream.
    pub pts: Option<Duration>,
    /// Wall-clock time the frame left the decoder.
    pub captured_at: SystemTime,
    /// 0-based index of frames delivered by this source.
    pub seq: u64,
}

/// Hides `user:password@` in URIs so credentials are never logged.
pub fn redact_uri(uri: &str) -> String {
    if let Some(scheme_end) = uri.find("://") {
        let rest = &uri[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}://***@{}", &uri[..scheme_end], &rest[at + 1..]);
        }
    }
    uri.to_owned()
}

static INIT: Once = Once::new();

/// Initialises GStreamer once per process.
pub fn init() -> Result<(), PipelineError> {
    let mut err = None;
    INIT.call_once(|| {
        if let Err(e) = gst::init() {
            err = Some(e.to_string());
        }
    });
    match err {
        Some(reason) => Err(PipelineError::Init { reason }),
        None => {
            // A failed init leaves GStreamer unusable; later calls detect it here.
            if gst::INITIALIZED.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(())
            } else {
                Err(PipelineError::Init {
                    reason: "an earlier initialisation failed".into(),
                })
            }
        }
    }
}

/// A running decode pipeline for one camera.
pub struct FrameSource {
    opts: SourceOptions,
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    bus: gst::Bus,
    seq: u64,
    last_frame_at: Instant,
}

impl std::fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSource")
            .field("camera_id", &self.opts.camera_id)
            .field("uri", &redact_uri(&self.opts.uri))
            .field("seq", &self.seq)
            .finish()
    }
}

fn source_fragment(opts: &SourceOptions) -> Result<String, PipelineError> {
    let uri = opts.uri.as_str();
    let bad = |reason: &str| PipelineError::BadUri {
        camera: opts.camera_id.clone(),
        uri: redact_uri(uri),
        reason: reason.into(),
    };
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(bad(
            "missing scheme (expected rtsp://, file://, http://, https:// or testsrc://)",
        ));
    };
    match scheme {
        "rtsp" | "rtsps" | "file" | "http" | "https" => Ok("uridecodebin name=src".into()),
        "testsrc" => {
            // testsrc://<pattern>, e.g. testsrc://ball; a demo/test source without a network.
            let pattern = if rest.is_empty() { "smpte" } else { rest };
            if !pattern
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(bad("test pattern must be a videotestsrc pattern name"));
            }
            Ok(format!("videotestsrc is-live=true pattern={pattern}"))
        }
        other => Err(bad(&format!("unsupported scheme {other:?}"))),
    }
}

impl FrameSource {
    /// Builds the pipeline and starts it. Returns once the stream has prerolled, or with an
    /// error naming the camera and the reason (unreachable host, missing file, no video, ...).
    pub fn open(opts: SourceOptions) -> Result<Self, PipelineError> {
        init()?;
        let src = source_fragment(&opts)?;
        let mut caps = String::from("video/x-raw,format=RGB");
        if let Some(w) = opts.width {
            caps.push_str(&format!(",width={w},pixel-aspect-ratio=1/1"));
        }
        let rate = if opts.max_fps > 0 {
            format!("videorate drop-only=true max-rate={} ! ", opts.max_fps)
        } else {
            String::new()
        };
        let (max_buffers, drop) = if opts.live { (1, true) } else { (2, false) };
        let desc = format!(
            "{src} ! videoconvert ! videoscale ! {rate}capsfilter caps=\"{caps}\" ! \
             appsink name=sink sync={} max-buffers={max_buffers} drop={drop} emit-signals=false",
            opts.live && !opts.uri.starts_with("rtsp")
        );
        let build_err = |reason: String| PipelineError::Build {
            camera: opts.camera_id.clone(),
            reason,
        };
        let pipeline = gst::parse::launch(&desc)
            .map_err(|e| build_err(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| build_err("not a pipeline".into()))?;
        if let Some(src) = pipeline.by_name("src") {
            src.set_property("uri", opts.uri.as_str());
        }
        let sink = pipeline
            .by_name("sink")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| build_err("appsink missing".into()))?;
        let bus = pipeline
            .bus()
            .ok_or_else(|| build_err("pipeline has no bus".into()))?;
        let mut me = Self {
            opts,
            pipeline,
            sink,
            bus,
            seq: 0,
            last_frame_at: Instant::now(),
        };
        me.start()?;
        Ok(me)
    }

    fn open_err(&self, reason: String) -> PipelineError {
        PipelineError::Open {
            camera: self.opts.camera_id.clone(),
            uri: redact_uri(&self.opts.uri),
            reason,
        }
    }

    fn start(&mut self) -> Result<(), PipelineError> {
        if let Err(e) = self.pipeline.set_state(gst::State::Playing) {
            let reason = self.pending_error().unwrap_or_else(|| e.to_string());
            let _ = self.pipeline.set_state(gst::State::Null);
            return Err(self.open_err(reason));
        }
        // Wait for preroll (or an error) so that a bad URI fails here, at open, by name.
        let deadline = Instant::now() + self.opts.stall_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let _ = self.pipeline.set_state(gst::State::Null);
                return Err(self.open_err(format!(
                    "no video within {} ms",
                    self.opts.stall_timeout.as_millis()
                )));
            }
            let msg = self.bus.timed_pop_filtered(
                gst::ClockTime::from_mseconds(left.as_millis().min(200) as u64),
                &[
                    gst::MessageType::Error,
                    gst::MessageType::AsyncDone,
                    gst::MessageType::Eos,
                    gst::MessageType::StateChanged,
                ],
            );
            let Some(msg) = msg else { continue };
            match msg.view() {
                gst::MessageView::Error(err) => {
                    let _ = self.pipeline.set_state(gst::State::Null);
                    return Err(self.open_err(describe_error(err)));
                }
                gst::MessageView::Eos(_) => {
                    let _ = self.pipeline.set_state(gst::State::Null);
                    return Err(self.open_err("stream ended before the first frame".into()));
                }
                gst::MessageView::AsyncDone(_) => break,
                gst::MessageView::StateChanged(sc)
                    if sc.src() == Some(self.pipeline.upcast_ref::<gst::Object>())
                        && sc.current() == gst::State::Playing =>
                {
                    break;
                }
                _ => {}
            }
        }
        self.last_frame_at = Instant::now();
        tracing::info!(camera = %self.opts.camera_id, uri = %redact_uri(&self.opts.uri), "camera opened");
        Ok(())
    }

    fn pending_error(&self) -> Option<String> {
        self.bus
            .pop_filtered(&[gst::MessageType::Error])
            .and_then(|m| match m.view() {
                gst::MessageView::Error(e) => Some(describe_error(e)),
                _ => None,
            })
    }

    /// The camera id this source reads.
    pub fn camera_id(&self) -> &str {
        &self.opts.camera_id
    }

    /// Blocks until the next frame. `Ok(None)` means the stream ended (end of file).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, PipelineError> {
        loop {
            if let Some(msg) = self.bus.pop_filtered(&[gst::MessageType::Error])
                && let gst::MessageView::Error(err) = msg.view()
            {
                {
                    return Err(PipelineError::Stream {
                        camera: self.opts.camera_id.clone(),
                        element: err
                            .src()
                            .map(|s| s.path_string().to_string())
                            .unwrap_or_else(|| "pipeline".into()),
                        reason: describe_error(err),
                    });
                }
            }
            match self
                .sink
                .try_pull_sample(gst::ClockTime::from_mseconds(100))
            {
                Some(sample) => {
                    self.last_frame_at = Instant::now();
                    return self.frame_from_sample(&sample).map(Some);
                }
                None => {
                    if self.sink.is_eos() {
                        return Ok(None);
                    }
                    let waited = self.last_frame_at.elapsed();
                    if waited > self.opts.stall_timeout {
                        return Err(PipelineError::Stalled {
                            camera: self.opts.camera_id.clone(),
                            waited_ms: waited.as_millis() as u64,
                        });
                    }
                }
            }
        }
    }

    fn frame_from_sample(&mut self, sample: &gst::Sample) -> Result<Frame, PipelineError> {
        let bad = |w: u32, h: u32, reason: &str| PipelineError::BadFrame {
            camera: self.opts.camera_id.clone(),
            width: w,
            height: h,
            reason: reason.into(),
        };
        let caps = sample
            .caps()
            .ok_or_else(|| bad(0, 0, "sample without caps"))?;
        let info = gst_video::VideoInfo::from_caps(caps)
            .map_err(|_| bad(0, 0, "caps are not raw video"))?;
        let (w, h) = (info.width(), info.height());
        if info.format() != gst_video::VideoFormat::Rgb {
            return Err(bad(w, h, "not RGB"));
        }
        let buffer = sample
            .buffer()
            .ok_or_else(|| bad(w, h, "sample without buffer"))?;
        let map = buffer
            .map_readable()
            .map_err(|_| bad(w, h, "buffer not readable"))?;
        let stride = usize::try_from(info.stride()[0]).map_err(|_| bad(w, h, "negative stride"))?;
        let offset = info.offset()[0];
        let row = w as usize * 3;
        if stride < row || offset + stride * (h as usize - 1) + row > map.len() {
            return Err(bad(w, h, "buffer smaller than stride x height"));
        }
        let mut data = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            let start = offset + y * stride;
            data.extend_from_slice(&map[start..start + row]);
        }
        let seq = self.seq;
        self.seq += 1;
        Ok(Frame {
            width: w,
            height: h,
            data,
            pts: buffer.pts().map(|t| Duration::from_nanos(t.nseconds())),
            captured_at: SystemTime::now(),
            seq,
        })
    }
}

impl Drop for FrameSource {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn describe_error(err: &gst::message::Error) -> String {
    match err.debug() {
        Some(d) => format!("{} ({})", err.error(), first_line(d.as_str())),
        None => err.error().to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_from_uris() {
        assert_eq!(
            redact_uri("rtsp://admin:s3cret@10.0.0.5:554/stream1"),
            "rtsp://***@10.0.0.5:554/stream1"
        );
        assert_eq!(redact_uri("file:///a@b/c.mp4"), "file:///a@b/c.mp4");
        assert_eq!(redact_uri("rtsp://cam/stream"), "rtsp://cam/stream");
    }

    #[test]
    fn a_test_source_delivers_rgb_frames_of_the_requested_width() {
        let mut opts = SourceOptions::new("cam_test", "testsrc://ball");
        opts.width = Some(320);
        opts.live = true;
        let mut src = FrameSource::open(opts).expect("open");
        let a = src.next_frame().expect("frame").expect("not eos");
        let b = src.next_frame().expect("frame").expect("not eos");
        assert_eq!(a.width, 320);
        assert_eq!(a.data.len(), (a.width * a.height * 3) as usize);
        assert!(b.seq > a.seq);
        assert!(b.pts > a.pts, "{:?} then {:?}", a.pts, b.pts);
    }

    #[test]
    fn an_odd_width_is_unpacked_with_its_stride() {
        // 321 * 3 = 963 bytes per row; GStreamer pads RGB rows to 4 bytes (964).
        let mut opts = SourceOptions::new("cam_odd", "testsrc://smpte");
        opts.width = Some(321);
        opts.live = true;
        let mut src = FrameSource::open(opts).expect("open");
        let f = src.next_frame().expect("frame").expect("not eos");
        assert_eq!(f.width, 321);
        assert_eq!(f.data.len(), (321 * f.height * 3) as usize);
        // smpte bars: first pixel of every row in the top part is the same colour (white-ish
        // grey bar); a stride error would shift colours row by row.
        let first = &f.data[0..3];
        for y in 0..(f.height as usize / 2) {
            let px = &f.data[y * 321 * 3..y * 321 * 3 + 3];
            assert_eq!(px, first, "row {y} shifted");
        }
    }

    #[test]
    fn a_missing_file_is_an_open_error_naming_the_camera() {
        let err = FrameSource::open(SourceOptions::new(
            "cam_gone",
            "file:///nonexistent/clip.mp4",
        ))
        .expect_err("must fail");
        let msg = err.to_string();
        assert!(matches!(err, PipelineError::Open { .. }), "{msg}");
        assert!(
            msg.contains("cam_gone") && msg.contains("clip.mp4"),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_scheme_is_refused_before_gstreamer_runs() {
        let err = FrameSource::open(SourceOptions::new("c", "ftp://x/y")).expect_err("must fail");
        assert!(matches!(err, PipelineError::BadUri { .. }), "{err}");
    }
}
