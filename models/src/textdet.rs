//! Text detection (PP-OCRv4 det, DBNet) and plate finding in full scenes.

use std::path::Path;

use crate::ModelError;
use crate::imageops::{self, Letterbox, RgbView, RotatedRect};
use crate::manifest::{ModelKind, ModelManifest};
use crate::objects::{ObjectDetector, Yolox};
use crate::ocr::{CropPlateReader, CtcLine, PlateRead, Reading, plate_family, read_two_lines};
use crate::plate::Family;
use crate::runtime::{CheckedSession, RuntimeOptions};

/// Tilts below this are read from the axis-aligned box (turning a crop costs a resample).
const MIN_DESKEW_RAD: f32 = 0.035; // 2 degrees

/// A text region in source pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Axis-aligned bounds: x, y, width, height.
    pub bbox: [f32; 4],
    /// The region's own orientation (from its pixel moments) and extent along and across it;
    /// angle 0 when the region is too round to have a direction.
    pub rect: RotatedRect,
    /// Mean text probability inside the region.
    pub score: f32,
}

impl TextBox {
    /// Whether the text is tilted enough to be turned upright before reading.
    pub fn tilted(&self) -> bool {
        self.rect.angle.abs() >= MIN_DESKEW_RAD
    }
}

/// Orientation and oriented extent of a pixel region (`pixels` as (x, y) centres): the major
/// axis of its second moments, trusted only for elongated regions tilted under 45 degrees.
fn region_rect(pixels: &[(f32, f32)]) -> RotatedRect {
    let n = pixels.len().max(1) as f32;
    let (mx, my) = pixels
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (mx / n, my / n);
    let (mut sxx, mut syy, mut sxy) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in pixels {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    let mut angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    // Eigenvalues of the covariance: an elongated region has one much larger than the other.
    let tr = sxx + syy;
    let det = sxx * syy - sxy * sxy;
    let disc = (tr * tr / 4.0 - det).max(0.0).sqrt();
    let (l1, l2) = (tr / 2.0 + disc, (tr / 2.0 - disc).max(1e-6));
    if l1 / l2 < 4.0 || angle.abs() > 45f32.to_radians() {
        angle = 0.0;
    }
    let (s, c) = angle.sin_cos();
    let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for (x, y) in pixels {
        let (dx, dy) = (x - mx, y - my);
        let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
        u0 = u0.min(u);
        u1 = u1.max(u);
        v0 = v0.min(v);
        v1 = v1.max(v);
    }
    let (uc, vc) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
    RotatedRect {
        cx: mx + uc * c - vc * s,
        cy: my + uc * s + vc * c,
        w: u1 - u0 + 1.0,
        h: v1 - v0 + 1.0,
        angle,
    }
}

/// DB text detector with the usual post-processing (binarise, connected regions, score, unclip).
#[derive(Debug)]
pub struct TextDetector {
    session: CheckedSession,
    /// Longer side of the network input (rounded to a multiple of 32).
    pub max_side: u32,
    /// Pixel probability above which a pixel is text.
    pub threshold: f32,
    /// Mean probability a region needs to be kept.
    pub box_threshold: f32,
    /// How much a region grows back (DB shrinks text during training).
    pub unclip_ratio: f32,
}

impl TextDetector {
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        if manifest.kind != ModelKind::TextDetector {
            return Err(ModelError::Contract {
                model: manifest.id.clone(),
                tensor: "(manifest kind)".into(),
                expected: "TextDetector".into(),
                got: format!("{:?}", manifest.kind),
            });
        }
        let session = CheckedSession::load(manifest, models_dir, opts)?;
        Ok(Self {
            session,
            max_side: 640,
            threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
        })
    }

    pub fn detect(&self, image: RgbView<'_>) -> Result<Vec<TextBox>, ModelError> {
        self.detect_at(image, self.max_side)
    }

    /// [`TextDetector::detect`] with the longer side of the network input at `max_side`.
    pub fn detect_at(&self, image: RgbView<'_>, max_side: u32) -> Result<Vec<TextBox>, ModelError> {
        let m = &self.session.manifest;
        let s = max_side as f32 / image.width.max(image.height) as f32;
        let up = |v: u32| (((v as f32 * s).round() as u32).div_ceil(32) * 32).max(32);
        let (iw, ih) = (up(image.width), up(image.height));
        let lb = Letterbox::fit(image.width, image.height, iw, ih);
        let input = imageops::letterbox_nchw(image, lb, &m.preprocess);
        let outs = self.session.run(
            &m.inputs[0].name,
            vec![1, 3, ih as i64, iw as i64],
            input,
            &[m.outputs[0].name.as_str()],
        )?;
        let (_, prob) = &outs[0];
        let (w, h) = (iw as usize, ih as usize);
        if prob.len() < w * h {
            return Err(ModelError::Inference {
                model: m.id.clone(),
                reason: format!(
                    "probability map has {} values, expected {}",
                    prob.len(),
                    w * h
                ),
            });
        }
        let mut label = vec![0u32; w * h];
        let mut boxes = Vec::new();
        let mut next = 1u32;
        let mut stack = Vec::new();
        let mut pixels = Vec::new();
        for start in 0..w * h {
            if label[start] != 0 || prob[start] <= self.threshold {
                continue;
            }
            // Flood fill one region (4-connected).
            let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
            let (mut sum, mut n) = (0.0f32, 0usize);
            label[start] = next;
            stack.push(start);
            pixels.clear();
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                pixels.push((x as f32 + 0.5, y as f32 + 0.5));
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
                sum += prob[i];
                n += 1;
                let mut visit = |j: usize| {
                    if label[j] == 0 && prob[j] > self.threshold {
                        label[j] = next;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    visit(i - 1);
                }
                if x + 1 < w {
                    visit(i + 1);
                }
                if y > 0 {
                    visit(i - w);
                }
                if y + 1 < h {
                    visit(i + w);
                }
            }
            next += 1;
            let score = sum / n as f32;
            let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
            if score < self.box_threshold || bw < 3.0 || bh < 3.0 {
                continue;
            }
            let d = bw * bh * self.unclip_ratio / (2.0 * (bw + bh));
            let inv = 1.0 / lb.scale;
            let (bx0, by0) = ((x0 as f32 - d).max(0.0), (y0 as f32 - d).max(0.0));
            let (bx1, by1) = (
                (x1 as f32 + 1.0 + d).min(w as f32),
                (y1 as f32 + 1.0 + d).min(h as f32),
            );
            let bbox = [bx0 * inv, by0 * inv, (bx1 - bx0) * inv, (by1 - by0) * inv];
            let bbox = [
                bbox[0].min(image.width as f32 - 1.0),
                bbox[1].min(image.height as f32 - 1.0),
                bbox[2].min(image.width as f32 - bbox[0]),
                bbox[3].min(image.height as f32 - bbox[1]),
            ];
            // The oriented rectangle, unclipped the same way, in source pixels.
            let r = region_rect(&pixels);
            let d = r.w * r.h * self.unclip_ratio / (2.0 * (r.w + r.h));
            let rect = RotatedRect {
                cx: r.cx * inv,
                cy: r.cy * inv,
                w: (r.w + 2.0 * d) * inv,
                h: (r.h + 2.0 * d) * inv,
                angle: r.angle,
            };
            boxes.push(TextBox { bbox, rect, score });
        }
        Ok(boxes)
    }
}

