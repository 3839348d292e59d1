//! Shared by the accuracy tests: run the real `model-eval` command and parse its JSON summary.

use std::process::Command;

pub fn model_eval(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_model-eval"))
        .args(args)
        .output()
        .expect("model-eval runs");
    assert!(
        out.status.success(),
        "model-eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON summary")
}
