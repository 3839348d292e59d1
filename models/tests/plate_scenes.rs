//! Plate reading in full Vietnamese street scenes (../shared/testdata/plates/vn_scenes_labelled):
//! the reader must find the plate of the vehicle each photo is about, then read it.
//!
//! Issue 4 asks for 70% exact on all 1,097 scenes; the full run (`model-eval plates --scenes`,
//! about 50 minutes here) measured 70.7% on 2026-12-04 (BENCHMARKS.md; 55.0% before
//! format-constrained decoding, red military plates, tilted two-line plates, lone plate lines,
//! the vote between the vehicle and scene looks, the `MĐ` series, motorbike series on
//! motorbikes, the dot of five-digit numbers, old motorbike plates, repeated characters run
//! together, motorbike plates read turned, every reading of a crop weighed, a prior for
//! motorbike series digits, tilted single lines read turned upright, and a second recogniser
//! scoring every text). This test reads every 5th scene (all categories, 220 photos; 159 =
//! 72.3% on 2026-12-04, the same scenes as in that full run) and guards that level against
//! regressions.

#![allow(clippy::panic)] // tests report failures by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use models::RgbView;
use models::textdet::ScenePlateReader;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn reader() -> ScenePlateReader {
    let (manifests, dir) = models::workspace_dirs();
    ScenePlateReader::load(&manifests, &dir, &models::workspace_runtime_options())
        .unwrap_or_else(|e| panic!("scene plate models (run scripts/setup.sh): {e}"))
}

#[test]
fn the_plate_of_the_main_vehicle_is_read_in_a_sample_of_every_category() {
    let r = reader();
    let root = testdata().join("plates/vn_scenes_labelled");
    let labels = std::fs::read_to_string(root.join("labels.tsv")).expect("labels");
    let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut n, mut exact) = (0, 0);
    for line in labels.lines().skip(1).step_by(5) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, want, category) = (cols[0], cols[2], cols[3]);
        let img = models::imageops::load_rgb(&root.join("images").join(file)).expect("image");
        let got = r.read_scene(RgbView::from_image(&img)).expect("read");
        let ok = got
            .as_ref()
            .and_then(|p| p.read.plate())
            .is_some_and(|p| p.normalized == want);
        if let Some(p) = got.as_ref() {
            assert!(
                p.bbox[2] > 0.0 && p.bbox[0] < img.width() as f32,
                "{file}: plate box {:?}",
                p.bbox
            );
        }
        n += 1;
        exact += ok as usize;
        let e = by_category.entry(category.to_string()).or_default();
        e.0 += 1;
        e.1 += ok as usize;
    }
    let acc = exact as f64 / n as f64;
    eprintln!("scenes exact {exact}/{n} = {acc:.3}; by category (images, exact) {by_category:?}");
    assert!(n >= 200);
    assert_eq!(by_category.len(), 7, "every category sampled");
    assert!(acc >= 0.68, "exact {acc:.3}");
}

/// Reads one scene of vn_scenes_labelled.
fn read_scene(r: &ScenePlateReader, file: &str) -> Option<String> {
    let root = testdata().join("plates/vn_scenes_labelled/images");
    let img = models::imageops::load_rgb(&root.join(file)).expect("image");
    let got = r.read_scene(RgbView::from_image(&img)).expect("read");
    got.and_then(|p| p.read.plate().map(|p| p.normalized.clone()))
}

#[test]
fn a_motorbike_plate_turned_in_the_photo_is_read_turned_upright() {
    let r = reader();
    // `60-AA 443.79` and `60-AA 275.02`, each turned 25-40 degrees on a parked motorbike: read
    // as cut upright they came out `60-A4 4373` and `60-A2 7502`.
    assert_eq!(
        read_scene(&r, "type2_260.jpg").as_deref(),
        Some("60AA44379")
    );
    assert_eq!(
        read_scene(&r, "type2_980.jpg").as_deref(),
        Some("60AA27502")
    );
}

#[test]
fn a_plate_read_whole_with_its_dot_is_not_cut_to_four_digits_by_a_reading_of_its_half() {
    let r = reader();
    // `68HC-000.11` on a truck: the lower half of a loose crop read `68HC-0001` (a valid old
    // four-digit plate), ranked above the whole crop's reading with the dot and both repeats.
    assert_eq!(
        read_scene(&r, "type3_580.jpg").as_deref(),
        Some("68HC00011")
    );
}

#[test]
fn a_motorbike_series_digit_the_recogniser_scores_as_a_letter_is_read_as_the_digit() {
    let r = reader();
    // `65-B2 125.23` and `60-F4 319.89`: their series digits were read `Z` and `L`, which a
    // motorbike series rarely has there.
    assert_eq!(
        read_scene(&r, "type2_265.jpg").as_deref(),
        Some("65B212523")
    );
    assert_eq!(
        read_scene(&r, "type2_395.jpg").as_deref(),
        Some("60F431989")
    );
}
