//! Model manifests: what a model file is, where it came from, and the contract its tensors keep.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::ModelError;

/// What a model does; decides which section of the manifest must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    FaceDetector,
    FaceEmbedder,
    ObjectDetector,
    TextRecognizer,
    TextDetector,
}

/// Channel order the model expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Rgb,
    Bgr,
}

/// How pixels (0..255) become input values: `(x - mean[c]) / std[c]`, channel order `colour`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocess {
    pub colour: Colour,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Letterbox padding value, 0..255 before normalisation.
    pub pad_value: f32,
}

/// A named tensor and its shape; `-1` marks a dynamic dimension.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<i64>,
}

/// Distance used to compare embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// `1 - cos(a, b)` on L2-normalised vectors, 0..2.
    Cosine,
    /// Euclidean distance.
    Euclidean,
}

/// Embedder-specific contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedderSpec {
    pub dim: usize,
    pub metric: Metric,
    /// Operating threshold as a distance under `metric`: below it, same person.
    pub threshold: f32,
    /// Where the threshold comes from (data set, false-accept target).
    pub threshold_source: String,
    /// Aligned crop size, width and height.
    pub template_size: [u32; 2],
    /// Landmark positions in the aligned crop, in the detector's landmark order.
    pub template: [[f32; 2]; 5],
}

/// Face-detector-specific settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceDetectorSpec {
    pub strides: Vec<u32>,
    pub score_threshold: f32,
    pub nms_iou: f32,
}

/// Object-detector-specific settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectDetectorSpec {
    pub strides: Vec<u32>,
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Classes reported (ids in the model's label space) and their labels, in the same order.
    pub class_ids: Vec<usize>,
    pub labels: Vec<String>,
}

/// Text-recogniser-specific settings (CTC, class 0 = blank).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRecognizerSpec {
    /// Character list, one per line (line i = class i), relative to the models directory.
    pub keys_file: String,
    pub keys_sha256: String,
    /// Height text lines are resized to (the model takes any height; it was trained at this).
    pub input_height: u32,
    /// Widest input accepted (pixels at the model height).
    pub max_width: u32,
}

/// One model's manifest (`models/manifests/<id>.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    pub id: String,
    pub kind: ModelKind,
    /// Path of the weights relative to the models directory.
    pub file: String,
    /// Lower-case hex sha256 of the weights.
    pub sha256: String,
    pub licence: String,
    /// Where the weights come from upstream, so a user elsewhere can obtain them.
    pub origin: String,
    pub preprocess: Preprocess,
    pub inputs: Vec<TensorSpec>,
    pub outputs: Vec<TensorSpec>,
    pub face_embedder: Option<EmbedderSpec>,
    pub face_detector: Option<FaceDetectorSpec>,
    pub object_detector: Option<ObjectDetectorSpec>,
    pub text_recognizer: Option<TextRecognizerSpec>,
}

impl ModelManifest {
    /// Reads and checks a manifest file.
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Manifest {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses a manifest; `path` is only used in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ModelError> {
        let m: ModelManifest = toml::from_str(text).map_err(|e| ModelError::Manifest {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| ModelError::Manifest {
            path: path.to_owned(),
            reason,
        };
        if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("sha256 must be 64 hex characters".into()));
        }
        if m.inputs.is_empty() || m.outputs.is_empty() {
            return Err(bad("at least one input and one output are required".into()));
        }
        if m.preprocess.std.contains(&0.0) {
            return Err(bad("preprocess.std must not contain 0".into()));
        }
        match m.kind {
            ModelKind::FaceEmbedder => {
                let e = m.face_embedder.as_ref().ok_or_else(|| {
                    bad("kind = face_embedder needs a [face_embedder] section".into())
                })?;
                if e.dim == 0 || e.template_size.contains(&0) {
                    return Err(bad(
                        "face_embedder.dim and template_size must be positive".into()
                    ));
                }
                if !(e.threshold.is_finite() && e.threshold > 0.0) {
                    return Err(bad(
                        "face_embedder.threshold must be a positive distance".into()
                    ));
                }
            }
            ModelKind::FaceDetector => {
                let d = m.face_detector.as_ref().ok_or_else(|| {
                    bad("kind = face_detector needs a [face_detector] section".into())
                })?;
                if d.strides.is_empty() {
                    return Err(bad("face_detector.strides must not be empty".into()));
                }
            }
            ModelKind::TextDetector => {}
            ModelKind::TextRecognizer => {
                if m.text_recognizer.is_none() {
                    return Err(bad(
                        "kind = text_recognizer needs a [text_recognizer] section".into(),
                    ));
                }
            }
            ModelKind::ObjectDetector => {
                let o = m.object_detector.as_ref().ok_or_else(|| {
                    bad("kind = object_detector needs an [object_detector] section".into())
                })?;
                if o.strides.is_empty()
                    || o.class_ids.len() != o.labels.len()
                    || o.class_ids.is_empty()
                {
                    return Err(bad(
                        "object_detector needs strides and as many labels as class_ids".into(),
                    ));
                }
            }
        }
        Ok(m)
    }

    /// Where the weights live under `models_dir`.
    pub fn weights_path(&self, models_dir: &Path) -> PathBuf {
        models_dir.join(&self.file)
    }

    /// Checks that the weights exist and match the manifest's sha256; returns their path.
    pub fn verify_weights(&self, models_dir: &Path) -> Result<PathBuf, ModelError> {
        let path = self.weights_path(models_dir);
        let bytes = std::fs::read(&path).map_err(|e| ModelError::Missing {
            model: self.id.clone(),
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let got = hex::encode(Sha256::digest(&bytes));
        if !got.eq_ignore_ascii_case(&self.sha256) {
            return Err(ModelError::Checksum {
                model: self.id.clone(),
                path,
                expected: self.sha256.clone(),
                got,
            });
        }
        Ok(path)
    }
}

/// Lower-case hex sha256 of a file.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}
