//! Prints the people YOLOX finds in given images, boxes normalised to the picture (x, y, w, h,
//! and the feet point). For tuning gate lines; not part of the product.
//! Run: `source .local/env.sh && cargo run -p models --example people_debug -- IMAGE...`

#![allow(clippy::unwrap_used, clippy::panic)]

use models::{ObjectDetector, RgbView};

fn main() {
    let (manifests, dir) = models::workspace_dirs();
    let o = models::workspace_runtime_options();
    let m = models::load_manifest(&manifests, "yolox_nano_coco80").unwrap();
    let det = models::Yolox::load(m, &dir, &o).unwrap();
    for path in std::env::args().skip(1) {
        let img = models::imageops::load_rgb(std::path::Path::new(&path)).unwrap();
        let (w, h) = (img.width() as f32, img.height() as f32);
        let people: Vec<String> = det
            .detect(RgbView::from_image(&img))
            .unwrap()
            .into_iter()
            .filter(|d| d.label == "person")
            .map(|d| {
                let [x, y, bw, bh] = d.bbox;
                format!(
                    "{:.2}@[{:.2} {:.2} {:.2} {:.2}] feet=({:.2},{:.2})",
                    d.score,
                    x / w,
                    y / h,
                    bw / w,
                    bh / h,
                    (x + bw / 2.0) / w,
                    (y + bh) / h
                )
            })
            .collect();
        println!("{path}: {}", people.join("  "));
    }
}
