//! Identity per track, not per frame: a tracked person's best face shots are embedded (at most
//! `max_attempts`, each clearly better than the last), each embedding's gallery match is a vote,
//! and two thresholds decide: closer than `match_threshold` votes for that person, farther than
//! `unknown_threshold` votes "unknown", in between abstains. `votes_needed` agreeing votes
//! decide; one verdict per track. Pure: no I/O, no models.

use crate::gallery::{Person, WATCH_LIST};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentityParams {
    /// Distance below which a match votes for the person (the embedder's operating threshold).
    pub match_threshold: f32,
    /// Distance above which a face votes "unknown".
    pub unknown_threshold: f32,
    /// Agreeing votes that decide.
    pub votes_needed: u32,
    /// Embeddings per track at most.
    pub max_attempts: u32,
    /// A new shot is embedded only when its quality beats the best so far by this factor.
    pub min_quality_gain: f32,
}

impl Default for IdentityParams {
    fn default() -> Self {
        Self {
            match_threshold: 0.52,
            unknown_threshold: 0.65,
            votes_needed: 2,
            max_attempts: 5,
            min_quality_gain: 1.1,
        }
    }
}

/// What a track turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// An enrolled person (not on the watch list).
    Recognised {
        person: Person,
        distance: f32,
        votes: u32,
    },
    /// Someone on the watch list: a high-priority alert.
    WatchListHit {
        person: Person,
        distance: f32,
        votes: u32,
    },
    /// Nobody in the gallery.
    Unknown { best_distance: f32, votes: u32 },
}

/// The identity state of one track.
#[derive(Debug, Clone, Default)]
pub struct TrackIdentity {
    attempts: u32,
    best_quality: f32,
    /// (person, votes, closest distance)
    votes: Vec<(Person, u32, f32)>,
    unknown_votes: u32,
    closest_unknown: f32,
    decided: bool,
}

/// Quality of a face shot for recognition, 0..1-ish: bigger, more frontal, sharper is better.
/// `min_side_px` is the face box's shorter side; `frontal` 0..1 (1 = nose centred between the
/// eyes); `sharpness` the variance of the Laplacian of the grey face crop.
pub fn shot_quality(min_side_px: f32, frontal: f32, sharpness: f32) -> f32 {
    let size = (min_side_px / 112.0).min(1.0);
    let sharp = (sharpness / 100.0).min(1.0);
    size * frontal.clamp(0.0, 1.0) * (0.3 + 0.7 * sharp)
}

/// Frontalness from the five landmarks (right eye, left eye, nose, mouth corners): 1 when the
/// nose is midway between the eyes, 0 when it is level with one eye (a profile).
pub fn frontalness(landmarks: &[[f32; 2]; 5]) -> f32 {
    let (re, le, nose) = (landmarks[0], landmarks[1], landmarks[2]);
    let eye_dx = le[0] - re[0];
    if eye_dx.abs() < 1.0 {
        return 0.0;
    }
    let mid = (le[0] + re[0]) / 2.0;
    (1.0 - 2.0 * ((nose[0] - mid) / eye_dx).abs()).clamp(0.0, 1.0)
}

/// Variance of the 4-neighbour Laplacian over a grey image (`w x h`, row-major).
pub fn laplacian_variance(grey: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 || grey.len() < w * h {
        return 0.0;
    }
    let (mut sum, mut sq, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let l = (grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4.0 * grey[i]) as f64;
            sum += l;
            sq += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sq / n - mean * mean) as f32
}

