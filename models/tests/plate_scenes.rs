//! Plate reading in full Vietnamese street scenes (../shared/testdata/plates/vn_scenes_labelled):
//! the reader must find the plate of the vehicle each photo is about, then read it.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use models::ocr::{CropPlateReader, PLATE_ALPHABET, TextRecognizer};
use models::textdet::{ScenePlateReader, TextDetector};
use models::{RgbView, Yolox};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn reader() -> ScenePlateReader {
    let (manifests, dir) = models::workspace_dirs();
    let o = models::workspace_runtime_options();
    let load = |id: &str| models::load_manifest(&manifests, id).expect("manifest");
    ScenePlateReader {
        vehicles: Yolox::load(load("yolox_nano_coco80"), &dir, &o).expect("yolox"),
        text: TextDetector::load(load("ppocrv4_det"), &dir, &o).unwrap_or_else(|e| panic!("det: {e}")),
        reader: CropPlateReader {
            rec: TextRecognizer::load(load("ppocrv4_rec"), &dir, &o, PLATE_ALPHABET).expect("rec"),
        },
    }
}

#[test]
fn the_plate_of_the_main_vehicle_is_read_in_full_scenes() {
    let r = reader();
    let root = testdata().join("plates/vn_scenes_labelled");
    let labels = std::fs::read_to_string(root.join("labels.tsv")).expect("labels");
    let limit: usize = std::env::var("PLATE_SCENES_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let mut by_layout: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut n, mut exact) = (0, 0);
    for line in labels.lines().skip(1).take(limit) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, want, layout) = (cols[0], cols[2], cols[4]);
        let img = models::imageops::load_rgb(&root.join("images").join(file)).expect("image");
        let got = r.read_scene(RgbView::from_image(&img)).expect("read");
        let ok = got.as_ref().and_then(|p| p.read.plate()).is_some_and(|p| p.normalized == want);
        if !ok && std::env::var_os("PLATE_SCENES_VERBOSE").is_some() {
            eprintln!("{file} {layout}: want {want}, got {:?}", got.map(|p| (p.bbox, p.read)));
        }
        n += 1;
        exact += ok as usize;
        let e = by_layout.entry(layout.to_string()).or_default();
        e.0 += 1;
        e.1 += ok as usize;
    }
    let acc = exact as f64 / n as f64;
    eprintln!("scenes exact {exact}/{n} = {acc:.3}; by layout {by_layout:?}");
    assert!(acc >= 0.70, "exact {acc:.3}");
}
