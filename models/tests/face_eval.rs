//! Accuracy floors on the users' kind of faces, measured by the real `model-eval` command at the
//! one operating threshold of the embedder manifest. Western and East-Asian sets are reported
//! and checked separately.

#![allow(clippy::panic)] // tests report failures by panicking

mod common;
use common::model_eval;

use std::path::{Path, PathBuf};

fn faces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/faces")
}

fn pairs(set: &str) -> serde_json::Value {
    let root = faces().join(set);
    let pairs = root.join("pairs.tsv");
    model_eval(&[
        "faces",
        "--pairs",
        pairs.to_str().expect("utf8"),
        "--root",
        root.to_str().expect("utf8"),
    ])
}

#[test]
fn western_celebrity_pairs_are_at_least_98_5_percent_correct() {
    let v = pairs("celebrities");
    let acc = v["pairs"]["verification"]["accuracy"]
        .as_f64()
        .expect("accuracy");
    assert!(acc >= 0.985, "celebrities pair accuracy {acc}: {v}");
    assert_eq!(v["images_without_usable_face"]["count"], 0, "{v}");
}

#[test]
fn east_asian_pairs_are_at_least_95_percent_correct_at_the_same_threshold() {
    let v = pairs("asian_celebrities");
    let ver = &v["pairs"]["verification"];
    let acc = ver["accuracy"].as_f64().expect("accuracy");
    assert!(acc >= 0.95, "East-Asian pair accuracy {acc}: {v}");
    assert!(ver["roc_auc"].as_f64() > Some(0.98), "{v}");
    // Every image is read whatever its real format (PNG and BMP files named .jpg are in the set).
    assert_eq!(v["images_without_usable_face"]["count"], 0, "{v}");
    // The threshold used is the manifest's, the same as for the Western set.
    assert_eq!(
        v["models"]["threshold"],
        pairs("celebrities")["models"]["threshold"]
    );
}

#[test]
fn the_manifest_threshold_is_what_calibration_for_one_percent_far_gives() {
    let c = model_eval(&[
        "calibrate",
        "--folder",
        faces().join("celebrities").to_str().expect("utf8"),
        "--folder",
        faces().join("asian_celebrities").to_str().expect("utf8"),
        "--far",
        "0.01",
    ]);
    let chosen = c["chosen_threshold"].as_f64().expect("chosen");
    let manifest = c["manifest_threshold"].as_f64().expect("manifest");
    assert!(
        (chosen - manifest).abs() < 0.02,
        "calibrated {chosen}, manifest {manifest}"
    );
    // Both populations stay at or under the target at the chosen threshold.
    for p in c["populations"].as_array().expect("populations") {
        assert!(
            p["at_chosen_threshold"]["far"].as_f64() <= Some(0.01),
            "{p}"
        );
    }
}

#[test]
fn identification_on_the_east_asian_folder_is_rank1_correct_at_least_95_percent() {
    let dir = faces().join("asian_celebrities");
    let v = model_eval(&["faces", "--folder", dir.to_str().expect("utf8")]);
    let r1 = v["folder"]["identification"]["rank1_accuracy"]
        .as_f64()
        .expect("rank1");
    assert!(r1 >= 0.95, "rank-1 {r1}: {}", v["folder"]);
    assert_eq!(v["folder"]["identities"], 28);
}
