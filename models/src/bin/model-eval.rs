//! `model-eval`: accuracy of the face path on any data set in the supported formats, printed as
//! one JSON summary.
//!
//! ```text
//! model-eval faces --pairs PAIRS.tsv --root IMAGES [--folder IDENTITY_FOLDERS] [--embedder ID]
//! model-eval calibrate --folder DIR [--folder DIR ...] --far 0.001 [--embedder ID]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use models::eval::{self, Pair, Scored};
use models::{Embedder, FaceDetector, FaceModels, RgbView};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "model-eval",
    about = "Measure recognition accuracy on labelled data"
)]
struct Cli {
    /// Directory of model manifests (default: the workspace's models/manifests).
    #[arg(long, global = true)]
    manifests: Option<PathBuf>,
    /// Directory of installed weights (default: GATEWATCH_MODELS_DIR or .local/models).
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    #[arg(long, global = true, default_value = "yunet_s_640_640")]
    detector: String,
    #[arg(long, global = true, default_value = "mobilefacenet_192d")]
    embedder: String,
    /// Override the manifest's operating threshold.
    #[arg(long, global = true)]
    threshold: Option<f32>,
    /// Override the detector manifest's score threshold.
    #[arg(long, global = true)]
    detector_threshold: Option<f32>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Verification on a pairs file and/or identification on identity folders.
    Faces {
        /// `image_a<TAB>image_b<TAB>same|different`, paths relative to --root.
        #[arg(long)]
        pairs: Option<PathBuf>,
        #[arg(long)]
        root: Option<PathBuf>,
        /// `<identity>/<photo>` folder: all-pairs verification and leave-one-out rank-1.
        #[arg(long)]
        folder: Option<PathBuf>,
    },
    /// The threshold that keeps the false-accept rate at or below --far on every folder given
    /// (each population separately, then the strictest is taken: one threshold for everyone).
    Calibrate {
        #[arg(long, required = true)]
        folder: Vec<PathBuf>,
        #[arg(long, default_value_t = 0.001)]
        far: f64,
    },
}

struct Embeddings<'a> {
    models: &'a FaceModels,
    cache: HashMap<PathBuf, Option<Vec<f32>>>,
    without_face: Vec<PathBuf>,
}

impl<'a> Embeddings<'a> {
    /// The embedding of the largest face in the image, or `None` (unreadable or no face).
    fn get(&mut self, path: &Path) -> Option<Vec<f32>> {
        if let Some(v) = self.cache.get(path) {
            return v.clone();
        }
        let v = models::imageops::load_rgb(path).ok().and_then(|img| {
            let view = RgbView::from_image(&img);
            let faces = self.models.detector.detect(view).ok()?;
            let best = faces
                .iter()
                .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))?;
            let crop = self.models.embedder.align(view, best)?;
            self.models.embedder.embed(&[crop]).ok()?.pop()
        });
        if v.is_none() {
            self.without_face.push(path.to_owned());
        }
        self.cache.insert(path.to_owned(), v.clone());
        v
    }

    fn score(&mut self, pairs: &[Pair]) -> Vec<Scored> {
        let metric = self.models.embedder.spec().metric;
        pairs
            .iter()
            .map(|p| {
                let (a, b) = (self.get(&p.a), self.get(&p.b));
                Scored {
                    same: p.same,
                    distance: a
                        .zip(b)
                        .map(|(a, b)| models::face::distance(metric, &a, &b)),
                }
            })
            .collect()
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let (default_manifests, default_models) = models::workspace_dirs();
    let manifests = cli.manifests.unwrap_or(default_manifests);
    let models_dir = cli.models.unwrap_or(default_models);
    let mut m = FaceModels::load(
        &manifests,
        &models_dir,
        &cli.detector,
        &cli.embedder,
        &models::workspace_runtime_options(),
    )
    .context("loading models")?;
    if let Some(t) = cli.detector_threshold {
        m.detector.score_threshold = t;
    }
    let spec = m.embedder.spec().clone();
    let threshold = cli.threshold.unwrap_or(spec.threshold);
    let mut emb = Embeddings {
        models: &m,
        cache: HashMap::new(),
        without_face: Vec::new(),
    };
    let header = json!({
        "detector": cli.detector,
        "embedder": cli.embedder,
        "metric": spec.metric,
        "threshold": threshold,
        "threshold_source": if cli.threshold.is_some() { "command line".to_string() } else { spec.threshold_source.clone() },
    });
    let out = match cli.cmd {
        Cmd::Faces {
            pairs,
            root,
            folder,
        } => {
            let mut report = serde_json::Map::new();
            report.insert("models".into(), header);
            if let Some(pairs) = pairs {
                let root =
                    root.unwrap_or_else(|| pairs.parent().unwrap_or(Path::new(".")).to_owned());
                let list = eval::read_pairs(&pairs, &root).map_err(anyhow::Error::msg)?;
                let scored = emb.score(&list);
                report.insert(
                    "pairs".into(),
                    json!({ "file": pairs, "verification": eval::verification(&scored, threshold) }),
                );
            }
            if let Some(folder) = folder {
                let images = eval::read_folder(&folder).map_err(anyhow::Error::msg)?;
                let scored = emb.score(&eval::all_pairs(&images));
                let with: Vec<(String, Vec<f32>)> = images
                    .iter()
                    .filter_map(|(id, p)| emb.get(p).map(|e| (id.clone(), e)))
                    .collect();
                let ident = eval::rank1(&with, |a, b| models::face::distance(spec.metric, a, b));
                report.insert(
                    "folder".into(),
                    json!({
                        "dir": folder,
                        "identities": images.iter().map(|(i, _)| i).collect::<std::collections::BTreeSet<_>>().len(),
                        "images": images.len(),
                        "verification_all_pairs": eval::verification(&scored, threshold),
                        "identification": ident,
                    }),
                );
            }
            report.insert(
                "images_without_usable_face".into(),
                json!({ "count": emb.without_face.len(), "images": emb.without_face }),
            );
            serde_json::Value::Object(report)
        }
        Cmd::Calibrate { folder, far } => {
            let mut per = Vec::new();
            let mut strictest = f32::INFINITY;
            for f in &folder {
                let images = eval::read_folder(f).map_err(anyhow::Error::msg)?;
                let scored = emb.score(&eval::all_pairs(&images));
                let impostor: Vec<f32> = scored
                    .iter()
                    .filter(|s| !s.same)
                    .filter_map(|s| s.distance)
                    .collect();
                let t = eval::threshold_for_far(&impostor, far);
                strictest = strictest.min(t);
                per.push((f.clone(), t, scored));
            }
            let populations: Vec<_> = per
                .iter()
                .map(|(f, t, scored)| {
                    json!({
                        "folder": f,
                        "threshold_for_far": t,
                        "at_chosen_threshold": eval::verification(scored, strictest),
                    })
                })
                .collect();
            json!({
                "models": header,
                "far_target": far,
                "chosen_threshold": strictest,
                "manifest_threshold": spec.threshold,
                "populations": populations,
                "images_without_usable_face": emb.without_face.len(),
            })
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
