//! Deterministic gate videos composed from real photos, with their ground truth.
//!
//! A scene is a floor (vertical gradient) seen by a camera above a gate; people are real
//! portrait photos from `../shared/testdata/faces` pasted as person-sized boxes that walk along
//! key-framed paths. The ground truth (JSON) says, per walker, which gate crossings the path
//! makes: the walker's anchor (bottom centre of the box, the feet) going from clearly one side
//! of the line to clearly the other side. Pillars drawn over the scene hide walkers for a while
//! (occlusion); a walker can stop on the line and sway (lingering); several walk at once.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// A point of a walker's path: at `t` seconds the box's top-left corner is at (`x`, `y`) px.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Key {
    pub t: f64,
    pub x: f32,
    pub y: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Walker {
    /// Who it is (the photo's identity folder).
    pub person: String,
    pub photo: PathBuf,
    pub w: u32,
    pub h: u32,
    /// Path, `t` ascending; the walker is on screen from the first key to the last.
    pub keys: Vec<Key>,
}

/// A pillar in front of the walkers: x, y, w, h px.
pub type Pillar = [u32; 4];

/// A horizontal gate line at `y` (normalised); walking down the image is "in".
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub id: String,
    pub y: f32,
    pub x0: f32,
    pub x1: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateScene {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub secs: f64,
    pub gate: Gate,
    pub walkers: Vec<Walker>,
    pub pillars: Vec<Pillar>,
}

/// What the scene contains, for the assertions.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    pub gate_id: String,
    pub entries: u32,
    pub exits: u32,
    /// Per walker: person and the directions of its crossings in order ("in"/"out").
    pub walkers: Vec<(String, Vec<&'static str>)>,
}

impl Walker {
    /// Top-left corner at time `t`, or `None` when not on screen.
    pub fn at(&self, t: f64) -> Option<(f32, f32)> {
        let (first, last) = (self.keys.first()?, self.keys.last()?);
        if t < first.t || t > last.t {
            return None;
        }
        let seg = self.keys.windows(2).find(|k| t >= k[0].t && t <= k[1].t)?;
        let (a, b) = (seg[0], seg[1]);
        let f = if b.t > a.t {
            ((t - a.t) / (b.t - a.t)) as f32
        } else {
            0.0
        };
        Some((a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f))
    }
}

impl GateScene {
    /// Crossings each walker makes: the feet going from more than `band` (normalised) on one
    /// side of the line to more than `band` on the other, within the line's extent.
    pub fn ground_truth(&self, band: f32) -> GroundTruth {
        let (mut entries, mut exits) = (0, 0);
        let mut walkers = Vec::new();
        for w in &self.walkers {
            let mut side: Option<bool> = None; // true = below (in side)
            let mut dirs = Vec::new();
            let steps = (self.secs * self.fps as f64) as u64;
            for i in 0..=steps {
                let t = i as f64 / self.fps as f64;
                let Some((x, y)) = w.at(t) else { continue };
                let fx = (x + w.w as f32 / 2.0) / self.width as f32;
                let fy = (y + w.h as f32) / self.height as f32;
                if fx < self.gate.x0 || fx > self.gate.x1 {
                    continue;
                }
                let d = fy - self.gate.y;
                if d.abs() <= band {
                    continue;
                }
                let below = d > 0.0;
                if let Some(prev) = side
                    && prev != below
                {
                    if below {
                        entries += 1;
                        dirs.push("in");
                    } else {
                        exits += 1;
                        dirs.push("out");
                    }
                }
                side = Some(below);
            }
            walkers.push((w.person.clone(), dirs));
        }
        GroundTruth {
            gate_id: self.gate.id.clone(),
            entries,
            exits,
            walkers,
        }
    }

    /// Renders frame `n`.
    fn frame(&self, n: u64, sprites: &[image::RgbImage]) -> image::RgbImage {
        let t = n as f64 / self.fps as f64;
        let mut img = image::RgbImage::from_fn(self.width, self.height, |_, y| {
            let v = (150.0 - 70.0 * y as f32 / self.height as f32) as u8;
            image::Rgb([v, v, v.saturating_add(6)])
        });
        // Walkers further down the image are nearer the camera: drawn last.
        let mut order: Vec<(usize, (f32, f32))> = self
            .walkers
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.at(t).map(|p| (i, p)))
            .collect();
        order.sort_by(|a, b| {
            (a.1.1 + self.walkers[a.0].h as f32).total_cmp(&(b.1.1 + self.walkers[b.0].h as f32))
        });
        for (i, (x, y)) in order {
            image::imageops::overlay(&mut img, &sprites[i], x.round() as i64, y.round() as i64);
        }
        for p in &self.pillars {
            for yy in p[1]..(p[1] + p[3]).min(self.height) {
                for xx in p[0]..(p[0] + p[2]).min(self.width) {
                    img.put_pixel(xx, yy, image::Rgb([70, 60, 50]));
                }
            }
        }
        img
    }

    /// Encodes the scene to `video` (H.264 MP4) and writes the ground truth beside it as JSON.
    pub fn render(&self, video: &Path, band: f32) -> Result<GroundTruth> {
        let sprites: Vec<image::RgbImage> = self
            .walkers
            .iter()
            .map(|w| {
                // Decoded by content: some test photos are not what their extension says.
                let img = image::ImageReader::open(&w.photo)
                    .and_then(|r| r.with_guessed_format())
                    .with_context(|| format!("{}", w.photo.display()))?
                    .decode()
                    .with_context(|| format!("{}", w.photo.display()))?
                    .to_rgb8();
                // Fill the box (cover and centre-crop), no stretching.
                Ok(image::imageops::resize(
                    &image::DynamicImage::ImageRgb8(img)
                        .resize_to_fill(w.w, w.h, image::imageops::FilterType::Triangle)
                        .to_rgb8(),
                    w.w,
                    w.h,
                    image::imageops::FilterType::Nearest,
                ))
            })
            .collect::<Result<_>>()?;
        let frames = (self.secs * self.fps as f64).round() as u64;
        crate::encode_video(video, self.width, self.height, self.fps, |n| {
            (n < frames).then(|| self.frame(n, &sprites))
        })?;
        let gt = self.ground_truth(band);
        std::fs::write(
            video.with_extension("json"),
            serde_json::to_vec_pretty(&serde_json::json!({ "scene": self, "truth": &gt }))?,
        )?;
        Ok(gt)
    }
}
