//! Where the captioned images come from: `--task scenes | shapes | karpathy:JSON`.

use std::path::PathBuf;

use crate::experiment::Task;

/// Where the captioned images come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptionTask {
    /// Scenes of handwritten digits and Fashion-MNIST items (run scripts/fetch-data first).
    Scenes,
    /// Scenes of six procedural shapes: needs no data (smoke runs and tests).
    Shapes,
    /// A user's captioned photographs: a Karpathy split file (`dataset_flickr8k.json`,
    /// Flickr30k's or COCO's) with its images under the configuration's `images_dir`.
    Karpathy(PathBuf),
}

impl std::str::FromStr for CaptionTask {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scenes" => Ok(CaptionTask::Scenes),
            "shapes" => Ok(CaptionTask::Shapes),
            _ => match s.strip_prefix("karpathy:") {
                Some(json) if !json.is_empty() => Ok(CaptionTask::Karpathy(PathBuf::from(json))),
                _ => Err(format!(
                    "unknown task '{s}': expected {}",
                    CaptionTask::CHOICES
                )),
            },
        }
    }
}

impl Task for CaptionTask {
    const CHOICES: &'static str = "scenes (digits and clothing items from the real image \
        sets; run scripts/fetch-data first), shapes (six procedural shapes; needs nothing) or \
        karpathy:JSON (a Karpathy split file such as dataset_flickr8k.json, its images in \
        --set images_dir=DIR)";

    fn name(&self) -> String {
        match self {
            CaptionTask::Scenes => "scenes".into(),
            CaptionTask::Shapes => "shapes".into(),
            CaptionTask::Karpathy(json) => format!(
                "karpathy-{}",
                json.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
        }
    }

    fn arg(&self) -> String {
        match self {
            CaptionTask::Karpathy(json) => format!("karpathy:{}", json.display()),
            other => other.name(),
        }
    }
}
