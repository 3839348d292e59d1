//! Face detection (YuNet), alignment and embedding.

use std::path::Path;

use crate::ModelError;
use crate::imageops::{self, Letterbox, RgbView};
use crate::manifest::{EmbedderSpec, FaceDetectorSpec, Metric, ModelKind, ModelManifest};
use crate::runtime::{CheckedSession, RuntimeOptions};

/// A detected face in source-image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// x, y, width, height.
    pub bbox: [f32; 4],
    pub score: f32,
    /// Eye (image-left), eye (image-right), nose tip, mouth corner left, mouth corner right.
    pub landmarks: [[f32; 2]; 5],
    /// Shorter side below the detector's `min_face_px`: found, but too small to recognise.
    pub small: bool,
}

impl Face {
    /// The shorter side of the box, in pixels.
    pub fn min_side(&self) -> f32 {
        self.bbox[2].min(self.bbox[3])
    }
}

/// Finds faces in an image.
pub trait FaceDetector: Send + Sync {
    fn detect(&self, image: RgbView<'_>) -> Result<Vec<Face>, ModelError>;
}

/// Turns aligned face crops into embeddings.
pub trait Embedder: Send + Sync {
    fn embed(&self, faces: &[image::RgbImage]) -> Result<Vec<Vec<f32>>, ModelError>;
}

fn expect_kind(m: &ModelManifest, kind: ModelKind) -> Result<(), ModelError> {
    if m.kind == kind {
        Ok(())
    } else {
        Err(ModelError::Contract {
            model: m.id.clone(),
            tensor: "(manifest kind)".into(),
            expected: format!("{kind:?}"),
            got: format!("{:?}", m.kind),
        })
    }
}

/// Input size of a detector: fixed by the model, or chosen per image for dynamic models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSize {
    Fixed {
        width: u32,
        height: u32,
    },
    /// Letterbox so the longer side is `max_side`, both sides rounded up to a multiple of 32.
    Dynamic {
        max_side: u32,
    },
}

/// YuNet face detector at any input size (letterboxed, never stretched).
#[derive(Debug)]
pub struct YuNet {
    session: CheckedSession,
    spec: FaceDetectorSpec,
    pub input: InputSize,
    /// Score threshold in use (manifest default unless overridden).
    pub score_threshold: f32,
    /// NMS IoU threshold in use (manifest default unless overridden).
    pub nms_iou: f32,
    /// Faces whose shorter side is below this are flagged `small`.
    pub min_face_px: f32,
}

impl YuNet {
    /// Loads and contract-checks the detector.
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        expect_kind(&manifest, ModelKind::FaceDetector)?;
        let spec = manifest
            .face_detector
            .clone()
            .ok_or_else(|| ModelError::Contract {
                model: manifest.id.clone(),
                tensor: "(manifest)".into(),
                expected: "[face_detector] section".into(),
                got: "none".into(),
            })?;
        let shape = &manifest.inputs[0].shape;
        let input = match shape.as_slice() {
            [_, 3, h, w] if *h > 0 && *w > 0 => InputSize::Fixed {
                width: *w as u32,
                height: *h as u32,
            },
            [_, 3, h, w] if *h < 0 && *w < 0 => InputSize::Dynamic { max_side: 640 },
            _ => {
                return Err(ModelError::Contract {
                    model: manifest.id.clone(),
                    tensor: manifest.inputs[0].name.clone(),
                    expected: "[N,3,H,W] with H and W both fixed or both dynamic".into(),
                    got: format!("{shape:?}"),
                });
            }
        };
        let (score_threshold, nms_iou) = (spec.score_threshold, spec.nms_iou);
        let session = CheckedSession::load(manifest, models_dir, opts)?;
        Ok(Self {
            session,
            spec,
            input,
            score_threshold,
            nms_iou,
            min_face_px: 0.0,
        })
    }

    pub fn id(&self) -> &str {
        &self.session.manifest.id
    }
}

