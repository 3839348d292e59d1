//! Directional gate lines, polygon zones and per-minute counts. Pure: fed with track positions,
//! returns crossings; no I/O.
//!
//! A track's anchor is the bottom centre of its person box (the feet), so people seen from
//! behind count like people seen from the front. Coordinates are normalised to the frame (0..1)
//! so configs survive a resolution change.
//!
//! Hysteresis: a track's side of a line only changes once its anchor is more than `margin`
//! (normalised distance) past the line, and within the segment's extent. Someone who lingers on
//! the line (inside the band) is never counted, however much the box jitters.

use std::collections::{BTreeMap, HashMap};

/// Which way across a gate line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    In,
    Out,
}

/// A directional gate line from `a` to `b`; walking from the left of a->b to its right (image
/// coordinates, y down: "left" is counter-clockwise) is `In` unless `in_is_left_to_right` is
/// false.
#[derive(Debug, Clone, PartialEq)]
pub struct GateLine {
    pub id: String,
    pub a: [f32; 2],
    pub b: [f32; 2],
    pub in_is_left_to_right: bool,
    /// Half-width of the dead band around the line, normalised.
    pub margin: f32,
}

/// Which side of a line a point is on, outside the dead band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

impl GateLine {
    /// Signed distance from the line (positive: right of a->b in image coordinates) and
    /// whether the point projects onto the segment (with the margin as slack at the ends).
    fn locate(&self, p: [f32; 2]) -> (f32, bool) {
        let (dx, dy) = (self.b[0] - self.a[0], self.b[1] - self.a[1]);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let (px, py) = (p[0] - self.a[0], p[1] - self.a[1]);
        // In image coordinates (y down) a positive cross product is clockwise: the right side.
        let cross = (dx * py - dy * px) / len;
        let t = (px * dx + py * dy) / (len * len);
        let slack = self.margin / len;
        (cross, t >= -slack && t <= 1.0 + slack)
    }

    fn side(&self, p: [f32; 2]) -> Option<Side> {
        let (d, on_segment) = self.locate(p);
        if !on_segment || d.abs() <= self.margin {
            None
        } else if d > 0.0 {
            Some(Side::Right)
        } else {
            Some(Side::Left)
        }
    }
}

/// A polygon zone (normalised vertices).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub id: String,
    pub polygon: Vec<[f32; 2]>,
}

impl Zone {
    /// Even-odd rule.
    pub fn contains(&self, p: [f32; 2]) -> bool {
        let n = self.polygon.len();
        let mut inside = false;
        for i in 0..n {
            let (a, b) = (self.polygon[i], self.polygon[(i + n - 1) % n]);
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// A track crossed a gate line.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub gate_id: String,
    pub track_id: u64,
    pub direction: Direction,
}

/// A track entered or left a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneChange {
    pub zone_id: String,
    pub track_id: u64,
    pub entered: bool,
}

/// Gate and zone state of one camera.
#[derive(Debug, Clone)]
pub struct GateMonitor {
    gates: Vec<GateLine>,
    zones: Vec<Zone>,
    /// (gate index, track) -> last side outside the dead band.
    sides: HashMap<(usize, u64), Side>,
    /// (gate index, track) -> a different side seen, and how many observations in a row.
    pending: HashMap<(usize, u64), (Side, u32)>,
    /// Observations in a row on the new side before a track's side changes (1: at once).
    confirm: u32,
    /// (zone index, track) present.
    inside: HashMap<(usize, u64), bool>,
}

/// The anchor of a person box in normalised coordinates: bottom centre.
pub fn anchor(bbox: [f32; 4], frame_w: u32, frame_h: u32) -> [f32; 2] {
    [
        (bbox[0] + bbox[2] / 2.0) / frame_w.max(1) as f32,
        (bbox[1] + bbox[3]) / frame_h.max(1) as f32,
    ]
}

impl GateMonitor {
    pub fn new(gates: Vec<GateLine>, zones: Vec<Zone>) -> Self {
        Self::with_confirm(gates, zones, 1)
    }

    /// Like [`GateMonitor::new`], but a track's side of a line changes only after `confirm`
    /// observations in a row beyond the dead band: a one-frame jump of a box (a stride, a
    /// detector outlier) does not cross a line and back.
    pub fn with_confirm(gates: Vec<GateLine>, zones: Vec<Zone>, confirm: u32) -> Self {
        Self {
            gates,
            zones,
            sides: HashMap::new(),
            pending: HashMap::new(),
            confirm: confirm.max(1),
            inside: HashMap::new(),
        }
    }

    pub fn gates(&self) -> &[GateLine] {
        &self.gates
    }

