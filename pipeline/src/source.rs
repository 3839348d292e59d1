//! One decode pipeline for one camera, from open to drop. No retry logic here: the supervisor
//! ([`crate::Camera`]) restarts a `FrameSource` that failed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_video as gst_video;

use crate::mailbox::{Item, Mailbox, Take};
use crate::{Frame, PipelineError, RtspTransport, SourceOptions, decoder, redact_uri};

/// What was learnt about the stream once it started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamInfo {
    /// Codec of the compressed stream, e.g. `H.264`, `H.265`, `MJPEG`, `raw`.
    pub codec: Option<String>,
    /// Decoder element factory, e.g. `avdec_h264`, `vah264dec`.
    pub decoder: Option<String>,
    pub hardware_decoder: bool,
    /// Size and rate of the decoded stream (before any resize or rate limit).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
}

/// Shared between the streaming thread and the owner.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub decoded: AtomicU64,
}

/// A running decode pipeline for one camera.
pub struct FrameSource {
    opts: SourceOptions,
    pipeline: gst::Pipeline,
    bus: gst::Bus,
    mailbox: Arc<Mailbox<Frame>>,
    counters: Arc<Counters>,
    decoder: Arc<Mutex<Option<gst::Element>>>,
    started: Instant,
}

impl std::fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSource")
            .field("camera_id", &self.opts.camera_id)
            .field("uri", &redact_uri(&self.opts.uri))
            .finish()
    }
}

fn source_fragment(opts: &SourceOptions) -> Result<String, PipelineError> {
    let bad = |reason: &str| PipelineError::BadUri {
        camera: opts.camera_id.clone(),
        uri: redact_uri(&opts.uri),
        reason: reason.into(),
    };
    let Some(scheme) = opts.scheme() else {
        return Err(bad(
            "missing scheme (expected rtsp://, rtsps://, file://, http://, https:// or testsrc://)",
        ));
    };
    match scheme.as_str() {
        "rtsp" | "rtsps" | "file" | "http" | "https" => Ok("uridecodebin name=src".into()),
        "testsrc" => {
            // testsrc://<pattern>, e.g. testsrc://ball; a source without a network for demos.
            let rest = &opts.uri[opts.uri.find("://").map_or(0, |i| i + 3)..];
            let pattern = if rest.is_empty() { "smpte" } else { rest };
            if !pattern
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(bad("test pattern must be a videotestsrc pattern name"));
            }
            Ok(format!(
                "videotestsrc name=src is-live=true pattern={pattern} ! video/x-raw,width=640,height=480,framerate=25/1"
            ))
        }
        other => Err(bad(&format!("unsupported scheme {other:?}"))),
    }
}

fn codec_name(caps: &gst::CapsRef) -> Option<String> {
    let s = caps.structure(0)?;
    Some(
        match s.name().as_str() {
            "video/x-h264" => "H.264",
            "video/x-h265" => "H.265",
            "image/jpeg" => "MJPEG",
            "video/x-vp8" => "VP8",
            "video/x-vp9" => "VP9",
            "video/x-av1" => "AV1",
            "video/mpeg" => "MPEG",
            "video/x-raw" => "raw",
            other => other,
        }
        .to_string(),
    )
}

