//! The gallery of enrolled people: samples (embeddings) per person, an HNSW index over them,
//! and the embedder identity (id + sha256) they were computed with. A gallery refuses to load
//! against a different embedder: mixing embedding spaces silently gives wrong matches.
//!
//! On disk it is one JSON file (people, samples, embedder, index parameters), written atomically.
//! The HNSW graph is rebuilt from the samples on load: deterministic, and fast for galleries of
//! the size an edge box holds (thousands of people).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::hnsw::Hnsw;
use models::Metric;
use serde::{Deserialize, Serialize};

/// Version of the gallery file format.
pub const GALLERY_FORMAT: u32 = 1;

/// The list whose people raise `watchlist_hit` alerts instead of `face_match` events.
pub const WATCH_LIST: &str = "watch";

#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error("gallery {path:?} cannot be read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("gallery {path:?} cannot be written: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error(
        "gallery {path:?} was built with embedder {gallery_embedder} (sha256 {gallery_sha256}) but \
         this agent runs {current_embedder} (sha256 {current_sha256}); re-enrol with the current embedder"
    )]
    EmbedderMismatch {
        path: PathBuf,
        gallery_embedder: String,
        gallery_sha256: String,
        current_embedder: String,
        current_sha256: String,
    },
    #[error("embedding has {got} dimensions, the gallery holds {expected}")]
    Dimension { expected: usize, got: usize },
    #[error("gallery update {update_id} refused: {reason}")]
    UpdateRefused { update_id: String, reason: String },
}

/// Which embedder produced the samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedderIdentity {
    pub id: String,
    pub sha256: String,
    pub dim: usize,
    pub metric: Metric,
}

/// HNSW parameters, stored with the gallery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexParams {
    /// Links per node (M).
    pub max_connections: usize,
    pub ef_construction: usize,
    pub ef_search: usize,
}

impl Default for IndexParams {
    fn default() -> Self {
        Self {
            max_connections: 16,
            ef_construction: 100,
            ef_search: 64,
        }
    }
}

/// An enrolled person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub person_id: String,
    pub name: String,
    /// `staff`, `visitor`, `watch`, ...
    pub list: String,
    /// Recognised only from this time on (visitors), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime<Utc>>,
    /// Recognised only until this time (visitors), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<DateTime<Utc>>,
}

impl Person {
    /// A person with no validity limits.
    pub fn new(
        person_id: impl Into<String>,
        name: impl Into<String>,
        list: impl Into<String>,
    ) -> Self {
        Self {
            person_id: person_id.into(),
            name: name.into(),
            list: list.into(),
            valid_from: None,
            valid_until: None,
        }
    }

    /// Whether the person may be recognised at `now`.
    pub fn valid_at(&self, now: DateTime<Utc>) -> bool {
        self.valid_from.is_none_or(|f| now >= f) && self.valid_until.is_none_or(|u| now < u)
    }
}

/// One embedding of one person.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    pub person_id: String,
    /// Photo the sample came from (for audit).
    pub source: String,
    pub embedding: Vec<f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GalleryFile {
    format: u32,
    embedder: EmbedderIdentity,
    index: IndexParams,
    updated_at: DateTime<Utc>,
    people: Vec<Person>,
    samples: Vec<Sample>,
}

/// HNSW distance for the embedder's metric, in f32 (hnsw_rs's own cosine is f64 and slow).
#[derive(Debug, Clone, Copy)]
pub struct MetricDistance(pub Metric);

impl Distance<f32> for MetricDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        models::face::distance(self.0, a, b).max(0.0)
    }
}

/// Best match for a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub person: Person,
    pub distance: f32,
}

/// People, samples and their index.
pub struct Gallery {
    file: GalleryFile,
    index: Hnsw<'static, f32, MetricDistance>,
}

impl std::fmt::Debug for Gallery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("embedder", &self.file.embedder)
            .field("people", &self.file.people.len())
            .field("samples", &self.file.samples.len())
            .finish()
    }
}

fn build_index(file: &GalleryFile) -> Hnsw<'static, f32, MetricDistance> {
    let p = &file.index;
    let index = Hnsw::new(
        p.max_connections,
        file.samples.len().max(16),
        16,
        p.ef_construction,
        MetricDistance(file.embedder.metric),
    );
    for (i, s) in file.samples.iter().enumerate() {
        index.insert_slice((&s.embedding, i));
    }
    index
}

impl Gallery {
    /// An empty gallery for `embedder`.
    pub fn new(embedder: EmbedderIdentity, index: IndexParams) -> Self {
        let file = GalleryFile {
            format: GALLERY_FORMAT,
            embedder,
            index,
            updated_at: Utc::now(),
            people: Vec::new(),
            samples: Vec::new(),
        };
        let index = build_index(&file);
        Self { file, index }
    }

