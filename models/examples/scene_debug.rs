//! Prints what the scene plate reader sees on given scenes: vehicles, text boxes in the main
//! vehicle crop, and each candidate's raw readings. For tuning; not part of the product.
//! Run: `source .local/env.sh && cargo run -p models --example scene_debug -- IMAGE...`

#![allow(clippy::unwrap_used, clippy::panic)]

use models::ocr::PlateReader;
use models::textdet::ScenePlateReader;
use models::{ObjectDetector, RgbView};

fn main() {
    let (manifests, dir) = models::workspace_dirs();
    let o = models::workspace_runtime_options();
    let r = ScenePlateReader::load(&manifests, &dir, &o).unwrap();
    for path in std::env::args().skip(1) {
        let img = models::imageops::load_rgb(std::path::Path::new(&path)).unwrap();
        let view = RgbView::from_image(&img);
        println!("== {path} {}x{}", img.width(), img.height());
        let dets = r.vehicles.detect(view).unwrap();
        for d in &dets {
            println!(
                "  det {} {:.2} {:?}",
                d.label,
                d.score,
                d.bbox.map(|v| v.round())
            );
        }
        if let Some(v) = dets
            .iter()
            .filter(|d| matches!(d.label.as_str(), "car" | "motorcycle" | "bus" | "truck"))
            .max_by(|a, b| (a.bbox[2] * a.bbox[3]).total_cmp(&(b.bbox[2] * b.bbox[3])))
        {
            let v = v.bbox;
            let crop = models::imageops::crop(view, v[0], v[1], v[2], v[3]);
            let cv = RgbView::from_image(&crop);
            let vboxes = r
                .text
                .detect_at(cv, models::textdet::VEHICLE_LOOKS[0])
                .unwrap();
            for (rect, bbox) in models::textdet::tilted_plates(&vboxes) {
                let c = models::textdet::tilted_plate_crop(cv, rect);
                let read = r.reader.read(RgbView::from_image(&c)).unwrap();
                println!(
                    "  tilted plate {:?} angle {:.1} -> {}",
                    bbox.map(|v| v.round()),
                    rect.angle.to_degrees(),
                    serde_json::to_string(&read).unwrap()
                );
            }
            for b in vboxes {
                println!(
                    "  vbox rect {:?} angle {:.1}",
                    [b.rect.cx, b.rect.cy, b.rect.w, b.rect.h].map(|v| v.round()),
                    b.rect.angle.to_degrees()
                );
                let c = models::imageops::crop(cv, b.bbox[0], b.bbox[1], b.bbox[2], b.bbox[3]);
                let t = r.reader.rec.recognize(RgbView::from_image(&c)).unwrap();
                println!(
                    "  vtext {:.2} {:?} -> {:?} {:.2}",
                    b.score,
                    b.bbox.map(|v| v.round()),
                    t.text,
                    t.confidence
                );
                let cand = b.bbox;
                let (mx, my) = (0.15 * cand[3], 0.06 * cand[3]);
                let c = models::imageops::crop(
                    cv,
                    cand[0] - mx,
                    cand[1] - my,
                    cand[2] + 2.0 * mx,
                    cand[3] + 2.0 * my,
                );
                let read = r.reader.read(RgbView::from_image(&c)).unwrap();
                println!("     margin read {}", serde_json::to_string(&read).unwrap());
            }
        }
        let boxes = r
            .text
            .detect_at(view, models::textdet::SCENE_LOOKS[0])
            .unwrap();
        for b in &boxes {
            let c = models::imageops::crop(view, b.bbox[0], b.bbox[1], b.bbox[2], b.bbox[3]);
            let t = r.reader.rec.recognize(RgbView::from_image(&c)).unwrap();
            println!(
                "  text {:.2} {:?} -> {:?} {:.2}",
                b.score,
                b.bbox.map(|v| v.round()),
                t.text,
                t.confidence
            );
        }
        for c in r.candidates(&boxes) {
            let crop = models::imageops::crop(view, c[0], c[1], c[2], c[3]);
            let read = r.reader.read(RgbView::from_image(&crop)).unwrap();
            println!(
                "  cand {:?} -> {}",
                c.map(|v| v.round()),
                serde_json::to_string(&read).unwrap()
            );
        }
        let got = r.read_scene(view).unwrap();
        println!(
            "  RESULT {:?}",
            got.map(|p| (p.read.plate().map(|p| p.text.clone()), p.bbox))
        );
    }
}
