//! Accuracy evaluation: face verification (pairs) and identification (folders), threshold
//! calibration for a stated false-accept rate. Pure functions over distances, plus loaders for
//! the data-set formats in ../shared/testdata (`image_a<TAB>image_b<TAB>same|different`, `#`
//! comments; folders of `<identity>/<photo>`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One labelled comparison: `distance` is `None` when either image had no usable face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub same: bool,
    pub distance: Option<f32>,
}

/// Verification metrics at one operating threshold.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verification {
    pub pairs: usize,
    pub genuine_pairs: usize,
    pub impostor_pairs: usize,
    /// Pairs where an image had no usable face (counted as "different" in `accuracy`).
    pub pairs_without_face: usize,
    pub threshold: f32,
    /// Correct decisions over all pairs at `threshold`.
    pub accuracy: f64,
    /// Correct decisions over the pairs where both faces were found.
    pub accuracy_scored_only: f64,
    /// Genuine pairs accepted / genuine pairs.
    pub tar: f64,
    /// Impostor pairs accepted / impostor pairs.
    pub far: f64,
    pub roc_auc: f64,
    /// True-accept rate at the largest threshold whose FAR does not exceed the target.
    pub tar_at_far_1e_2: f64,
    pub tar_at_far_1e_3: f64,
    /// Smallest FAR step these impostor pairs can resolve (1 / impostors): a TAR at a FAR below
    /// this is really "at FAR 0 on this data".
    pub far_resolution: f64,
}

/// Threshold with the highest FAR not above `target` (accept when `distance < threshold`).
pub fn threshold_for_far(impostor: &[f32], target: f64) -> f32 {
    let mut d: Vec<f32> = impostor.iter().copied().filter(|x| x.is_finite()).collect();
    d.sort_by(f32::total_cmp);
    if d.is_empty() {
        return f32::INFINITY;
    }
    // Accepting k impostors means threshold = d[k] (strictly below it are k values).
    let k = ((target * d.len() as f64).floor() as usize).min(d.len() - 1);
    d[k]
}

/// Area under the ROC curve (probability that a random genuine pair is closer than a random
/// impostor pair, ties counted half).
pub fn roc_auc(genuine: &[f32], impostor: &[f32]) -> f64 {
    if genuine.is_empty() || impostor.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f32, bool)> = genuine
        .iter()
        .map(|d| (*d, true))
        .chain(impostor.iter().map(|d| (*d, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann-Whitney U with average ranks for ties; smaller distance = more genuine.
    let mut rank_sum_impostor = 0.0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for item in &all[i..=j] {
            if !item.1 {
                rank_sum_impostor += avg_rank;
            }
        }
        i = j + 1;
    }
    let (ng, ni) = (genuine.len() as f64, impostor.len() as f64);
    let u = rank_sum_impostor - ni * (ni + 1.0) / 2.0;
    u / (ng * ni)
}

/// All verification metrics for `scored` at `threshold`.
pub fn verification(scored: &[Scored], threshold: f32) -> Verification {
    let genuine: Vec<f32> = scored
        .iter()
        .filter(|s| s.same)
        .filter_map(|s| s.distance)
        .collect();
    let impostor: Vec<f32> = scored
        .iter()
        .filter(|s| !s.same)
        .filter_map(|s| s.distance)
        .collect();
    let accept = |s: &Scored| s.distance.is_some_and(|d| d < threshold);
    let correct = scored.iter().filter(|s| accept(s) == s.same).count();
    let scored_only: Vec<&Scored> = scored.iter().filter(|s| s.distance.is_some()).collect();
    let correct_scored = scored_only.iter().filter(|s| accept(s) == s.same).count();
    let n_gen = scored.iter().filter(|s| s.same).count();
    let n_imp = scored.len() - n_gen;
    let tar_at = |far: f64| {
        let t = threshold_for_far(&impostor, far);
        if n_gen == 0 {
            f64::NAN
        } else {
            genuine.iter().filter(|d| **d < t).count() as f64 / n_gen as f64
        }
    };
    Verification {
        pairs: scored.len(),
        genuine_pairs: n_gen,
        impostor_pairs: n_imp,
        pairs_without_face: scored.len() - scored_only.len(),
        threshold,
        accuracy: ratio(correct, scored.len()),
        accuracy_scored_only: ratio(correct_scored, scored_only.len()),
        tar: ratio(scored.iter().filter(|s| s.same && accept(s)).count(), n_gen),
        far: ratio(
            scored.iter().filter(|s| !s.same && accept(s)).count(),
            n_imp,
        ),
        roc_auc: roc_auc(&genuine, &impostor),
        tar_at_far_1e_2: tar_at(1e-2),
        tar_at_far_1e_3: tar_at(1e-3),
        far_resolution: if impostor.is_empty() {
            f64::NAN
        } else {
            1.0 / impostor.len() as f64
        },
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// A labelled pair from a pairs file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub a: PathBuf,
    pub b: PathBuf,
    pub same: bool,
}

/// Reads `image_a<TAB>image_b<TAB>same|different` (paths relative to `root`; `#` comments).
pub fn read_pairs(file: &Path, root: &Path) -> Result<Vec<Pair>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let same = match cols.get(2).map(|s| s.trim()) {
            Some("same") => true,
            Some("different" | "diff") => false,
            other => {
                return Err(format!(
                    "{}:{}: third column must be same or different (or diff), got {other:?}",
                    file.display(),
                    i + 1
                ));
            }
        };
        out.push(Pair {
            a: root.join(cols[0]),
            b: root.join(cols[1]),
            same,
        });
    }
    Ok(out)
}

