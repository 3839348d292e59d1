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
    pairs_with(set, None, None)
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

/// `model-eval faces` on a set's pairs file, with `embedder` (or the default) at `threshold` (or
/// the manifest's).
fn pairs_with(set: &str, embedder: Option<&str>, threshold: Option<&str>) -> serde_json::Value {
    let root = faces().join(set);
    let pairs = root.join("pairs.tsv");
    let mut args = vec![
        "faces",
        "--pairs",
        pairs.to_str().expect("utf8"),
        "--root",
        root.to_str().expect("utf8"),
    ];
    if let Some(e) = embedder {
        args.extend(["--embedder", e]);
    }
    if let Some(t) = threshold {
        args.extend(["--threshold", t]);
    }
    model_eval(&args)
}

/// `model-eval calibrate` for 1% FAR on the Western and East-Asian folders, with `embedder` or
/// the default.
fn calibrate_one_percent(embedder: Option<&str>) -> serde_json::Value {
    let (west, asia) = (
        faces().join("celebrities"),
        faces().join("asian_celebrities"),
    );
    let mut args = vec![
        "calibrate",
        "--folder",
        west.to_str().expect("utf8"),
        "--folder",
        asia.to_str().expect("utf8"),
        "--far",
        "0.01",
    ];
    if let Some(e) = embedder {
        args.extend(["--embedder", e]);
    }
    model_eval(&args)
}

#[test]
fn the_manifest_threshold_is_what_calibration_for_one_percent_far_gives() {
    let c = calibrate_one_percent(None);
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

#[test]
fn every_embedder_of_the_mirror_plugs_in_through_its_manifest_alone() {
    // Intel 0095 (128x128 template, cosine) and dlib (150x150 chip, Euclidean): nothing but
    // their manifests differs from the default's path.
    for embedder in [
        "face_reidentification_retail_0095_256d",
        "dlib_face_recognition_resnet_model_v1",
    ] {
        let west = pairs_with("celebrities", Some(embedder), None);
        let asia = pairs_with("asian_celebrities", Some(embedder), None);
        assert_eq!(west["models"]["embedder"], embedder, "{west}");
        for (name, v) in [("celebrities", &west), ("asian_celebrities", &asia)] {
            let ver = &v["pairs"]["verification"];
            assert!(
                ver["roc_auc"].as_f64() > Some(0.97),
                "{embedder} on {name}: {ver}"
            );
            assert!(
                ver["far"].as_f64() <= Some(0.02),
                "{embedder} on {name} at its manifest threshold: {ver}"
            );
            assert_eq!(v["images_without_usable_face"]["count"], 0, "{v}");
        }
        assert!(
            west["pairs"]["verification"]["accuracy"].as_f64() > Some(0.95),
            "{embedder}: {west}"
        );
        // Its manifest threshold is the one calibration gives for 1% FAR on every population.
        let c = calibrate_one_percent(Some(embedder));
        let (chosen, manifest) = (
            c["chosen_threshold"].as_f64().expect("chosen"),
            c["manifest_threshold"].as_f64().expect("manifest"),
        );
        assert!(
            (chosen - manifest).abs() < 0.02,
            "{embedder}: calibrated {chosen}, manifest {manifest}"
        );
    }
}

#[test]
fn dlibs_published_threshold_accepts_a_large_share_of_east_asian_impostors_and_the_manifest_does_not()
 {
    let dlib = "dlib_face_recognition_resnet_model_v1";
    // Aligned on dlib's own chip, dlib separates Western faces perfectly at its 0.6...
    let west = pairs_with("celebrities", Some(dlib), Some("0.6"));
    assert!(
        west["pairs"]["verification"]["accuracy"].as_f64() >= Some(0.99),
        "a wrong chip template shows here first: {west}"
    );
    // ...but lets through a large share of different East-Asian people.
    let published = pairs_with("asian_celebrities", Some(dlib), Some("0.6"));
    let far = published["pairs"]["verification"]["far"]
        .as_f64()
        .expect("far");
    assert!(far > 0.3, "FAR at 0.6 on East-Asian pairs: {far}");
    // The calibrated manifest threshold holds the false-accept target on the same pairs.
    let calibrated = pairs_with("asian_celebrities", Some(dlib), None);
    let ver = &calibrated["pairs"]["verification"];
    assert!(ver["far"].as_f64() <= Some(0.01), "{ver}");
    assert!(ver["accuracy"].as_f64() > Some(0.88), "{ver}");
}