/// Finds and reads the plate of the main vehicle in a scene: YOLOX finds vehicles, the text
/// detector finds text regions (single lines, and pairs of stacked lines for two-line plates),
/// and the crop reader reads them; the valid plate best placed on the largest vehicle wins.
#[derive(Debug)]
pub struct ScenePlateReader {
    pub vehicles: Yolox,
    pub text: TextDetector,
    pub reader: CropPlateReader,
}

/// A plate found in a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenePlate {
    pub read: PlateRead,
    /// Where the plate was read, in scene pixels.
    pub bbox: [f32; 4],
}

fn union(a: &[f32; 4], b: &[f32; 4]) -> [f32; 4] {
    let x0 = a[0].min(b[0]);
    let y0 = a[1].min(b[1]);
    let x1 = (a[0] + a[2]).max(b[0] + b[2]);
    let y1 = (a[1] + a[3]).max(b[1] + b[3]);
    [x0, y0, x1 - x0, y1 - y0]
}

fn overlap_x(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter = ((a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0])).max(0.0);
    inter / a[2].min(b[2]).max(1.0)
}

fn centre_inside(b: &[f32; 4], v: &[f32; 4]) -> bool {
    let (cx, cy) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0);
    cx >= v[0] && cx <= v[0] + v[2] && cy >= v[1] && cy <= v[1] + v[3]
}

/// Whether two readings are of the same plate: one box's centre lies inside the other.
fn same_plate(a: &ScenePlate, b: &ScenePlate) -> bool {
    centre_inside(&a.bbox, &b.bbox) || centre_inside(&b.bbox, &a.bbox)
}

/// The plate family from the colour around a text region: the region grown by a fifth of its
/// height on every side, where a plate's background shows around its characters.
fn family_around(image: RgbView<'_>, b: &[f32; 4]) -> Family {
    let m = 0.2 * b[3];
    let region = crop_around(image, b, m, m);
    plate_family(RgbView::from_image(&region))
}

/// A vehicle the detector found: its box and whether it is a motorbike.
#[derive(Debug, Clone, Copy)]
struct Vehicle {
    bbox: [f32; 4],
    motorbike: bool,
}

/// The plate family of a text region: by colour, and a civil plate whose centre lies on a
/// motorbike (and on no car, bus or truck) is a motorbike plate.
fn family_at(image: RgbView<'_>, b: &[f32; 4], vehicles: &[Vehicle]) -> Family {
    let family = family_around(image, b);
    let mut on = vehicles
        .iter()
        .filter(|v| centre_inside(b, &v.bbox))
        .peekable();
    if family == Family::Civil && on.peek().is_some() && on.all(|v| v.motorbike) {
        Family::Motorbike
    } else {
        family
    }
}

/// The plate most of the looks agree on (proposals' scores summed per plate text); of that
/// plate, the best-scored proposal.
fn vote(proposals: Vec<(f32, ScenePlate)>) -> Option<ScenePlate> {
    let key = |p: &ScenePlate| p.read.plate().map(|p| p.normalized.clone());
    let total = |k: &Option<String>| -> f32 {
        proposals
            .iter()
            .filter(|(_, p)| key(p) == *k)
            .map(|(s, _)| *s)
            .sum()
    };
    let winner = proposals
        .iter()
        .map(|(_, p)| key(p))
        .max_by(|a, b| total(a).total_cmp(&total(b)))?;
    proposals
        .into_iter()
        .filter(|(_, p)| key(p) == winner)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p)
}

/// The box `b` cut from `image` with margins `mx` left and right and `my` above and below.
fn crop_around(image: RgbView<'_>, b: &[f32; 4], mx: f32, my: f32) -> image::RgbImage {
    imageops::crop(
        image,
        b[0] - mx,
        b[1] - my,
        b[2] + 2.0 * mx,
        b[3] + 2.0 * my,
    )
}

/// Two recognised lines read as the top and bottom of a plate of `family` (or its fallbacks).
fn read_plate_lines(top: &CtcLine, bottom: &CtcLine, family: Family) -> Option<Reading> {
    family
        .fallbacks()
        .iter()
        .find_map(|f| read_two_lines(top, bottom, *f))
}

/// A plate read in a scene and its ranking score.
type Ranked = (f32, ScenePlate);

/// Every valid reading of a look, in the order they were made.
#[derive(Default)]
struct Best {
    all: Vec<Ranked>,
}

/// The first of the best-scored readings among `readings`.
fn top<'a>(readings: impl Iterator<Item = &'a Ranked>) -> Option<&'a Ranked> {
    readings.fold(None, |best: Option<&Ranked>, r| match best {
        Some(b) if r.0 <= b.0 => Some(b),
        _ => Some(r),
    })
}

impl Best {
    fn consider(&mut self, score: f32, read: PlateRead, bbox: [f32; 4]) {
        if read.plate().is_some() {
            self.all.push((score, ScenePlate { read, bbox }));
        }
    }