impl FaceDetector for YuNet {
    fn detect(&self, image: RgbView<'_>) -> Result<Vec<Face>, ModelError> {
        let m = &self.session.manifest;
        let (input_w, input_h) = match self.input {
            InputSize::Fixed { width, height } => (width, height),
            InputSize::Dynamic { max_side } => {
                let s = max_side as f32 / image.width.max(image.height) as f32;
                let up = |v: u32| (((v as f32 * s).ceil() as u32).div_ceil(32) * 32).max(32);
                (up(image.width), up(image.height))
            }
        };
        let lb = Letterbox::fit(image.width, image.height, input_w, input_h);
        let input = imageops::letterbox_nchw(image, lb, &m.preprocess);
        let mut names = Vec::new();
        for s in &self.spec.strides {
            for k in ["cls", "obj", "bbox", "kps"] {
                names.push(format!("{k}_{s}"));
            }
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let outs = self.session.run(
            &m.inputs[0].name,
            vec![1, 3, input_h as i64, input_w as i64],
            input,
            &refs,
        )?;
        let mut faces = Vec::new();
        for (si, s) in self.spec.strides.iter().enumerate() {
            let s = *s as f32;
            let cols = (input_w as f32 / s) as usize;
            let (cls, obj, bbox, kps) = (
                &outs[si * 4].1,
                &outs[si * 4 + 1].1,
                &outs[si * 4 + 2].1,
                &outs[si * 4 + 3].1,
            );
            let n = cls
                .len()
                .min(obj.len())
                .min(bbox.len() / 4)
                .min(kps.len() / 10);
            for i in 0..n {
                let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                if score < self.score_threshold {
                    continue;
                }
                let (row, col) = ((i / cols) as f32, (i % cols) as f32);
                let b = &bbox[i * 4..i * 4 + 4];
                let (cx, cy) = ((col + b[0]) * s, (row + b[1]) * s);
                let (w, h) = (b[2].exp() * s, b[3].exp() * s);
                let k = &kps[i * 10..i * 10 + 10];
                let inv = 1.0 / lb.scale;
                let landmarks = std::array::from_fn(|j| {
                    [(col + k[2 * j]) * s * inv, (row + k[2 * j + 1]) * s * inv]
                });
                let bbox = [(cx - w / 2.0) * inv, (cy - h / 2.0) * inv, w * inv, h * inv];
                faces.push(Face {
                    bbox,
                    score,
                    landmarks,
                    small: bbox[2].min(bbox[3]) < self.min_face_px,
                });
            }
        }
        Ok(nms(faces, self.nms_iou))
    }
}

/// Greedy non-maximum suppression, highest score first.
pub fn nms(mut faces: Vec<Face>, iou_threshold: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Face> = Vec::new();
    for f in faces {
        if keep
            .iter()
            .all(|k| imageops::iou(&k.bbox, &f.bbox) <= iou_threshold)
        {
            keep.push(f);
        }
    }
    keep
}

/// An ONNX face embedder configured entirely by its manifest (size, colour, normalisation,
/// alignment template, metric, threshold).
#[derive(Debug)]
pub struct OnnxEmbedder {
    session: CheckedSession,
    spec: EmbedderSpec,
    batched: bool,
}

impl OnnxEmbedder {
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        expect_kind(&manifest, ModelKind::FaceEmbedder)?;
        let spec = manifest
            .face_embedder
            .clone()
            .ok_or_else(|| ModelError::Contract {
                model: manifest.id.clone(),
                tensor: "(manifest)".into(),
                expected: "[face_embedder] section".into(),
                got: "none".into(),
            })?;
        let shape = manifest.inputs[0].shape.clone();
        let ok = matches!(shape.as_slice(), [_, 3, h, w] if *h == spec.template_size[1] as i64 && *w == spec.template_size[0] as i64);
        if !ok {
            return Err(ModelError::Contract {
                model: manifest.id.clone(),
                tensor: manifest.inputs[0].name.clone(),
                expected: format!(
                    "[N,3,{},{}] (template_size)",
                    spec.template_size[1], spec.template_size[0]
                ),
                got: format!("{shape:?}"),
            });
        }
        let out_shape = &manifest.outputs[0].shape;
        if out_shape.last().copied() != Some(spec.dim as i64) {
            return Err(ModelError::Contract {
                model: manifest.id.clone(),
                tensor: manifest.outputs[0].name.clone(),
                expected: format!("[N,{}] (face_embedder.dim)", spec.dim),
                got: format!("{out_shape:?}"),
            });
        }
        let batched = shape[0] < 0;
        let session = CheckedSession::load(manifest, models_dir, opts)?;
        Ok(Self {
            session,
            spec,
            batched,
        })
    }