    /// Loads a gallery and checks that it was built with `current` (same id and sha256).
    pub fn load(path: &Path, current: &EmbedderIdentity) -> Result<Self, GalleryError> {
        let read_err = |reason: String| GalleryError::Read {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| read_err(e.to_string()))?;
        let file: GalleryFile =
            serde_json::from_slice(&bytes).map_err(|e| read_err(e.to_string()))?;
        if file.format != GALLERY_FORMAT {
            return Err(read_err(format!(
                "format {} (this build reads {GALLERY_FORMAT})",
                file.format
            )));
        }
        if file.embedder.id != current.id
            || !file.embedder.sha256.eq_ignore_ascii_case(&current.sha256)
        {
            return Err(GalleryError::EmbedderMismatch {
                path: path.to_owned(),
                gallery_embedder: file.embedder.id.clone(),
                gallery_sha256: file.embedder.sha256.clone(),
                current_embedder: current.id.clone(),
                current_sha256: current.sha256.clone(),
            });
        }
        for s in &file.samples {
            if s.embedding.len() != file.embedder.dim {
                return Err(read_err(format!(
                    "sample of {} has {} dimensions, expected {}",
                    s.person_id,
                    s.embedding.len(),
                    file.embedder.dim
                )));
            }
            if !file.people.iter().any(|p| p.person_id == s.person_id) {
                return Err(read_err(format!(
                    "sample refers to unknown person {}",
                    s.person_id
                )));
            }
        }
        let index = build_index(&file);
        Ok(Self { file, index })
    }