    /// Feeds one track's anchor; returns the crossings and zone changes it caused.
    pub fn observe(&mut self, track_id: u64, p: [f32; 2]) -> (Vec<Crossing>, Vec<ZoneChange>) {
        let mut crossings = Vec::new();
        for (gi, g) in self.gates.iter().enumerate() {
            let Some(now) = g.side(p) else { continue };
            let key = (gi, track_id);
            if self.sides.get(&key).is_some_and(|s| *s != now) {
                let seen = match self.pending.get(&key) {
                    Some((side, n)) if *side == now => n + 1,
                    _ => 1,
                };
                if seen < self.confirm {
                    self.pending.insert(key, (now, seen));
                    continue;
                }
            }
            self.pending.remove(&key);
            match self.sides.insert(key, now) {
                Some(before) if before != now => {
                    let left_to_right = before == Side::Left;
                    let direction = if left_to_right == g.in_is_left_to_right {
                        Direction::In
                    } else {
                        Direction::Out
                    };
                    crossings.push(Crossing {
                        gate_id: g.id.clone(),
                        track_id,
                        direction,
                    });
                }
                _ => {}
            }
        }
        let mut zones = Vec::new();
        for (zi, z) in self.zones.iter().enumerate() {
            let now = z.contains(p);
            let before = self.inside.insert((zi, track_id), now).unwrap_or(false);
            if now != before {
                zones.push(ZoneChange {
                    zone_id: z.id.clone(),
                    track_id,
                    entered: now,
                });
            }
        }
        (crossings, zones)
    }

    /// Forgets a removed track; returns the zones it was still inside (now left).
    pub fn forget(&mut self, track_id: u64) -> Vec<ZoneChange> {
        self.sides.retain(|(_, t), _| *t != track_id);
        self.pending.retain(|(_, t), _| *t != track_id);
        let mut left = Vec::new();
        for (zi, z) in self.zones.iter().enumerate() {
            if self.inside.remove(&(zi, track_id)) == Some(true) {
                left.push(ZoneChange {
                    zone_id: z.id.clone(),
                    track_id,
                    entered: false,
                });
            }
        }
        left
    }

    /// Tracks currently inside each zone.
    pub fn occupancy(&self) -> BTreeMap<String, usize> {
        let mut out: BTreeMap<String, usize> =
            self.zones.iter().map(|z| (z.id.clone(), 0)).collect();
        for ((zi, _), inside) in &self.inside {
            if *inside && let Some(z) = self.zones.get(*zi) {
                *out.entry(z.id.clone()).or_default() += 1;
            }
        }
        out
    }
}

/// In/out counts of one gate over one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MinuteCount {
    pub entries: u32,
    pub exits: u32,
}

/// Aggregates crossings into per-minute counts per gate; a minute is emitted once the clock
/// has moved past it (or on flush). Minutes are keyed by their start in Unix seconds.
#[derive(Debug, Clone, Default)]
pub struct MinuteCounter {
    open: BTreeMap<(i64, String), MinuteCount>,
}

impl MinuteCounter {
    /// Counts a crossing at `unix_secs`.
    pub fn add(&mut self, unix_secs: i64, gate_id: &str, direction: Direction) {
        let minute = unix_secs.div_euclid(60) * 60;
        let c = self.open.entry((minute, gate_id.to_owned())).or_default();
        match direction {
            Direction::In => c.entries += 1,
            Direction::Out => c.exits += 1,
        }
    }

    /// Makes sure every gate has a (possibly zero) count for the minute of `unix_secs`, so
    /// quiet minutes are published as zeros rather than missing.
    pub fn touch(&mut self, unix_secs: i64, gate_ids: &[&str]) {
        let minute = unix_secs.div_euclid(60) * 60;
        for g in gate_ids {
            self.open.entry((minute, (*g).to_owned())).or_default();
        }
    }

    /// Minutes that ended before `unix_secs`: (minute start, gate, counts), oldest first.
    pub fn closed_before(&mut self, unix_secs: i64) -> Vec<(i64, String, MinuteCount)> {
        let current = unix_secs.div_euclid(60) * 60;
        let keep = self.open.split_off(&(current, String::new()));
        let done = std::mem::replace(&mut self.open, keep);
        done.into_iter().map(|((m, g), c)| (m, g, c)).collect()
    }

