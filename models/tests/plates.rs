//! Plate reading accuracy measured by the real `model-eval plates` command on the real
//! Vietnamese plate crops in ../shared/testdata/plates/vn_crops.

#![allow(clippy::panic)] // tests report failures by panicking

mod common;
use common::model_eval;

use std::path::{Path, PathBuf};

fn plates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/plates")
}

#[test]
fn vn_crops_are_read_exactly_at_least_80_percent_of_the_time_reported_by_layout() {
    let dir = plates().join("vn_crops");
    let v = model_eval(&[
        "plates",
        "--gt",
        dir.join("gt.tsv").to_str().expect("utf8"),
        "--root",
        dir.join("images").to_str().expect("utf8"),
    ]);
    let overall = &v["overall"];
    assert_eq!(overall["images"], 300, "{v}");
    let exact = overall["exact_accuracy"].as_f64().expect("exact");
    assert!(exact >= 0.80, "exact {exact}: {overall}");
    assert!(
        overall["character_accuracy"].as_f64() > Some(0.93),
        "{overall}"
    );
    for layout in ["1-line", "2-line"] {
        assert!(
            v["by_layout"][layout]["images"].as_u64() > Some(50),
            "{layout} missing: {v}"
        );
    }
}
