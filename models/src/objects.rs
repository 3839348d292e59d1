//! Person and vehicle detection (YOLOX), letterboxed, with per-class NMS.

use std::path::Path;

use crate::ModelError;
use crate::imageops::{self, Letterbox, RgbView};
use crate::manifest::{ModelKind, ModelManifest, ObjectDetectorSpec};
use crate::runtime::{CheckedSession, RuntimeOptions};

/// One detected object in source-image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Class id in the model's label space (COCO for YOLOX).
    pub class_id: usize,
    /// Label from the manifest, e.g. `person`, `car`, `motorcycle`.
    pub label: String,
    pub score: f32,
    /// x, y, width, height.
    pub bbox: [f32; 4],
}

/// Finds people and vehicles.
pub trait ObjectDetector: Send + Sync {
    fn detect(&self, image: RgbView<'_>) -> Result<Vec<Detection>, ModelError>;
}

/// YOLOX with a fixed square input (e.g. nano at 416x416).
#[derive(Debug)]
pub struct Yolox {
    session: CheckedSession,
    spec: ObjectDetectorSpec,
    input_w: u32,
    input_h: u32,
    pub score_threshold: f32,
}

impl Yolox {
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let contract = |tensor: &str, expected: &str, got: String| ModelError::Contract {
            model: manifest.id.clone(),
            tensor: tensor.into(),
            expected: expected.into(),
            got,
        };
        if manifest.kind != ModelKind::ObjectDetector {
            return Err(contract(
                "(manifest kind)",
                "ObjectDetector",
                format!("{:?}", manifest.kind),
            ));
        }
        let spec = manifest
            .object_detector
            .clone()
            .ok_or_else(|| contract("(manifest)", "[object_detector] section", "none".into()))?;
        let (input_h, input_w) = match manifest.inputs[0].shape.as_slice() {
            [1, 3, h, w] if *h > 0 && *w > 0 => (*h as u32, *w as u32),
            s => {
                return Err(contract(
                    &manifest.inputs[0].name,
                    "[1,3,H,W]",
                    format!("{s:?}"),
                ));
            }
        };
        let score_threshold = spec.score_threshold;
        let session = CheckedSession::load(manifest, models_dir, opts)?;
        Ok(Self {
            session,
            spec,
            input_w,
            input_h,
            score_threshold,
        })
    }

    pub fn id(&self) -> &str {
        &self.session.manifest.id
    }
}

impl ObjectDetector for Yolox {
    fn detect(&self, image: RgbView<'_>) -> Result<Vec<Detection>, ModelError> {
        let m = &self.session.manifest;
        let lb = Letterbox::fit(image.width, image.height, self.input_w, self.input_h);
        let input = imageops::letterbox_nchw(image, lb, &m.preprocess);
        let outs = self.session.run(
            &m.inputs[0].name,
            vec![1, 3, self.input_h as i64, self.input_w as i64],
            input,
            &[m.outputs[0].name.as_str()],
        )?;
        let (shape, data) = &outs[0];
        let width = shape.last().copied().unwrap_or(0) as usize;
        let classes = width.saturating_sub(5);
        if classes == 0 {
            return Err(ModelError::Inference {
                model: m.id.clone(),
                reason: format!("output shape {shape:?} has no class scores"),
            });
        }
        // Anchor grid: for each stride, (H/s) x (W/s) cells in row-major order.
        let mut grid = Vec::new();
        for s in &self.spec.strides {
            let (gh, gw) = (self.input_h / s, self.input_w / s);
            for gy in 0..gh {
                for gx in 0..gw {
                    grid.push((gx as f32, gy as f32, *s as f32));
                }
            }
        }
        let inv = 1.0 / lb.scale;
        let mut dets = Vec::new();
        for (i, row) in data.chunks(width).enumerate() {
            let Some(&(gx, gy, s)) = grid.get(i) else {
                break;
            };
            let obj = row[4];
            if obj < self.score_threshold {
                continue;
            }
            for (label, &class_id) in self.spec.labels.iter().zip(&self.spec.class_ids) {
                let Some(&cls) = row.get(5 + class_id) else {
                    continue;
                };
                let score = obj * cls;
                if score < self.score_threshold {
                    continue;
                }
                let (cx, cy) = ((row[0] + gx) * s, (row[1] + gy) * s);
                let (w, h) = (row[2].exp() * s, row[3].exp() * s);
                dets.push(Detection {
                    class_id,
                    label: label.clone(),
                    score,
                    bbox: [(cx - w / 2.0) * inv, (cy - h / 2.0) * inv, w * inv, h * inv],
                });
            }
        }
        Ok(nms_per_class(dets, self.spec.nms_iou))
    }
}

/// Greedy NMS within each class.
pub fn nms_per_class(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut keep: Vec<Detection> = Vec::new();
    for d in dets {
        if keep
            .iter()
            .all(|k| k.class_id != d.class_id || imageops::iou(&k.bbox, &d.bbox) <= iou_threshold)
        {
            keep.push(d);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(class_id: usize, x: f32, score: f32) -> Detection {
        Detection {
            class_id,
            label: String::new(),
            score,
            bbox: [x, 0.0, 10.0, 10.0],
        }
    }

    #[test]
    fn nms_suppresses_overlaps_within_a_class_only() {
        let kept = nms_per_class(
            vec![det(0, 0.0, 0.9), det(0, 1.0, 0.8), det(2, 1.0, 0.7)],
            0.45,
        );
        assert_eq!(kept.len(), 2);
        assert!(kept.iter().any(|d| d.class_id == 2));
    }
}
