//! Text recognition (PP-OCRv4 rec, CTC) constrained to the plate alphabet, and the plate reader
//! for plate crops built on it.

use std::path::Path;

use serde::Serialize;

use crate::ModelError;
use crate::imageops::{self, Letterbox, RgbView};
use crate::manifest::{ModelKind, ModelManifest, TextRecognizerSpec};
use crate::plate::{self, Family, ParsedPlate, PlateFormat, Slot};
use crate::runtime::{CheckedSession, RuntimeOptions};

/// Lines narrower than this (at the model height) are widened before recognition.
const MIN_LINE_WIDTH: f32 = 160.0;

/// Recogniser classes that are the dot of a five-digit number (`123.45`).
const DOT_KEYS: &[&str] = &[".", "·", "。"];

/// Characters a Vietnamese plate can contain.
pub const PLATE_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// One recognised line of text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextLine {
    pub text: String,
    /// Mean probability of the emitted characters (0 when empty).
    pub confidence: f32,
}

/// PP-OCR style CTC recogniser; decoding is restricted to an alphabet.
#[derive(Debug)]
pub struct TextRecognizer {
    session: CheckedSession,
    height: u32,
    max_width: u32,
    /// Class index -> character, for the classes allowed in decoding.
    allowed: Vec<(usize, char)>,
    /// Classes that are a dot ([`DOT_KEYS`]).
    dots: Vec<usize>,
}

impl TextRecognizer {
    /// Loads the recogniser and its character list, keeping only `alphabet`.
    pub fn load(
        manifest: ModelManifest,
        models_dir: &Path,
        opts: &RuntimeOptions,
        alphabet: &str,
    ) -> Result<Self, ModelError> {
        let bad = |reason: String| ModelError::Contract {
            model: manifest.id.clone(),
            tensor: "(manifest)".into(),
            expected: "kind = text_recognizer with a [text_recognizer] section".into(),
            got: reason,
        };
        if manifest.kind != ModelKind::TextRecognizer {
            return Err(bad(format!("{:?}", manifest.kind)));
        }
        let spec: TextRecognizerSpec = manifest
            .text_recognizer
            .clone()
            .ok_or_else(|| bad("none".into()))?;
        let keys_path = models_dir.join(&spec.keys_file);
        let keys = std::fs::read_to_string(&keys_path).map_err(|e| ModelError::Missing {
            model: manifest.id.clone(),
            path: keys_path.clone(),
            reason: e.to_string(),
        })?;
        let got = crate::manifest::sha256_file(&keys_path).map_err(|e| ModelError::Missing {
            model: manifest.id.clone(),
            path: keys_path.clone(),
            reason: e.to_string(),
        })?;
        if !got.eq_ignore_ascii_case(&spec.keys_sha256) {
            return Err(ModelError::Checksum {
                model: manifest.id.clone(),
                path: keys_path,
                expected: spec.keys_sha256.clone(),
                got,
            });
        }
        let mut allowed = Vec::new();
        let mut dots = Vec::new();
        for (i, line) in keys.lines().enumerate() {
            if DOT_KEYS.contains(&line) {
                dots.push(i + 1);
            }
            let mut chars = line.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && alphabet.contains(c)
            {
                allowed.push((i + 1, c)); // class 0 is the CTC blank
            }
        }
        let height = spec.input_height;
        let max_width = spec.max_width;
        let session = CheckedSession::load(manifest, models_dir, opts)?;
        Ok(Self {
            session,
            height,
            max_width,
            allowed,
            dots,
        })
    }

    /// Recognises one line of text in `image` (resized to the model height, aspect kept; short
    /// lines are widened up to 2x so CTC has enough time steps for repeated characters).
    pub fn recognize(&self, image: RgbView<'_>) -> Result<TextLine, ModelError> {
        Ok(self.recognize_ctc(image)?.greedy())
    }

    /// Runs the recogniser on one line and keeps its per-step output over the plate alphabet,
    /// for greedy or format-constrained decoding ([`CtcLine`]).
    pub fn recognize_ctc(&self, image: RgbView<'_>) -> Result<CtcLine, ModelError> {
        let m = &self.session.manifest;
        let scale = self.height as f32 / image.height as f32;
        let natural = image.width as f32 * scale;
        let widen = if natural < MIN_LINE_WIDTH {
            (MIN_LINE_WIDTH / natural.max(1.0)).min(2.0)
        } else {
            1.0
        };
        let w = ((natural * widen).ceil() as u32).clamp(16, self.max_width);
        // Pad the width to a multiple of 8 (the model downsamples by 8 horizontally).
        let input_w = w.div_ceil(8) * 8;
        // Lines longer than the model's widest input shrink on both axes (aspect kept).
        let fit = (w as f32 / (natural * widen)).min(1.0);
        let lb = Letterbox {
            scale: scale * fit,
            input_w,
            input_h: self.height,
        };
        // Sampled straight from the source: no intermediate full-resolution copy.
        let scale_x = scale * widen * fit;
        let input = imageops::scaled_nchw(image, lb, scale_x, &m.preprocess);
        let outs = self.session.run(
            &m.inputs[0].name,
            vec![1, 3, self.height as i64, input_w as i64],
            input,
            &[m.outputs[0].name.as_str()],
        )?;
        let (shape, probs) = &outs[0];
        let (t, c) = match shape.as_slice() {
            [1, t, c] => (*t as usize, *c as usize),
            s => {
                return Err(ModelError::Inference {
                    model: m.id.clone(),
                    reason: format!("output shape {s:?}, expected [1,T,C]"),
                });
            }
        };
        if probs.len() < t * c {
            return Err(ModelError::Inference {
                model: m.id.clone(),
                reason: format!("output has {} values, expected {}", probs.len(), t * c),
            });
        }
        Ok(CtcLine::from_softmax(
            probs,
            t,
            c,
            &self.allowed,
            &self.dots,
        ))
    }
}

/// What one line of CTC output says about the plate alphabet: per time step the probability of
/// the blank, of "no plate character" (the blank and every class outside the alphabet: dashes,
/// dots, other scripts) and of each plate character.
#[derive(Debug, Clone, PartialEq)]
pub struct CtcLine {
    steps: usize,
    chars: Vec<char>,
    /// Per step: `[P(blank), P(no plate character), P(chars[0]), P(chars[1]), ...]`.
    probs: Vec<f32>,
    /// Log-probability of the best path with no format constraint (each step's likeliest of
    /// "no plate character" and the plate characters).
    free_logp: f32,
    /// Per step: probability of a dot (part of "no plate character" above).
    dot: Vec<f32>,
}

/// Probabilities are floored here before taking logarithms.
const PROB_FLOOR: f32 = 1e-12;

