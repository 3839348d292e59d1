//! Enrolment from a folder of photos laid out as `<person>/<photo>.jpg`.

use std::path::{Path, PathBuf};

use models::RgbView;

use crate::gallery::{Gallery, GalleryError, IndexParams, Person};
use crate::recognise::Recogniser;

/// One photo that was not enrolled, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub photo: PathBuf,
    pub reason: String,
}

/// What an enrolment run did.
#[derive(Debug, Default)]
pub struct EnrolReport {
    pub enrolled_photos: usize,
    pub people: Vec<String>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("photo folder {path:?} cannot be read: {reason}")]
    Folder { path: PathBuf, reason: String },
    #[error(transparent)]
    Gallery(#[from] GalleryError),
    #[error(transparent)]
    Model(#[from] models::ModelError),
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, EnrolError> {
    let rd = std::fs::read_dir(dir).map_err(|e| EnrolError::Folder {
        path: dir.to_owned(),
        reason: e.to_string(),
    })?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// Turns a folder name into a display name: `nguyen_van_a` -> `Nguyen Van A`.
pub fn display_name(person_id: &str) -> String {
    person_id
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Enrols every `<person>/<photo>` under `photos` into `gallery` (new or loaded), on `list`.
/// Photos without exactly one usable face are reported and skipped.
pub fn enrol_folder(
    recogniser: &Recogniser,
    gallery: &mut Gallery,
    photos: &Path,
    list: &str,
) -> Result<EnrolReport, EnrolError> {
    let mut report = EnrolReport::default();
    for person_dir in sorted_entries(photos)? {
        if !person_dir.is_dir() {
            continue;
        }
        let Some(person_id) = person_dir
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
        else {
            continue;
        };
        let mut enrolled_any = false;
        for photo in sorted_entries(&person_dir)? {
            if !photo.is_file() || !models::imageops::is_image_path(&photo) {
                continue;
            }
            let img = match models::imageops::load_rgb(&photo) {
                Ok(i) => i,
                Err(e) => {
                    report.skipped.push(Skipped {
                        photo,
                        reason: format!("not a readable image: {e}"),
                    });
                    continue;
                }
            };
            match recogniser.enrol_embedding(RgbView::from_image(&img))? {
                Ok(embedding) => {
                    let person =
                        Person::new(person_id.clone(), display_name(&person_id), list.to_owned());
                    let source = photo
                        .strip_prefix(photos)
                        .unwrap_or(&photo)
                        .display()
                        .to_string();
                    gallery.add_sample(person, source, embedding)?;
                    report.enrolled_photos += 1;
                    enrolled_any = true;
                }
                Err(skip) => report.skipped.push(Skipped {
                    photo,
                    reason: skip.to_string(),
                }),
            }
        }
        if enrolled_any {
            report.people.push(person_id);
        }
    }
    Ok(report)
}

/// Opens the gallery at `path` if it exists (checking the embedder), else starts a new one.
pub fn open_or_new(path: &Path, recogniser: &Recogniser) -> Result<Gallery, GalleryError> {
    if path.exists() {
        Gallery::load(path, &recogniser.embedder_identity())
    } else {
        Ok(Gallery::new(
            recogniser.embedder_identity(),
            IndexParams::default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn folder_names_become_display_names() {
        assert_eq!(display_name("angelina_jolie"), "Angelina Jolie");
        assert_eq!(display_name("nguyen-van-a"), "Nguyen Van A");
    }
}