    /// Every open minute (end of stream or shutdown).
    pub fn flush(&mut self) -> Vec<(i64, String, MinuteCount)> {
        std::mem::take(&mut self.open)
            .into_iter()
            .map(|((m, g), c)| (m, g, c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A horizontal gate across the middle; walking down the image (from top to bottom) is In.
    fn gate() -> GateLine {
        // a -> b points right; with y down, "right of a->b" is below the line.
        GateLine {
            id: "main".into(),
            a: [0.1, 0.5],
            b: [0.9, 0.5],
            in_is_left_to_right: true,
            margin: 0.03,
        }
    }

    fn walk(m: &mut GateMonitor, track: u64, ys: &[f32]) -> Vec<Crossing> {
        ys.iter()
            .flat_map(|y| m.observe(track, [0.5, *y]).0)
            .collect()
    }

    #[test]
    fn a_one_frame_jump_across_the_line_and_back_is_not_a_crossing_when_confirmation_is_asked() {
        let mut m = GateMonitor::with_confirm(vec![gate()], vec![], 2);
        let far_above = [0.5, 0.3];
        let far_below = [0.5, 0.8];
        assert!(m.observe(1, far_above).0.is_empty());
        assert!(m.observe(1, far_above).0.is_empty());
        // A detector outlier puts the feet below the line for one frame only.
        assert!(m.observe(1, far_below).0.is_empty());
        assert!(m.observe(1, far_above).0.is_empty());
        assert!(m.observe(1, far_above).0.is_empty());
        // Really walking across: counted once, on the second frame beyond the band.
        assert!(m.observe(1, far_below).0.is_empty());
        let (c, _) = m.observe(1, far_below);
        assert_eq!(c.len(), 1);
        assert!(m.observe(1, far_below).0.is_empty());
    }

    #[test]
    fn walking_across_the_line_is_one_entry_and_walking_back_is_one_exit() {
        let mut m = GateMonitor::new(vec![gate()], vec![]);
        let c = walk(&mut m, 1, &[0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].direction, Direction::In);
        let c = walk(&mut m, 2, &[0.8, 0.6, 0.45, 0.3]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].direction, Direction::Out);
    }

    #[test]
    fn someone_lingering_on_the_line_is_not_counted_twice() {
        let mut m = GateMonitor::new(vec![gate()], vec![]);
        // Approach, stand on the line jittering for a while, then go through.
        let mut ys = vec![0.3, 0.4];
        for i in 0..40 {
            ys.push(0.5 + if i % 2 == 0 { 0.02 } else { -0.02 });
        }
        ys.extend([0.6, 0.7]);
        let c = walk(&mut m, 7, &ys);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].direction, Direction::In);
    }

    #[test]
    fn passing_beside_the_end_of_the_line_is_not_a_crossing() {
        let mut m = GateMonitor::new(vec![gate()], vec![]);
        let c: Vec<_> = [0.2, 0.4, 0.6, 0.8]
            .iter()
            .flat_map(|y| m.observe(3, [0.97, *y]).0)
            .collect();
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn the_in_direction_follows_the_config() {
        let mut g = gate();
        g.in_is_left_to_right = false;
        let mut m = GateMonitor::new(vec![g], vec![]);
        let c = walk(&mut m, 1, &[0.2, 0.8]);
        assert_eq!(c[0].direction, Direction::Out);
    }

    #[test]
    fn a_zone_reports_entering_and_leaving_and_its_occupancy() {
        let z = Zone {
            id: "queue".into(),
            polygon: vec![[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]],
        };
        let mut m = GateMonitor::new(vec![], vec![z]);
        assert!(m.observe(1, [0.8, 0.8]).1.is_empty());
        let ch = m.observe(1, [0.2, 0.2]).1;
        assert!(ch[0].entered);
        assert_eq!(m.occupancy()["queue"], 1);
        let ch = m.forget(1);
        assert!(!ch[0].entered);
        assert_eq!(m.occupancy()["queue"], 0);
    }

    #[test]
    fn counts_are_grouped_by_minute_and_gate_and_closed_minutes_come_out_once() {
        let mut c = MinuteCounter::default();
        c.add(120, "a", Direction::In);
        c.add(150, "a", Direction::Out);
        c.add(170, "b", Direction::In);
        c.add(185, "a", Direction::In);
        c.touch(185, &["a", "b"]);
        let closed = c.closed_before(185);
        assert_eq!(
            closed,
            vec![
                (
                    120,
                    "a".into(),
                    MinuteCount {
                        entries: 1,
                        exits: 1
                    }
                ),
                (
                    120,
                    "b".into(),
                    MinuteCount {
                        entries: 1,
                        exits: 0
                    }
                ),
            ]
        );
        assert!(c.closed_before(185).is_empty());
        let rest = c.flush();
        assert_eq!(
            rest,
            vec![
                (
                    180,
                    "a".into(),
                    MinuteCount {
                        entries: 1,
                        exits: 0
                    }
                ),
                (
                    180,
                    "b".into(),
                    MinuteCount {
                        entries: 0,
                        exits: 0
                    }
                ),
            ]
        );
    }
}
