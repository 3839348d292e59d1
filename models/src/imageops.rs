//! Pixel work done before inference: borrowed RGB views, letterboxing, tensor packing, warping.

use crate::manifest::{Colour, Preprocess};

/// A borrowed RGB image whose rows are `stride` bytes apart (`stride >= width * 3`).
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub data: &'a [u8],
}

impl<'a> RgbView<'a> {
    /// Wraps tightly packed `data`; `None` when the length does not match the size.
    pub fn new(width: u32, height: u32, data: &'a [u8]) -> Option<Self> {
        if data.len() != width as usize * height as usize * 3 {
            return None;
        }
        Self::with_stride(width, height, width as usize * 3, data)
    }

    /// Wraps `data` with rows `stride` bytes apart; `None` when the buffer is too small.
    pub fn with_stride(width: u32, height: u32, stride: usize, data: &'a [u8]) -> Option<Self> {
        let row = width as usize * 3;
        let ok = width > 0
            && height > 0
            && stride >= row
            && data.len() >= stride * (height as usize - 1) + row;
        ok.then_some(Self {
            width,
            height,
            stride,
            data,
        })
    }

    /// Wraps an `image` crate buffer.
    pub fn from_image(img: &'a image::RgbImage) -> Self {
        Self {
            width: img.width(),
            height: img.height(),
            stride: img.width() as usize * 3,
            data: img.as_raw(),
        }
    }

    /// Bilinear sample of channel `c` at (x, y); outside the image returns `None`.
    #[inline]
    fn sample(&self, x: f32, y: f32) -> Option<[f32; 3]> {
        let (w, h) = (self.width as i64, self.height as i64);
        if !(x > -1.0 && y > -1.0 && x < w as f32 && y < h as f32) {
            return None;
        }
        let x0 = x.floor() as i64;
        let y0 = y.floor() as i64;
        let fx = x - x0 as f32;
        let fy = y - y0 as f32;
        let px = |xx: i64, yy: i64| -> [f32; 3] {
            let xx = xx.clamp(0, w - 1) as usize;
            let yy = yy.clamp(0, h - 1) as usize;
            let i = yy * self.stride + xx * 3;
            [
                self.data[i] as f32,
                self.data[i + 1] as f32,
                self.data[i + 2] as f32,
            ]
        };
        let (a, b, c, d) = (
            px(x0, y0),
            px(x0 + 1, y0),
            px(x0, y0 + 1),
            px(x0 + 1, y0 + 1),
        );
        let mut out = [0.0; 3];
        for k in 0..3 {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bot = c[k] + (d[k] - c[k]) * fx;
            out[k] = top + (bot - top) * fy;
        }
        Some(out)
    }
}

/// Whether a file name looks like a photo (`.jpg`, `.jpeg`, `.png`, `.bmp`, `.webp`).
pub fn is_image_path(p: &std::path::Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jpg" | "jpeg" | "png" | "bmp" | "webp")
    )
}

/// Loads a photo as RGB, recognising the format from its content, not its name (photo
/// collections hold PNG, BMP and WebP files named `.jpg`).
pub fn load_rgb(path: &std::path::Path) -> Result<image::RgbImage, String> {
    image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map(|i| i.to_rgb8())
        .map_err(|e| e.to_string())
}

/// Intersection over union of two `[x, y, w, h]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x0 = a[0].max(b[0]);
    let y0 = a[1].max(b[1]);
    let x1 = (a[0] + a[2]).min(b[0] + b[2]);
    let y1 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Where an image landed inside a letterboxed input: `input = source * scale` (top-left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    pub scale: f32,
    pub input_w: u32,
    pub input_h: u32,
}

impl Letterbox {
    /// Fits `src_w x src_h` into `input_w x input_h` keeping the aspect ratio.
    pub fn fit(src_w: u32, src_h: u32, input_w: u32, input_h: u32) -> Self {
        let scale = (input_w as f32 / src_w as f32).min(input_h as f32 / src_h as f32);
        Self {
            scale,
            input_w,
            input_h,
        }
    }
}

