//! Supervision of one camera: (re)open its [`FrameSource`], detect stalls and errors, restart
//! with exponential backoff and jitter, and keep a status anyone can read at any time. Each
//! camera is driven by its own consumer thread, so one failing camera never stalls another.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::source::{FrameSource, StreamInfo};
use crate::{Frame, PipelineError, SourceOptions};

/// Lifecycle of a supervised camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraState {
    /// Opening the stream (first time or after a failure).
    Starting,
    /// Frames are flowing.
    Running,
    /// The stream failed; waiting before the next attempt.
    Retrying,
    /// Stopped on request or at the end of a file.
    Stopped,
}

/// A snapshot of a camera's state and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraStatus {
    pub camera_id: String,
    pub state: CameraState,
    /// Frames out of the decoder (all pipelines of this camera together).
    pub frames_decoded: u64,
    /// Frames handed to the consumer.
    pub frames_delivered: u64,
    /// Frames replaced by newer ones before the consumer read them (latest-wins backpressure).
    pub frames_dropped: u64,
    /// Restarts after a failure or stall.
    pub reconnects: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<SystemTime>,
    pub stream: StreamInfo,
}

/// Restart policy.
#[derive(Debug, Clone)]
pub struct SupervisorOptions {
    /// No frame for this long while running counts as a failure.
    pub stall_timeout: Duration,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Start files again at their end instead of stopping.
    pub loop_files: bool,
    /// Give up after a failure to open a `file://` source (a missing file will not appear by
    /// retrying); network sources always retry.
    pub give_up_on_file_errors: bool,
}

impl Default for SupervisorOptions {
    fn default() -> Self {
        Self {
            stall_timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            loop_files: false,
            give_up_on_file_errors: true,
        }
    }
}

#[derive(Debug)]
struct Shared {
    status: Mutex<CameraStatus>,
    stop: AtomicBool,
}

/// A supervised camera. Call [`Camera::next_frame`] from the camera's own thread; read
/// [`Camera::status`] (or a [`CameraMonitor`]) from anywhere.
#[derive(Debug)]
pub struct Camera {
    opts: SourceOptions,
    sup: SupervisorOptions,
    source: Option<FrameSource>,
    shared: Arc<Shared>,
    backoff: Duration,
    /// Counters of pipelines already closed.
    base_decoded: u64,
    base_delivered: u64,
    base_dropped: u64,
    rng: u64,
}

/// A cloneable read-only handle on a camera's status, and a way to stop it.
#[derive(Debug, Clone)]
pub struct CameraMonitor {
    shared: Arc<Shared>,
}

impl CameraMonitor {
    pub fn status(&self) -> CameraStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Asks the camera to stop; its `next_frame` returns `None` soon after.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

impl Camera {
    /// A camera that opens on the first `next_frame` call.
    pub fn new(opts: SourceOptions, sup: SupervisorOptions) -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            ^ opts
                .camera_id
                .bytes()
                .fold(0u64, |h, b| h.rotate_left(5) ^ b as u64);
        let status = CameraStatus {
            camera_id: opts.camera_id.clone(),
            state: CameraState::Starting,
            frames_decoded: 0,
            frames_delivered: 0,
            frames_dropped: 0,
            reconnects: 0,
            last_error: None,
            last_error_at: None,
            stream: StreamInfo::default(),
        };
        Self {
            backoff: sup.backoff_initial,
            opts,
            sup,
            source: None,
            shared: Arc::new(Shared {
                status: Mutex::new(status),
                stop: AtomicBool::new(false),
            }),
            base_decoded: 0,
            base_delivered: 0,
            base_dropped: 0,
            rng: seed | 1,
        }
    }

    pub fn camera_id(&self) -> &str {
        &self.opts.camera_id
    }

    pub fn monitor(&self) -> CameraMonitor {
        CameraMonitor {
            shared: self.shared.clone(),
        }
    }

    pub fn status(&self) -> CameraStatus {
        self.monitor().status()
    }

    fn update(&self, f: impl FnOnce(&mut CameraStatus)) {
        let mut s = self.shared.status.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
    }

