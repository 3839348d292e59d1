//! Latency of each model with its preprocessing and post-processing on real photos, and of the
//! whole face path for a frame with k faces. Python counterpart: `benches/python/models_bench.py`
//! (run both with `benches/models_compare.sh`; results in BENCHMARKS.md).

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use models::ocr::{CropPlateReader, PLATE_ALPHABET, PlateReader, TextRecognizer};
use models::textdet::{ScenePlateReader, TextDetector};
use models::{Embedder, FaceDetector, FaceModels, ObjectDetector, RgbView, Yolox};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata")
        .join(rel)
}

fn photo(rel: &str) -> image::RgbImage {
    models::imageops::load_rgb(&testdata(rel)).expect("test photo")
}

fn bench(c: &mut Criterion) {
    let (manifests, dir) = models::workspace_dirs();
    let o = models::workspace_runtime_options();
    let load = |id: &str| models::load_manifest(&manifests, id).expect("manifest");
    let scene = photo("plates/vn_scenes_labelled/images/type1_000.jpg");
    let scene_v = RgbView::from_image(&scene);
    let crop = photo("plates/vn_crops/images/10xemay112.jpg");
    let crop_v = RgbView::from_image(&crop);

    let yolox = Yolox::load(load("yolox_nano_coco80"), &dir, &o).expect("yolox");
    c.bench_function(
        "yolox_nano 416: letterbox + infer + decode + NMS (460x350 scene)",
        |b| b.iter(|| yolox.detect(scene_v).expect("detect")),
    );
    let det = TextDetector::load(load("ppocrv4_det"), &dir, &o).expect("det");
    c.bench_function(
        "ppocrv4_det 640: resize + infer + DB post-processing (scene)",
        |b| b.iter(|| det.detect(scene_v).expect("detect")),
    );
    let rec = TextRecognizer::load(load("ppocrv4_rec"), &dir, &o, PLATE_ALPHABET).expect("rec");
    c.bench_function(
        "ppocrv4_rec: resize + infer + CTC decode (one plate line)",
        |b| b.iter(|| rec.recognize(crop_v).expect("recognize")),
    );
    let partner =
        TextRecognizer::load(load("ppocrv6_small_rec"), &dir, &o, PLATE_ALPHABET).expect("rec");
    c.bench_function(
        "ppocrv6_small_rec: resize + infer + CTC decode (one plate line)",
        |b| b.iter(|| partner.recognize(crop_v).expect("recognize")),
    );
    let reader = CropPlateReader {
        rec,
        partner: Some(partner),
    };
    c.bench_function(
        "plate crop reader (1 one-line + 2 two-line readings, by both recognisers)",
        |b| b.iter(|| reader.read(crop_v).expect("read")),
    );
    drop(reader);
    let scene_reader = ScenePlateReader::load(&manifests, &dir, &o).expect("scene reader");
    let mut g = c.benchmark_group("scene");
    g.sample_size(10);
    g.bench_function("scene plate reader, whole scene", |b| {
        b.iter(|| scene_reader.read_scene(scene_v).expect("read"))
    });
    g.finish();

    // The face path for one frame with k faces: detect, align every face, embed them in a batch.
    let m = FaceModels::load(
        &manifests,
        &dir,
        "yunet_s_640_640",
        "mobilefacenet_192d",
        &o,
    )
    .expect("face models");
    for (rel, label) in [
        ("faces/face_recognition_examples/obama.jpg", "1 face"),
        ("faces/groups/couple.jpg", "2 faces"),
        ("faces/groups/selfie-many-people.jpg", "6 faces"),
    ] {
        let img = photo(rel);
        let v = RgbView::from_image(&img);
        let k = m.detector.detect(v).expect("detect").len();
        c.bench_function(&format!("face path per frame, {label} (found {k})"), |b| {
            b.iter(|| {
                let faces = m.detector.detect(v).expect("detect");
                let crops: Vec<_> = faces
                    .iter()
                    .filter_map(|f| m.embedder.align(v, f))
                    .collect();
                m.embedder.embed(&crops).expect("embed")
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