/// The most probable spelling of a [`CtcLine`] that fits a sequence of [`Slot`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct Constrained {
    pub text: String,
    /// Mean over the characters of each one's peak probability.
    pub confidence: f32,
    /// How much less likely (natural log) the best fitting path is than the best path with no
    /// constraint: 0 when the free reading already fits, large when the format had to be forced.
    /// Includes what the path paid in priors ([`Slot::prior_ln`]).
    pub forced: f32,
}

impl CtcLine {
    /// Keeps the blank, the plate alphabet and the rest of the mass as "no plate character",
    /// and the probability of the `dots` classes.
    pub fn from_softmax(
        probs: &[f32],
        steps: usize,
        classes: usize,
        allowed: &[(usize, char)],
        dots: &[usize],
    ) -> Self {
        let width = 2 + allowed.len();
        let mut out = Vec::with_capacity(steps * width);
        let mut dot = Vec::with_capacity(steps);
        let mut free_logp = 0.0f32;
        for t in 0..steps {
            let row = &probs[t * classes..(t + 1) * classes];
            dot.push(
                dots.iter()
                    .map(|i| row.get(*i).copied().unwrap_or(0.0))
                    .sum(),
            );
            let blank = row.first().copied().unwrap_or(0.0);
            let start = out.len();
            out.extend([blank, 0.0]);
            out.extend(
                allowed
                    .iter()
                    .map(|(i, _)| row.get(*i).copied().unwrap_or(0.0)),
            );
            let step = &mut out[start..];
            let plate: f32 = step[2..].iter().sum();
            step[1] = (1.0 - plate).clamp(blank, 1.0);
            free_logp += step[1..].iter().fold(PROB_FLOOR, |m, &p| m.max(p)).ln();
        }
        Self {
            steps,
            chars: allowed.iter().map(|(_, c)| *c).collect(),
            probs: out,
            free_logp,
            dot,
        }
    }

    /// The step of the dot of a five-digit number (`123.45`), when the recogniser reads one: the
    /// last step where a dot is likelier than the blank and every plate character, with at least
    /// three characters read before it and one or two after it (a dot elsewhere is a dash, a
    /// screw or dirt).
    pub fn dot_step(&self) -> Option<usize> {
        let t = (0..self.steps).rev().find(|&t| {
            let row = self.row(t);
            let d = self.dot[t];
            d > row[0] && row[2..].iter().all(|&p| d > p)
        })?;
        let (before, after) = (self.emissions(0..t), self.emissions(t + 1..self.steps));
        (before >= 3 && (1..=2).contains(&after)).then_some(t)
    }

    /// Characters greedy decoding reads in `steps`.
    fn emissions(&self, steps: std::ops::Range<usize>) -> usize {
        let mut n = 0;
        let mut prev = None;
        for t in steps {
            let row = self.row(t);
            let best = row[2..]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .filter(|(_, p)| **p > row[0] && **p > self.dot[t])
                .map(|(i, _)| i);
            if best.is_some() && best != prev {
                n += 1;
            }
            prev = best;
        }
        n
    }

    fn row(&self, t: usize) -> &[f32] {
        let w = 2 + self.chars.len();
        &self.probs[t * w..(t + 1) * w]
    }

    /// Greedy decoding: at each step the likeliest plate character if it beats the blank,
    /// repeats collapsed.
    pub fn greedy(&self) -> TextLine {
        let mut text = String::new();
        let mut confs = Vec::new();
        let mut prev: Option<usize> = None;
        for t in 0..self.steps {
            let row = self.row(t);
            let best = row[2..]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1));
            match best {
                Some((i, &p)) if p > row[0] => {
                    if prev != Some(i) {
                        text.push(self.chars[i]);
                        confs.push(p);
                    }
                    prev = Some(i);
                }
                _ => prev = None,
            }
        }
        let confidence = if confs.is_empty() {
            0.0
        } else {
            confs.iter().sum::<f32>() / confs.len() as f32
        };
        TextLine { text, confidence }
    }

    /// The best CTC path (Viterbi) whose collapsed text fits `slots` exactly, or `None` when the
    /// line has fewer steps than the format has characters. Non-plate classes count as blank.
    pub fn best_matching(&self, slots: &[Slot]) -> Option<Constrained> {
        self.best_matching_split(slots, None)
    }

    /// [`CtcLine::best_matching`] for a line read with a dot at step `dot.0`: the path must be
    /// between its `dot.1`-th and next character at that step (`123.45`: after the third digit).
    pub fn best_matching_dotted(&self, slots: &[Slot], dot: (usize, usize)) -> Option<Constrained> {
        self.best_matching_split(slots, Some(dot))
    }

    fn best_matching_split(
        &self,
        slots: &[Slot],
        dot: Option<(usize, usize)>,
    ) -> Option<Constrained> {
        let n = slots.len();
        let a = self.chars.len();
        if n == 0 || self.steps < n {
            return None;
        }
        let ln = |p: f32| p.max(PROB_FLOOR).ln();
        // States: B(k) = k characters emitted, now between characters (k = 0..=n);
        // C(k, c) = the k-th character (1-based) is c and is being emitted.
        let ns = (n + 1) + n * a;
        let cs = |k: usize, c: usize| (n + 1) + (k - 1) * a + c;
        let admitted: Vec<Vec<bool>> = slots
            .iter()
            .map(|s| self.chars.iter().map(|&c| s.admits(c)).collect())
            .collect();
        // Paid once, on entering a character.
        let prior: Vec<Vec<f32>> = slots
            .iter()
            .map(|s| self.chars.iter().map(|&c| s.prior_ln(c)).collect())
            .collect();
        let neg = f32::NEG_INFINITY;
        let mut prev = vec![neg; ns];
        prev[0] = 0.0;
        let mut next = vec![neg; ns];
        let mut back = vec![0u32; self.steps * ns];
        // Best and second-best character state of each position at t - 1, for entering a new
        // character straight from a different one.
        let mut top2 = vec![((neg, usize::MAX), (neg, usize::MAX)); n + 1];
        for t in 0..self.steps {
            let row = self.row(t);
            let nothing = ln(row[1]);
            let bk = &mut back[t * ns..(t + 1) * ns];
            next.fill(neg);
            for (k, slot) in top2.iter_mut().enumerate().skip(1) {
                *slot = ((neg, usize::MAX), (neg, usize::MAX));
                for c in 0..a {
                    let v = prev[cs(k, c)];
                    if v > slot.0.0 {
                        slot.1 = slot.0;
                        slot.0 = (v, c);
                    } else if v > slot.1.0 {
                        slot.1 = (v, c);
                    }
                }
            }
            for k in 0..=n {
                let (mut best, mut from) = (prev[k], k);
                if k >= 1 && top2[k].0.0 > best {
                    best = top2[k].0.0;
                    from = cs(k, top2[k].0.1);
                }
                if best > neg {
                    next[k] = best + nothing;
                    bk[k] = from as u32;
                }
            }
            for k in 1..=n {
                for c in 0..a {
                    if !admitted[k - 1][c] {
                        continue;
                    }
                    let s = cs(k, c);
                    let enter = prior[k - 1][c];
                    let (mut best, mut from) = (prev[s], s);
                    if prev[k - 1] + enter > best {
                        best = prev[k - 1] + enter;
                        from = k - 1;
                    }
                    if k >= 2 {
                        let (first, second) = top2[k - 1];
                        let other = if first.1 != c { first } else { second };
                        if other.0 + enter > best {
                            best = other.0 + enter;
                            from = cs(k - 1, other.1);
                        }
                    }
                    if best > neg {
                        next[s] = best + ln(row[2 + c]);
                        bk[s] = from as u32;
                    }
                }
            }
            if let Some((td, k)) = dot
                && td == t
            {
                // Only "k characters read, between characters" may hold the dot.
                for (s, v) in next.iter_mut().enumerate() {
                    if s != k {
                        *v = neg;
                    }
                }
            }
            std::mem::swap(&mut prev, &mut next);
        }
        // End between characters or on the last one.
        let mut end = (prev[n], n);
        for c in 0..a {
            if prev[cs(n, c)] > end.0 {
                end = (prev[cs(n, c)], cs(n, c));
            }
        }
        if end.0 == neg {
            return None;
        }
        // Walk back, collecting each character and its peak probability.
        let mut chars = Vec::with_capacity(n);
        let mut s = end.1;
        let mut peak = 0.0f32;
        for t in (0..self.steps).rev() {
            let from = back[t * ns + s] as usize;
            if s > n {
                let c = (s - n - 1) % a;
                peak = peak.max(self.row(t)[2 + c]);
                if from != s {
                    let slot = slots[(s - n - 1) / a];
                    chars.push((slot.spell(self.chars[c]).unwrap_or(self.chars[c]), peak));
                    peak = 0.0;
                }
            }
            s = from;
        }
        chars.reverse();
        let confidence = chars.iter().map(|c| c.1).sum::<f32>() / chars.len().max(1) as f32;
        Some(Constrained {
            text: chars.iter().map(|c| c.0).collect(),
            confidence,
            forced: (self.free_logp - end.0).max(0.0),
        })
    }
}