    /// Writes the gallery atomically (temporary file, then rename).
    pub fn save(&mut self, path: &Path) -> Result<(), GalleryError> {
        let write_err = |reason: String| GalleryError::Write {
            path: path.to_owned(),
            reason,
        };
        self.file.updated_at = Utc::now();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| write_err(e.to_string()))?;
        }
        let bytes = serde_json::to_vec(&self.file).map_err(|e| write_err(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(|e| write_err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| write_err(e.to_string()))
    }

    pub fn embedder(&self) -> &EmbedderIdentity {
        &self.file.embedder
    }

    pub fn index_params(&self) -> &IndexParams {
        &self.file.index
    }

    pub fn people(&self) -> &[Person] {
        &self.file.people
    }

    pub fn sample_count(&self) -> usize {
        self.file.samples.len()
    }

    /// Adds (or updates) a person and one sample of them.
    pub fn add_sample(
        &mut self,
        person: Person,
        source: String,
        embedding: Vec<f32>,
    ) -> Result<(), GalleryError> {
        if embedding.len() != self.file.embedder.dim {
            return Err(GalleryError::Dimension {
                expected: self.file.embedder.dim,
                got: embedding.len(),
            });
        }
        match self
            .file
            .people
            .iter_mut()
            .find(|p| p.person_id == person.person_id)
        {
            Some(p) => *p = person.clone(),
            None => self.file.people.push(person.clone()),
        }
        let id = self.file.samples.len();
        self.file.samples.push(Sample {
            person_id: person.person_id,
            source,
            embedding,
        });
        let s = &self.file.samples[id];
        self.index.insert_slice((&s.embedding, id));
        Ok(())
    }

    /// Removes a person and their samples; returns whether they were enrolled.
    pub fn remove_person(&mut self, person_id: &str) -> bool {
        let before = self.file.people.len();
        self.file.people.retain(|p| p.person_id != person_id);
        self.file.samples.retain(|s| s.person_id != person_id);
        let removed = self.file.people.len() != before;
        if removed {
            self.index = build_index(&self.file);
        }
        removed
    }

    /// The closest enrolled person to `probe` who is valid now, whatever the distance (the
    /// caller applies the threshold).
    pub fn best(&self, probe: &[f32]) -> Option<Match> {
        self.best_at(probe, Utc::now())
    }

    /// The closest person valid at `now` (visitors outside their dates are skipped).
    pub fn best_at(&self, probe: &[f32], now: DateTime<Utc>) -> Option<Match> {
        if self.file.samples.is_empty() || probe.len() != self.file.embedder.dim {
            return None;
        }
        let k = self.file.samples.len().min(10);
        let ef = self.file.index.ef_search.max(k);
        let mut hits = self.index.search(probe, k, ef);
        hits.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        hits.iter().find_map(|h| {
            let sample = self.file.samples.get(h.d_id)?;
            let person = self
                .file
                .people
                .iter()
                .find(|p| p.person_id == sample.person_id && p.valid_at(now))?;
            Some(Match {
                person: person.clone(),
                distance: h.distance,
            })
        })
    }

    /// Applies a gallery update from the IOC. Refuses embeddings from another embedder or of
    /// the wrong size, naming what differs; on success returns a line for the log.
    pub fn apply(&mut self, u: &wire::GalleryUpdate) -> Result<String, GalleryError> {
        let e = &self.file.embedder;
        if u.embedder_id != e.id || !u.embedder_sha256.eq_ignore_ascii_case(&e.sha256) {
            return Err(GalleryError::UpdateRefused {
                update_id: u.update_id.to_string(),
                reason: format!(
                    "embeddings from {} (sha256 {}), this gallery holds {} (sha256 {})",
                    u.embedder_id, u.embedder_sha256, e.id, e.sha256
                ),
            });
        }
        match &u.op {
            wire::GalleryOp::UpsertPerson { person, embeddings } => {
                if let Some(bad) = embeddings.iter().find(|v| v.len() != e.dim) {
                    return Err(GalleryError::UpdateRefused {
                        update_id: u.update_id.to_string(),
                        reason: format!(
                            "embedding has {} dimensions, expected {}",
                            bad.len(),
                            e.dim
                        ),
                    });
                }
                self.remove_person(&person.person_id);
                let p = Person {
                    person_id: person.person_id.clone(),
                    name: person.name.clone(),
                    list: person.list.clone(),
                    valid_from: person.valid_from,
                    valid_until: person.valid_until,
                };
                for (i, v) in embeddings.iter().enumerate() {
                    let mut v = v.clone();
                    models::face::l2_normalise(&mut v);
                    self.add_sample(p.clone(), format!("ioc update {} #{i}", u.update_id), v)?;
                }
                Ok(format!(
                    "person {} ({}) on list {} with {} sample(s)",
                    person.person_id,
                    person.name,
                    person.list,
                    embeddings.len()
                ))
            }
            wire::GalleryOp::RemovePerson { person_id } => Ok(if self.remove_person(person_id) {
                format!("person {person_id} removed")
            } else {
                format!("person {person_id} was not enrolled; nothing removed")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> EmbedderIdentity {
        EmbedderIdentity {
            id: "emb".into(),
            sha256: "ab".repeat(32),
            dim: 4,
            metric: Metric::Cosine,
        }
    }

    fn unit(v: [f32; 4]) -> Vec<f32> {
        let mut v = v.to_vec();
        models::face::l2_normalise(&mut v);
        v
    }

    fn person(id: &str) -> Person {
        Person {
            person_id: id.into(),
            name: id.to_uppercase(),
            list: "staff".into(),
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn the_nearest_person_is_found_and_survives_save_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("g.json");
        let mut g = Gallery::new(ident(), IndexParams::default());
        g.add_sample(person("lan"), "a.jpg".into(), unit([1.0, 0.1, 0.0, 0.0]))
            .expect("add");
        g.add_sample(person("minh"), "b.jpg".into(), unit([0.0, 1.0, 0.1, 0.0]))
            .expect("add");
        g.save(&path).expect("save");
        let g = Gallery::load(&path, &ident()).expect("load");
        let m = g.best(&unit([0.9, 0.2, 0.0, 0.0])).expect("match");
        assert_eq!(m.person.person_id, "lan");
        assert!(m.distance < 0.1);
        assert_eq!(g.people().len(), 2);
    }

    #[test]
    fn a_gallery_refuses_to_load_against_another_embedder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("g.json");
        let mut g = Gallery::new(ident(), IndexParams::default());
        g.add_sample(person("lan"), "a.jpg".into(), unit([1.0, 0.0, 0.0, 0.0]))
            .expect("add");
        g.save(&path).expect("save");
        let mut other = ident();
        other.sha256 = "cd".repeat(32);
        let err = Gallery::load(&path, &other).expect_err("must refuse");
        assert!(
            matches!(err, GalleryError::EmbedderMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("re-enrol"), "{err}");
    }

    #[test]
    fn a_removed_person_is_never_matched_again() {
        let mut g = Gallery::new(ident(), IndexParams::default());
        g.add_sample(person("lan"), "a.jpg".into(), unit([1.0, 0.0, 0.0, 0.0]))
            .expect("add");
        g.add_sample(person("minh"), "b.jpg".into(), unit([0.0, 1.0, 0.0, 0.0]))
            .expect("add");
        assert!(g.remove_person("lan"));
        let m = g.best(&unit([1.0, 0.0, 0.0, 0.0])).expect("match");
        assert_eq!(m.person.person_id, "minh");
    }

    #[test]
    fn an_embedding_of_the_wrong_size_is_refused() {
        let mut g = Gallery::new(ident(), IndexParams::default());
        let err = g
            .add_sample(person("lan"), "a.jpg".into(), vec![1.0; 3])
            .expect_err("must refuse");
        assert!(matches!(
            err,
            GalleryError::Dimension {
                expected: 4,
                got: 3
            }
        ));
    }
}