    /// The best reading, unless it is a four-digit number and another reading of the same
    /// plate saw the dot only five-digit numbers have: then the best such dotted reading, at
    /// the best's score. Also returns every valid reading of the look.
    fn finish(self) -> (Option<Ranked>, Vec<Ranked>) {
        let Some((score, best)) = top(self.all.iter()) else {
            return (None, self.all);
        };
        let dotted = top(self
            .all
            .iter()
            .filter(|(_, p)| matches!(p.read, PlateRead::Read { dotted: true, .. })));
        let four_digits = best.read.plate().is_some_and(|p| p.number.len() == 4);
        let chosen = match dotted {
            Some((_, d)) if four_digits && same_plate(d, best) => d.clone(),
            _ => best.clone(),
        };
        (Some((*score, chosen)), self.all)
    }
}

/// Readings ranked under this do not restore a repeated character ([`restore_repeat`]).
const MIN_REPEAT_SCORE: f32 = 0.5;

/// Whether `longer` is `shorter` with one of its characters written twice (`14A00555` and
/// `14A0055`).
fn one_repeat_more(longer: &str, shorter: &str) -> bool {
    let (l, s): (Vec<char>, Vec<char>) = (longer.chars().collect(), shorter.chars().collect());
    l.len() == s.len() + 1
        && (1..l.len()).any(|i| l[i] == l[i - 1] && l[..i] == s[..i] && l[i + 1..] == s[i..])
}

/// CTC spells a character twice only with a blank between the two, which a small or blurred
/// plate often lacks: the recogniser then reads `005.55` as `0055`, which the formats accept
/// (`14A-0055`); in the 1,097 scenes it never invented a repeat. So when another reading of the
/// same plate ([`same_plate`]) in the same layout, ranked at least [`MIN_REPEAT_SCORE`], is the
/// winner with one character written twice, that reading wins. The layout must match: a
/// one-line plate's crop split in two once read `29-A5 552.21` beside the right `29A-552.21`.
/// Measured on all 1,097 scenes: 4 fixed, none lost; allowing any extra character instead of a
/// repeat fixed 7 and lost 12 (BENCHMARKS.md, 2026-12-03).
fn restore_repeat(winner: ScenePlate, readings: &[Ranked]) -> ScenePlate {
    let Some(w) = winner.read.plate() else {
        return winner;
    };
    let found = readings
        .iter()
        .filter(|(score, r)| {
            *score >= MIN_REPEAT_SCORE
                && same_plate(r, &winner)
                && r.read.plate().is_some_and(|p| {
                    p.format == w.format && one_repeat_more(&p.normalized, &w.normalized)
                })
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r.clone());
    found.unwrap_or(winner)
}

/// Pairs of text lines stacked like the two lines of a plate: (top, bottom).
pub fn stacked_pairs(boxes: &[TextBox]) -> Vec<(TextBox, TextBox)> {
    let mut out = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for b in boxes.iter().skip(i + 1) {
            let (top, bottom) = if a.bbox[1] <= b.bbox[1] {
                (a, b)
            } else {
                (b, a)
            };
            let gap = bottom.bbox[1] - (top.bbox[1] + top.bbox[3]);
            let h = top.bbox[3].max(bottom.bbox[3]);
            if overlap_x(&top.bbox, &bottom.bbox) > 0.5 && gap < 0.6 * h && gap > -0.5 * h {
                out.push((*top, *bottom));
            }
        }
    }
    out
}

/// A plate-shaped text line in no stacked pair: perhaps one line of a two-line plate whose
/// other line the detector missed (it often misses the blurred or smaller line of a far plate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoneLine {
    pub line: [f32; 4],
    /// The same-sized box just above, when it fits in the image.
    pub above: Option<[f32; 4]>,
    /// The same-sized box just below, when it fits in the image.
    pub below: Option<[f32; 4]>,
}

/// The [`LoneLine`]s among `boxes`, in an image `height` pixels tall.
pub fn lone_lines(boxes: &[TextBox], height: f32) -> Vec<LoneLine> {
    let paired: Vec<[f32; 4]> = stacked_pairs(boxes)
        .iter()
        .flat_map(|(t, b)| [t.bbox, b.bbox])
        .collect();
    boxes
        .iter()
        .map(|b| b.bbox)
        .filter(|b| {
            let aspect = b[2] / b[3].max(1.0);
            !paired.contains(b) && (1.2..=6.0).contains(&aspect) && b[3] >= 6.0
        })
        .map(|b| {
            let above = [b[0], b[1] - 1.05 * b[3], b[2], b[3]];
            let below = [b[0], b[1] + 1.05 * b[3], b[2], b[3]];
            LoneLine {
                line: b,
                above: (above[1] >= 0.0).then_some(above),
                below: (below[1] + below[3] <= height).then_some(below),
            }
        })
        .collect()
}

/// A tilted plate from [`tilted_plates`] cut upright, at up to 4x so that its two lines come
/// near the recogniser's height with one resample.
pub fn tilted_plate_crop(image: RgbView<'_>, rect: RotatedRect) -> image::RgbImage {
    imageops::crop_rotated(image, rect, (96.0 / rect.h.max(1.0)).clamp(1.0, 4.0))
}

/// Two-line plates whose lines are tilted: pairs of regions stacked across the direction of
/// the more elongated, tilted one. Each comes as the plate's turned rectangle (both lines,
/// with a margin) and its upright bounds.
pub fn tilted_plates(boxes: &[TextBox]) -> Vec<(RotatedRect, [f32; 4])> {
    let mut out = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for b in boxes.iter().skip(i + 1) {
            let line = if a.rect.w / a.rect.h.max(1.0) >= b.rect.w / b.rect.h.max(1.0) {
                a
            } else {
                b
            };
            if !line.tilted() {
                continue;
            }
            let r = line.rect;
            let (sn, cs) = r.angle.sin_cos();
            // Centres in the line's own frame: u along it, v across it.
            let frame = |t: &TextBox| {
                let (x, y) = (t.rect.cx, t.rect.cy);
                (x * cs + y * sn, -x * sn + y * cs)
            };
            let ((ua, va), (ub, vb)) = (frame(a), frame(b));
            let across = (vb - va).abs();
            if across < 0.4 * r.h || across > 1.5 * r.h || (ub - ua).abs() > 0.5 * r.w {
                continue;
            }
            let w = a.rect.w.max(b.rect.w);
            let rect = RotatedRect {
                cx: (a.rect.cx + b.rect.cx) / 2.0,
                cy: (a.rect.cy + b.rect.cy) / 2.0,
                w: w + 0.2 * r.h,
                h: across + r.h + 0.1 * r.h,
                angle: r.angle,
            };
            out.push((rect, union(&a.bbox, &b.bbox)));
        }
    }
    out
}