impl FrameSource {
    /// Builds the pipeline and starts it. Returns once the first frame is decoded, or with an
    /// error naming the camera and the reason (unreachable host, missing file, no video, ...).
    pub fn open(opts: SourceOptions) -> Result<Self, PipelineError> {
        crate::init()?;
        let src = source_fragment(&opts)?;
        let mut caps = String::from("video/x-raw,format=RGB");
        if let Some(w) = opts.width {
            caps.push_str(&format!(",width={w},pixel-aspect-ratio=1/1"));
        }
        // Rate-limit before scaling and colour conversion: dropped frames cost only their decode.
        let rate = if opts.max_fps > 0 {
            format!("videorate drop-only=true max-rate={} ! ", opts.max_fps)
        } else {
            String::new()
        };
        let live = matches!(
            opts.scheme().as_deref(),
            Some("rtsp" | "rtsps" | "http" | "https" | "testsrc")
        );
        let sync = opts.realtime && !live;
        let desc = format!(
            "{src} ! queue name=decoded max-size-buffers=2 ! {rate}videoscale ! videoconvert ! \
             capsfilter caps=\"{caps}\" ! appsink name=sink sync={sync} max-buffers=1 drop=false"
        );
        let build_err = |reason: String| PipelineError::Build {
            camera: opts.camera_id.clone(),
            reason,
        };
        let pipeline = gst::parse::launch(&desc)
            .map_err(|e| build_err(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| build_err("not a pipeline".into()))?;
        let bus = pipeline
            .bus()
            .ok_or_else(|| build_err("pipeline has no bus".into()))?;
        let src_el = pipeline
            .by_name("src")
            .ok_or_else(|| build_err("source missing".into()))?;
        if src_el.has_property("uri") {
            src_el.set_property("uri", opts.uri.as_str());
            let (user, pass, transport) = (
                opts.username.clone(),
                opts.password.clone(),
                opts.rtsp_transport,
            );
            // Configure the protocol element uridecodebin creates (rtspsrc, souphttpsrc).
            src_el.connect("source-setup", false, move |args| {
                let source = args.get(1).and_then(|v| v.get::<gst::Element>().ok())?;
                if let Some(u) = &user
                    && source.has_property("user-id")
                {
                    source.set_property("user-id", u);
                }
                if let Some(pw) = &pass
                    && source.has_property("user-pw")
                {
                    source.set_property("user-pw", pw);
                }
                if source.has_property("protocols") {
                    let value = match transport {
                        RtspTransport::Auto => None,
                        RtspTransport::Tcp => Some("tcp"),
                        RtspTransport::Udp => Some("udp"),
                    };
                    if let Some(v) = value {
                        source.set_property_from_str("protocols", v);
                    }
                }
                if source.has_property("latency") {
                    source.set_property("latency", 200u32);
                }
                None
            });
        }
        // Remember the decoder autoplugged for this camera.
        let decoder_slot: Arc<Mutex<Option<gst::Element>>> = Arc::default();
        {
            let slot = decoder_slot.clone();
            pipeline.connect_deep_element_added(move |_, _, el| {
                if decoder::is_video_decoder(el) {
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(el.clone());
                }
            });
        }
        // Count every decoded frame, before the rate limit drops any.
        let counters = Arc::new(Counters::default());
        if let Some(q) = pipeline.by_name("decoded")
            && let Some(pad) = q.static_pad("sink")
        {
            let c = counters.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                c.decoded.fetch_add(1, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            });
        }
        let sink = pipeline
            .by_name("sink")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| build_err("appsink missing".into()))?;
        let mailbox = Arc::new(Mailbox::new(opts.backpressure));
        {
            let mb = mailbox.clone();
            let mb_eos = mailbox.clone();
            let camera = opts.camera_id.clone();
            let seq = AtomicU64::new(0);
            sink.set_callbacks(
                gst_app::AppSinkCallbacks::builder()
                    .new_sample(move |sink| {
                        let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                        match frame_from_sample(
                            &camera,
                            &sample,
                            seq.fetch_add(1, Ordering::Relaxed),
                        ) {
                            Ok(f) => {
                                if mb.put(Item::Frame(f)) {
                                    Ok(gst::FlowSuccess::Ok)
                                } else {
                                    Err(gst::FlowError::Flushing)
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "frame skipped");
                                Ok(gst::FlowSuccess::Ok)
                            }
                        }
                    })
                    .eos(move |_| {
                        mb_eos.put(Item::Eos);
                    })
                    .build(),
            );
        }
        let me = Self {
            opts,
            pipeline,
            bus,
            mailbox,
            counters,
            decoder: decoder_slot,
            started: Instant::now(),
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

    fn start(&self) -> Result<(), PipelineError> {
        if let Err(e) = self.pipeline.set_state(gst::State::Playing) {
            let reason = self
                .bus_error()
                .map(|(_, r)| r)
                .unwrap_or_else(|| e.to_string());
            return Err(self.open_err(reason));
        }
        // Wait for the first frame (or an error) so that a bad URI fails here, by name.
        let deadline = Instant::now() + self.opts.open_timeout;
        loop {
            if let Some((_, reason)) = self.bus_error() {
                return Err(self.open_err(reason));
            }
            match self.mailbox.peek() {
                Some(true) => break,
                Some(false) => {
                    return Err(self.open_err("stream ended before the first frame".into()));
                }
                None => {}
            }
            if Instant::now() > deadline {
                return Err(self.open_err(format!(
                    "no video within {} ms",
                    self.opts.open_timeout.as_millis()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tracing::info!(
            camera = %self.opts.camera_id,
            uri = %redact_uri(&self.opts.uri),
            decoder = self.info().decoder.as_deref().unwrap_or("none"),
            "camera opened"
        );
        Ok(())
    }

    fn bus_error(&self) -> Option<(String, String)> {
        while let Some(msg) = self
            .bus
            .pop_filtered(&[gst::MessageType::Error, gst::MessageType::Warning])
        {
            match msg.view() {
                gst::MessageView::Error(err) => {
                    let element = err
                        .src()
                        .map(|s| s.path_string().to_string())
                        .unwrap_or_else(|| "pipeline".into());
                    let reason = match err.debug() {
                        Some(d) => format!("{} ({})", err.error(), last_line(d.as_str())),
                        None => err.error().to_string(),
                    };
                    return Some((element, reason));
                }
                gst::MessageView::Warning(w) => {
                    tracing::debug!(camera = %self.opts.camera_id, warning = %w.error(), "GStreamer warning");
                }
                _ => {}
            }
        }
        None
    }

    /// The camera id this source reads.
    pub fn camera_id(&self) -> &str {
        &self.opts.camera_id
    }

    /// Waits up to `timeout` for the next frame. `Ok(Some)` a frame, `Ok(None)` end of stream,
    /// `Err(Stalled)` nothing within `timeout`, other errors from the stream.
    pub fn next_frame(&self, timeout: Duration) -> Result<Option<Frame>, PipelineError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((element, reason)) = self.bus_error() {
                return Err(PipelineError::Stream {
                    camera: self.opts.camera_id.clone(),
                    element,
                    reason,
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.mailbox.take(left.min(Duration::from_millis(100))) {
                Take::Item(Item::Frame(f)) => return Ok(Some(f)),
                Take::Item(Item::Eos) | Take::Closed => return Ok(None),
                Take::Timeout if Instant::now() >= deadline => {
                    return Err(PipelineError::Stalled {
                        camera: self.opts.camera_id.clone(),
                        waited_ms: timeout.as_millis() as u64,
                    });
                }
                Take::Timeout => {}
            }
        }
    }

    /// Frames out of the decoder so far (before rate limiting).
    pub fn frames_decoded(&self) -> u64 {
        self.counters.decoded.load(Ordering::Relaxed)
    }

    /// Frames handed to the consumer.
    pub fn frames_delivered(&self) -> u64 {
        self.mailbox.delivered.load(Ordering::Relaxed)
    }

    /// Frames replaced by a newer one before the consumer read them.
    pub fn frames_dropped(&self) -> u64 {
        self.mailbox.dropped.load(Ordering::Relaxed)
    }

    /// Time since the pipeline was started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Codec, decoder, size and rate of the stream.
    pub fn info(&self) -> StreamInfo {
        let mut info = StreamInfo::default();
        let dec = self
            .decoder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(d) = dec {
            let name = d.factory().map(|f| f.name().to_string());
            info.hardware_decoder = name.as_deref().is_some_and(decoder::is_hardware);
            info.decoder = name;
            if let Some(caps) = d.static_pad("sink").and_then(|p| p.current_caps()) {
                info.codec = codec_name(&caps);
            }
        } else {
            info.codec = Some("raw".into());
        }
        let pad = self
            .pipeline
            .by_name("decoded")
            .and_then(|q| q.static_pad("sink"));
        if let Some(caps) = pad.and_then(|p| p.current_caps())
            && let Ok(v) = gst_video::VideoInfo::from_caps(&caps)
        {
            info.width = Some(v.width());
            info.height = Some(v.height());
            let f = v.fps();
            if f.denom() > 0 && f.numer() > 0 {
                info.fps = Some(f.numer() as f64 / f.denom() as f64);
            }
        }
        info
    }
}

impl Drop for FrameSource {
    fn drop(&mut self) {
        self.mailbox.close();
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

fn frame_from_sample(camera: &str, sample: &gst::Sample, seq: u64) -> Result<Frame, PipelineError> {
    let bad = |w: u32, h: u32, reason: &str| PipelineError::BadFrame {
        camera: camera.to_owned(),
        width: w,
        height: h,
        reason: reason.into(),
    };
    let caps = sample
        .caps()
        .ok_or_else(|| bad(0, 0, "sample without caps"))?;
    let info =
        gst_video::VideoInfo::from_caps(caps).map_err(|_| bad(0, 0, "caps are not raw video"))?;
    let (w, h) = (info.width(), info.height());
    if info.format() != gst_video::VideoFormat::Rgb || w == 0 || h == 0 {
        return Err(bad(w, h, "not a non-empty RGB frame"));
    }
    let buffer = sample
        .buffer_owned()
        .ok_or_else(|| bad(w, h, "sample without buffer"))?;
    let pts = buffer.pts().map(|t| Duration::from_nanos(t.nseconds()));
    // Honour the layout GStreamer reports (video meta first, then caps).
    let (offset, stride) = match buffer.meta::<gst_video::VideoMeta>() {
        Some(m) => (m.offset()[0], m.stride()[0]),
        None => (info.offset()[0], info.stride()[0]),
    };
    let stride = usize::try_from(stride).map_err(|_| bad(w, h, "negative stride"))?;
    let row = w as usize * 3;
    let map = buffer
        .into_mapped_buffer_readable()
        .map_err(|_| bad(w, h, "buffer not readable"))?;
    if stride < row || offset + stride * (h as usize - 1) + row > map.len() {
        return Err(bad(w, h, "buffer smaller than stride x height"));
    }
    Ok(Frame {
        width: w,
        height: h,
        stride,
        pts,
        captured_at: SystemTime::now(),
        seq,
        map,
        offset,
    })
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s)
}
