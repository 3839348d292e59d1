//! The face path on real photos from ../shared/testdata with the real models installed by
//! scripts/setup.sh. Missing models or runtime are failures with a clear message, not skips.

#![allow(clippy::panic)] // tests report failures by panicking

use std::path::{Path, PathBuf};

use models::{FaceDetector, FaceModels, ModelError, ModelManifest, RgbView};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata")
}

fn load_models() -> FaceModels {
    let (manifests, models_dir) = models::workspace_dirs();
    FaceModels::load(
        &manifests,
        &models_dir,
        "yunet_s_640_640",
        "mobilefacenet_192d",
        &models::workspace_runtime_options(),
    )
    .unwrap_or_else(|e| panic!("face models must load (run scripts/setup.sh first): {e}"))
}

fn open(rel: &str) -> image::RgbImage {
    let p = testdata().join(rel);
    image::open(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .to_rgb8()
}

#[test]
fn a_portrait_has_one_face_with_landmarks_inside_its_box() {
    let m = load_models();
    let img = open("faces/face_recognition_examples/obama.jpg");
    let faces = m
        .detector
        .detect(RgbView::from_image(&img))
        .expect("detect");
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = &faces[0];
    assert!(f.score > 0.8);
    for [x, y] in f.landmarks {
        assert!(
            x > f.bbox[0]
                && x < f.bbox[0] + f.bbox[2]
                && y > f.bbox[1]
                && y < f.bbox[1] + f.bbox[3],
            "{f:?}"
        );
    }
    // Eyes above the mouth, left eye left of right eye.
    assert!(f.landmarks[0][0] < f.landmarks[1][0]);
    assert!(f.landmarks[0][1] < f.landmarks[3][1]);
}

#[test]
fn the_two_people_photo_has_two_faces() {
    let m = load_models();
    let img = open("faces/face_recognition_examples/two_people.jpg");
    let faces = m
        .detector
        .detect(RgbView::from_image(&img))
        .expect("detect");
    assert_eq!(faces.len(), 2, "{faces:?}");
}

fn manifest_text(id: &str) -> String {
    let (manifests, _) = models::workspace_dirs();
    std::fs::read_to_string(manifests.join(format!("{id}.toml"))).expect("manifest")
}

#[test]
fn a_model_whose_inputs_do_not_match_its_manifest_is_refused_naming_the_tensor() {
    let (_, models_dir) = models::workspace_dirs();
    // The detector's manifest pointed at the embedder's weights (sha256 made to match).
    let emb = ModelManifest::from_toml(&manifest_text("mobilefacenet_192d"), Path::new("x"))
        .expect("manifest");
    let text = manifest_text("yunet_s_640_640")
        .replace("face_detection/yunet_s_640_640.onnx", &emb.file)
        .replace(
            "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            &emb.sha256,
        );
    let manifest = ModelManifest::from_toml(&text, Path::new("x")).expect("manifest");
    let err = models::YuNet::load(manifest, &models_dir, &models::workspace_runtime_options())
        .expect_err("must refuse");
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Contract { .. }), "{msg}");
    assert!(
        msg.contains("yunet_s_640_640") && msg.contains("input"),
        "{msg}"
    );
    assert!(
        msg.contains("[1,3,640,640]") && msg.contains("[?,3,112,112]"),
        "{msg}"
    );
}

#[test]
fn a_corrupt_model_file_is_a_load_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("face_recognition/mobilefacenet_192d.onnx");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, b"this is not an onnx protobuf at all").expect("write");
    let sha = models::manifest::sha256_file(&file).expect("sha");
    let text = manifest_text("mobilefacenet_192d").replace(
        "a8059cbf3ee799c04b06636da86f7a9d067f9440fa83460130f1fe86d01b74ff",
        &sha,
    );
    let manifest = ModelManifest::from_toml(&text, Path::new("x")).expect("manifest");
    let err =
        models::OnnxEmbedder::load(manifest, dir.path(), &models::workspace_runtime_options())
            .expect_err("must refuse");
    assert!(matches!(err, ModelError::Load { .. }), "{err}");
    assert!(err.to_string().contains("mobilefacenet_192d.onnx"), "{err}");
}

#[test]
fn a_model_file_with_the_wrong_checksum_or_missing_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = ModelManifest::from_toml(&manifest_text("mobilefacenet_192d"), Path::new("x"))
        .expect("manifest");
    let err = manifest.verify_weights(dir.path()).expect_err("missing");
    assert!(matches!(err, ModelError::Missing { .. }), "{err}");
    let file = dir.path().join(&manifest.file);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, b"truncated").expect("write");
    let err = manifest.verify_weights(dir.path()).expect_err("checksum");
    assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("mobilefacenet_192d"), "{err}");
}

#[test]
fn a_manifest_with_an_unknown_field_is_refused_by_name() {
    let text = manifest_text("mobilefacenet_192d")
        .replace("[face_embedder]", "[face_embedder]\nthreshhold = 0.3");
    let err = ModelManifest::from_toml(&text, Path::new("bad.toml")).expect_err("must refuse");
    assert!(err.to_string().contains("threshhold"), "{err}");
}

#[test]
fn the_dynamic_detector_runs_at_any_input_size_and_flags_small_faces() {
    let (manifests, dir) = models::workspace_dirs();
    let m = models::load_manifest(&manifests, "yunet_n_dynamic").expect("manifest");
    let mut det = models::YuNet::load(m, &dir, &models::workspace_runtime_options())
        .unwrap_or_else(|e| panic!("dynamic YuNet: {e}"));
    let img = open("faces/face_recognition_examples/knn_examples/test/obama_and_biden.jpg");
    for side in [320, 640, 1024] {
        det.input = models::face::InputSize::Dynamic { max_side: side };
        let faces = det.detect(RgbView::from_image(&img)).expect("detect");
        // Biden, Obama and the girl at the bottom right, at every input size.
        assert_eq!(faces.len(), 3, "max side {side}: {faces:?}");
    }
    det.min_face_px = 10_000.0;
    let faces = det.detect(RgbView::from_image(&img)).expect("detect");
    assert!(
        faces.iter().all(|f| f.small),
        "every face is below 10,000 px"
    );
}

#[test]
fn the_group_photo_of_52_people_yields_at_least_45_distinct_faces() {
    let m = load_models();
    let img = open("faces/groups/group_52_faces.jpg");
    let faces = m
        .detector
        .detect(RgbView::from_image(&img))
        .expect("detect");
    // 52 people in the photo: at least 45 found (the floor), none invented.
    assert!(
        (45..=52).contains(&faces.len()),
        "{} faces found in a photo of 52 people",
        faces.len()
    );
    for (i, a) in faces.iter().enumerate() {
        assert!(
            a.bbox[0] >= -1.0
                && a.bbox[1] >= -1.0
                && a.bbox[0] + a.bbox[2] <= img.width() as f32 + 1.0
                && a.bbox[1] + a.bbox[3] <= img.height() as f32 + 1.0,
            "face {i} outside the photo: {a:?}"
        );
        for b in faces.iter().skip(i + 1) {
            assert!(
                models::imageops::iou(&a.bbox, &b.bbox) < 0.3,
                "two boxes for one face: {a:?} {b:?}"
            );
        }
    }
}