/// Width over height of the tilted single lines that are also read turned upright
/// ([`tilted_lines`]). Measured on all 1,097 scenes: 751 -> 761 exact (14 fixed, among them a
/// one-line plate tilted 13 degrees read `51F-662.13` from its upright box and `51F-662.12`
/// turned; 4 lost), BENCHMARKS.md.
const TILTED_LINE_ASPECT: std::ops::RangeInclusive<f32> = 1.5..=8.0;

/// Height in pixels a tilted line is cut at (the recogniser's input height; at most 4x).
const TILTED_LINE_HEIGHT: f32 = 48.0;

/// Each tilted, plate-shaped single line among `boxes` as the rectangle to cut it upright
/// (turned with it, with the margins upright candidates get: 0.15 of its height at each end,
/// 0.06 above and below) and its upright bounds.
pub fn tilted_lines(boxes: &[TextBox]) -> Vec<(RotatedRect, [f32; 4])> {
    boxes
        .iter()
        .filter(|b| b.tilted() && TILTED_LINE_ASPECT.contains(&(b.rect.w / b.rect.h.max(1.0))))
        .map(|b| {
            let r = b.rect;
            let rect = RotatedRect {
                w: r.w + 0.3 * r.h,
                h: 1.12 * r.h,
                ..r
            };
            (rect, b.bbox)
        })
        .collect()
}

/// In-plane turns (degrees) at which a motorbike's plate is also read (a motorbike leans, and
/// its plate is often mounted askew): measured 12 degrees apart up to 36 against 15 apart up
/// to 30 on the 90 motorbike scenes the reader missed: 8 read right against 5 (BENCHMARKS.md).
pub const MOTORBIKE_TURNS_DEG: [f32; 6] = [-36.0, -24.0, -12.0, 12.0, 24.0, 36.0];

/// Widest candidate (width / height) read turned: a two-line plate is about 1.4:1 upright and
/// squarer when turned.
const TURNED_MAX_ASPECT: f32 = 2.2;

/// The rectangles of a plate turned by each of `turns_deg` whose upright bounds are `cand`,
/// with the margins the scene reader gives upright candidates.
pub fn turned_plates(cand: &[f32; 4], turns_deg: &[f32]) -> Vec<RotatedRect> {
    let (w0, h0) = (cand[2], cand[3]);
    if w0 / h0.max(1.0) > TURNED_MAX_ASPECT {
        return Vec::new();
    }
    turns_deg
        .iter()
        .map(|deg| {
            let angle = deg.to_radians();
            // Bounds of a w x h rectangle turned by a: w cos + h sin wide, w sin + h cos tall.
            let (s, c) = angle.abs().sin_cos();
            let det = c * c - s * s;
            let w = ((c * w0 - s * h0) / det).max(0.5 * w0);
            let h = ((c * h0 - s * w0) / det).max(0.5 * h0);
            RotatedRect {
                cx: cand[0] + w0 / 2.0,
                cy: cand[1] + h0 / 2.0,
                w: w + 0.3 * h,
                h: 1.12 * h,
                angle,
            }
        })
        .collect()
}

/// Longer side of the text detector's input for the main vehicle's crop: the plates of far
/// vehicles are 15-30 px across, so the crop is enlarged about 3x.
pub const VEHICLE_LOOKS: &[u32] = &[960];
/// The same for the whole scene when a vehicle was found (about 2.8x for a 460-px scene).
pub const SCENE_LOOKS: &[u32] = &[1280];
/// The same for the whole scene when no vehicle was found.
pub const NO_VEHICLE_LOOKS: &[u32] = &[640, 1280];

impl ScenePlateReader {
    /// Loads the models the scene reader uses (YOLOX-nano, PP-OCRv4 det and rec) from their
    /// manifests in `manifests`, each contract-checked.
    pub fn load(
        manifests: &Path,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let load = |id: &str| crate::load_manifest(manifests, id);
        Ok(Self {
            vehicles: Yolox::load(load("yolox_nano_coco80")?, models_dir, opts)?,
            text: TextDetector::load(load("ppocrv4_det")?, models_dir, opts)?,
            reader: CropPlateReader::load(manifests, models_dir, opts)?,
        })
    }

    /// Candidate plate regions: every text line, and every pair of stacked lines of similar
    /// width (two-line plates).
    pub fn candidates(&self, boxes: &[TextBox]) -> Vec<[f32; 4]> {
        let mut out: Vec<[f32; 4]> = boxes.iter().map(|b| b.bbox).collect();
        out.extend(
            stacked_pairs(boxes)
                .into_iter()
                .map(|(t, b)| union(&t.bbox, &b.bbox)),
        );
        // Pieces of one line split at the dash or dot.
        for (i, a) in boxes.iter().enumerate() {
            for b in boxes.iter().skip(i + 1) {
                let (l, r) = if a.bbox[0] <= b.bbox[0] {
                    (a, b)
                } else {
                    (b, a)
                };
                let h = l.bbox[3].max(r.bbox[3]);
                let gap = r.bbox[0] - (l.bbox[0] + l.bbox[2]);
                let v_inter = ((l.bbox[1] + l.bbox[3]).min(r.bbox[1] + r.bbox[3])
                    - l.bbox[1].max(r.bbox[1]))
                .max(0.0);
                if gap < 1.0 * h && gap > -0.5 * h && v_inter > 0.5 * l.bbox[3].min(r.bbox[3]) {
                    out.push(union(&l.bbox, &r.bbox));
                }
            }
        }
        // Plates are wider than tall, and not tiny.
        out.retain(|b| b[2] >= 12.0 && b[3] >= 6.0 && b[2] / b[3] > 0.8 && b[2] / b[3] < 8.0);
        out
    }