/// Result of reading a plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PlateRead {
    Read {
        plate: ParsedPlate,
        confidence: f32,
        /// How much the format had to be forced (see [`Constrained::forced`]).
        forced: f32,
        /// The number was read with its dot (`123.45`, [`CtcLine::dot_step`]).
        dotted: bool,
        raw: Vec<String>,
    },
    Unreadable {
        raw: Vec<String>,
        reason: String,
    },
}

impl PlateRead {
    pub fn plate(&self) -> Option<&ParsedPlate> {
        match self {
            PlateRead::Read { plate, .. } => Some(plate),
            PlateRead::Unreadable { .. } => None,
        }
    }

    /// Ranking score of a reading ([`Reading::score`]); `None` when unreadable.
    pub fn score(&self) -> Option<f32> {
        match self {
            PlateRead::Read {
                confidence, forced, ..
            } => Some(rank(*confidence, *forced)),
            PlateRead::Unreadable { .. } => None,
        }
    }
}

/// Reads a plate from an image of the plate.
pub trait PlateReader: Send + Sync {
    fn read(&self, crop: RgbView<'_>) -> Result<PlateRead, ModelError>;
}

/// Widest crop (width / height) still read as two lines as well as one.
const TWO_LINE_MAX_ASPECT: f32 = 3.2;

/// Manifest id of the plate reader's recogniser.
pub const PLATE_RECOGNISER: &str = "ppocrv4_rec";
/// Manifest id of the second recogniser whose opinion every reading also takes
/// ([`CropPlateReader::partner`]).
pub const PLATE_PARTNER: &str = "ppocrv6_small_rec";

/// Reads plate crops with the recogniser: the crop is read as one line and, split at its
/// darkest-gap row near the middle, as two lines; the valid reading with the highest confidence
/// (fewest corrections on ties) wins.
///
/// With a partner recogniser the same lines are also read by it, and every plate text either
/// model reads is scored under both (how well each model's output spells exactly that text,
/// [`Slot::Exact`]), the two scores averaged: a product of experts. The two models err on
/// different plates (PP-OCRv4 and PP-OCRv6 small alone read 249 and 246 of the 300 crops of
/// vn_crops, right together on 257), and a text both find likely beats one only one of them
/// reads. Their per-step outputs cannot be averaged instead: their CTC peaks fall on different
/// steps (BENCHMARKS.md). The partner counts [`PARTNER_WEIGHT`] of the recogniser.
#[derive(Debug)]
pub struct CropPlateReader {
    pub rec: TextRecognizer,
    /// A second recogniser trained apart from `rec`; `None` reads with `rec` alone.
    pub partner: Option<TextRecognizer>,
}

impl CropPlateReader {
    /// Loads PP-OCRv4 rec ([`PLATE_RECOGNISER`]) and its partner PP-OCRv6 small rec
    /// ([`PLATE_PARTNER`]), both restricted to the plate alphabet.
    pub fn load(
        manifests: &Path,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let load = |id: &str| {
            TextRecognizer::load(
                crate::load_manifest(manifests, id)?,
                models_dir,
                opts,
                PLATE_ALPHABET,
            )
        };
        Ok(Self {
            rec: load(PLATE_RECOGNISER)?,
            partner: Some(load(PLATE_PARTNER)?),
        })
    }
}

fn sub_view<'a>(v: RgbView<'a>, y0: u32, y1: u32) -> Option<RgbView<'a>> {
    let start = y0 as usize * v.stride;
    RgbView::with_stride(
        v.width,
        y1.saturating_sub(y0),
        v.stride,
        v.data.get(start..)?,
    )
}

/// Row where a two-line plate splits: the row between 35% and 65% of the height with the
/// least dark ink.
fn split_row(v: RgbView<'_>) -> u32 {
    let (lo, hi) = (
        (v.height as f32 * 0.35) as u32,
        (v.height as f32 * 0.65) as u32,
    );
    let mut best = (v.height / 2, f32::MAX);
    for y in lo..hi.max(lo + 1) {
        let row = &v.data[y as usize * v.stride..y as usize * v.stride + v.width as usize * 3];
        // Ink: darkness relative to the row's brightest pixel; plates are dark on light.
        let lum: Vec<f32> = row
            .chunks(3)
            .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
            .collect();
        let ink: f32 = lum.iter().map(|l| (255.0 - l).max(0.0)).sum::<f32>() / lum.len() as f32;
        if ink < best.1 {
            best = (y, ink);
        }
    }
    best.0
}