    /// The manifest id, e.g. `mobilefacenet_192d`.
    pub fn id(&self) -> &str {
        &self.session.manifest.id
    }

    /// sha256 of the weights in use.
    pub fn sha256(&self) -> &str {
        &self.session.manifest.sha256
    }

    pub fn spec(&self) -> &EmbedderSpec {
        &self.spec
    }

    /// Aligns a detected face onto this embedder's template.
    pub fn align(&self, image: RgbView<'_>, face: &Face) -> Option<image::RgbImage> {
        align(image, face, &self.spec)
    }

    fn run_batch(&self, faces: &[image::RgbImage]) -> Result<Vec<Vec<f32>>, ModelError> {
        let m = &self.session.manifest;
        let [w, h] = self.spec.template_size;
        let mut data = Vec::with_capacity(faces.len() * 3 * (w * h) as usize);
        for f in faces {
            if f.width() != w || f.height() != h {
                return Err(ModelError::BadInput {
                    model: m.id.clone(),
                    reason: format!(
                        "aligned face is {}x{}, expected {w}x{h}",
                        f.width(),
                        f.height()
                    ),
                });
            }
            let lb = Letterbox {
                scale: 1.0,
                input_w: w,
                input_h: h,
            };
            data.extend(imageops::letterbox_nchw(
                RgbView::from_image(f),
                lb,
                &m.preprocess,
            ));
        }
        let outs = self.session.run(
            &m.inputs[0].name,
            vec![faces.len() as i64, 3, h as i64, w as i64],
            data,
            &[m.outputs[0].name.as_str()],
        )?;
        let (shape, values) = &outs[0];
        if shape.len() != 2
            || shape[0] as usize != faces.len()
            || shape[1] as usize != self.spec.dim
        {
            return Err(ModelError::Inference {
                model: m.id.clone(),
                reason: format!(
                    "output shape {shape:?}, expected [{},{}]",
                    faces.len(),
                    self.spec.dim
                ),
            });
        }
        Ok(values
            .chunks(self.spec.dim)
            .map(|v| {
                let mut v = v.to_vec();
                if self.spec.metric == Metric::Cosine {
                    l2_normalise(&mut v);
                }
                v
            })
            .collect())
    }
}

impl Embedder for OnnxEmbedder {
    fn embed(&self, faces: &[image::RgbImage]) -> Result<Vec<Vec<f32>>, ModelError> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        if self.batched {
            self.run_batch(faces)
        } else {
            let mut out = Vec::with_capacity(faces.len());
            for f in faces {
                out.extend(self.run_batch(std::slice::from_ref(f))?);
            }
            Ok(out)
        }
    }
}

/// Aligns a face onto an embedder's template with a similarity transform of its 5 landmarks.
pub fn align(image: RgbView<'_>, face: &Face, spec: &EmbedderSpec) -> Option<image::RgbImage> {
    // Map crop pixels to source pixels: transform from template to landmarks.
    let t = imageops::similarity_transform(&spec.template, &face.landmarks)?;
    Some(imageops::warp_affine(
        image,
        t,
        spec.template_size[0],
        spec.template_size[1],
    ))
}

/// Scales `v` to unit length (no-op for the zero vector).
pub fn l2_normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Distance between two embeddings under `metric` (lower is closer).
pub fn distance(metric: Metric, a: &[f32], b: &[f32]) -> f32 {
    match metric {
        Metric::Cosine => 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>(),
        Metric::Euclidean => a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f32>()
            .sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, score: f32) -> Face {
        Face {
            bbox: [x, 0.0, 10.0, 10.0],
            score,
            landmarks: [[0.0; 2]; 5],
            small: false,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_all_separate_ones() {
        let kept = nms(vec![face(0.0, 0.8), face(1.0, 0.9), face(50.0, 0.7)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].bbox[0], 50.0);
    }

    #[test]
    fn cosine_distance_of_identical_unit_vectors_is_zero() {
        let mut a = vec![3.0, 4.0];
        l2_normalise(&mut a);
        assert!(distance(Metric::Cosine, &a, &a).abs() < 1e-6);
        assert!((distance(Metric::Euclidean, &[0.0, 0.0], &[3.0, 4.0]) - 5.0).abs() < 1e-6);
    }
}
