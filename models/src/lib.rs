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

    /// The embedding of the one usable face of an enrolment photo (or a face-search probe):
    /// exactly one face, at least `min_face_px` on its shorter side, alignable.
    pub fn single_face_embedding(
        &self,
        image: RgbView<'_>,
        min_face_px: u32,
    ) -> Result<Result<Vec<f32>, EnrolSkip>, ModelError> {
        let faces = self.detector.detect(image)?;
        let face = match faces.as_slice() {
            [] => return Ok(Err(EnrolSkip::NoFace)),
            [one] => one,
            many => return Ok(Err(EnrolSkip::SeveralFaces(many.len()))),
        };
        if face.min_side() < min_face_px as f32 {
            return Ok(Err(EnrolSkip::TooSmall {
                side_px: face.min_side() as u32,
                min_px: min_face_px,
            }));
        }
        let Some(crop) = self.embedder.align(image, face) else {
            return Ok(Err(EnrolSkip::Unalignable));
        };
        let mut e = self.embedder.embed(&[crop])?;
        Ok(e.pop().ok_or(EnrolSkip::Unalignable))
    }
}

/// Why a photo cannot be enrolled (or searched with).
#[derive(Debug, Clone, PartialEq)]
pub enum EnrolSkip {
    NoFace,
    SeveralFaces(usize),
    TooSmall { side_px: u32, min_px: u32 },
    Unalignable,
}

impl std::fmt::Display for EnrolSkip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrolSkip::NoFace => write!(f, "no face found"),
            EnrolSkip::SeveralFaces(n) => write!(f, "{n} faces found, exactly one is needed"),
            EnrolSkip::TooSmall { side_px, min_px } => {
                write!(
                    f,
                    "face is {side_px} px, smaller than the {min_px} px minimum"
                )
            }
            EnrolSkip::Unalignable => write!(f, "face landmarks could not be aligned"),
        }
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
        .unwrap_or_else(|| ws.join(".local/ort/libonnxruntime.so.1.32.0"));
    RuntimeOptions {
        ort_dylib_path: Some(ort),
        intra_threads: 2,
    }
}
