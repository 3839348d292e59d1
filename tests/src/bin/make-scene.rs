//! Composes the demo gate scene from the real photos in ../shared/testdata: a slideshow video
//! (people stepping in front of the camera one at a time) and an enrolment folder with other
//! photos of some of them. Nothing is copied: the enrolment folder holds symbolic links.
//!
//! Usage: make-scene OUT_DIR

use std::path::PathBuf;

use anyhow::{Context, Result};
use e2e_tests::{Slide, make_slideshow, testdata};

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: make-scene OUT_DIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let celeb = |rel: &str| testdata().join("faces/celebrities").join(rel);
    let shown = [
        "angelina_jolie/img5.jpg",
        "katy_perry/img26.jpg",
        "jennifer_aniston/img53.jpg",
        "matt_damon/img31.jpg",
        "jack_dorsey/img59.jpg",
        "angelina_jolie/img7.jpg",
        "jennifer_aniston/img55.jpg",
        "katy_perry/img42.jpg",
        "matt_damon/img33.jpg",
    ];
    let slides: Vec<Slide> = shown
        .iter()
        .map(|p| Slide {
            photo: celeb(p),
            secs: 3.0,
        })
        .collect();
    let video = out.join("gate.mp4");
    make_slideshow(&slides, &video, 640, 480, 10)?;
    let enrol = out.join("enrol");
    let _ = std::fs::remove_dir_all(&enrol);
    for (person, files) in [
        ("angelina_jolie", ["img1.jpg", "img2.jpg", "img4.jpg"]),
        ("jennifer_aniston", ["img3.jpg", "img12.jpg", "img56.jpg"]),
        ("matt_damon", ["img29.jpg", "img30.jpg", "img32.jpg"]),
        ("mark_zuckerberg", ["img13.jpg", "img14.jpg", "img15.jpg"]),
    ] {
        let d = enrol.join(person);
        std::fs::create_dir_all(&d)?;
        for f in files {
            std::os::unix::fs::symlink(celeb(&format!("{person}/{f}")), d.join(f))?;
        }
    }
    println!("{}", video.display());
    println!("{}", enrol.display());
    Ok(())
}
