//! `model-eval`: accuracy of the face path on any data set in the supported formats, printed as
//! one JSON summary.
//!
//! ```text
//! model-eval faces --pairs PAIRS.tsv --root IMAGES [--folder IDENTITY_FOLDERS] [--embedder ID]
//! model-eval calibrate --folder DIR [--folder DIR ...] --far 0.001 [--embedder ID]
//! model-eval plates --gt GT.tsv --root IMAGES [--scenes] [--every N]
//! ```
//!
//! For plates, `MODEL_EVAL_VERBOSE=1` prints every miss (wanted text and the reading) on
//! stderr, `MODEL_EVAL_VERBOSE=all` every hit as well.

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
    /// Plate reading accuracy: a ground-truth TSV (`file<TAB>text`, `#` comments; or the
    /// `labels.tsv` of vn_scenes_labelled with a header) over plate crops or full scenes.
    Plates {
        #[arg(long)]
        gt: PathBuf,
        /// Folder the file names are relative to.
        #[arg(long)]
        root: PathBuf,
        /// Images are full scenes: find the plate of the main vehicle first.
        #[arg(long)]
        scenes: bool,
        /// Read at most this many images.
        #[arg(long)]
        limit: Option<usize>,
        /// Read only every N-th image (a quick, category-balanced sample).
        #[arg(long, default_value_t = 1)]
        every: usize,
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
    let manifests = cli.manifests.clone().unwrap_or(default_manifests);
    let models_dir = cli.models.clone().unwrap_or(default_models);
    if let Cmd::Plates {
        gt,
        root,
        scenes,
        limit,
        every,
    } = &cli.cmd
    {
        let out = plates::evaluate(
            &manifests,
            &models_dir,
            gt,
            root,
            *scenes,
            *limit,
            (*every).max(1),
        )?;
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
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
        Cmd::Plates { .. } => unreachable!("handled above"),
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

mod plates {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Instant;

    use anyhow::{Context, Result};
    use models::RgbView;
    use models::ocr::{CropPlateReader, PlateReader};
    use models::plate::{self, normalize};
    use models::textdet::ScenePlateReader;
    use serde_json::json;

    #[derive(Default)]
    struct Tally {
        n: usize,
        exact: usize,
        unreadable: usize,
        chars: usize,
        chars_right: usize,
    }

    impl Tally {
        fn add(&mut self, want: &str, got: Option<&str>) {
            self.n += 1;
            self.chars += want.len();
            match got {
                Some(g) => {
                    self.exact += usize::from(g == want);
                    self.chars_right += want.len().saturating_sub(plate::edit_distance(g, want));
                }
                None => self.unreadable += 1,
            }
        }

        fn json(&self) -> serde_json::Value {
            let r = |a: usize, b: usize| {
                if b == 0 {
                    f64::NAN
                } else {
                    a as f64 / b as f64
                }
            };
            json!({
                "images": self.n,
                "exact": self.exact,
                "exact_accuracy": r(self.exact, self.n),
                "character_accuracy": r(self.chars_right, self.chars),
                "unreadable": self.unreadable,
            })
        }
    }

    pub fn evaluate(
        manifests: &Path,
        models_dir: &Path,
        gt: &Path,
        root: &Path,
        scenes: bool,
        limit: Option<usize>,
        every: usize,
    ) -> Result<serde_json::Value> {
        let o = models::workspace_runtime_options();
        // One recogniser: the scene reader's own when reading scenes.
        let (scene, crops) = if scenes {
            (
                Some(ScenePlateReader::load(manifests, models_dir, &o)?),
                None,
            )
        } else {
            (
                None,
                Some(CropPlateReader::load(manifests, models_dir, &o)?),
            )
        };
        let text = std::fs::read_to_string(gt).with_context(|| format!("{}", gt.display()))?;
        let mut lines = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .peekable();
        // labels.tsv has a header: image, plate_text, plate_text_norm, category, layout.
        let labelled = lines.peek().is_some_and(|l| l.starts_with("image\t"));
        if labelled {
            lines.next();
        }
        let (mut all, mut by_layout, mut by_category) = (
            Tally::default(),
            BTreeMap::<String, Tally>::new(),
            BTreeMap::<String, Tally>::new(),
        );
        let mut invalid_labels = Vec::new();
        let t = Instant::now();
        for line in lines.step_by(every).take(limit.unwrap_or(usize::MAX)) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (file, want) = (cols[0], normalize(cols.get(1).copied().unwrap_or_default()));
            let img = models::imageops::load_rgb(&root.join(file)).map_err(anyhow::Error::msg)?;
            let view = RgbView::from_image(&img);
            let got = match (&scene, &crops) {
                (Some(s), _) => s.read_scene(view)?.map(|p| p.read),
                (None, Some(r)) => Some(r.read(view)?),
                (None, None) => None,
            };
            let got_norm = got
                .as_ref()
                .and_then(|r| r.plate())
                .map(|p| p.normalized.clone());
            if std::env::var_os("MODEL_EVAL_VERBOSE").is_some()
                && got_norm.as_deref() != Some(want.as_str())
            {
                eprintln!("miss {file}: want {want}, got {got:?}");
            } else if std::env::var("MODEL_EVAL_VERBOSE").as_deref() == Ok("all") {
                eprintln!("hit {file}: want {want}, got {got:?}");
            }
            let layout = if labelled {
                cols.get(4).map(|s| s.to_string()).unwrap_or_default()
            } else if img.width() as f32 / img.height() as f32 > 2.5 {
                "1-line".to_string()
            } else {
                "2-line".to_string()
            };
            if plate::parse_one_line(&want).is_none() {
                invalid_labels.push(file.to_string());
            }
            all.add(&want, got_norm.as_deref());
            by_layout
                .entry(layout)
                .or_default()
                .add(&want, got_norm.as_deref());
            if labelled {
                by_category
                    .entry(cols.get(3).map(|s| s.to_string()).unwrap_or_default())
                    .or_default()
                    .add(&want, got_norm.as_deref());
            }
        }
        Ok(json!({
            "ground_truth": gt,
            "mode": if scenes { "scenes" } else { "crops" },
            "overall": all.json(),
            "by_layout": by_layout.iter().map(|(k, v)| (k.clone(), v.json())).collect::<serde_json::Map<_, _>>(),
            "by_category": by_category.iter().map(|(k, v)| (k.clone(), v.json())).collect::<serde_json::Map<_, _>>(),
            "labels_not_a_valid_plate": { "count": invalid_labels.len(), "files": invalid_labels },
            "ms_per_image": t.elapsed().as_secs_f64() * 1000.0 / all.n.max(1) as f64,
        }))
    }
}