    fn stopped(&self) -> bool {
        self.shared.stop.load(Ordering::SeqCst)
    }

    fn is_file(&self) -> bool {
        self.opts.scheme().as_deref() == Some("file")
    }

    fn refresh_counters(&self) {
        let (d, v, x, info) = match &self.source {
            Some(s) => (
                s.frames_decoded(),
                s.frames_delivered(),
                s.frames_dropped(),
                Some(s.info()),
            ),
            None => (0, 0, 0, None),
        };
        let (bd, bv, bx) = (self.base_decoded, self.base_delivered, self.base_dropped);
        self.update(|s| {
            s.frames_decoded = bd + d;
            s.frames_delivered = bv + v;
            s.frames_dropped = bx + x;
            if let Some(i) = info {
                s.stream = i;
            }
        });
    }

    fn close_source(&mut self) {
        if let Some(s) = self.source.take() {
            self.base_decoded += s.frames_decoded();
            self.base_delivered += s.frames_delivered();
            self.base_dropped += s.frames_dropped();
        }
    }

    /// Full jitter: a random wait in [backoff/2, backoff].
    fn jittered(&mut self) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let frac = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        self.backoff.mul_f64(0.5 + 0.5 * frac)
    }

    fn fail(&mut self, err: &PipelineError) -> Duration {
        self.close_source();
        let wait = self.jittered();
        self.backoff = (self.backoff * 2).min(self.sup.backoff_max);
        let msg = err.to_string();
        tracing::warn!(camera = %self.opts.camera_id, error = %msg, retry_in_ms = wait.as_millis() as u64, "camera failed");
        self.update(|s| {
            s.state = CameraState::Retrying;
            s.reconnects += 1;
            s.last_error = Some(msg);
            s.last_error_at = Some(SystemTime::now());
        });
        wait
    }

    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && !self.stopped() {
            std::thread::sleep(Duration::from_millis(20).min(d));
        }
    }

    /// The next frame, reopening the stream as needed. `Ok(None)`: stopped (on request, or at
    /// the end of a file that does not loop). `Err`: a permanent failure (a file that cannot be
    /// read with `give_up_on_file_errors`), with the camera in `Stopped` state.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, PipelineError> {
        loop {
            if self.stopped() {
                self.close_source();
                self.update(|s| s.state = CameraState::Stopped);
                return Ok(None);
            }
            if self.source.is_none() {
                self.update(|s| s.state = CameraState::Starting);
                match FrameSource::open(self.opts.clone()) {
                    Ok(src) => {
                        self.source = Some(src);
                        self.refresh_counters();
                        self.update(|s| s.state = CameraState::Running);
                    }
                    Err(e) => {
                        if self.is_file() && self.sup.give_up_on_file_errors {
                            self.update(|s| {
                                s.state = CameraState::Stopped;
                                s.last_error = Some(e.to_string());
                                s.last_error_at = Some(SystemTime::now());
                            });
                            return Err(e);
                        }
                        let wait = self.fail(&e);
                        self.sleep(wait);
                        continue;
                    }
                }
            }
            let Some(src) = self.source.as_ref() else {
                continue;
            };
            let res = src.next_frame(self.sup.stall_timeout);
            self.refresh_counters();
            match res {
                Ok(Some(frame)) => {
                    self.backoff = self.sup.backoff_initial;
                    return Ok(Some(frame));
                }
                Ok(None) => {
                    // End of stream: a file ended, or a network source said goodbye.
                    if self.is_file() && !self.sup.loop_files {
                        self.close_source();
                        self.update(|s| s.state = CameraState::Stopped);
                        return Ok(None);
                    }
                    self.close_source();
                    if !self.is_file() {
                        let e = PipelineError::Stream {
                            camera: self.opts.camera_id.clone(),
                            element: "source".into(),
                            reason: "stream ended".into(),
                        };
                        let wait = self.fail(&e);
                        self.sleep(wait);
                    }
                }
                Err(e) => {
                    let wait = self.fail(&e);
                    self.sleep(wait);
                }
            }
        }
    }
}
