//! Multi-object tracking, SORT style: a constant-velocity Kalman filter per track, greedy
//! association of detections to predicted boxes by IoU, and a track lifecycle (tentative,
//! confirmed, coasting through short occlusions, removed). Pure: no I/O, no clocks; the caller
//! passes each frame's time so files read faster than real time track the same as live cameras.

use models::imageops::iou;

/// Tracker parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerParams {
    /// A detection is associated with a track when their IoU is at least this.
    pub iou_min: f32,
    /// Consecutive hits before a track is confirmed (and reported).
    pub min_hits: u32,
    /// A track not seen for longer than this (seconds) is removed; shorter gaps are occlusions
    /// it coasts through, keeping its id.
    pub max_coast_secs: f32,
    /// Process noise of the velocity (box units per second squared, relative to box height).
    pub accel_noise: f32,
    /// Measurement noise (relative to box height).
    pub measure_noise: f32,
}

impl Default for TrackerParams {
    fn default() -> Self {
        Self {
            iou_min: 0.2,
            min_hits: 2,
            max_coast_secs: 1.5,
            accel_noise: 2.0,
            measure_noise: 0.05,
        }
    }
}

/// One-dimensional constant-velocity Kalman filter (position, velocity). SORT's filter is
/// block-diagonal per box coordinate, so four of these are the full filter.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Kf1 {
    x: f32,
    v: f32,
    // Covariance [[p00, p01], [p01, p11]].
    p00: f32,
    p01: f32,
    p11: f32,
}

impl Kf1 {
    fn new(x: f32, pos_var: f32, vel_var: f32) -> Self {
        Self {
            x,
            v: 0.0,
            p00: pos_var,
            p01: 0.0,
            p11: vel_var,
        }
    }

    fn predict(&mut self, dt: f32, q: f32) {
        self.x += self.v * dt;
        // P = F P F' + Q with F = [[1, dt], [0, 1]], Q from white acceleration noise q.
        let (p00, p01, p11) = (self.p00, self.p01, self.p11);
        self.p00 = p00 + 2.0 * dt * p01 + dt * dt * p11 + q * dt.powi(4) / 4.0;
        self.p01 = p01 + dt * p11 + q * dt.powi(3) / 2.0;
        self.p11 = p11 + q * dt * dt;
    }

    fn update(&mut self, z: f32, r: f32) {
        let s = self.p00 + r;
        let (k0, k1) = (self.p00 / s, self.p01 / s);
        let y = z - self.x;
        self.x += k0 * y;
        self.v += k1 * y;
        let (p00, p01, p11) = (self.p00, self.p01, self.p11);
        self.p00 = (1.0 - k0) * p00;
        self.p01 = (1.0 - k0) * p01;
        self.p11 = p11 - k1 * p01;
    }
}

/// Lifecycle of a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackState {
    /// Seen fewer than `min_hits` times in a row: not reported yet.
    Tentative,
    /// Reported; associated with a detection this frame.
    Confirmed,
    /// Confirmed but not seen this frame (occluded); its box is the prediction.
    Coasting,
}

/// A track as reported after each update.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Stable id, unique per tracker, never reused.
    pub id: u64,
    /// x, y, width, height in pixels (the filtered box, or the prediction while coasting).
    pub bbox: [f32; 4],
    pub state: TrackState,
    /// Index of the detection associated this frame, if any.
    pub detection: Option<usize>,
    /// Frames with an associated detection.
    pub hits: u32,
    /// Seconds since the track was last seen.
    pub since_seen_secs: f32,
}

#[derive(Debug, Clone)]
struct Inner {
    id: u64,
    kf: [Kf1; 4], // cx, cy, w, h
    hits: u32,
    streak: u32,
    confirmed: bool,
    last_seen: f64,
    detection: Option<usize>,
}

impl Inner {
    fn bbox(&self) -> [f32; 4] {
        let (cx, cy) = (self.kf[0].x, self.kf[1].x);
        let (w, h) = (self.kf[2].x.max(1.0), self.kf[3].x.max(1.0));
        [cx - w / 2.0, cy - h / 2.0, w, h]
    }
}

/// The tracker of one camera.
#[derive(Debug, Clone)]
pub struct Tracker {
    params: TrackerParams,
    tracks: Vec<Inner>,
    next_id: u64,
    last_time: Option<f64>,
}

