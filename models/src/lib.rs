//! ONNX models behind small traits.
//!
//! This crate owns model manifests (file, sha256, licence, origin, tensor contract,
//! preprocessing, operating threshold), loading ONNX Runtime dynamically, checking each model's
//! inputs and outputs against its manifest on load, and the face path: detection
//! ([`FaceDetector`], YuNet), alignment (similarity transform onto the embedder's template) and
//! embedding ([`Embedder`], any ONNX embedder described by a manifest). It is synchronous and
//! holds no threads of its own; callers run it on dedicated threads.

use std::path::{Path, PathBuf};

pub mod eval;
pub mod face;
pub mod imageops;
pub mod manifest;
pub mod objects;
pub mod ocr;
pub mod plate;
pub mod runtime;
pub mod textdet;

pub use face::{Embedder, Face, FaceDetector, OnnxEmbedder, YuNet};
pub use imageops::RgbView;
pub use manifest::{Metric, ModelManifest};
pub use objects::{Detection, ObjectDetector, Yolox};
pub use runtime::RuntimeOptions;

/// Everything that can go wrong with a model, each naming the model or file concerned.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("ONNX Runtime could not be loaded from {path:?}: {reason}")]
    Runtime { path: PathBuf, reason: String },
    #[error("model manifest {path:?} is invalid: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(
        "model {model}: weights not readable at {path:?}: {reason} (run scripts/setup.sh to install models)"
    )]
    Missing {
        model: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "model {model}: {path:?} has sha256 {got}, the manifest expects {expected} (corrupt or wrong file)"
    )]
    Checksum {
        model: String,
        path: PathBuf,
        expected: String,
        got: String,
    },
    #[error("model {model}: ONNX Runtime could not load {path:?}: {reason}")]
    Load {
        model: String,
        path: PathBuf,
        reason: String,
    },
    #[error("model {model}: tensor {tensor}: expected {expected}, got {got}")]
    Contract {
        model: String,
        tensor: String,
        expected: String,
        got: String,
    },
    #[error("model {model}: inference failed: {reason}")]
    Inference { model: String, reason: String },
    #[error("model {model}: bad input: {reason}")]
    BadInput { model: String, reason: String },
}

/// Reads `<manifests_dir>/<id>.toml`.
pub fn load_manifest(manifests_dir: &Path, id: &str) -> Result<ModelManifest, ModelError> {
    let path = manifests_dir.join(format!("{id}.toml"));
    let m = ModelManifest::from_file(&path)?;
    if m.id != id {
        return Err(ModelError::Manifest {
            path,
            reason: format!("id is {:?} but the file is named for {id:?}", m.id),
        });
    }
    Ok(m)
}

/// The face path used by the agent and enrolment: a detector and an embedder.
#[derive(Debug)]
pub struct FaceModels {
    pub detector: YuNet,
    pub embedder: OnnxEmbedder,
}

impl FaceModels {
    /// Loads the named detector and embedder from their manifests.
    pub fn load(
        manifests_dir: &Path,
        models_dir: &Path,
        detector_id: &str,
        embedder_id: &str,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let detector = YuNet::load(load_manifest(manifests_dir, detector_id)?, models_dir, opts)?;
        let embedder =
            OnnxEmbedder::load(load_manifest(manifests_dir, embedder_id)?, models_dir, opts)?;
        Ok(Self { detector, embedder })
    }
}

/// Default locations inside a checkout: `<workspace>/models/manifests` and
/// `<workspace>/.local/models` (where `scripts/setup.sh` installs weights). Used by tests and
/// benches; binaries take paths from their config.
pub fn workspace_dirs() -> (PathBuf, PathBuf) {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let models = std::env::var_os("GATEWATCH_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ws.join(".local/models"));
    (ws.join("models/manifests"), models)
}

/// Runtime options for tests and benches: `ORT_DYLIB_PATH` if set, else the library that
/// `scripts/setup.sh` installs under `<workspace>/.local/ort`.
pub fn workspace_runtime_options() -> RuntimeOptions {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ort = std::env::var_os("ORT_DYLIB_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| ws.join(".local/ort/libonnxruntime.so.1.31.1"));
    RuntimeOptions {
        ort_dylib_path: Some(ort),
        intra_threads: 2,
    }
}