/// Packs an image into a normalised NCHW float tensor of `input_w x input_h`, letterboxed to
/// the top-left corner (no stretching), padding with `pre.pad_value`.
pub fn letterbox_nchw(img: RgbView<'_>, lb: Letterbox, pre: &Preprocess) -> Vec<f32> {
    scaled_nchw(img, lb, lb.scale, pre)
}

/// Like [`letterbox_nchw`] but with the horizontal scale `scale_x` (the vertical one is
/// `lb.scale`): for text lines that are deliberately widened so CTC has enough time steps.
pub fn scaled_nchw(img: RgbView<'_>, lb: Letterbox, scale_x: f32, pre: &Preprocess) -> Vec<f32> {
    let (iw, ih) = (lb.input_w as usize, lb.input_h as usize);
    let plane = iw * ih;
    let mut out = vec![0f32; plane * 3];
    let order = channel_order(pre.colour);
    let pad: [f32; 3] = std::array::from_fn(|c| (pre.pad_value - pre.mean[c]) / pre.std[c]);
    for (c, p) in pad.iter().enumerate() {
        out[c * plane..(c + 1) * plane].fill(*p);
    }
    let content_w = ((img.width as f32 * scale_x).round() as usize).min(iw);
    let content_h = ((img.height as f32 * lb.scale).round() as usize).min(ih);
    let (inv_x, inv_y) = (1.0 / scale_x, 1.0 / lb.scale);
    // Source columns and weights are the same for every row: compute them once.
    let (w, h) = (img.width as usize, img.height as usize);
    let taps = |i: usize, n: usize, inv: f32| -> (usize, usize, f32) {
        let s = ((i as f32 + 0.5) * inv - 0.5).max(0.0);
        let i0 = (s.floor() as usize).min(n - 1);
        (i0, (i0 + 1).min(n - 1), s - i0 as f32)
    };
    let cols: Vec<(usize, usize, f32)> = (0..content_w).map(|x| taps(x, w, inv_x)).collect();
    let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / pre.std[c]);
    let mut row_buf = vec![0f32; content_w * 3];
    for y in 0..content_h {
        let (y0, y1, fy) = taps(y, h, inv_y);
        let (r0, r1) = (&img.data[y0 * img.stride..], &img.data[y1 * img.stride..]);
        for (x, &(x0, x1, fx)) in cols.iter().enumerate() {
            for k in 0..3 {
                let a = r0[x0 * 3 + k] as f32;
                let b = r0[x1 * 3 + k] as f32;
                let c = r1[x0 * 3 + k] as f32;
                let d = r1[x1 * 3 + k] as f32;
                let top = a + (b - a) * fx;
                let bot = c + (d - c) * fx;
                row_buf[x * 3 + k] = top + (bot - top) * fy;
            }
        }
        for (c, &src_c) in order.iter().enumerate() {
            let dst = &mut out[c * plane + y * iw..c * plane + y * iw + content_w];
            for (x, v) in dst.iter_mut().enumerate() {
                *v = (row_buf[x * 3 + src_c] - pre.mean[c]) * scale[c];
            }
        }
    }
    out
}

fn channel_order(colour: Colour) -> [usize; 3] {
    match colour {
        Colour::Rgb => [0, 1, 2],
        Colour::Bgr => [2, 1, 0],
    }
}

/// A 2x3 affine transform `[a, b, tx; c, d, ty]` mapping (x, y) to (a x + b y + tx, c x + d y + ty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f32; 6]);

impl Affine {
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let m = self.0;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }
}

/// Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
/// mapping `src` points onto `dst` points (Umeyama's method, closed form in 2-D).
pub fn similarity_transform(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Affine> {
    if src.len() != dst.len() || src.len() < 2 {
        return None;
    }
    let n = src.len() as f32;
    let mean = |pts: &[[f32; 2]]| {
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(ax, ay), p| (ax + p[0], ay + p[1]));
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(src);
    let (mdx, mdy) = mean(dst);
    let (mut num_r, mut num_i, mut den) = (0.0f32, 0.0f32, 0.0f32);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (s[0] - msx, s[1] - msy);
        let (dx, dy) = (d[0] - mdx, d[1] - mdy);
        num_r += sx * dx + sy * dy;
        num_i += sx * dy - sy * dx;
        den += sx * sx + sy * sy;
    }
    if den <= f32::EPSILON {
        return None;
    }
    let (a, b) = (num_r / den, num_i / den);
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some(Affine([a, -b, tx, b, a, ty]))
}

/// Warps `img` into an `out_w x out_h` RGB crop, where `crop_to_src` maps crop pixels to source
/// pixels. Pixels falling outside the source are black.
pub fn warp_affine(
    img: RgbView<'_>,
    crop_to_src: Affine,
    out_w: u32,
    out_h: u32,
) -> image::RgbImage {
    let mut out = image::RgbImage::new(out_w, out_h);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (sx, sy) = crop_to_src.apply(x as f32, y as f32);
        if let Some(v) = img.sample(sx, sy) {
            px.0 = [v[0].round() as u8, v[1].round() as u8, v[2].round() as u8];
        }
    }
    out
}

/// A rectangle turned by `angle` radians (clockwise on screen, as image y points down) about
/// its centre: centre `(cx, cy)`, `w` along the turned x axis, `h` across it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
    pub angle: f32,
}

impl RotatedRect {
    /// The four corners in source pixels.
    pub fn corners(&self) -> [[f32; 2]; 4] {
        let (s, c) = self.angle.sin_cos();
        let (hw, hh) = (self.w / 2.0, self.h / 2.0);
        [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
            .map(|(u, v)| [self.cx + u * c - v * s, self.cy + u * s + v * c])
    }
}

/// Cuts `r` out of `img` upright (turned back by its angle), `scale` output pixels per source
/// pixel, with bilinear sampling; pixels beyond the border repeat the border.
pub fn crop_rotated(img: RgbView<'_>, r: RotatedRect, scale: f32) -> image::RgbImage {
    let out_w = ((r.w * scale).round() as u32).max(1);
    let out_h = ((r.h * scale).round() as u32).max(1);
    let (s, c) = r.angle.sin_cos();
    let (mx, my) = ((img.width - 1) as f32, (img.height - 1) as f32);
    let mut out = image::RgbImage::new(out_w, out_h);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let u = (x as f32 + 0.5) / scale - r.w / 2.0;
        let v = (y as f32 + 0.5) / scale - r.h / 2.0;
        let sx = (r.cx + u * c - v * s - 0.5).clamp(0.0, mx);
        let sy = (r.cy + u * s + v * c - 0.5).clamp(0.0, my);
        if let Some(v) = img.sample(sx, sy) {
            px.0 = [v[0].round() as u8, v[1].round() as u8, v[2].round() as u8];
        }
    }
    out
}

