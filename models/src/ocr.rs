//! Text recognition (PP-OCRv4 rec, CTC) constrained to the plate alphabet, and the plate reader
//! for plate crops built on it.

use std::path::Path;

use serde::Serialize;

use crate::ModelError;
use crate::imageops::{self, Letterbox, RgbView};
use crate::manifest::{ModelKind, ModelManifest, TextRecognizerSpec};
use crate::plate::{self, ParsedPlate};
use crate::runtime::{CheckedSession, RuntimeOptions};

/// Lines narrower than this (at the model height) are widened before recognition.
const MIN_LINE_WIDTH: f32 = 160.0;

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
        for (i, line) in keys.lines().enumerate() {
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
        })
    }

    /// Recognises one line of text in `image` (resized to the model height, aspect kept; short
    /// lines are widened up to 2x so CTC has enough time steps for repeated characters).
    pub fn recognize(&self, image: RgbView<'_>) -> Result<TextLine, ModelError> {
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
        Ok(ctc_decode(probs, t, c, &self.allowed))
    }
}

/// Greedy CTC decoding where each step chooses between the blank and the allowed classes only.
pub fn ctc_decode(
    probs: &[f32],
    steps: usize,
    classes: usize,
    allowed: &[(usize, char)],
) -> TextLine {
    let mut text = String::new();
    let mut confs = Vec::new();
    let mut prev: Option<usize> = None;
    for t in 0..steps {
        let row = &probs[t * classes..(t + 1) * classes];
        let blank = row[0];
        let best = allowed
            .iter()
            .filter_map(|(i, ch)| row.get(*i).map(|p| (*i, *ch, *p)))
            .max_by(|a, b| a.2.total_cmp(&b.2));
        match best {
            Some((i, ch, p)) if p > blank => {
                if prev != Some(i) {
                    text.push(ch);
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

/// Result of reading a plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PlateRead {
    Read {
        plate: ParsedPlate,
        confidence: f32,
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
}

/// Reads a plate from an image of the plate.
pub trait PlateReader: Send + Sync {
    fn read(&self, crop: RgbView<'_>) -> Result<PlateRead, ModelError>;
}

/// Reads plate crops with the recogniser: the crop is read as one line and, split at its
/// darkest-gap row near the middle, as two lines; the valid reading with the highest confidence
/// (fewest corrections on ties) wins.
#[derive(Debug)]
pub struct CropPlateReader {
    pub rec: TextRecognizer,
}

impl CropPlateReader {
    /// Loads PP-OCRv4 rec (manifest `ppocrv4_rec`) restricted to the plate alphabet.
    pub fn load(
        manifests: &Path,
        models_dir: &Path,
        opts: &RuntimeOptions,
    ) -> Result<Self, ModelError> {
        let m = crate::load_manifest(manifests, "ppocrv4_rec")?;
        Ok(Self {
            rec: TextRecognizer::load(m, models_dir, opts, PLATE_ALPHABET)?,
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

impl PlateReader for CropPlateReader {
    fn read(&self, crop: RgbView<'_>) -> Result<PlateRead, ModelError> {
        let mut raw = Vec::new();
        let mut candidates: Vec<(ParsedPlate, f32)> = Vec::new();
        let one = self.rec.recognize(crop)?;
        raw.push(one.text.clone());
        if let Some(p) = plate::parse_one_line(&one.text) {
            candidates.push((p, one.confidence));
        }
        if crop.height >= 16 {
            // Two lines: split at the emptiest row near the middle, and at the middle itself.
            let gap = split_row(crop);
            let mut rows = vec![gap];
            if gap.abs_diff(crop.height / 2) > crop.height / 20 {
                rows.push(crop.height / 2);
            }
            let pad = (crop.height / 20).max(1);
            for y in rows {
                let (Some(top), Some(bottom)) = (
                    sub_view(crop, 0, (y + pad).min(crop.height)),
                    sub_view(crop, y.saturating_sub(pad), crop.height),
                ) else {
                    continue;
                };
                let (t, b) = (self.rec.recognize(top)?, self.rec.recognize(bottom)?);
                raw.push(format!("{} / {}", t.text, b.text));
                let conf = (t.confidence + b.confidence) / 2.0;
                if let Some(p) = plate::parse_two_line(&t.text, &b.text) {
                    candidates.push((p, conf));
                } else if let Some(p) = plate::parse_one_line(&format!("{}{}", t.text, b.text)) {
                    candidates.push((
                        ParsedPlate {
                            format: plate::PlateFormat::TwoLine,
                            ..p
                        },
                        conf * 0.9,
                    ));
                }
            }
        }
        let best = candidates.into_iter().max_by(|a, b| {
            let score = |c: &(ParsedPlate, f32)| c.1 - 0.05 * c.0.corrections as f32;
            score(a).total_cmp(&score(b))
        });
        Ok(match best {
            Some((plate, confidence)) => PlateRead::Read {
                plate,
                confidence,
                raw,
            },
            None => PlateRead::Unreadable {
                raw,
                reason: "no reading matches a Vietnamese plate format".into(),
            },
        })
    }
}
