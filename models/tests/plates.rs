//! Plate reading on the real Vietnamese plate crops in ../shared/testdata/plates/vn_crops.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::{Path, PathBuf};

use models::RgbView;
use models::ocr::{CropPlateReader, PLATE_ALPHABET, PlateReader, TextRecognizer};
use models::plate::normalize;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn reader() -> CropPlateReader {
    let (manifests, dir) = models::workspace_dirs();
    let m = models::load_manifest(&manifests, "ppocrv4_rec").expect("manifest");
    CropPlateReader {
        rec: TextRecognizer::load(
            m,
            &dir,
            &models::workspace_runtime_options(),
            PLATE_ALPHABET,
        )
        .unwrap_or_else(|e| panic!("recogniser (run scripts/setup.sh): {e}")),
    }
}

#[test]
fn vn_crops_are_read_exactly_at_least_80_percent_of_the_time() {
    let r = reader();
    let root = testdata().join("plates/vn_crops");
    let gt = std::fs::read_to_string(root.join("gt.tsv")).expect("gt.tsv");
    let (mut n, mut exact) = (0, 0);
    let mut misses = Vec::new();
    for line in gt
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (file, text) = line.split_once('\t').expect("two columns");
        let img = image::open(root.join("images").join(file))
            .expect("image")
            .to_rgb8();
        let got = r.read(RgbView::from_image(&img)).expect("read");
        n += 1;
        let want = normalize(text);
        match got.plate() {
            Some(p) if p.normalized == want => exact += 1,
            _ => misses.push(format!("{file}: want {want}, got {got:?}")),
        }
    }
    let acc = exact as f64 / n as f64;
    eprintln!("exact {exact}/{n} = {acc:.3}");
    for m in misses.iter().take(40) {
        eprintln!("{m}");
    }
    assert!(acc >= 0.80, "exact plate accuracy {acc:.3} ({exact}/{n})");
}