impl TrackIdentity {
    /// Whether a shot of this quality is worth embedding now.
    pub fn wants_shot(&self, p: &IdentityParams, quality: f32) -> bool {
        !self.decided
            && self.attempts < p.max_attempts
            && quality > 0.0
            && (self.attempts == 0 || quality > self.best_quality * p.min_quality_gain)
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn is_decided(&self) -> bool {
        self.decided
    }

    /// Adds one embedded shot with its best gallery candidate (`None`: empty gallery). Returns
    /// the verdict when this vote decides the track.
    pub fn add(
        &mut self,
        p: &IdentityParams,
        quality: f32,
        best: Option<(Person, f32)>,
    ) -> Option<Verdict> {
        if self.decided {
            return None;
        }
        self.attempts += 1;
        self.best_quality = self.best_quality.max(quality);
        match best {
            Some((person, d)) if d < p.match_threshold => {
                match self
                    .votes
                    .iter_mut()
                    .find(|(q, _, _)| q.person_id == person.person_id)
                {
                    Some(v) => {
                        v.1 += 1;
                        v.2 = v.2.min(d);
                    }
                    None => self.votes.push((person, 1, d)),
                }
            }
            Some((_, d)) if d <= p.unknown_threshold => {} // in between: abstain
            other => {
                let d = other.map(|(_, d)| d).unwrap_or(f32::INFINITY);
                self.closest_unknown = if self.unknown_votes == 0 {
                    d
                } else {
                    self.closest_unknown.min(d)
                };
                self.unknown_votes += 1;
            }
        }
        self.decide(p, false)
    }

    /// The track ended: decide with what there is (agreeing votes still needed for a person;
    /// unknown needs at least one unknown vote and no vote for anyone).
    pub fn finish(&mut self, p: &IdentityParams) -> Option<Verdict> {
        if self.decided {
            return None;
        }
        self.decide(p, true)
    }

    fn decide(&mut self, p: &IdentityParams, ending: bool) -> Option<Verdict> {
        let leader = self
            .votes
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)));
        let others: u32 = self.votes.iter().map(|v| v.1).sum::<u32>() - leader.map_or(0, |l| l.1);
        let verdict = match leader {
            // A person needs votes_needed votes and more than everyone else together.
            Some((person, n, d)) if *n >= p.votes_needed && *n > others + self.unknown_votes => {
                let (person, distance, votes) = (person.clone(), *d, *n);
                Some(if person.list == WATCH_LIST {
                    Verdict::WatchListHit {
                        person,
                        distance,
                        votes,
                    }
                } else {
                    Verdict::Recognised {
                        person,
                        distance,
                        votes,
                    }
                })
            }
            _ if self.votes.is_empty()
                && (self.unknown_votes >= p.votes_needed || (ending && self.unknown_votes > 0)) =>
            {
                Some(Verdict::Unknown {
                    best_distance: self.closest_unknown,
                    votes: self.unknown_votes,
                })
            }
            _ => None,
        };
        if verdict.is_some() {
            self.decided = true;
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, list: &str) -> Person {
        Person {
            person_id: id.into(),
            name: id.into(),
            list: list.into(),
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn two_agreeing_matches_recognise_the_person_once() {
        let p = IdentityParams::default();
        let mut t = TrackIdentity::default();
        assert_eq!(t.add(&p, 0.5, Some((person("an", "staff"), 0.40))), None);
        let v = t.add(&p, 0.6, Some((person("an", "staff"), 0.35)));
        assert!(
            matches!(&v, Some(Verdict::Recognised { person, distance, votes: 2 }) if person.person_id == "an" && (*distance - 0.35).abs() < 1e-6),
            "{v:?}"
        );
        assert_eq!(t.add(&p, 0.9, Some((person("an", "staff"), 0.3))), None);
        assert_eq!(t.finish(&p), None, "one verdict per track");
    }

    #[test]
    fn a_watch_list_person_is_an_alert() {
        let p = IdentityParams::default();
        let mut t = TrackIdentity::default();
        t.add(&p, 0.5, Some((person("x", "watch"), 0.3)));
        let v = t.add(&p, 0.6, Some((person("x", "watch"), 0.3)));
        assert!(matches!(v, Some(Verdict::WatchListHit { .. })), "{v:?}");
    }

    #[test]
    fn far_faces_make_an_unknown_person_and_in_between_abstains() {
        let p = IdentityParams::default();
        let mut t = TrackIdentity::default();
        assert_eq!(t.add(&p, 0.5, Some((person("an", "staff"), 0.58))), None);
        assert_eq!(t.add(&p, 0.6, Some((person("an", "staff"), 0.80))), None);
        let v = t.add(&p, 0.7, Some((person("an", "staff"), 0.75)));
        assert!(
            matches!(v, Some(Verdict::Unknown { votes: 2, best_distance }) if (best_distance - 0.75).abs() < 1e-6)
        );
    }

    #[test]
    fn disagreeing_votes_decide_nothing_and_one_close_match_is_not_enough() {
        let p = IdentityParams::default();
        let mut t = TrackIdentity::default();
        t.add(&p, 0.5, Some((person("a", "staff"), 0.4)));
        t.add(&p, 0.6, Some((person("b", "staff"), 0.4)));
        assert_eq!(t.finish(&p), None);
        let mut t = TrackIdentity::default();
        t.add(&p, 0.5, Some((person("a", "staff"), 0.4)));
        assert_eq!(t.finish(&p), None, "a single vote never names anyone");
    }

    #[test]
    fn only_better_shots_are_embedded_and_never_more_than_max_attempts() {
        let p = IdentityParams {
            max_attempts: 3,
            ..IdentityParams::default()
        };
        let mut t = TrackIdentity::default();
        assert!(t.wants_shot(&p, 0.2));
        t.add(&p, 0.2, Some((person("a", "staff"), 0.58)));
        assert!(!t.wants_shot(&p, 0.21), "not clearly better");
        assert!(t.wants_shot(&p, 0.3));
        t.add(&p, 0.3, Some((person("a", "staff"), 0.58)));
        t.add(&p, 0.5, Some((person("a", "staff"), 0.58)));
        assert!(!t.wants_shot(&p, 1.0), "attempts used up");
    }

    #[test]
    fn shot_quality_prefers_big_frontal_sharp_faces() {
        let frontal = [
            [40.0, 50.0],
            [70.0, 50.0],
            [55.0, 65.0],
            [45.0, 80.0],
            [65.0, 80.0],
        ];
        let profile = [
            [40.0, 50.0],
            [70.0, 50.0],
            [69.0, 65.0],
            [45.0, 80.0],
            [65.0, 80.0],
        ];
        assert!(frontalness(&frontal) > 0.95);
        assert!(frontalness(&profile) < 0.15);
        let flat = vec![100.0f32; 32 * 32];
        let checker: Vec<f32> = (0..32 * 32)
            .map(|i| {
                if (i % 32 + i / 32) % 2 == 0 {
                    0.0
                } else {
                    255.0
                }
            })
            .collect();
        assert_eq!(laplacian_variance(&flat, 32, 32), 0.0);
        assert!(laplacian_variance(&checker, 32, 32) > 1000.0);
        assert!(shot_quality(100.0, 1.0, 200.0) > shot_quality(40.0, 1.0, 200.0));
        assert!(shot_quality(100.0, 1.0, 200.0) > shot_quality(100.0, 0.3, 200.0));
        assert!(shot_quality(100.0, 1.0, 200.0) > shot_quality(100.0, 1.0, 5.0));
    }
}
