//! The example configs in `configs/` are valid as shipped (checked by the real binary), and
//! `print-default-config` prints the documented default file.

#![allow(clippy::panic)] // tests report failures by panicking

use std::process::Command;
use std::time::Duration;

use e2e_tests::*;

#[test]
fn every_example_site_config_validates_with_the_real_binary() {
    let dir = workspace().join("configs/sites");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("configs/sites") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let (code, out, err) = run_to_end(
            Command::new(bin("edge-agent"))
                .args(["validate", "--config"])
                .arg(&p),
            Duration::from_secs(30),
        )
        .expect("validate");
        assert_eq!(code, 0, "{}:\n{out}\n{err}", p.display());
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(
            text.contains("[[cameras.gates]]"),
            "{} has no gate",
            p.display()
        );
        n += 1;
    }
    assert_eq!(n, 3, "tourist site, industrial park and station examples");
}

#[test]
fn print_default_config_is_the_documented_file_and_a_bad_gate_is_named() {
    let (code, out, _) = run_to_end(
        Command::new(bin("edge-agent")).arg("print-default-config"),
        Duration::from_secs(30),
    )
    .expect("print");
    assert_eq!(code, 0);
    let file =
        std::fs::read_to_string(workspace().join("configs/edge-agent.default.toml")).expect("file");
    assert_eq!(out, file);

    // A gate outside the picture and a zone with two vertices: both reported at once.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(workspace().join("configs/sites/station-entrance.toml"))
        .expect("read")
        .replace("a = [0.5, 0.1]", "a = [1.5, 0.1]")
        .replace(
            "polygon = [[0.0, 0.2], [0.45, 0.2], [0.45, 1.0], [0.0, 1.0]]",
            "polygon = [[0.0, 0.2], [0.45, 0.2]]",
        )
        .replace("../../models", &format!("{}/models", workspace().display()))
        .replace("../../.local", &format!("{}/.local", workspace().display()));
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, text).expect("write");
    let (code, _, err) = run_to_end(
        Command::new(bin("edge-agent"))
            .args(["validate", "--config"])
            .arg(&cfg),
        Duration::from_secs(30),
    )
    .expect("validate");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("gates[0] (entrance): a and b are normalised"),
        "{err}"
    );
    assert!(
        err.contains("zones[0] (waiting-hall): polygon needs at least 3 vertices"),
        "{err}"
    );
}