/// Share of red pixels above which a plate is taken for a (red) military plate.
const MILITARY_RED_SHARE: f32 = 0.12;

/// Whether a pixel is a saturated red (hue within about 25 degrees of red), as a military
/// plate's background is under daylight, shade or flash; white characters, white, yellow and
/// blue plates and grey surroundings are not.
fn is_red(p: &[u8]) -> bool {
    let (r, g, b) = (p[0] as f32, p[1] as f32, p[2] as f32);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    if max != r || max < 60.0 || (max - min) < 0.25 * max {
        return false;
    }
    // Hue in degrees around red: 60 * (g - b) / (max - min), in (-60, 60) when red is largest.
    let hue = 60.0 * (g - b) / (max - min);
    (-25.0..=20.0).contains(&hue)
}

/// Tells military plates (red background) from civil ones by colour: the share of saturated red
/// pixels in the plate region.
pub fn plate_family(region: RgbView<'_>) -> Family {
    let (mut red, mut n) = (0usize, 0usize);
    for y in 0..region.height as usize {
        let row = &region.data[y * region.stride..y * region.stride + region.width as usize * 3];
        for p in row.chunks_exact(3) {
            n += 1;
            red += usize::from(is_red(p));
        }
    }
    if n > 0 && red as f32 / n as f32 > MILITARY_RED_SHARE {
        Family::Military
    } else {
        Family::Civil
    }
}

/// How much a natural-log unit of forcing a reading into a plate format costs in the score
/// (a confident letter read where a digit must stand costs about 3 units).
pub const FORCE_PENALTY: f32 = 0.02;
/// Readings that had to be forced more than this (natural log) are not plates.
pub const MAX_FORCED: f32 = 8.0;

/// A plate read from CTC output under the plate formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub plate: ParsedPlate,
    pub confidence: f32,
    /// See [`Constrained::forced`].
    pub forced: f32,
    /// The number was read with its dot ([`CtcLine::dot_step`]).
    pub dotted: bool,
}

impl Reading {
    /// Ranking score: confidence less the cost of forcing the format.
    pub fn score(&self) -> f32 {
        rank(self.confidence, self.forced)
    }

    /// This reading as a [`PlateRead`], with the recogniser's free text `raw` it came from.
    pub fn into_read(self, raw: Vec<String>) -> PlateRead {
        PlateRead::Read {
            plate: self.plate,
            confidence: self.confidence,
            forced: self.forced,
            dotted: self.dotted,
            raw,
        }
    }
}

/// Confidence less the cost of forcing the format: how readings of a plate are ranked.
fn rank(confidence: f32, forced: f32) -> f32 {
    confidence - FORCE_PENALTY * forced
}

/// The least forced spelling of `line` under each format (validity is checked by the caller).
/// With `dot` (the step of a dot, [`CtcLine::dot_step`]) only formats ending in a five-digit
/// number are spelled, with the dot before its last two digits.
fn best_fit<'f>(
    line: &CtcLine,
    formats: impl IntoIterator<Item = &'f &'f [Slot]>,
    dot: Option<usize>,
) -> Vec<Constrained> {
    formats
        .into_iter()
        .filter_map(|f| match dot {
            Some(t) => line.best_matching_dotted(f, (t, plate::dot_split(f)?)),
            None => line.best_matching(f),
        })
        .collect()
}

fn better(a: &Reading, b: &Reading) -> bool {
    (a.forced, -a.confidence) < (b.forced, -b.confidence)
}

/// The valid one-line plate of `family` that `line` most probably spells. A line read with a
/// dot between its characters has a five-digit number (`51G-123.45`, never `51G-1234`), so
/// the dot is kept where it was read; when no such plate fits, the line is read as if no dot
/// had been seen.
pub fn read_one_line(line: &CtcLine, family: Family) -> Option<Reading> {
    line.dot_step()
        .and_then(|t| one_line_reading(line, family, Some(t)))
        .or_else(|| one_line_reading(line, family, None))
}

fn one_line_reading(line: &CtcLine, family: Family, dot: Option<usize>) -> Option<Reading> {
    let free = line.greedy().text;
    let mut best: Option<Reading> = None;
    for c in best_fit(line, family.one_line_formats(), dot) {
        if c.forced > MAX_FORCED {
            continue;
        }
        let Some(mut p) = plate::parse_one_line(&c.text) else {
            continue;
        };
        p.corrections = plate::edit_distance(&free, &c.text);
        let r = Reading {
            plate: p,
            confidence: c.confidence,
            forced: c.forced,
            dotted: dot.is_some(),
        };
        if best.as_ref().is_none_or(|b| better(&r, b)) {
            best = Some(r);
        }
    }
    best
}

/// The valid two-line plate of `family` that a top and a bottom line most probably spell; a
/// dot read in the bottom line is kept as in [`read_one_line`].
pub fn read_two_lines(top: &CtcLine, bottom: &CtcLine, family: Family) -> Option<Reading> {
    bottom
        .dot_step()
        .and_then(|t| two_line_reading(top, bottom, family, Some(t)))
        .or_else(|| two_line_reading(top, bottom, family, None))
}

fn two_line_reading(
    top: &CtcLine,
    bottom: &CtcLine,
    family: Family,
    dot: Option<usize>,
) -> Option<Reading> {
    let (tops, bottoms) = family.two_line_formats();
    let free = format!("{}{}", top.greedy().text, bottom.greedy().text);
    let bottoms = best_fit(bottom, bottoms, dot);
    let mut best: Option<Reading> = None;
    for t in best_fit(top, tops, None) {
        for b in &bottoms {
            let forced = t.forced + b.forced;
            if forced > MAX_FORCED {
                continue;
            }
            let Some(mut p) = plate::parse_two_line(&t.text, &b.text) else {
                continue;
            };
            p.corrections = plate::edit_distance(&free, &format!("{}{}", t.text, b.text));
            let r = Reading {
                plate: p,
                confidence: (t.confidence + b.confidence) / 2.0,
                forced,
                dotted: dot.is_some(),
            };
            if best.as_ref().is_none_or(|x| better(&r, x)) {
                best = Some(r);
            }
        }
    }
    best
}

impl PlateReader for CropPlateReader {
    fn read(&self, crop: RgbView<'_>) -> Result<PlateRead, ModelError> {
        self.read_as(crop, plate_family(crop))
    }
}