/// Images of a `<identity>/<photo>` folder, sorted, as (identity, path).
pub fn read_folder(root: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| format!("{}: {e}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let id = d
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .map_err(|e| format!("{}: {e}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| crate::imageops::is_image_path(p))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (id.clone(), f)));
    }
    Ok(out)
}

/// Every pair of a folder: same identity = genuine, different = impostor.
pub fn all_pairs(images: &[(String, PathBuf)]) -> Vec<Pair> {
    let mut out = Vec::new();
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            out.push(Pair {
                a: images[i].1.clone(),
                b: images[j].1.clone(),
                same: images[i].0 == images[j].0,
            });
        }
    }
    out
}

/// 1:N identification, leave-one-out: each image is a probe against all others.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Identification {
    pub probes: usize,
    pub rank1_correct: usize,
    pub rank1_accuracy: f64,
}

/// Rank-1 over `embeddings` (identity, embedding) using `distance`.
pub fn rank1(
    embeddings: &[(String, Vec<f32>)],
    distance: impl Fn(&[f32], &[f32]) -> f32,
) -> Identification {
    let mut probes = 0;
    let mut correct = 0;
    let counts: HashMap<&str, usize> = embeddings.iter().fold(HashMap::new(), |mut m, (id, _)| {
        *m.entry(id.as_str()).or_default() += 1;
        m
    });
    for (i, (id, e)) in embeddings.iter().enumerate() {
        // A probe whose identity has no other sample cannot be identified: skip it.
        if counts.get(id.as_str()).copied().unwrap_or(0) < 2 {
            continue;
        }
        probes += 1;
        let best = embeddings
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .min_by(|a, b| distance(e, &a.1.1).total_cmp(&distance(e, &b.1.1)));
        if best.is_some_and(|(_, (bid, _))| bid == id) {
            correct += 1;
        }
    }
    Identification {
        probes,
        rank1_correct: correct,
        rank1_accuracy: ratio(correct, probes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_separated_scores_have_auc_one_and_full_tar() {
        let s: Vec<Scored> = (0..10)
            .map(|i| Scored {
                same: true,
                distance: Some(0.1 + i as f32 * 0.01),
            })
            .chain((0..100).map(|i| Scored {
                same: false,
                distance: Some(0.8 + i as f32 * 0.001),
            }))
            .collect();
        let v = verification(&s, 0.5);
        assert_eq!(v.roc_auc, 1.0);
        assert_eq!(v.accuracy, 1.0);
        assert_eq!(v.tar_at_far_1e_2, 1.0);
        assert_eq!(v.far, 0.0);
    }

    #[test]
    fn the_far_threshold_accepts_at_most_the_target_share_of_impostors() {
        let imp: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let t = threshold_for_far(&imp, 0.01);
        let accepted = imp.iter().filter(|d| **d < t).count();
        assert_eq!(accepted, 10);
    }

    #[test]
    fn a_pair_without_a_face_counts_as_a_rejection() {
        let s = [
            Scored {
                same: true,
                distance: None,
            },
            Scored {
                same: false,
                distance: None,
            },
        ];
        let v = verification(&s, 0.5);
        assert_eq!(v.accuracy, 0.5);
        assert_eq!(v.pairs_without_face, 2);
    }

    #[test]
    fn auc_of_reversed_scores_is_zero() {
        assert_eq!(roc_auc(&[0.9, 0.8], &[0.1, 0.2]), 0.0);
    }

    #[test]
    fn rank1_finds_the_nearest_same_identity() {
        let e = vec![
            ("a".to_string(), vec![0.0, 0.0]),
            ("a".to_string(), vec![0.1, 0.0]),
            ("b".to_string(), vec![5.0, 5.0]),
            ("b".to_string(), vec![5.1, 5.0]),
            ("c".to_string(), vec![9.0, 9.0]),
        ];
        let r = rank1(&e, |x, y| {
            ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2)).sqrt()
        });
        assert_eq!(r.probes, 4);
        assert_eq!(r.rank1_correct, 4);
    }
}
