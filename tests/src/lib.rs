//! Helpers for the end-to-end tests: locate the real binaries, pick free ports, compose test
//! videos from real photos with GStreamer, run processes and talk to their HTTP APIs.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

pub mod gate_scene;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/testdata` next to the repository.
pub fn testdata() -> PathBuf {
    workspace().join("../shared/testdata")
}

/// Path of a workspace binary built by `cargo build --workspace --bins` in the same profile as
/// this test.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test-binary>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} not built: run `cargo build --workspace --bins` before the end-to-end tests (scripts/test.sh does)",
        p.display()
    );
    p
}

/// Environment the binaries need (ONNX Runtime location).
pub fn ort_dylib() -> PathBuf {
    std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".local/ort/libonnxruntime.so.1.32.0"))
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("GATEWATCH_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".local/models"))
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Letterboxes `img` into a `w x h` black canvas (aspect ratio kept, centred).
pub fn letterbox(img: &image::RgbImage, w: u32, h: u32) -> image::RgbImage {
    let s = (w as f32 / img.width() as f32).min(h as f32 / img.height() as f32);
    let (nw, nh) = (
        ((img.width() as f32 * s) as u32).max(1),
        ((img.height() as f32 * s) as u32).max(1),
    );
    let resized = image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
    let mut canvas = image::RgbImage::new(w, h);
    image::imageops::overlay(
        &mut canvas,
        &resized,
        ((w - nw) / 2) as i64,
        ((h - nh) / 2) as i64,
    );
    canvas
}

/// One slide of a slideshow: a photo shown for `secs`.
#[derive(Debug, Clone)]
pub struct Slide {
    pub photo: PathBuf,
    pub secs: f64,
}

/// When each slide is on screen, in stream milliseconds: `[start, end)`.
pub fn slide_windows(slides: &[Slide]) -> Vec<(u64, u64)> {
    let mut t = 0.0;
    slides
        .iter()
        .map(|s| {
            let w = ((t * 1000.0) as u64, ((t + s.secs) * 1000.0) as u64);
            t += s.secs;
            w
        })
        .collect()
}

/// Encodes the slides as an H.264 MP4 (`width x height`, `fps`) with GStreamer (x264enc).
pub fn make_slideshow(
    slides: &[Slide],
    out: &Path,
    width: u32,
    height: u32,
    fps: u32,
) -> Result<()> {
    let mut frames = Vec::new();
    for s in slides {
        let img = image::open(&s.photo)
            .with_context(|| format!("{}", s.photo.display()))?
            .to_rgb8();
        frames.push((
            letterbox(&img, width, height),
            (s.secs * fps as f64).round() as u64,
        ));
    }
    let mut schedule = frames
        .iter()
        .flat_map(|(f, n)| std::iter::repeat_n(f, *n as usize));
    encode_video(out, width, height, fps, |_| schedule.next().cloned())
}

/// Encodes frames from `next` (frame number -> image, `None` at the end) as an H.264 MP4 with
/// GStreamer (appsrc ! x264enc ! mp4mux).
pub fn encode_video(
    out: &Path,
    width: u32,
    height: u32,
    fps: u32,
    mut next: impl FnMut(u64) -> Option<image::RgbImage>,
) -> Result<()> {
    gst::init()?;
    let desc = format!(
        "appsrc name=src format=time is-live=false caps=video/x-raw,format=RGB,width={width},height={height},framerate={fps}/1 \
         ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! h264parse ! mp4mux \
         ! filesink location={}",
        out.display()
    );
    let pipeline = gst::parse::launch(&desc)?
        .downcast::<gst::Pipeline>()
        .map_err(|_| anyhow!("not a pipeline"))?;
    let src = pipeline
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or_else(|| anyhow!("appsrc"))?;
    pipeline.set_state(gst::State::Playing)?;
    let frame_ns = 1_000_000_000u64 / fps as u64;
    let mut n = 0u64;
    while let Some(frame) = next(n) {
        if frame.width() != width || frame.height() != height {
            bail!(
                "frame {n} is {}x{}, expected {width}x{height}",
                frame.width(),
                frame.height()
            );
        }
        let mut buf = gst::Buffer::from_slice(frame.into_raw());
        {
            let b = buf.get_mut().ok_or_else(|| anyhow!("buffer"))?;
            b.set_pts(gst::ClockTime::from_nseconds(n * frame_ns));
            b.set_duration(gst::ClockTime::from_nseconds(frame_ns));
        }
        src.push_buffer(buf).map_err(|e| anyhow!("push: {e:?}"))?;
        n += 1;
    }
    src.end_of_stream().map_err(|e| anyhow!("eos: {e:?}"))?;
    let bus = pipeline.bus().ok_or_else(|| anyhow!("bus"))?;
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(120),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .ok_or_else(|| anyhow!("encoding timed out"))?;
    pipeline.set_state(gst::State::Null)?;
    if let gst::MessageView::Error(e) = msg.view() {
        bail!("encoding failed: {}", e.error());
    }
    Ok(())
}

/// A child process killed when dropped; its stderr goes to a log file kept for failures.
#[derive(Debug)]
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A running ioc-bridge with its embedded broker on free ports and SQLite in `dir`, and a
/// logged-in admin session for the API.
#[derive(Debug)]
pub struct Bridge {
    pub proc: Proc,
    pub http: String,
    /// Where edges connect (MQTT 3.1.1).
    pub mqtt_port: u16,
    pub db: PathBuf,
    pub config: PathBuf,
    /// `gw_session=...` for the Cookie header.
    pub cookie: String,
    pub csrf: String,
}

/// A bridge that was killed: its config, database and ports, to start it again.
#[derive(Debug)]
pub struct StoppedBridge {
    pub config: PathBuf,
    pub db: PathBuf,
    pub mqtt_port: u16,
}

impl StoppedBridge {
    /// Starts the bridge again with the same config: the same ports, database and MQTT client
    /// id (so its broker session is picked up again).
    pub fn start(self) -> Result<Bridge> {
        Bridge::spawn(self.config, self.db, self.mqtt_port)
    }
}

/// The test admin's credentials.
pub const TEST_USER: &str = "tester";
pub const TEST_PASSWORD: &str = "correct-horse-battery";

impl Bridge {
    pub fn start(dir: &Path) -> Result<Self> {
        Self::start_with(dir, None)
    }

    /// Like [`Bridge::start`], but with `external_broker` set the bridge uses that broker port
    /// on 127.0.0.1 (mosquitto, MQTT 5) instead of embedding one.
    pub fn start_with(dir: &Path, external_broker: Option<u16>) -> Result<Self> {
        Self::start_custom(dir, external_broker, "")
    }

    /// Like [`Bridge::start_with`], with extra TOML appended to the config (`[models]`,
    /// `[store]` overrides go in `store_toml`: when it contains `[store]` it replaces the
    /// SQLite default).
    pub fn start_custom(dir: &Path, external_broker: Option<u16>, extra: &str) -> Result<Self> {
        let mqtt_port = external_broker.unwrap_or_else(free_port);
        let v5_port = if external_broker.is_some() {
            mqtt_port
        } else {
            free_port()
        };
        let http_port = free_port();
        let db = dir.join("ioc.db");
        let cfg = dir.join("ioc-bridge.toml");
        let store = if extra.contains("[store]") {
            String::new()
        } else {
            format!("[store]\nsqlite_path = \"{}\"\n", db.display())
        };
        std::fs::write(
            &cfg,
            format!(
                "[http]\nlisten = \"127.0.0.1:{http_port}\"\n[mqtt]\nembedded = {}\nembedded_listen = \"127.0.0.1:{mqtt_port}\"\n\
                 embedded_listen_v5 = \"127.0.0.1:{v5_port}\"\nhost = \"127.0.0.1\"\nport = {v5_port}\nclient_id = \"ioc-bridge-test-{http_port}\"\n{store}{extra}",
                external_broker.is_none(),
            ),
        )?;
        add_user(&cfg, TEST_USER, "admin", TEST_PASSWORD)?;
        Self::spawn(cfg, db, mqtt_port)
    }

    /// Kills this bridge, as in a crash; [`StoppedBridge::start`] brings it back.
    pub fn kill(self) -> StoppedBridge {
        let Self {
            proc,
            config,
            db,
            mqtt_port,
            ..
        } = self;
        drop(proc);
        StoppedBridge {
            config,
            db,
            mqtt_port,
        }
    }

    fn spawn(cfg: PathBuf, db: PathBuf, mqtt_port: u16) -> Result<Self> {
        let dir = cfg
            .parent()
            .ok_or_else(|| anyhow!("config has no folder"))?;
        let n = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name().to_string_lossy().starts_with("ioc-bridge")
                    && e.file_name().to_string_lossy().ends_with(".log")
            })
            .count();
        let log = dir.join(if n == 0 {
            "ioc-bridge.log".to_string()
        } else {
            format!("ioc-bridge.{n}.log")
        });
        let mut child = Command::new(bin("ioc-bridge"))
            .args(["serve", "--config"])
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("stdout"))?;
        let proc = Proc { child, log };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| anyhow!("ioc-bridge did not start:\n{}", proc.log_text()))?;
        let http = line
            .split_once("dashboard: ")
            .map(|(_, u)| u.trim_end_matches('/').to_string())
            .ok_or_else(|| anyhow!("unexpected first line {line:?}"))?;
        let (cookie, csrf) = login(&http, TEST_USER, TEST_PASSWORD)?;
        Ok(Self {
            proc,
            http,
            mqtt_port,
            db,
            config: cfg,
            cookie,
            csrf,
        })
    }

    pub fn get(&self, path: &str) -> Result<serde_json::Value> {
        let url = format!("{}{path}", self.http);
        let mut resp = ureq::get(&url)
            .header("Cookie", &self.cookie)
            .call()
            .with_context(|| format!("GET {url}"))?;
        Ok(resp.body_mut().read_json()?)
    }

    /// POSTs JSON with the session and CSRF token; returns (status, body).
    pub fn post(&self, path: &str, body: &serde_json::Value) -> Result<(u16, serde_json::Value)> {
        self.send("POST", path, Some(body))
    }

    /// A request with the session and CSRF token; error statuses are returned, not raised.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value)> {
        let url = format!("{}{path}", self.http);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = match (method, body) {
            ("POST", Some(b)) => agent
                .post(&url)
                .header("Cookie", &self.cookie)
                .header("X-CSRF-Token", &self.csrf)
                .send_json(b)?,
            ("DELETE", _) => agent
                .delete(&url)
                .header("Cookie", &self.cookie)
                .header("X-CSRF-Token", &self.csrf)
                .call()?,
            _ => bail!("unsupported request {method} {path}"),
        };
        let status = resp.status().as_u16();
        let v = resp
            .body_mut()
            .read_json()
            .unwrap_or(serde_json::Value::Null);
        Ok((status, v))
    }

    /// Polls `path` until `pred` holds or `timeout`.
    pub fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Result<serde_json::Value> {
        let end = Instant::now() + timeout;
        loop {
            let v = self.get(path)?;
            if pred(&v) {
                return Ok(v);
            }
            if Instant::now() > end {
                bail!("timed out waiting on {path}; last answer {v}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// `ioc-bridge user add` with the password on stdin.
pub fn add_user(cfg: &Path, username: &str, role: &str, password: &str) -> Result<()> {
    let mut child = Command::new(bin("ioc-bridge"))
        .args(["user", "add", "--config"])
        .arg(cfg)
        .args(["--username", username, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        std::io::Write::write_all(&mut stdin, format!("{password}\n").as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "ioc-bridge user add failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Logs in; returns the Cookie header value and the CSRF token.
pub fn login(http: &str, username: &str, password: &str) -> Result<(String, String)> {
    let mut resp = ureq::post(&format!("{http}/api/login"))
        .send_json(serde_json::json!({ "username": username, "password": password }))
        .with_context(|| format!("log in as {username}"))?;
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no session cookie"))?;
    let v: serde_json::Value = resp.body_mut().read_json()?;
    let csrf = v["csrf_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no csrf_token in {v}"))?
        .to_owned();
    Ok((cookie, csrf))
}

pub fn get_json(url: &str) -> Result<serde_json::Value> {
    let mut resp = ureq::get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let v: serde_json::Value = resp.body_mut().read_json()?;
    Ok(v)
}

/// Writes an edge-agent config into `dir` and returns its path.
pub fn write_agent_config(
    dir: &Path,
    mqtt_port: u16,
    gallery: &Path,
    cameras: &[(&str, String)],
    extra_recognition: &str,
) -> Result<PathBuf> {
    let ws = workspace();
    let mut text = format!(
        "site_id = \"test-site\"\nedge_id = \"edge-1\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = {mqtt_port}\nconnect_timeout_secs = 3\n\
         [models]\nmanifests_dir = \"{}\"\ndir = \"{}\"\nort_dylib_path = \"{}\"\nface_detector = \"yunet_s_640_640\"\n\
         face_embedder = \"mobilefacenet_192d\"\n[recognition]\nmin_face_px = 40\nrepeat_after_secs = 1\n{extra_recognition}\n\
         [gallery]\npath = \"{}\"\n",
        ws.join("models/manifests").display(),
        models_dir().display(),
        ort_dylib().display(),
        gallery.display()
    );
    for (id, uri) in cameras {
        text.push_str(&format!(
            "[[cameras]]\nid = \"{id}\"\nuri = \"{uri}\"\nanalysis_fps = 5\nfast_file = {}\n",
            uri.starts_with("file://")
        ));
    }
    let p = dir.join("edge-agent.toml");
    std::fs::write(&p, text)?;
    Ok(p)
}

/// Runs a binary to completion with a time limit; returns (exit code, stdout, stderr).
pub fn run_to_end(cmd: &mut Command, limit: Duration) -> Result<(i32, String, String)> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().ok_or_else(|| anyhow!("stdout"))?;
    let mut err = child.stderr.take().ok_or_else(|| anyhow!("stderr"))?;
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            let e = t_err.join().unwrap_or_default();
            bail!("process exceeded {limit:?}; stderr:\n{e}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let o = t_out.join().unwrap_or_default();
    let e = t_err.join().unwrap_or_default();
    Ok((status.code().unwrap_or(-1), o, e))
}

/// A Debian mosquitto broker on 127.0.0.1:`port` (no persistence), killed when dropped.
pub fn start_mosquitto(dir: &Path, port: u16) -> Result<Proc> {
    let conf = dir.join(format!("mosquitto-{port}.conf"));
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"),
    )?;
    let log = dir.join(format!("mosquitto-{port}.log"));
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .context("starting mosquitto (installed by scripts/setup.sh)")?;
    let proc = Proc { child, log };
    let end = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > end {
            bail!("mosquitto did not listen on {port}:\n{}", proc.log_text());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(proc)
}

/// Enrols celebrities from `../shared/testdata/faces/celebrities` with `edge-agent enrol`:
/// `people` lists (person folder, photo files); the photos are linked under `dir/<tag>/`.
pub fn enrol_celebrities(
    cfg: &Path,
    dir: &Path,
    tag: &str,
    people: &[(&str, &[&str])],
    replace: bool,
) -> Result<()> {
    enrol_celebrities_on(cfg, dir, tag, people, "staff", replace)
}

/// [`enrol_celebrities`] onto a given gallery list (`watch` for the watch list).
pub fn enrol_celebrities_on(
    cfg: &Path,
    dir: &Path,
    tag: &str,
    people: &[(&str, &[&str])],
    list: &str,
    replace: bool,
) -> Result<()> {
    let root = dir.join(tag);
    for (person, files) in people {
        let d = root.join(person);
        std::fs::create_dir_all(&d)?;
        for f in *files {
            let src = testdata().join("faces/celebrities").join(person).join(f);
            std::os::unix::fs::symlink(&src, d.join(f))
                .with_context(|| format!("linking {}", src.display()))?;
        }
    }
    let mut cmd = Command::new(bin("edge-agent"));
    cmd.args(["enrol", "--config"])
        .arg(cfg)
        .arg("--photos")
        .arg(&root)
        .args(["--list", list]);
    if replace {
        cmd.arg("--replace");
    }
    let (code, out, err) = run_to_end(&mut cmd, Duration::from_secs(120))?;
    if code != 0 {
        bail!("edge-agent enrol exited {code}:\n{out}\n{err}");
    }
    Ok(())
}

/// A throwaway PostgreSQL server (Debian's `postgresql` package, installed by
/// `scripts/setup.sh`) on 127.0.0.1 with its data under `dir`; stopped when dropped.
#[derive(Debug)]
pub struct Postgres {
    pub url: String,
    data: PathBuf,
    bin: PathBuf,
    as_root: bool,
}

/// Finds Debian's PostgreSQL server binaries (`/usr/lib/postgresql/<version>/bin`).
fn postgres_bin() -> Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (scripts/setup.sh installs Debian's postgresql)")?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| anyhow!("no initdb under /usr/lib/postgresql"))
}

fn run_as_postgres(as_root: bool, cmd: &str) -> Result<()> {
    let out = if as_root {
        // initdb refuses to run as root: run it as the postgres user.
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", cmd])
            .output()?
    } else {
        Command::new("sh").args(["-c", cmd]).output()?
    };
    if !out.status.success() {
        bail!(
            "{cmd} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

impl Postgres {
    /// initdb + pg_ctl start on a free port (about 4 s); creates database `ioc`.
    pub fn start(dir: &Path) -> Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let bin = postgres_bin()?;
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let base = dir.join("pg");
        std::fs::create_dir_all(&base)?;
        // The postgres user must reach the data directory through the temporary folder.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o777))?;
        let port = free_port();
        let data = base.join("data");
        let b = bin.display();
        run_as_postgres(
            as_root,
            &format!(
                "{b}/initdb -D {d} -U postgres --auth=trust -E UTF8 >/dev/null && \
                 {b}/pg_ctl -D {d} -l {l} -o '-p {port} -c listen_addresses=127.0.0.1 -k {s} -c fsync=off' -w start >/dev/null && \
                 {b}/psql -h 127.0.0.1 -p {port} -U postgres -c 'CREATE DATABASE ioc' >/dev/null",
                d = data.display(),
                l = base.join("log").display(),
                s = base.display(),
            ),
        )?;
        Ok(Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/ioc"),
            data,
            bin,
            as_root,
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = run_as_postgres(
            self.as_root,
            &format!(
                "{}/pg_ctl -D {} -m immediate stop >/dev/null",
                self.bin.display(),
                self.data.display()
            ),
        );
    }
}

/// Publishes raw payloads (QoS 1) to the broker on 127.0.0.1:`port`, as an edge would, and
/// returns once every one is acknowledged by the broker.
pub fn publish_raw(port: u16, msgs: Vec<(String, Vec<u8>)>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let id = format!("test-publisher-{}", uuid::Uuid::now_v7().simple());
        let mut opts = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
        opts.set_max_packet_size(4 * 1024 * 1024, 4 * 1024 * 1024);
        let (client, mut el) = rumqttc::AsyncClient::new(opts, 16);
        let n = msgs.len();
        let publisher = tokio::spawn(async move {
            for (t, p) in msgs {
                client
                    .publish(t, rumqttc::QoS::AtLeastOnce, false, p)
                    .await?;
            }
            Ok::<_, rumqttc::ClientError>(client)
        });
        let mut acked = 0;
        while acked < n {
            match tokio::time::timeout(Duration::from_secs(10), el.poll()).await {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)))) => acked += 1,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => bail!("publisher: {e}"),
                Err(_) => bail!("publisher: {acked} of {n} acknowledged after 10 s"),
            }
        }
        publisher.await??;
        Ok(())
    })
}

/// The `[models]` section that lets a test bridge compute face embeddings (enrolment and
/// face search), with the same models as the edges.
pub fn bridge_models_toml() -> String {
    format!(
        "[models]\nmanifests_dir = \"{}\"\ndir = \"{}\"\nort_dylib_path = \"{}\"\n\
         face_detector = \"yunet_s_640_640\"\nface_embedder = \"mobilefacenet_192d\"\n",
        workspace().join("models/manifests").display(),
        models_dir().display(),
        ort_dylib().display(),
    )
}

/// A photo file as base64, the way the enrolment and search API takes it.
pub fn photo_b64(path: &Path) -> Result<String> {
    use base64::Engine;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
