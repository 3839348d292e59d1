//! Person and vehicle detection (YOLOX-nano) on real photos.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::{Path, PathBuf};

use models::{ObjectDetector, RgbView, Yolox};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn yolox() -> Yolox {
    let (manifests, dir) = models::workspace_dirs();
    let m = models::load_manifest(&manifests, "yolox_nano_coco80").expect("manifest");
    Yolox::load(m, &dir, &models::workspace_runtime_options())
        .unwrap_or_else(|e| panic!("YOLOX: {e}"))
}

#[test]
fn vehicles_are_found_in_vietnamese_street_photos() {
    let y = yolox();
    let dir = testdata().join("plates/vn_scenes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut with_vehicle = 0;
    for f in &files {
        let img = models::imageops::load_rgb(f).expect("image");
        let dets = y.detect(RgbView::from_image(&img)).expect("detect");
        for d in &dets {
            assert!(
                ["person", "bicycle", "car", "motorcycle", "bus", "truck"]
                    .contains(&d.label.as_str())
            );
            assert!(d.bbox[2] > 0.0 && d.bbox[3] > 0.0 && d.score >= y.score_threshold);
            assert!(
                d.bbox[0] + d.bbox[2] > 0.0 && d.bbox[0] < img.width() as f32,
                "{d:?} outside the image"
            );
        }
        if dets
            .iter()
            .any(|d| matches!(d.label.as_str(), "car" | "motorcycle" | "bus" | "truck"))
        {
            with_vehicle += 1;
        }
    }
    assert!(files.len() >= 8);
    assert!(
        with_vehicle >= files.len() - 1,
        "vehicles found in {with_vehicle} of {} photos",
        files.len()
    );
}

#[test]
fn people_are_found_and_a_face_only_portrait_is_one_person() {
    let y = yolox();
    let img = models::imageops::load_rgb(
        &testdata().join("faces/face_recognition_examples/two_people.jpg"),
    )
    .expect("image");
    let people = y
        .detect(RgbView::from_image(&img))
        .expect("detect")
        .into_iter()
        .filter(|d| d.label == "person")
        .count();
    assert_eq!(people, 2);
}
