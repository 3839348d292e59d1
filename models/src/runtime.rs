//! ONNX Runtime loading and contract-checked sessions.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::value::ValueType;

use crate::ModelError;
use crate::manifest::{ModelManifest, TensorSpec};

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Where to find `libonnxruntime.so`: the explicit path, else `ORT_DYLIB_PATH`.
fn dylib_path(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
        _ => Err(ModelError::Runtime {
            path: PathBuf::new(),
            reason: "ONNX Runtime library not configured: set ORT_DYLIB_PATH (scripts/setup.sh \
                     installs it under .local/ort) or models.ort_dylib_path in the config"
                .into(),
        }),
    }
}

/// Loads ONNX Runtime once per process. Later calls return the same environment; the library
/// path of the first successful call wins.
pub fn environment(
    explicit: Option<&Path>,
) -> Result<&'static ort::environment::Environment, ModelError> {
    let path = dylib_path(explicit)?;
    let res = ENV.get_or_init(|| {
        if !path.is_file() {
            return Err(format!("{} does not exist", path.display()));
        }
        let builder = ort::init_from(&path).map_err(|e| e.to_string())?;
        builder
            .with_name("gatewatch")
            .build()
            .map_err(|e| e.to_string())
    });
    res.as_ref().map_err(|reason| ModelError::Runtime {
        path,
        reason: reason.clone(),
    })
}

/// Session options shared by every model.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Explicit path of `libonnxruntime.so`; `None` reads `ORT_DYLIB_PATH`.
    pub ort_dylib_path: Option<PathBuf>,
    /// Threads one inference may use.
    pub intra_threads: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            ort_dylib_path: None,
            intra_threads: 2,
        }
    }
}

/// One output: shape and row-major values.
pub type OutputTensor = (Vec<i64>, Vec<f32>);

/// An ONNX session whose inputs and outputs were checked against its manifest.
pub struct CheckedSession {
    pub manifest: ModelManifest,
    pub path: PathBuf,
    session: Mutex<Session>,
}

impl std::fmt::Debug for CheckedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedSession")
            .field("model", &self.manifest.id)
            .field("path", &self.path)
            .finish()
    }
}

fn shape_str(shape: &[i64]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| {
            if *d < 0 {
                "?".to_string()
            } else {
                d.to_string()
            }
        })
        .collect();
    format!("[{}]", dims.join(","))
}

fn check_outlets(
    model: &str,
    direction: &str,
    specs: &[TensorSpec],
    got: &[ort::value::Outlet],
) -> Result<(), ModelError> {
    let got_names: Vec<&str> = got.iter().map(|o| o.name()).collect();
    for spec in specs {
        let Some(outlet) = got.iter().find(|o| o.name() == spec.name) else {
            return Err(ModelError::Contract {
                model: model.into(),
                tensor: spec.name.clone(),
                expected: format!("an {direction} named {:?}", spec.name),
                got: format!("{direction}s {got_names:?}"),
            });
        };
        match outlet.dtype() {
            ValueType::Tensor { ty, shape, .. } => {
                if *ty != ort::value::TensorElementType::Float32 {
                    return Err(ModelError::Contract {
                        model: model.into(),
                        tensor: spec.name.clone(),
                        expected: "float32".into(),
                        got: format!("{ty:?}"),
                    });
                }
                let dims: &[i64] = shape;
                let same = dims.len() == spec.shape.len()
                    && dims
                        .iter()
                        .zip(&spec.shape)
                        .all(|(g, e)| (*g < 0 && *e < 0) || g == e);
                if !same {
                    return Err(ModelError::Contract {
                        model: model.into(),
                        tensor: spec.name.clone(),
                        expected: shape_str(&spec.shape),
                        got: shape_str(dims),
                    });
                }
            }
            other => {
                return Err(ModelError::Contract {
                    model: model.into(),
                    tensor: spec.name.clone(),
                    expected: "a tensor".into(),
                    got: format!("{other:?}"),
                });
            }
        }
    }
    Ok(())
}

impl CheckedSession {
    /// Verifies the weights' sha256, loads them and checks every tensor named in the manifest.
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let path = manifest.verify_weights(models_dir)?;
        let env = environment(opts.ort_dylib_path.as_deref())?;
        let load_err = |reason: String| ModelError::Load {
            model: manifest.id.clone(),
            path: path.clone(),
            reason,
        };
        let mut builder = Session::builder(env).map_err(|e| load_err(e.to_string()))?;
        builder = builder
            .with_intra_threads(opts.intra_threads.max(1))
            .map_err(|e| load_err(e.to_string()))?;
        let session = builder
            .commit_from_file(&path)
            .map_err(|e| load_err(e.to_string()))?;
        check_outlets(&manifest.id, "input", &manifest.inputs, session.inputs())?;
        check_outlets(&manifest.id, "output", &manifest.outputs, session.outputs())?;
        tracing::info!(model = %manifest.id, path = %path.display(), "model loaded, contract checked");
        Ok(Self {
            manifest,
            path,
            session: Mutex::new(session),
        })
    }

    /// Runs the model on one float32 input tensor and returns the requested outputs as
    /// `(shape, data)` in the order of `outputs`.
    pub fn run(
        &self,
        input: &str,
        shape: Vec<i64>,
        data: Vec<f32>,
        outputs: &[&str],
    ) -> Result<Vec<OutputTensor>, ModelError> {
        let infer_err = |reason: String| ModelError::Inference {
            model: self.manifest.id.clone(),
            reason,
        };
        let tensor =
            ort::value::Tensor::from_array((shape, data)).map_err(|e| infer_err(e.to_string()))?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| infer_err("session lock poisoned by an earlier panic".into()))?;
        let out = session
            .run(ort::inputs![input => tensor])
            .map_err(|e| infer_err(e.to_string()))?;
        let mut result = Vec::with_capacity(outputs.len());
        for name in outputs {
            let value = out
                .get(*name)
                .ok_or_else(|| infer_err(format!("output {name:?} missing")))?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| infer_err(format!("output {name:?}: {e}")))?;
            result.push((shape.to_vec(), data.to_vec()));
        }
        Ok(result)
    }
}
