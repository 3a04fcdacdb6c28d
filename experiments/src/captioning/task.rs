//! Where the captioned images come from: `--task scenes | shapes`.

use crate::experiment::Task;

/// Where the captioned images come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptionTask {
    /// Scenes of handwritten digits and Fashion-MNIST items (run scripts/fetch-data first).
    Scenes,
    /// Scenes of six procedural shapes: needs no data (smoke runs and tests).
    Shapes,
}

impl std::str::FromStr for CaptionTask {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scenes" => Ok(CaptionTask::Scenes),
            "shapes" => Ok(CaptionTask::Shapes),
            _ => Err(format!(
                "unknown task '{s}': expected {}",
                CaptionTask::CHOICES
            )),
        }
    }
}

impl Task for CaptionTask {
    const CHOICES: &'static str = "scenes (digits and clothing items from the real image \
        sets; run scripts/fetch-data first) or shapes (six procedural shapes; needs nothing)";

    fn name(&self) -> String {
        match self {
            CaptionTask::Scenes => "scenes".into(),
            CaptionTask::Shapes => "shapes".into(),
        }
    }

    fn arg(&self) -> String {
        self.name()
    }
}