    /// Reads a pair of stacked lines as the two lines of a plate.
    fn read_pair(
        &self,
        image: RgbView<'_>,
        top: &[f32; 4],
        bottom: &[f32; 4],
        vehicles: &[Vehicle],
    ) -> Result<Option<Reading>, ModelError> {
        // Both lines of a plate span its width: the detector often cuts the shorter-looking
        // line (or the first character of the number) short, so each line is read across both.
        let whole = union(top, bottom);
        let (t, b) = (
            self.read_line(image, top, &whole)?,
            self.read_line(image, bottom, &whole)?,
        );
        Ok(read_plate_lines(&t, &b, family_at(image, &whole, vehicles)))
    }

    /// The recogniser's output for the text line `line`, cut across the width of `span`.
    fn read_line(
        &self,
        image: RgbView<'_>,
        line: &[f32; 4],
        span: &[f32; 4],
    ) -> Result<CtcLine, ModelError> {
        let crop = crop_around(
            image,
            &[span[0], line[1], span[2], line[3]],
            0.1 * line[3],
            0.04 * line[3],
        );
        self.reader.rec.recognize_ctc(RgbView::from_image(&crop))
    }

    /// Reads a [`LoneLine`] as the bottom line of a plate (with the box above) and as its top
    /// line (with the box below). The line is recognised once, and the boxes around it only
    /// when it shows at least three plate characters.
    fn read_lone_line(
        &self,
        image: RgbView<'_>,
        lone: &LoneLine,
        vehicles: &[Vehicle],
    ) -> Result<Vec<(Reading, [f32; 4])>, ModelError> {
        let mut out = Vec::new();
        let line = self.read_line(image, &lone.line, &lone.line)?;
        if line.greedy().text.chars().count() < 3 {
            return Ok(out);
        }
        for (other, line_on_top) in [(lone.above, false), (lone.below, true)] {
            let Some(other) = other else { continue };
            let other_line = self.read_line(image, &other, &other)?;
            let (top, bottom) = if line_on_top {
                (&line, &other_line)
            } else {
                (&other_line, &line)
            };
            let bbox = union(&lone.line, &other);
            if let Some(r) = read_plate_lines(top, bottom, family_at(image, &bbox, vehicles)) {
                out.push((r, bbox));
            }
        }
        Ok(out)
    }

    /// Reads the plate of the main (largest) vehicle, or of any plate when no vehicle is found.
    /// The vehicle's crop and the whole scene are each searched at their own enlargement; the
    /// two proposals vote (`vote`). Measured on every 9th scene against looking at the crop
    /// first (640 px) and at the scene only when that failed (640, then 1,280 px): 79 -> 82
    /// exact of 122; with [`lone_lines`], 62.6% -> 64.3% on all 1,097 scenes, for 2x the time
    /// (BENCHMARKS.md). A winner with a repeated character run together takes the reading of
    /// the same plate that saw the repeat (`restore_repeat`).
    pub fn read_scene(&self, image: RgbView<'_>) -> Result<Option<ScenePlate>, ModelError> {
        let mut vehicles: Vec<Vehicle> = self
            .vehicles
            .detect(image)?
            .into_iter()
            .filter(|d| matches!(d.label.as_str(), "car" | "motorcycle" | "bus" | "truck"))
            .map(|d| Vehicle {
                bbox: d.bbox,
                motorbike: d.label == "motorcycle",
            })
            .collect();
        vehicles.sort_by(|a, b| (b.bbox[2] * b.bbox[3]).total_cmp(&(a.bbox[2] * a.bbox[3])));
        // Each look (the main vehicle's crop and the whole scene, at the text detector's input
        // sizes below) proposes its best plate; the looks then vote.
        let mut proposals: Vec<Ranked> = Vec::new();
        // Every valid reading of every look, in scene pixels.
        let mut readings: Vec<Ranked> = Vec::new();
        if let Some(&Vehicle { bbox: v, motorbike }) = vehicles.first() {
            let m = 0.05;
            let (x0, y0) = ((v[0] - m * v[2]).max(0.0), (v[1] - m * v[3]).max(0.0));
            let crop = imageops::crop(
                image,
                x0,
                y0,
                v[2] * (1.0 + 2.0 * m),
                v[3] * (1.0 + 2.0 * m),
            );
            let view = RgbView::from_image(&crop);
            let whole = Vehicle {
                bbox: [0.0, 0.0, crop.width() as f32, crop.height() as f32],
                motorbike,
            };
            for &side in VEHICLE_LOOKS {
                let boxes = self.text.detect_at(view, side)?;
                let (best, all) = self.best_in(view, &boxes, &[whole])?;
                let to_scene = |(s, mut p): Ranked| {
                    p.bbox[0] += x0;
                    p.bbox[1] += y0;
                    (s, p)
                };
                proposals.extend(best.map(to_scene));
                readings.extend(all.into_iter().map(to_scene));
            }
        }
        let scene_looks = if vehicles.is_empty() {
            NO_VEHICLE_LOOKS
        } else {
            SCENE_LOOKS
        };
        for &side in scene_looks {
            let boxes = self.text.detect_at(image, side)?;
            let (best, all) = self.best_in(image, &boxes, &vehicles)?;
            proposals.extend(best);
            readings.extend(all);
        }
        Ok(vote(proposals).map(|winner| restore_repeat(winner, &readings)))
    }

