//! The edge agent: the daemon on each edge box.
//!
//! It owns per-camera workers (GStreamer ingest + face path on named OS threads), the gallery of
//! enrolled people (HNSW index tied to the embedder that built it), turning matches into wire
//! events, and publishing them over MQTT. The binary (`main.rs`) owns the async runtime.
//!
//! ```text
//! camera thread: FrameSource -> detect -> align -> embed -> gallery.best -> EventEnvelope
//!                                                                  | bounded mpsc (blocking_send)
//! tokio:                                               Publisher -> MQTT QoS 1 -> IOC
//! ```

pub mod camera;
pub mod config;
pub mod enrol;
pub mod gallery;
pub mod gates;
pub mod identity;
pub mod metrics;
pub mod outbox;
pub mod publisher;
pub mod recognise;
pub mod tracker;

use std::sync::Arc;

/// Loads the face models named in the config.
pub fn load_models(cfg: &config::Config) -> Result<Arc<models::FaceModels>, models::ModelError> {
    let opts = models::RuntimeOptions {
        ort_dylib_path: cfg.models.ort_dylib_path.clone(),
        intra_threads: cfg.models.intra_threads,
    };
    let mut m = models::FaceModels::load(
        &cfg.models.manifests_dir,
        &cfg.models.dir,
        &cfg.models.face_detector,
        &cfg.models.face_embedder,
        &opts,
    )?;
    if let Some(t) = cfg.recognition.detector_score_threshold {
        m.detector.score_threshold = t;
    }
    Ok(Arc::new(m))
}

/// Loads the person detector named in `[tracking]` (cameras with gates or zones).
pub fn load_person_detector(cfg: &config::Config) -> Result<models::Yolox, models::ModelError> {
    let opts = models::RuntimeOptions {
        ort_dylib_path: cfg.models.ort_dylib_path.clone(),
        intra_threads: cfg.models.intra_threads,
    };
    let m = models::load_manifest(&cfg.models.manifests_dir, &cfg.tracking.person_detector)?;
    models::Yolox::load(m, &cfg.models.dir, &opts)
}

/// The recogniser for this config: models plus the operating threshold (manifest unless
/// overridden).
pub fn recogniser(cfg: &config::Config, models: Arc<models::FaceModels>) -> recognise::Recogniser {
    let threshold = cfg
        .recognition
        .match_threshold
        .unwrap_or(models.embedder.spec().threshold);
    recognise::Recogniser {
        models,
        threshold,
        min_face_px: cfg.recognition.min_face_px,
    }
}
