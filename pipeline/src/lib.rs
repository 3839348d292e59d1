//! GStreamer ingest: a camera URI in, decoded RGB frames with timestamps out.
//!
//! This crate owns everything that touches GStreamer: building the decode pipeline for a URI
//! (RTSP over TCP or UDP, files, HTTP MJPEG, test sources), choosing a hardware decoder when the
//! machine has one, handing frames to the consumer with explicit backpressure (newest wins, or
//! block for complete file analysis) and counting every drop, and supervising a camera through
//! disconnects, stalls and errors with exponential backoff. It is a synchronous library: call
//! [`Camera::next_frame`] from a dedicated thread, never from an async runtime's worker.
//!
//! ```text
//! uridecodebin(uri) -> [count decoded] -> videorate(max-rate) -> videoscale -> videoconvert
//!     -> video/x-raw,format=RGB -> appsink --callback--> Mailbox (1 slot) -> next_frame()
//! ```

use std::time::{Duration, SystemTime};

use gstreamer as gst;

mod decoder;
mod mailbox;
mod source;
mod supervisor;

pub use decoder::{DecoderPreference, hardware_decoders_present, set_decoder_preference};
pub use source::{FrameSource, StreamInfo};
pub use supervisor::{Camera, CameraMonitor, CameraState, CameraStatus, SupervisorOptions};

/// Errors raised while opening or reading a camera. Each names the camera; URIs are shown with
/// credentials removed.
#[derive(Debug, Clone, thiserror::Error)]
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

/// RTSP lower transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtspTransport {
    /// Let rtspsrc try UDP, then fall back to TCP.
    #[default]
    Auto,
    /// Interleaved over the RTSP TCP connection: survives NAT and lossy links.
    Tcp,
    /// RTP over UDP: lowest latency on a clean LAN.
    Udp,
}

/// What happens when the consumer is slower than the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backpressure {
    /// Keep only the newest frame; replaced frames are dropped and counted (live cameras).
    LatestWins,
    /// Make the decoder wait for the consumer; nothing is dropped (file analysis).
    Block,
}

/// How a camera is read.
#[derive(Clone)]
pub struct SourceOptions {
    /// Camera id, used in every error and log line.
    pub camera_id: String,
    /// `rtsp://`, `rtsps://`, `file://`, `http(s)://` (e.g. MJPEG) or `testsrc://<pattern>`.
    pub uri: String,
    /// RTSP/HTTP user name, given to the source element rather than written in the URI.
    pub username: Option<String>,
    /// RTSP/HTTP password; never logged.
    pub password: Option<String>,
    pub rtsp_transport: RtspTransport,
    /// Deliver at most this many frames per second (0 = every decoded frame). Frames beyond the
    /// rate are discarded before colour conversion, so they cost only their decode.
    pub max_fps: u32,
    /// Scale frames to this width (height keeps the aspect ratio); `None` keeps the stream size.
    pub width: Option<u32>,
    pub backpressure: Backpressure,
    /// Play at the stream's own pace (files as if they were cameras). Live sources always do.
    pub realtime: bool,
    /// How long to wait for the first frame before the open fails.
    pub open_timeout: Duration,
}

impl std::fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceOptions")
            .field("camera_id", &self.camera_id)
            .field("uri", &redact_uri(&self.uri))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("rtsp_transport", &self.rtsp_transport)
            .field("max_fps", &self.max_fps)
            .field("width", &self.width)
            .field("backpressure", &self.backpressure)
            .field("realtime", &self.realtime)
            .finish()
    }
}

impl SourceOptions {
    /// Options for `uri` with defaults suited to a file: every frame, as fast as it is read.
    pub fn new(camera_id: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            camera_id: camera_id.into(),
            uri: uri.into(),
            username: None,
            password: None,
            rtsp_transport: RtspTransport::Auto,
            max_fps: 0,
            width: None,
            backpressure: Backpressure::Block,
            realtime: false,
            open_timeout: Duration::from_secs(10),
        }
    }

    /// Options for a live camera: newest frame wins.
    pub fn live(camera_id: impl Into<String>, uri: impl Into<String>) -> Self {
        Self {
            backpressure: Backpressure::LatestWins,
            realtime: true,
            ..Self::new(camera_id, uri)
        }
    }

    /// The URI scheme in lower case.
    pub fn scheme(&self) -> Option<String> {
        self.uri
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
    }
}

/// One decoded RGB frame. The pixels stay in GStreamer's buffer (no copy); rows are `stride`
/// bytes apart, of which the first `width * 3` are pixels.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Bytes from the start of one row to the next (>= `width * 3`).
    pub stride: usize,
    /// Presentation timestamp within the stream.
    pub pts: Option<Duration>,
    /// Wall-clock time the frame left the decoder pipeline.
    pub captured_at: SystemTime,
    /// 0-based index of frames delivered by this source.
    pub seq: u64,
    map: gst::MappedBuffer<gst::buffer::Readable>,
    offset: usize,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .field("pts", &self.pts)
            .field("seq", &self.seq)
            .finish()
    }
}

impl Frame {
    /// The pixel bytes, starting at row 0; row `y` starts at `y * stride`. The slice ends after
    /// the last pixel of the last row.
    pub fn data(&self) -> &[u8] {
        let len = self.stride * (self.height as usize - 1) + self.width as usize * 3;
        &self.map[self.offset..self.offset + len]
    }

    /// Pixels of row `y` (without padding).
    pub fn row(&self, y: u32) -> &[u8] {
        let start = self.offset + y as usize * self.stride;
        &self.map[start..start + self.width as usize * 3]
    }

    /// A tightly packed copy (`width * 3` bytes per row).
    pub fn to_packed(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.width as usize * 3 * self.height as usize);
        for y in 0..self.height {
            v.extend_from_slice(self.row(y));
        }
        v
    }
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

/// Initialises GStreamer once per process.
pub fn init() -> Result<(), PipelineError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| e.to_string()))
        .clone()
        .map_err(|reason| PipelineError::Init { reason })
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
    fn options_never_print_the_password() {
        let mut o = SourceOptions::live("c", "rtsp://admin:hunter2@cam/s");
        o.password = Some("hunter2".into());
        let text = format!("{o:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