impl CropPlateReader {
    /// Reads a plate crop as a plate of `family` (decided from colour by the caller, who may see
    /// more of the plate than the crop shows), falling back as [`Family::fallbacks`] says.
    pub fn read_as(&self, crop: RgbView<'_>, family: Family) -> Result<PlateRead, ModelError> {
        let (readings, raw) = self.read_all(crop, family)?;
        let best = readings
            .into_iter()
            .max_by(|a, b| a.score().total_cmp(&b.score()));
        Ok(match best {
            Some(r) => r.into_read(raw),
            None => PlateRead::Unreadable {
                raw,
                reason: "no reading matches a Vietnamese plate format".into(),
            },
        })
    }

    /// Every valid reading of a plate crop as [`CropPlateReader::read_as`] makes them (the whole
    /// crop as one line; split into two lines; each half as one line), and the recogniser's
    /// free text of each part. `read_as` keeps the best-scored reading; a scene reader also
    /// weighs the others against other crops of the same plate. With a partner recogniser each
    /// reading of either model is scored under both (see [`CropPlateReader`]).
    pub fn read_all(
        &self,
        crop: RgbView<'_>,
        family: Family,
    ) -> Result<(Vec<Reading>, Vec<String>), ModelError> {
        let rows = split_rows(crop);
        let (ours, mut raw) = lines(&self.rec, crop, &rows)?;
        let readings = match &self.partner {
            Some(partner) => {
                let (theirs, their_raw) = lines(partner, crop, &rows)?;
                raw.extend(their_raw.into_iter().map(|t| format!("partner: {t}")));
                fused_readings(&ours, &theirs, family)
            }
            None => readings_of(&ours, family),
        };
        Ok((readings.into_iter().map(|(_, r)| r).collect(), raw))
    }
}

/// Rows at which a crop is split into two lines: none when it is too small or as wide as a
/// one-line plate (two-line plates are about 2:1, one-line plates 4.7:1); else the emptiest row
/// near the middle, and the middle itself when that is elsewhere.
fn split_rows(crop: RgbView<'_>) -> Vec<u32> {
    if crop.height < 16 || crop.width as f32 >= TWO_LINE_MAX_ASPECT * crop.height as f32 {
        return Vec::new();
    }
    let gap = split_row(crop);
    let mut rows = vec![gap];
    if gap.abs_diff(crop.height / 2) > crop.height / 20 {
        rows.push(crop.height / 2);
    }
    rows
}

/// `rec`'s reading of the crop as one line and of each split into two lines at `rows`; and the
/// free text of each part.
fn lines(
    rec: &TextRecognizer,
    crop: RgbView<'_>,
    rows: &[u32],
) -> Result<(Lines, Vec<String>), ModelError> {
    let mut raw = Vec::new();
    let one = rec.recognize_ctc(crop)?;
    raw.push(one.greedy().text);
    let mut pairs = Vec::new();
    let pad = (crop.height / 20).max(1);
    for &y in rows {
        let (Some(top), Some(bottom)) = (
            sub_view(crop, 0, (y + pad).min(crop.height)),
            sub_view(crop, y.saturating_sub(pad), crop.height),
        ) else {
            continue;
        };
        let (t, b) = (rec.recognize_ctc(top)?, rec.recognize_ctc(bottom)?);
        raw.push(format!("{} / {}", t.greedy().text, b.greedy().text));
        pairs.push((t, b));
    }
    Ok((Lines { one, pairs }, raw))
}

/// Which line(s) of a crop a reading was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The whole crop as one line.
    One,
    /// The `j`-th split into two lines, read as a two-line plate.
    Pair(usize),
    /// The top part of the `j`-th split, read as a one-line plate.
    Top(usize),
    /// The bottom part of the `j`-th split, read as a one-line plate.
    Bottom(usize),
}

/// One recogniser's reading of a crop: the whole crop as one line, and each split into two.
struct Lines {
    one: CtcLine,
    pairs: Vec<(CtcLine, CtcLine)>,
}

/// Every valid reading of `lines` as a plate of `family` (falling back as
/// [`Family::fallbacks`] says), with the lines each was read from.
fn readings_of(lines: &Lines, family: Family) -> Vec<(Source, Reading)> {
    let read = |family: Family| {
        let mut candidates: Vec<(Source, Reading)> = read_one_line(&lines.one, family)
            .into_iter()
            .map(|r| (Source::One, r))
            .collect();
        for (j, (t, b)) in lines.pairs.iter().enumerate() {
            candidates.extend(read_two_lines(t, b, family).map(|r| (Source::Pair(j), r)));
            // A one-line civil plate in a crop with room above or below it (a loose text
            // box) can read cleaner from the half it fills. Not military ones: six
            // characters in half a crop are too easily found in a civil plate's halves.
            if family == Family::Civil {
                candidates.extend(read_one_line(t, family).map(|r| (Source::Top(j), r)));
                candidates.extend(read_one_line(b, family).map(|r| (Source::Bottom(j), r)));
            }
        }
        candidates
    };
    family
        .fallbacks()
        .iter()
        .map(|f| read(*f))
        .find(|c| !c.is_empty())
        .unwrap_or_default()
}

/// Every reading either recogniser makes of its lines (`readings_of`), each text once per line
/// it was read from (a dot seen by either model is kept), rescored under both (`fused`).
fn fused_readings(ours: &Lines, theirs: &Lines, family: Family) -> Vec<(Source, Reading)> {
    let mut texts: Vec<(Source, Reading)> = Vec::new();
    for (src, r) in readings_of(ours, family)
        .into_iter()
        .chain(readings_of(theirs, family))
    {
        match texts
            .iter_mut()
            .find(|(s, t)| *s == src && t.plate.normalized == r.plate.normalized)
        {
            Some((_, t)) => t.dotted |= r.dotted,
            None => texts.push((src, r)),
        }
    }
    texts
        .into_iter()
        .filter_map(|(src, r)| fused(ours, theirs, src, r).map(|r| (src, r)))
        .collect()
}

/// How well `line` spells exactly `text` (plate characters, no separators): the confidence and
/// forcing of its best path, or no confidence and twice [`MAX_FORCED`] when the line is too short
/// for the text. `MĐ` is scored as the format reads it ([`Slot::ElectricM`]).
fn exact_fit(line: &CtcLine, text: &str) -> (f32, f32) {
    let chars: Vec<char> = text.chars().collect();
    let slots: Vec<Slot> = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            'M' if chars.get(i + 1) == Some(&'D') => Slot::ElectricM,
            'D' if i > 0 && chars[i - 1] == 'M' => Slot::ElectricD,
            c => Slot::Exact(c),
        })
        .collect();
    match line.best_matching(&slots) {
        Some(c) => (c.confidence, c.forced),
        None => (0.0, 2.0 * MAX_FORCED),
    }
}