    /// The best valid plate among the candidates from `boxes`, preferring the first vehicle,
    /// and every valid reading made on the way.
    fn best_in(
        &self,
        image: RgbView<'_>,
        boxes: &[TextBox],
        vehicles: &[Vehicle],
    ) -> Result<(Option<Ranked>, Vec<Ranked>), ModelError> {
        // Where vehicles were found, only text on them is read (plates are on vehicles; shop
        // signs and banners are not): on every 9th scene the same readings at 0.78x the time.
        let on_vehicles: Vec<TextBox>;
        let boxes = if vehicles.is_empty() {
            boxes
        } else {
            on_vehicles = boxes
                .iter()
                .filter(|b| vehicles.iter().any(|v| centre_inside(&b.bbox, &v.bbox)))
                .copied()
                .collect();
            &on_vehicles
        };
        let mut best = Best::default();
        let placement_of =
            |cand: &[f32; 4]| match vehicles.iter().position(|v| centre_inside(cand, &v.bbox)) {
                Some(0) => 1.0,
                Some(_) => 0.6,
                None if vehicles.is_empty() => 0.8,
                None => 0.3,
            };
        // Two-line plates read line by line, from the text detector's own line boxes.
        for (top, bottom) in stacked_pairs(boxes) {
            let bbox = union(&top.bbox, &bottom.bbox);
            if let Some(r) = self.read_pair(image, &top.bbox, &bottom.bbox, vehicles)? {
                let score = placement_of(&bbox) * r.score();
                best.consider(score, r.into_read(Vec::new()), bbox);
            }
        }
        // Two-line plates with one line found.
        for lone in lone_lines(boxes, image.height as f32) {
            for (r, bbox) in self.read_lone_line(image, &lone, vehicles)? {
                let score = placement_of(&bbox) * r.score();
                best.consider(score, r.into_read(Vec::new()), bbox);
            }
        }
        // Tilted two-line plates: their lines' upright boxes overlap, so they are paired by
        // their turned rectangles and the plate is read turned upright.
        for (rect, bbox) in tilted_plates(boxes) {
            let crop = tilted_plate_crop(image, rect);
            let read = self.reader.read_as(
                RgbView::from_image(&crop),
                family_at(image, &bbox, vehicles),
            )?;
            if let Some(rank) = read.score() {
                best.consider(placement_of(&bbox) * rank, read, bbox);
            }
        }
        // Tilted single lines (one-line plates, and two-line plates the detector found as one
        // region): the upright crop of a tilted line holds it as a slanted band in a box much
        // taller than the line, so the line is also cut turned upright and read.
        for (rect, bbox) in tilted_lines(boxes) {
            let crop = imageops::crop_rotated(
                image,
                rect,
                (TILTED_LINE_HEIGHT / rect.h.max(1.0)).clamp(1.0, 4.0),
            );
            let placement = placement_of(&bbox);
            let family = family_at(image, &bbox, vehicles);
            let (readings, raw) = self.reader.read_all(RgbView::from_image(&crop), family)?;
            for r in readings {
                let rank = r.score();
                best.consider(placement * rank, r.into_read(raw.clone()), bbox);
            }
        }
        for cand in self.candidates(boxes) {
            let placement = placement_of(&cand);
            let crop = crop_around(image, &cand, 0.15 * cand[3], 0.06 * cand[3]);
            let family = family_at(image, &cand, vehicles);
            // Every reading of the crop, not only its best: a four-digit best (one line read
            // from a half, `68HC-0001`) gives way to a dotted reading of the whole crop
            // (`68HC-000.11`) in `Best::finish`, and a repeat run together is restored from it.
            let (readings, raw) = self.reader.read_all(RgbView::from_image(&crop), family)?;
            for r in readings {
                let rank = r.score();
                best.consider(placement * rank, r.into_read(raw.clone()), cand);
            }
            // A motorbike's plate turned in the image: the split between its two lines is no
            // row, so it is also read turned upright at each of a few angles.
            let turns: &[f32] = if family == Family::Motorbike {
                &MOTORBIKE_TURNS_DEG
            } else {
                &[]
            };
            for rect in turned_plates(&cand, turns) {
                let turned = tilted_plate_crop(image, rect);
                let read = self.reader.read_as(RgbView::from_image(&turned), family)?;
                if let Some(rank) = read.score() {
                    best.consider(placement * rank, read, cand);
                }
            }
        }
        Ok(best.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A look's proposal: `text` read as a one-line plate with ranking score `score`.
    fn proposal(text: &str, score: f32) -> (f32, ScenePlate) {
        let plate = crate::plate::parse_one_line(text).expect("a valid plate");
        let read = PlateRead::Read {
            plate,
            confidence: score,
            forced: 0.0,
            dotted: false,
            raw: vec![text.to_string()],
        };
        (
            score,
            ScenePlate {
                read,
                bbox: [0.0, 0.0, 10.0, 5.0],
            },
        )
    }

    fn voted(proposals: Vec<(f32, ScenePlate)>) -> Option<String> {
        vote(proposals).and_then(|p| p.read.plate().map(|p| p.normalized.clone()))
    }

    /// A one-line reading of `text`, dotted or not.
    fn reading(text: &str, dotted: bool) -> PlateRead {
        PlateRead::Read {
            plate: crate::plate::parse_one_line(text).expect("a valid plate"),
            confidence: 0.9,
            forced: 0.0,
            dotted,
            raw: Vec::new(),
        }
    }

    fn finished(best: Best) -> Option<(f32, String)> {
        best.finish()
            .0
            .and_then(|(s, p)| p.read.plate().map(|p| (s, p.normalized.clone())))
    }

    #[test]
    fn a_four_digit_reading_gives_way_to_a_dotted_reading_of_the_same_plate() {
        let plate = [100.0, 200.0, 40.0, 10.0];
        let mut best = Best::default();
        best.consider(0.9, reading("29A0154", false), plate);
        best.consider(0.5, reading("29A01514", true), [98.0, 198.0, 44.0, 14.0]);
        assert_eq!(finished(best), Some((0.9, "29A01514".to_string())));
        // A dotted reading elsewhere in the scene is another plate's.
        let mut best = Best::default();
        best.consider(0.9, reading("29A0154", false), plate);
        best.consider(0.5, reading("51G12345", true), [300.0, 50.0, 40.0, 10.0]);
        assert_eq!(finished(best), Some((0.9, "29A0154".to_string())));
        // A five-digit best reading stays, dotted or not.
        let mut best = Best::default();
        best.consider(0.9, reading("29A01544", false), plate);
        best.consider(0.5, reading("29A01514", true), plate);
        assert_eq!(finished(best), Some((0.9, "29A01544".to_string())));
        assert_eq!(finished(Best::default()), None);
    }

    #[test]
    fn one_repeat_more_means_one_character_written_twice_and_nothing_else() {
        assert!(one_repeat_more("14A00555", "14A0055"));
        assert!(one_repeat_more("29AA05116", "29A05116"));
        assert!(one_repeat_more("29A03119", "29A0319"));
        assert!(
            !one_repeat_more("14A00565", "14A0055"),
            "an extra 6 is no repeat"
        );
        assert!(!one_repeat_more("14A0055", "14A0055"));
        assert!(!one_repeat_more("14A0055", "14A00555"));
        assert!(!one_repeat_more("14A005555", "14A0055"));
    }

    #[test]
    fn a_plate_read_with_a_merged_repeat_takes_the_reading_of_the_same_plate_that_sees_it() {
        let at = |text: &str, bbox: [f32; 4]| ScenePlate {
            read: reading(text, false),
            bbox,
        };
        let plate = [100.0, 200.0, 40.0, 10.0];
        let near = [101.0, 199.0, 38.0, 12.0];
        let text = |p: ScenePlate| p.read.plate().map(|p| p.normalized.clone());
        let winner = at("14A0055", plate);
        let restored = restore_repeat(
            winner.clone(),
            &[(0.9, winner.clone()), (0.6, at("14A00555", near))],
        );
        assert_eq!(text(restored).as_deref(), Some("14A00555"));
        // Not from another plate, a weak reading, or a reading with a different extra character.
        for (score, other) in [
            (0.9, at("14A00555", [300.0, 50.0, 40.0, 10.0])),
            (0.4, at("14A00555", near)),
            (0.9, at("14A00565", near)),
        ] {
            let kept = restore_repeat(winner.clone(), &[(score, other)]);
            assert_eq!(text(kept).as_deref(), Some("14A0055"));
        }
        // Nor from a reading in another layout: the one-line plate's crop split in two.
        let one_line = at("29A55221", plate);
        let two_line = crate::plate::parse_two_line("29A5", "55221").expect("a valid plate");
        let split = ScenePlate {
            read: PlateRead::Read {
                plate: two_line,
                confidence: 0.9,
                forced: 0.0,
                dotted: false,
                raw: Vec::new(),
            },
            bbox: near,
        };
        assert!(
            split
                .read
                .plate()
                .is_some_and(|p| p.normalized == "29A555221")
        );
        let kept = restore_repeat(one_line, &[(0.9, split)]);
        assert_eq!(text(kept).as_deref(), Some("29A55221"));
    }

    #[test]
    fn two_looks_that_agree_outvote_one_surer_look() {
        let got = voted(vec![
            proposal("51G12345", 0.6),
            proposal("51G72345", 0.9),
            proposal("51G12345", 0.5),
        ]);
        assert_eq!(got.as_deref(), Some("51G12345"));
    }

    #[test]
    fn looks_that_disagree_leave_the_surest_reading() {
        let got = voted(vec![proposal("51G12345", 0.6), proposal("51G72345", 0.9)]);
        assert_eq!(got.as_deref(), Some("51G72345"));
        assert_eq!(voted(Vec::new()), None, "no proposal, no plate");
    }

    #[test]
    fn a_civil_plate_on_a_motorbike_alone_is_read_as_a_motorbike_plate() {
        let white = image::RgbImage::from_pixel(200, 100, image::Rgb([235, 235, 230]));
        let mut red = white.clone();
        for p in red.pixels_mut() {
            *p = image::Rgb([190, 30, 35]);
        }
        let plate = [80.0, 60.0, 30.0, 15.0];
        let bike = Vehicle {
            bbox: [60.0, 20.0, 70.0, 75.0],
            motorbike: true,
        };
        let car = Vehicle {
            bbox: [0.0, 0.0, 200.0, 100.0],
            motorbike: false,
        };
        let family = |img: &image::RgbImage, vehicles: &[Vehicle]| {
            family_at(RgbView::from_image(img), &plate, vehicles)
        };
        assert_eq!(family(&white, &[bike]), Family::Motorbike);
        assert_eq!(family(&white, &[car]), Family::Civil);
        assert_eq!(family(&white, &[]), Family::Civil);
        assert_eq!(
            family(&white, &[car, bike]),
            Family::Civil,
            "on a car as well: either may carry it"
        );
        assert_eq!(family(&red, &[bike]), Family::Military);
    }

    #[test]
    fn the_winning_plate_keeps_its_best_placed_proposal() {
        let mut a = proposal("51G12345", 0.4);
        a.1.bbox = [1.0, 1.0, 10.0, 5.0];
        let mut b = proposal("51G12345", 0.7);
        b.1.bbox = [2.0, 2.0, 10.0, 5.0];
        let got = vote(vec![a, b]).expect("a plate");
        assert_eq!(got.bbox, [2.0, 2.0, 10.0, 5.0]);
    }

    #[test]
    fn a_lone_plate_line_is_read_with_the_line_above_and_the_line_below() {
        let lone = line(100.0, 100.0, 40.0, 12.0, 0.0);
        let got = lone_lines(&[lone], 300.0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].line, lone.bbox);
        let above = got[0].above.expect("room above");
        let below = got[0].below.expect("room below");
        assert!(
            above[1] + above[3] <= lone.bbox[1] + 1.0,
            "the box above sits above it"
        );
        assert!(
            below[1] >= lone.bbox[1] + lone.bbox[3] - 1.0,
            "the box below, below"
        );
        assert_eq!(
            (above[2], above[3]),
            (lone.bbox[2], lone.bbox[3]),
            "same size"
        );
    }

    #[test]
    fn lines_already_stacked_in_pairs_or_at_the_image_edge_get_no_invented_partner() {
        let top = line(100.0, 100.0, 40.0, 12.0, 0.0);
        let bottom = line(100.0, 114.0, 40.0, 12.0, 0.0);
        assert!(lone_lines(&[top, bottom], 300.0).is_empty());
        let at_top = line(100.0, 7.0, 40.0, 12.0, 0.0);
        let got = lone_lines(&[at_top], 300.0);
        assert_eq!(got[0].above, None, "no room above");
        assert!(got[0].below.is_some());
        let tall = line(100.0, 100.0, 12.0, 40.0, 0.0);
        assert!(lone_lines(&[tall], 300.0).is_empty(), "not plate-shaped");
    }

    /// A detected text line: its turned rectangle and the upright bounds of its corners.
    fn line(cx: f32, cy: f32, w: f32, h: f32, degrees: f32) -> TextBox {
        let rect = RotatedRect {
            cx,
            cy,
            w,
            h,
            angle: degrees.to_radians(),
        };
        let c = rect.corners();
        let (x0, x1) = (
            c.iter().map(|p| p[0]).fold(f32::MAX, f32::min),
            c.iter().map(|p| p[0]).fold(f32::MIN, f32::max),
        );
        let (y0, y1) = (
            c.iter().map(|p| p[1]).fold(f32::MAX, f32::min),
            c.iter().map(|p| p[1]).fold(f32::MIN, f32::max),
        );
        TextBox {
            bbox: [x0, y0, x1 - x0, y1 - y0],
            rect,
            score: 0.9,
        }
    }

    #[test]
    fn the_two_lines_of_a_plate_tilted_by_30_degrees_are_paired_by_their_turned_rectangles() {
        // Top line, and the bottom line 14 px below it across the 30-degree direction.
        let (s, c) = 30f32.to_radians().sin_cos();
        let top = line(100.0, 100.0, 40.0, 12.0, 30.0);
        let bottom = line(100.0 - 14.0 * s, 100.0 + 14.0 * c, 44.0, 12.0, 30.0);
        // Their upright boxes overlap too much to look stacked...
        assert!(stacked_pairs(&[top, bottom]).is_empty());
        // ...but across their own direction they are two lines of one plate.
        let plates = tilted_plates(&[top, bottom]);
        assert_eq!(plates.len(), 1, "{plates:?}");
        let (rect, bbox) = plates[0];
        assert!((rect.angle.to_degrees() - 30.0).abs() < 0.01);
        assert!((rect.h - (14.0 + 12.0 + 1.2)).abs() < 0.01, "{rect:?}");
        assert!(rect.w >= 44.0);
        assert!(centre_inside(
            &[rect.cx - 1.0, rect.cy - 1.0, 2.0, 2.0],
            &bbox
        ));
    }

    #[test]
    fn upright_lines_and_lines_side_by_side_make_no_tilted_plate() {
        let upright = [
            line(100.0, 100.0, 40.0, 12.0, 0.0),
            line(100.0, 114.0, 44.0, 12.0, 0.0),
        ];
        assert!(tilted_plates(&upright).is_empty());
        assert_eq!(
            stacked_pairs(&upright).len(),
            1,
            "upright lines are paired as they are"
        );
        // Two tilted words on one line (along the direction, not across it).
        let (s, c) = 20f32.to_radians().sin_cos();
        let words = [
            line(100.0, 100.0, 40.0, 12.0, 20.0),
            line(100.0 + 45.0 * c, 100.0 + 45.0 * s, 40.0, 12.0, 20.0),
        ];
        assert!(tilted_plates(&words).is_empty());
    }

    #[test]
    fn a_tilted_plate_line_is_cut_along_its_own_direction_with_the_upright_margins() {
        // A one-line plate tilted by 12.8 degrees (as in a photo of a car seen from the side):
        // its upright box is nearly twice its own height.
        let tilted = line(370.0, 204.0, 80.0, 19.0, -12.8);
        assert!(tilted.bbox[3] > 1.8 * 19.0, "{:?}", tilted.bbox);
        let cuts = tilted_lines(&[tilted]);
        assert_eq!(cuts.len(), 1, "{cuts:?}");
        let (rect, bbox) = cuts[0];
        assert!((rect.angle.to_degrees() + 12.8).abs() < 0.01, "{rect:?}");
        assert!((rect.w - (80.0 + 0.3 * 19.0)).abs() < 0.01, "{rect:?}");
        assert!((rect.h - 1.12 * 19.0).abs() < 0.01, "{rect:?}");
        assert_eq!((rect.cx, rect.cy), (370.0, 204.0));
        assert_eq!(bbox, tilted.bbox);
    }

    #[test]
    fn upright_lines_and_tilted_regions_of_no_plate_shape_are_not_turned() {
        let boxes = [
            line(100.0, 100.0, 80.0, 19.0, 0.0),
            // Under the 2-degree deskew threshold: read from its upright box as it is.
            line(100.0, 200.0, 80.0, 19.0, 1.5),
            // Tilted, but as wide as tall, or a long banner.
            line(300.0, 100.0, 20.0, 20.0, 15.0),
            line(300.0, 200.0, 240.0, 20.0, 15.0),
        ];
        assert!(tilted_lines(&boxes).is_empty());
    }

    #[test]
    fn a_turned_plate_is_sized_so_that_its_upright_bounds_are_the_candidate() {
        // A 40 x 28 plate centred at (200, 100), turned by each angle: its upright bounds.
        let (w, h) = (40.0f32, 28.0f32);
        for deg in MOTORBIKE_TURNS_DEG {
            let (s, c) = deg.to_radians().abs().sin_cos();
            let (bw, bh) = (w * c + h * s, w * s + h * c);
            let cand = [200.0 - bw / 2.0, 100.0 - bh / 2.0, bw, bh];
            let rects = turned_plates(&cand, &[deg]);
            assert_eq!(rects.len(), 1, "one rectangle per turn");
            let rect = rects[0];
            assert!((rect.angle - deg.to_radians()).abs() < 1e-6);
            assert!((rect.cx - 200.0).abs() < 1e-3 && (rect.cy - 100.0).abs() < 1e-3);
            // The plate itself, before the margins every candidate is cut with.
            let (pw, ph) = (rect.w - 0.3 * rect.h / 1.12, rect.h / 1.12);
            assert!(
                (pw - w).abs() < 0.1 && (ph - h).abs() < 0.1,
                "{deg}: {pw} x {ph}"
            );
        }
    }

    #[test]
    fn a_candidate_as_wide_as_a_one_line_plate_is_not_read_turned() {
        assert!(turned_plates(&[0.0, 0.0, 94.0, 20.0], &MOTORBIKE_TURNS_DEG).is_empty());
        assert_eq!(
            turned_plates(&[0.0, 0.0, 40.0, 30.0], &MOTORBIKE_TURNS_DEG).len(),
            6
        );
        assert!(turned_plates(&[0.0, 0.0, 40.0, 30.0], &[]).is_empty());
    }
}
