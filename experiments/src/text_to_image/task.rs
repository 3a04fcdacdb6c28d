//! Where the captioned scenes come from: `--task scenes | shapes`.

use crate::experiment::Task;
use crate::vision::GlyphSet;

/// Where the scenes' objects come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextToImageTask {
    /// Handwritten digits and Fashion-MNIST items (run scripts/fetch-data first).
    Scenes,
    /// Six procedural shapes: needs no data (smoke runs and tests).
    Shapes,
}

impl TextToImageTask {
    /// The glyphs of the task's scenes.
    pub fn glyphs(&self, per_class: usize) -> GlyphSet {
        match self {
            TextToImageTask::Scenes => GlyphSet::Real,
            TextToImageTask::Shapes => GlyphSet::Procedural { per_class },
        }
    }
}

impl std::str::FromStr for TextToImageTask {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "scenes" => Ok(TextToImageTask::Scenes),
            "shapes" => Ok(TextToImageTask::Shapes),
            _ => Err(format!(
                "unknown task '{s}': expected {}",
                TextToImageTask::CHOICES
            )),
        }
    }
}

impl Task for TextToImageTask {
    const CHOICES: &'static str = "scenes (digits and clothing items from the real image \
        sets; run scripts/fetch-data first) or shapes (six procedural shapes; needs nothing)";

    fn name(&self) -> String {
        match self {
            TextToImageTask::Scenes => "scenes".into(),
            TextToImageTask::Shapes => "shapes".into(),
        }
    }

    fn arg(&self) -> String {
        self.name()
    }
}