/// Cuts `rect` (x, y, w, h; clamped to the image) out of `img`.
pub fn crop(img: RgbView<'_>, x: f32, y: f32, w: f32, h: f32) -> image::RgbImage {
    let x0 = x.max(0.0).floor() as u32;
    let y0 = y.max(0.0).floor() as u32;
    let x1 = ((x + w).ceil() as u32).min(img.width);
    let y1 = ((y + h).ceil() as u32).min(img.height);
    let (cw, ch) = (x1.saturating_sub(x0).max(1), y1.saturating_sub(y0).max(1));
    let mut out = image::RgbImage::new(cw, ch);
    for (cx, cy, px) in out.enumerate_pixels_mut() {
        let (sx, sy) = ((x0 + cx).min(img.width - 1), (y0 + cy).min(img.height - 1));
        let i = sy as usize * img.stride + sx as usize * 3;
        px.0 = [img.data[i], img.data[i + 1], img.data[i + 2]];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_crop_turns_a_tilted_bar_upright() {
        // A dark bar 40 x 6 px tilted by 10 degrees on a white image.
        let (w, h) = (80u32, 60u32);
        let angle = 10f32.to_radians();
        let (s, c) = angle.sin_cos();
        let mut data = vec![255u8; (w * h * 3) as usize];
        for y in 0..h {
            for x in 0..w {
                let (dx, dy) = (x as f32 + 0.5 - 40.0, y as f32 + 0.5 - 30.0);
                let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
                if u.abs() < 20.0 && v.abs() < 3.0 {
                    let i = ((y * w + x) * 3) as usize;
                    data[i..i + 3].fill(0);
                }
            }
        }
        let img = RgbView::new(w, h, &data).expect("view");
        let r = RotatedRect {
            cx: 40.0,
            cy: 30.0,
            w: 36.0,
            h: 4.0,
            angle,
        };
        let out = crop_rotated(img, r, 2.0);
        assert_eq!((out.width(), out.height()), (72, 8));
        let max = out.pixels().map(|p| p.0[0]).max().unwrap_or(255);
        assert!(
            max < 100,
            "inside the bar everything is dark, brightest {max}"
        );
        // The same rectangle cut without turning it back reaches the white around the bar.
        let flat = crop_rotated(img, RotatedRect { angle: 0.0, ..r }, 2.0);
        let max = flat.pixels().map(|p| p.0[0]).max().unwrap_or(0);
        assert!(
            max > 200,
            "an upright cut of a tilted bar sees background, brightest {max}"
        );
    }

    #[test]
    fn similarity_transform_recovers_a_known_rotation_scale_and_shift() {
        let src = [
            [10.0, 10.0],
            [50.0, 12.0],
            [30.0, 40.0],
            [15.0, 60.0],
            [45.0, 62.0],
        ];
        let (s, th, tx, ty) = (1.7f32, 0.3f32, 5.0f32, -8.0f32);
        let dst: Vec<[f32; 2]> = src
            .iter()
            .map(|p| {
                [
                    s * (th.cos() * p[0] - th.sin() * p[1]) + tx,
                    s * (th.sin() * p[0] + th.cos() * p[1]) + ty,
                ]
            })
            .collect();
        let t = similarity_transform(&src, &dst).expect("transform");
        for (p, q) in src.iter().zip(&dst) {
            let (x, y) = t.apply(p[0], p[1]);
            assert!(
                (x - q[0]).abs() < 1e-3 && (y - q[1]).abs() < 1e-3,
                "{x},{y} vs {q:?}"
            );
        }
    }

    #[test]
    fn letterbox_keeps_aspect_ratio_and_pads_the_rest() {
        let data = vec![200u8; 4 * 2 * 3];
        let img = RgbView::new(4, 2, &data).expect("view");
        let lb = Letterbox::fit(4, 2, 8, 8);
        assert_eq!(lb.scale, 2.0);
        let pre = Preprocess {
            colour: Colour::Bgr,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad_value: 0.0,
        };
        let t = letterbox_nchw(img, lb, &pre);
        assert_eq!(t.len(), 3 * 64);
        assert_eq!(t[0], 200.0); // top-left is content
        assert_eq!(t[8 * 3 + 7], 200.0); // row 3, last column: content (4 rows tall)
        assert_eq!(t[8 * 4], 0.0); // row 4: padding
    }

    #[test]
    fn a_view_refuses_a_buffer_of_the_wrong_length() {
        assert!(RgbView::new(2, 2, &[0u8; 11]).is_none());
    }

    #[test]
    fn padded_rows_are_read_through_the_stride() {
        // 2x2 image, rows padded to 8 bytes; the padding is 255 and must never be read.
        let data = [10, 10, 10, 20, 20, 20, 255, 255, 30, 30, 30, 40, 40, 40];
        let v = RgbView::with_stride(2, 2, 8, &data).expect("view");
        let c = crop(v, 0.0, 0.0, 2.0, 2.0);
        assert_eq!(
            c.as_raw(),
            &[10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]
        );
    }
}
