//! Face embeddings at the IOC (enrolment photos, face-photo search), computed with the same
//! models crate and manifests as the edges, on one named thread behind a bounded queue:
//! inference never runs on the async runtime's workers.

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use models::{FaceModels, RgbView};
use tokio::sync::oneshot;

use crate::config::ModelsConfig;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("face models could not be loaded: {0}")]
    Load(#[from] models::ModelError),
    #[error("photo {index}: not a readable image: {reason}")]
    Decode { index: usize, reason: String },
    #[error("photo {index}: {reason}")]
    Unusable { index: usize, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the face service is busy; try again")]
    Busy,
    #[error("the face service stopped")]
    Stopped,
    #[error("face models are not configured ([models] in the ioc-bridge config)")]
    NotConfigured,
}

/// Who made the embeddings (sent with every gallery update; edges refuse other embedders).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmbedderInfo {
    pub id: String,
    pub sha256: String,
    pub dim: usize,
    pub metric: models::Metric,
    /// Distance below which two faces are the same person (the manifest's operating point).
    pub threshold: f32,
}

type Job = (
    Vec<Vec<u8>>,
    oneshot::Sender<Result<Vec<Vec<f32>>, FaceError>>,
);

/// Handle to the face thread.
#[derive(Clone)]
pub struct FaceService {
    tx: SyncSender<Job>,
    pub embedder: Arc<EmbedderInfo>,
}

impl std::fmt::Debug for FaceService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceService")
            .field("embedder", &self.embedder)
            .finish()
    }
}

/// Smallest face side accepted in an enrolment photo or a search probe.
pub const MIN_FACE_PX: u32 = 40;

impl FaceService {
    /// Loads the models and starts the `faces` thread.
    pub fn start(cfg: &ModelsConfig) -> Result<Self, FaceError> {
        let opts = models::RuntimeOptions {
            ort_dylib_path: (!cfg.ort_dylib_path.as_os_str().is_empty())
                .then(|| cfg.ort_dylib_path.clone()),
            intra_threads: 1,
        };
        let m = FaceModels::load(
            &cfg.manifests_dir,
            &cfg.dir,
            &cfg.face_detector,
            &cfg.face_embedder,
            &opts,
        )?;
        Self::with_models(m)
    }

    pub fn with_models(m: FaceModels) -> Result<Self, FaceError> {
        let embedder = Arc::new(EmbedderInfo {
            id: m.embedder.id().to_owned(),
            sha256: m.embedder.sha256().to_owned(),
            dim: m.embedder.spec().dim,
            metric: m.embedder.spec().metric,
            threshold: m.embedder.spec().threshold,
        });
        let (tx, rx) = sync_channel::<Job>(8);
        std::thread::Builder::new()
            .name("faces".into())
            .spawn(move || {
                for (photos, reply) in rx {
                    let _ = reply.send(embed_all(&m, &photos));
                }
            })
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        Ok(Self { tx, embedder })
    }

    /// One embedding per photo (each must show exactly one usable face), in order.
    pub async fn embed_photos(&self, photos: Vec<Vec<u8>>) -> Result<Vec<Vec<f32>>, FaceError> {
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send((photos, reply)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(FaceError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(FaceError::Stopped),
        }
        rx.await.map_err(|_| FaceError::Stopped)?
    }
}

fn embed_all(m: &FaceModels, photos: &[Vec<u8>]) -> Result<Vec<Vec<f32>>, FaceError> {
    let mut out = Vec::with_capacity(photos.len());
    for (index, bytes) in photos.iter().enumerate() {
        let img = image::load_from_memory(bytes)
            .map_err(|e| FaceError::Decode {
                index,
                reason: e.to_string(),
            })?
            .to_rgb8();
        match m
            .single_face_embedding(RgbView::from_image(&img), MIN_FACE_PX)
            .map_err(|e| FaceError::Inference(e.to_string()))?
        {
            Ok(e) => out.push(e),
            Err(skip) => {
                return Err(FaceError::Unusable {
                    index,
                    reason: skip.to_string(),
                });
            }
        }
    }
    Ok(out)
}

impl EmbedderInfo {
    /// Distance between two embeddings under this embedder's metric.
    pub fn distance(&self, a: &[f32], b: &[f32]) -> f32 {
        models::face::distance(self.metric, a, b)
    }
}
