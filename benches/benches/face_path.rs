//! Face path latency on a real photo: detection, alignment + embedding, gallery search.
//! Run: `source .local/env.sh && cargo bench -p benches --bench face_path`

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use edge_agent::gallery::{EmbedderIdentity, Gallery, IndexParams, Person};
use models::{Embedder, FaceDetector, FaceModels, RgbView};

fn photo() -> image::RgbImage {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/testdata/faces/face_recognition_examples/obama.jpg");
    image::open(&p).expect("test photo").to_rgb8()
}

fn bench(c: &mut Criterion) {
    let (manifests, dir) = models::workspace_dirs();
    let m = FaceModels::load(
        &manifests,
        &dir,
        "yunet_s_640_640",
        "mobilefacenet_192d",
        &models::workspace_runtime_options(),
    )
    .expect("models (run scripts/setup.sh)");
    let img = photo();
    let view = RgbView::from_image(&img);
    let faces = m.detector.detect(view).expect("detect");
    let face = faces.first().expect("one face").clone();
    c.bench_function("yunet_s_640 detect (letterbox + infer + decode)", |b| {
        b.iter(|| m.detector.detect(view).expect("detect"))
    });
    c.bench_function("align + mobilefacenet embed, 1 face", |b| {
        b.iter(|| {
            let crop = m.embedder.align(view, &face).expect("align");
            m.embedder.embed(&[crop]).expect("embed")
        })
    });
    // Gallery search over 10,000 clustered 192-d samples (1,000 identities x 10).
    let ident = EmbedderIdentity {
        id: "bench".into(),
        sha256: "00".repeat(32),
        dim: 192,
        metric: models::Metric::Cosine,
    };
    let mut g = Gallery::new(ident, IndexParams::default());
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut probe = Vec::new();
    for p in 0..1000 {
        let centre: Vec<f32> = (0..192).map(|_| rnd()).collect();
        for s in 0..10 {
            let mut v: Vec<f32> = centre.iter().map(|x| x + 0.1 * rnd()).collect();
            models::face::l2_normalise(&mut v);
            if p == 500 && s == 0 {
                probe = v.clone();
            }
            let person = Person {
                person_id: format!("p{p}"),
                name: format!("P {p}"),
                list: "staff".into(),
                valid_from: None,
                valid_until: None,
            };
            g.add_sample(person, String::new(), v).expect("add");
        }
    }
    c.bench_function("gallery best-match, 10k samples", |b| {
        b.iter(|| g.best(&probe).expect("match"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