/// What one update produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackUpdate {
    /// Confirmed tracks (seen this frame or coasting).
    pub tracks: Vec<Track>,
    /// Ids of confirmed tracks removed this frame (gone for longer than `max_coast_secs`).
    pub removed: Vec<u64>,
}

impl Tracker {
    pub fn new(params: TrackerParams) -> Self {
        Self {
            params,
            tracks: Vec::new(),
            next_id: 1,
            last_time: None,
        }
    }

    /// Advances to `time_secs` (stream time of the frame) and associates `detections`
    /// (x, y, w, h boxes). A time that goes backwards (a restarted stream) resets the tracker,
    /// reporting every confirmed track as removed.
    pub fn update(&mut self, time_secs: f64, detections: &[[f32; 4]]) -> TrackUpdate {
        let mut removed = Vec::new();
        let dt = match self.last_time {
            Some(t) if time_secs < t => {
                removed.extend(self.tracks.drain(..).filter(|t| t.confirmed).map(|t| t.id));
                0.0
            }
            Some(t) => (time_secs - t) as f32,
            None => 0.0,
        };
        self.last_time = Some(time_secs);
        let p = self.params;
        for t in &mut self.tracks {
            let h = t.kf[3].x.max(1.0);
            let q = (p.accel_noise * h).powi(2);
            for k in &mut t.kf {
                k.predict(dt, q);
            }
            t.detection = None;
        }
        // Greedy association: highest IoU pairs first.
        let mut pairs = Vec::new();
        for (ti, t) in self.tracks.iter().enumerate() {
            let tb = t.bbox();
            for (di, d) in detections.iter().enumerate() {
                let o = iou(&tb, d);
                if o >= p.iou_min {
                    pairs.push((o, ti, di));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_used = vec![false; self.tracks.len()];
        let mut det_used = vec![false; detections.len()];
        for (_, ti, di) in pairs {
            if track_used[ti] || det_used[di] {
                continue;
            }
            track_used[ti] = true;
            det_used[di] = true;
            let t = &mut self.tracks[ti];
            let d = detections[di];
            let z = [d[0] + d[2] / 2.0, d[1] + d[3] / 2.0, d[2], d[3]];
            let r = (p.measure_noise * d[3].max(1.0)).powi(2);
            for (k, z) in t.kf.iter_mut().zip(z) {
                k.update(z, r);
            }
            t.hits += 1;
            t.streak += 1;
            t.last_seen = time_secs;
            t.detection = Some(di);
            if t.streak >= p.min_hits {
                t.confirmed = true;
            }
        }
        for (ti, t) in self.tracks.iter_mut().enumerate() {
            if !track_used[ti] {
                t.streak = 0;
            }
        }
        // Remove tracks gone too long, and tentative tracks that missed a frame.
        self.tracks.retain(|t| {
            let gone = (time_secs - t.last_seen) as f32 > p.max_coast_secs;
            let failed_tentative = !t.confirmed && t.detection.is_none();
            if gone && t.confirmed {
                removed.push(t.id);
            }
            !(gone || failed_tentative)
        });
        // New tentative tracks from unmatched detections.
        for (di, d) in detections.iter().enumerate() {
            if det_used[di] || d[2] <= 0.0 || d[3] <= 0.0 {
                continue;
            }
            let h = d[3];
            let pos_var = (p.measure_noise * h).powi(2);
            let vel_var = (2.0 * h).powi(2);
            let kf = [
                Kf1::new(d[0] + d[2] / 2.0, pos_var, vel_var),
                Kf1::new(d[1] + d[3] / 2.0, pos_var, vel_var),
                Kf1::new(d[2], pos_var, vel_var / 4.0),
                Kf1::new(d[3], pos_var, vel_var / 4.0),
            ];
            let confirmed = p.min_hits <= 1;
            self.tracks.push(Inner {
                id: self.next_id,
                kf,
                hits: 1,
                streak: 1,
                confirmed,
                last_seen: time_secs,
                detection: Some(di),
            });
            self.next_id += 1;
        }
        let tracks = self
            .tracks
            .iter()
            .filter(|t| t.confirmed)
            .map(|t| Track {
                id: t.id,
                bbox: t.bbox(),
                state: if t.detection.is_some() {
                    TrackState::Confirmed
                } else {
                    TrackState::Coasting
                },
                detection: t.detection,
                hits: t.hits,
                since_seen_secs: (time_secs - t.last_seen) as f32,
            })
            .collect();
        TrackUpdate { tracks, removed }
    }

    /// Removes every track, reporting the confirmed ones (end of stream).
    pub fn finish(&mut self) -> Vec<u64> {
        self.last_time = None;
        self.tracks
            .drain(..)
            .filter(|t| t.confirmed)
            .map(|t| t.id)
            .collect()
    }

    /// Tentative and confirmed tracks currently held.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walker(x0: f32, vx: f32, t: f32) -> [f32; 4] {
        [x0 + vx * t, 100.0, 40.0, 100.0]
    }

    #[test]
    fn a_person_walking_keeps_one_id_across_the_frame() {
        let mut tr = Tracker::new(TrackerParams::default());
        let mut ids = std::collections::BTreeSet::new();
        for i in 0..50 {
            let t = i as f32 * 0.2;
            let u = tr.update(t as f64, &[walker(0.0, 60.0, t)]);
            ids.extend(u.tracks.iter().map(|t| t.id));
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
    }

    #[test]
    fn a_track_is_reported_only_after_min_hits() {
        let mut tr = Tracker::new(TrackerParams::default());
        assert!(tr.update(0.0, &[walker(0.0, 0.0, 0.0)]).tracks.is_empty());
        assert_eq!(tr.update(0.2, &[walker(0.0, 0.0, 0.0)]).tracks.len(), 1);
    }

    #[test]
    fn an_occluded_person_keeps_the_id_after_a_few_missing_frames() {
        let mut tr = Tracker::new(TrackerParams::default());
        let mut id = None;
        for i in 0..30 {
            let t = i as f32 * 0.2;
            // Hidden behind a pillar for frames 10..15 (1 s) while walking on.
            let dets = if (10..15).contains(&i) {
                vec![]
            } else {
                vec![walker(0.0, 50.0, t)]
            };
            let u = tr.update(t as f64, &dets);
            assert!(u.removed.is_empty(), "frame {i}: {u:?}");
            if let Some(tk) = u.tracks.first() {
                if (10..15).contains(&i) {
                    assert_eq!(tk.state, TrackState::Coasting);
                }
                assert_eq!(*id.get_or_insert(tk.id), tk.id, "frame {i}");
            }
        }
    }

    #[test]
    fn a_person_gone_longer_than_the_coast_time_is_removed_and_a_newcomer_gets_a_new_id() {
        let mut tr = Tracker::new(TrackerParams::default());
        tr.update(0.0, &[walker(0.0, 0.0, 0.0)]);
        let first = tr.update(0.2, &[walker(0.0, 0.0, 0.0)]).tracks[0].id;
        let mut removed = Vec::new();
        for i in 2..20 {
            removed.extend(tr.update(i as f64 * 0.2, &[]).removed);
        }
        assert_eq!(removed, vec![first]);
        tr.update(4.0, &[walker(0.0, 0.0, 0.0)]);
        let second = tr.update(4.2, &[walker(0.0, 0.0, 0.0)]).tracks[0].id;
        assert_ne!(first, second);
    }

    #[test]
    fn two_people_crossing_paths_keep_their_own_ids() {
        let mut tr = Tracker::new(TrackerParams::default());
        let (mut a_id, mut b_id) = (None, None);
        for i in 0..40 {
            let t = i as f32 * 0.2;
            // A walks right in the upper lane, B walks left in the lower lane; they pass.
            let a = [20.0 + 40.0 * t, 50.0, 40.0, 100.0];
            let b = [340.0 - 40.0 * t, 120.0, 40.0, 100.0];
            let u = tr.update(t as f64, &[a, b]);
            for tk in &u.tracks {
                let cy = tk.bbox[1] + tk.bbox[3] / 2.0;
                let slot = if cy < 135.0 { &mut a_id } else { &mut b_id };
                assert_eq!(*slot.get_or_insert(tk.id), tk.id, "frame {i}: {u:?}");
            }
        }
        assert!(a_id.is_some() && b_id.is_some() && a_id != b_id);
    }

    #[test]
    fn a_stream_that_restarts_resets_the_tracks() {
        let mut tr = Tracker::new(TrackerParams::default());
        tr.update(5.0, &[walker(0.0, 0.0, 0.0)]);
        let id = tr.update(5.2, &[walker(0.0, 0.0, 0.0)]).tracks[0].id;
        let u = tr.update(0.0, &[walker(0.0, 0.0, 0.0)]);
        assert_eq!(u.removed, vec![id]);
        assert!(u.tracks.is_empty());
    }
}