/// How much the partner's opinion of a text counts beside the recogniser's own
/// ([`CropPlateReader::partner`]). On the every-5th sample of vn_scenes_labelled: 157 without a
/// partner, 158 at 1.0 (stopped at 70% of it), 159 at 0.5; crops 254-255 either way (249 alone).
pub const PARTNER_WEIGHT: f32 = 0.5;

/// `r` (read from the lines `src` names by one of the two recognisers) rescored as the mean of
/// how well each recogniser's reading of those lines spells its text, the partner's weighted
/// [`PARTNER_WEIGHT`]; `None` when that mean had to be forced past [`MAX_FORCED`].
fn fused(ours: &Lines, theirs: &Lines, src: Source, mut r: Reading) -> Option<Reading> {
    let text = r.plate.normalized.as_str();
    // Characters on the top line of a two-line plate: province and series, or the province
    // alone (old motorbike plates) or the unit (military plates).
    let top_len = match r.plate.format {
        PlateFormat::TwoLine => 2 + r.plate.series.chars().count(),
        _ => 2,
    };
    let fit = |l: &Lines| -> Option<(f32, f32)> {
        Some(match src {
            Source::One => exact_fit(&l.one, text),
            Source::Top(j) => exact_fit(&l.pairs.get(j)?.0, text),
            Source::Bottom(j) => exact_fit(&l.pairs.get(j)?.1, text),
            Source::Pair(j) => {
                let (top, bottom) = l.pairs.get(j)?;
                let split = text.char_indices().nth(top_len).map(|(i, _)| i)?;
                let (ct, ft) = exact_fit(top, &text[..split]);
                let (cb, fb) = exact_fit(bottom, &text[split..]);
                ((ct + cb) / 2.0, ft + fb)
            }
        })
    };
    let (c1, f1) = fit(ours)?;
    let (c2, f2) = fit(theirs)?;
    let w = PARTNER_WEIGHT;
    r.confidence = (c1 + w * c2) / (1.0 + w);
    r.forced = (f1 + w * f2) / (1.0 + w);
    (r.forced <= MAX_FORCED).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CTC line over the plate alphabet built from per-step `(char or '_' for blank, p)`
    /// peaks, the rest of each step's mass spread over the blank.
    fn line(steps: &[&[(char, f32)]]) -> CtcLine {
        let allowed: Vec<(usize, char)> = PLATE_ALPHABET
            .chars()
            .enumerate()
            .map(|(i, c)| (i + 1, c))
            .collect();
        // Blank, alphabet, two classes outside it ('-' and the dot '.').
        let classes = 1 + allowed.len() + 2;
        let mut probs = vec![0.0f32; steps.len() * classes];
        for (t, peaks) in steps.iter().enumerate() {
            let row = &mut probs[t * classes..(t + 1) * classes];
            let mut rest = 1.0;
            for &(c, p) in *peaks {
                let i = match c {
                    '_' => 0,
                    '-' => classes - 2,
                    '.' => classes - 1,
                    c => 1 + PLATE_ALPHABET.find(c).expect("plate character"),
                };
                row[i] += p;
                rest -= p;
            }
            row[0] += rest.max(0.0);
        }
        CtcLine::from_softmax(&probs, steps.len(), classes, &allowed, &[classes - 1])
    }

    fn spell(text: &str) -> CtcLine {
        // Each character for two steps, then a blank, like a clean line.
        let mut steps: Vec<Vec<(char, f32)>> = Vec::new();
        for c in text.chars() {
            steps.push(vec![(c, 0.95)]);
            steps.push(vec![(c, 0.9)]);
            steps.push(vec![('_', 0.9)]);
        }
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        line(&refs)
    }

    fn one_line(line: CtcLine) -> Lines {
        Lines {
            one: line,
            pairs: Vec::new(),
        }
    }

    /// `51G-123.4x` whose last digit reads `5` with `p5` and `6` with `p6`.
    fn last_digit(p5: f32, p6: f32) -> CtcLine {
        let mut steps = spelled_steps("51G1234");
        steps.push(vec![('5', p5), ('6', p6)]);
        steps.push(vec![('_', 0.9)]);
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        line(&refs)
    }

    fn best(readings: Vec<(Source, Reading)>) -> Option<Reading> {
        readings
            .into_iter()
            .map(|(_, r)| r)
            .max_by(|a, b| a.score().total_cmp(&b.score()))
    }

    #[test]
    fn a_line_spells_its_own_text_unforced_and_another_text_only_forced() {
        let l = spell("51G12345");
        let (confidence, forced) = exact_fit(&l, "51G12345");
        assert!(confidence > 0.9 && forced < 1e-3, "{confidence} {forced}");
        let (_, forced) = exact_fit(&l, "51G12346");
        assert!(forced > 3.0, "forced {forced}");
        // Too many characters for the line's steps: no path, the worst forcing.
        assert_eq!(exact_fit(&spell("5"), "51G12345"), (0.0, 2.0 * MAX_FORCED));
    }

    #[test]
    fn a_character_one_recogniser_is_unsure_of_is_settled_by_the_other() {
        // Ours leans to `5` (0.5 against 0.4), the partner is sure of `6`.
        let (ours, theirs) = (
            one_line(last_digit(0.5, 0.4)),
            one_line(last_digit(0.02, 0.93)),
        );
        let alone = read_one_line(&ours.one, Family::Civil).expect("plate");
        assert_eq!(alone.plate.normalized, "51G12345");
        let r = best(fused_readings(&ours, &theirs, Family::Civil)).expect("plate");
        assert_eq!(r.plate.normalized, "51G12346");
    }

    #[test]
    fn the_text_both_recognisers_find_likely_wins_and_one_the_other_cannot_read_is_dropped() {
        // Ours is sure of `51G-123.45`; the partner reads `51G-123.46`, with `5` its second
        // choice: fused, the text both find likely wins, and each text is scored once.
        let ours = one_line(last_digit(0.85, 0.05));
        let theirs = one_line(last_digit(0.3, 0.6));
        let fused = fused_readings(&ours, &theirs, Family::Civil);
        assert_eq!(fused.len(), 2, "{fused:?}");
        let r = best(fused).expect("plate");
        assert_eq!(r.plate.normalized, "51G12345");
        // A text the other recogniser cannot read at all is forced past the limit and dropped.
        let fused = fused_readings(&one_line(spell("51G12345")), &theirs, Family::Civil);
        assert_eq!(fused.len(), 1, "{fused:?}");
    }

    #[test]
    fn a_two_line_reading_is_scored_line_by_line_under_both_recognisers() {
        let lines = || Lines {
            one: spell("5"),
            pairs: vec![(spell("59X1"), spell("23456"))],
        };
        let fused = fused_readings(&lines(), &lines(), Family::Civil);
        let r = best(fused).expect("plate");
        assert_eq!(r.plate.text, "59-X1 234.56");
        assert!(r.forced < 1e-3, "forced {}", r.forced);
        assert!(r.confidence > 0.9, "confidence {}", r.confidence);
    }

    #[test]
    fn a_clean_line_that_fits_the_format_is_read_unforced() {
        let l = spell("51G12345");
        assert_eq!(l.greedy().text, "51G12345");
        let r = read_one_line(&l, Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "51G-123.45");
        assert!(r.forced < 1e-3, "forced {}", r.forced);
        assert!(r.confidence > 0.9);
    }

    #[test]
    fn a_letter_where_a_digit_must_stand_becomes_the_likeliest_digit() {
        // The last step reads 'B' (0.6) but a number position needs a digit: '8' (0.3) wins
        // over '3' (0.05) because the model said so, not because of a fixed table.
        let mut steps: Vec<Vec<(char, f32)>> = Vec::new();
        for c in "51G1234".chars() {
            steps.push(vec![(c, 0.9)]);
            steps.push(vec![('_', 0.9)]);
        }
        steps.push(vec![('B', 0.6), ('8', 0.3), ('3', 0.05)]);
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        let l = line(&refs);
        assert_eq!(l.greedy().text, "51G1234B");
        let r = read_one_line(&l, Family::Civil).expect("plate");
        assert_eq!(r.plate.normalized, "51G12348");
        assert!(
            (r.forced - (0.6f32 / 0.3).ln()).abs() < 0.05,
            "forced {}",
            r.forced
        );
        assert_eq!(r.plate.corrections, 1);
    }

    #[test]
    fn a_repeated_character_needs_a_blank_or_other_class_between_its_two_emissions() {
        // "30A" over "1122" with the two 1s separated only by a dash (outside the alphabet).
        let top = spell("30A");
        let bottom = line(&[
            &[('1', 0.9)],
            &[('-', 0.9)],
            &[('1', 0.9)],
            &[('_', 0.9)],
            &[('2', 0.9)],
            &[('2', 0.9)],
            &[('_', 0.9)],
            &[('2', 0.9)],
        ]);
        let r = read_two_lines(&top, &bottom, Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "30-A 1122");
        assert!(r.forced < 1e-3, "forced {}", r.forced);
    }

    #[test]
    fn a_spurious_weak_character_is_dropped_to_fit_the_format() {
        // A screw read as a faint '1' before the number: nine characters, but a one-line plate
        // with a 1-letter series and 5 digits has eight.
        let mut steps: Vec<Vec<(char, f32)>> = Vec::new();
        for c in "29A".chars() {
            steps.push(vec![(c, 0.95)]);
            steps.push(vec![('_', 0.9)]);
        }
        steps.push(vec![('1', 0.55), ('_', 0.45)]);
        steps.push(vec![('_', 0.9)]);
        for c in "12345".chars() {
            steps.push(vec![(c, 0.95)]);
            steps.push(vec![('_', 0.9)]);
        }
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        let l = line(&refs);
        assert_eq!(l.greedy().text, "29A112345");
        let r = read_one_line(&l, Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "29A-123.45");
        assert!(
            r.forced < 0.25,
            "dropping a 0.55 character costs little: {}",
            r.forced
        );
    }

    /// Steps spelling `text`, each character once and followed by a blank step; a `.` is a
    /// step of the dot class.
    fn spelled_steps(text: &str) -> Vec<Vec<(char, f32)>> {
        let mut steps = Vec::new();
        for c in text.chars() {
            steps.push(vec![(c, 0.95)]);
            steps.push(vec![('_', 0.9)]);
        }
        steps
    }

    /// `before`, then `faint` read weakly (0.3 against a 0.7 blank), then `after`, spelled as
    /// [`spelled_steps`] does.
    fn with_faint(before: &str, faint: char, after: &str) -> CtcLine {
        let mut steps = spelled_steps(before);
        steps.push(vec![(faint, 0.3), ('_', 0.7)]);
        steps.extend(spelled_steps(after));
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        line(&refs)
    }

    #[test]
    fn a_digit_read_faintly_after_the_dot_is_kept_because_the_dot_means_five_digits() {
        // `51G-123.14` where the `1` after the dot is faint (0.3 against a 0.7 blank): greedy
        // reads `51G1234`, a valid old four-digit plate, but the dot says five digits.
        let l = with_faint("51G123.", '1', "4");
        assert_eq!(l.greedy().text, "51G1234");
        assert!(l.dot_step().is_some());
        let r = read_one_line(&l, Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "51G-123.14");
        // The same line without its dot is the four-digit plate.
        let r = read_one_line(&with_faint("51G123", '1', "4"), Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "51G-1234");
    }

    #[test]
    fn the_dot_of_a_two_line_plate_splits_its_bottom_line_three_and_two() {
        let bottom = with_faint("495.", '7', "2");
        let r = read_two_lines(&spell("30A"), &bottom, Family::Civil).expect("plate");
        assert_eq!(r.plate.normalized, "30A49572");
    }

    #[test]
    fn a_dot_away_from_the_last_two_digits_is_no_number_dot() {
        // A dot read after the series (a dash) or after the last digit (a screw) says nothing
        // about the number: the four-digit plate is read as it is.
        for text in ["51G.1234", "51G1234.", "51.G1234"] {
            let steps = spelled_steps(text);
            let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
            let l = line(&refs);
            assert_eq!(l.dot_step(), None, "{text}");
            let r = read_one_line(&l, Family::Civil).expect("plate");
            assert_eq!(r.plate.text, "51G-1234", "{text}");
        }
    }

    #[test]
    fn a_dot_no_five_digit_plate_fits_is_read_past() {
        // `51G-12.34`: three characters before the dot and two after, but no digit can stand
        // between the `2` and the dot; the line is read as the four-digit plate it shows.
        let steps = spelled_steps("51G12.34");
        let refs: Vec<&[(char, f32)]> = steps.iter().map(|s| s.as_slice()).collect();
        let l = line(&refs);
        assert!(l.dot_step().is_some());
        let r = read_one_line(&l, Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "51G-1234");
    }

    #[test]
    fn an_old_plate_with_its_series_on_the_bottom_line_is_read_on_a_motorbike_only() {
        let (top, bottom) = (spell("60"), spell("759AN"));
        let r = read_two_lines(&top, &bottom, Family::Motorbike).expect("old motorbike plate");
        assert_eq!(r.plate.text, "60 759-AN");
        assert!(r.forced < 1e-3, "forced {}", r.forced);
        // On a car the province alone is no top line: the reading has to be forced.
        let car = read_two_lines(&top, &bottom, Family::Civil);
        assert!(car.is_none_or(|r| r.plate.format != plate::PlateFormat::OldTwoLine));
    }

    #[test]
    fn the_electric_motorbike_series_read_as_hd_is_the_md_it_stands_for() {
        let r = read_two_lines(&spell("60HD1"), &spell("01868"), Family::Civil).expect("plate");
        assert_eq!(r.plate.text, "60-MD1 018.68");
        assert!(
            r.forced < 1e-3,
            "a usual misreading is not forced: {}",
            r.forced
        );
        assert_eq!(r.plate.corrections, 1);
    }

    #[test]
    fn a_zero_where_the_second_series_character_stands_is_the_letter_scored_next() {
        // "60-LĐ" over the number, the Đ read as '0' (0.6) with 'D' (0.3) next: no series
        // digit is 0, so the letter is taken; a 'U' scored next would be a 'U'.
        let top = |next: char| {
            line(&[
                &[('6', 0.9)],
                &[('_', 0.9)],
                &[('0', 0.9)],
                &[('_', 0.9)],
                &[('L', 0.9)],
                &[('_', 0.9)],
                &[('0', 0.6), (next, 0.3)],
                &[('_', 0.9)],
            ])
        };
        let read = |next| {
            read_two_lines(&top(next), &spell("02777"), Family::Civil)
                .expect("plate")
                .plate
                .text
        };
        assert_eq!(read('D'), "60-LD 027.77");
        assert_eq!(read('U'), "60-LU 027.77");
    }

    #[test]
    fn a_series_digit_read_as_its_look_alike_letter_is_the_digit_unless_the_letter_is_sure() {
        // "43-H1" whose '1' the recogniser scores as 'T' first: a letter there is the rarer
        // series, so the digit scored next is read; a letter the recogniser is sure of stays,
        // and so do the A of the mopeds' "AA" and the D of "LĐ".
        let top = |second: &[(char, f32)]| {
            line(&[
                &[('4', 0.9)],
                &[('_', 0.9)],
                &[('3', 0.9)],
                &[('_', 0.9)],
                &[('H', 0.9)],
                &[('_', 0.9)],
                second,
                &[('_', 0.9)],
            ])
        };
        let read = |second: &[(char, f32)]| {
            read_two_lines(&top(second), &spell("11042"), Family::Motorbike)
                .expect("plate")
                .plate
                .text
        };
        assert_eq!(read(&[('T', 0.6), ('1', 0.3)]), "43-H1 110.42");
        assert_eq!(read(&[('T', 0.9), ('1', 0.05)]), "43-HT 110.42");
        assert_eq!(read(&[('A', 0.6), ('4', 0.3)]), "43-HA 110.42");
        assert_eq!(read(&[('D', 0.6), ('8', 0.3)]), "43-HD 110.42");
        // The series of an old plate, on its bottom line, is as often two letters: no prior.
        let old = read_two_lines(
            &spell("60"),
            &line(&[
                &[('5', 0.9)],
                &[('_', 0.9)],
                &[('5', 0.55), ('_', 0.4)],
                &[('5', 0.9)],
                &[('_', 0.9)],
                &[('0', 0.9)],
                &[('_', 0.9)],
                &[('E', 0.9)],
                &[('_', 0.9)],
                &[('B', 0.6), ('8', 0.3)],
                &[('_', 0.9)],
            ]),
            Family::Motorbike,
        )
        .expect("plate");
        assert_eq!(old.plate.normalized, "60550EB");
    }

    #[test]
    fn a_motorbike_plate_is_never_read_with_a_lone_series_letter() {
        // "60-AA" whose two A's the recogniser nearly ran together: the blank between them is
        // weaker than either A. On a car it is the square plate "60A"; on a motorbike, whose
        // series is never a lone letter, it is "60-AA".
        let top = line(&[
            &[('6', 0.9)],
            &[('_', 0.9)],
            &[('0', 0.9)],
            &[('_', 0.9)],
            &[('A', 0.9)],
            &[('A', 0.55), ('_', 0.4)],
            &[('A', 0.9)],
            &[('_', 0.9)],
        ]);
        let bottom = spell("44379");
        let read = |family| {
            read_two_lines(&top, &bottom, family)
                .expect("plate")
                .plate
                .text
        };
        assert_eq!(read(Family::Civil), "60-A 443.79");
        assert_eq!(read(Family::Motorbike), "60-AA 443.79");
    }

    #[test]
    fn text_that_is_no_plate_is_refused_even_when_forced() {
        assert!(read_one_line(&spell("HELLO"), Family::Civil).is_none());
        assert!(read_two_lines(&spell("ABC"), &spell("XYZW"), Family::Civil).is_none());
        assert!(read_one_line(&spell(""), Family::Civil).is_none());
    }

    #[test]
    fn military_unit_letters_keep_q() {
        let r = read_one_line(&spell("QA5901"), Family::Military).expect("military plate");
        assert_eq!(r.plate.text, "QA-59-01");
    }

    #[test]
    fn a_civil_plate_read_short_is_not_taken_for_a_military_one() {
        // "BH9999" (a civil plate whose province was missed) fits the military format, but a
        // white plate is civil: read as civil, it cannot be a plate at all.
        assert!(read_one_line(&spell("BH9999"), Family::Civil).is_none());
        assert_eq!(
            read_one_line(&spell("BH9999"), Family::Military)
                .expect("military")
                .plate
                .text,
            "BH-99-99"
        );
    }

    fn filled(w: u32, h: u32, rgb: [u8; 3]) -> image::RgbImage {
        image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
    }

    #[test]
    fn a_red_plate_is_military_and_white_yellow_or_blue_ones_are_civil() {
        let family = |img: &image::RgbImage| plate_family(RgbView::from_image(img));
        assert_eq!(family(&filled(60, 20, [190, 30, 35])), Family::Military);
        assert_eq!(family(&filled(60, 20, [235, 235, 230])), Family::Civil);
        assert_eq!(family(&filled(60, 20, [230, 200, 40])), Family::Civil);
        assert_eq!(family(&filled(60, 20, [30, 60, 170])), Family::Civil);
        // White characters on red still read as red.
        let mut plate = filled(60, 20, [170, 25, 30]);
        for x in (5..55).step_by(4) {
            for y in 4..16 {
                plate.put_pixel(x, y, image::Rgb([245, 245, 245]));
            }
        }
        assert_eq!(family(&plate), Family::Military);
    }
}
