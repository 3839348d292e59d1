//! The face path for one image: detect, drop small faces, align, embed (batched), match.
//! Used both by camera workers and by enrolment, so both see faces the same way.

use std::sync::Arc;

use models::{Embedder, Face, FaceDetector, FaceModels, ModelError, RgbView};

use crate::gallery::{EmbedderIdentity, Gallery, Match};

/// Result for one face in a frame.
#[derive(Debug, Clone)]
pub struct FaceResult {
    pub face: Face,
    pub embedding: Vec<f32>,
    /// Best gallery candidate, whatever its distance.
    pub best: Option<Match>,
    /// `best` is within the threshold.
    pub is_match: bool,
}

pub use models::EnrolSkip;

/// Detector + embedder + operating point.
#[derive(Debug, Clone)]
pub struct Recogniser {
    pub models: Arc<FaceModels>,
    /// Distance below which a candidate is a match.
    pub threshold: f32,
    pub min_face_px: u32,
}

impl Recogniser {
    pub fn embedder_identity(&self) -> EmbedderIdentity {
        let e = &self.models.embedder;
        EmbedderIdentity {
            id: e.id().to_owned(),
            sha256: e.sha256().to_owned(),
            dim: e.spec().dim,
            metric: e.spec().metric,
        }
    }

    /// Detects, embeds and matches every face at least `min_face_px` in size.
    pub fn analyse(
        &self,
        image: RgbView<'_>,
        gallery: &Gallery,
    ) -> Result<Vec<FaceResult>, ModelError> {
        let faces: Vec<Face> = self
            .models
            .detector
            .detect(image)?
            .into_iter()
            .filter(|f| f.min_side() >= self.min_face_px as f32)
            .collect();
        let mut kept = Vec::with_capacity(faces.len());
        let mut crops = Vec::with_capacity(faces.len());
        for f in faces {
            if let Some(c) = self.models.embedder.align(image, &f) {
                crops.push(c);
                kept.push(f);
            }
        }
        let embeddings = self.models.embedder.embed(&crops)?;
        Ok(kept
            .into_iter()
            .zip(embeddings)
            .map(|(face, embedding)| {
                let best = gallery.best(&embedding);
                let is_match = best.as_ref().is_some_and(|m| m.distance < self.threshold);
                FaceResult {
                    face,
                    embedding,
                    best,
                    is_match,
                }
            })
            .collect())
    }

    /// The embedding of the single usable face of an enrolment photo.
    pub fn enrol_embedding(
        &self,
        image: RgbView<'_>,
    ) -> Result<Result<Vec<f32>, EnrolSkip>, ModelError> {
        self.models.single_face_embedding(image, self.min_face_px)
    }
}
