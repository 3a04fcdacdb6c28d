//! The models of the comparison, and how a cell names its canvas and model.

use datasets::images::canvas::CanvasSpec;
use models::vision::LocationPolicy;

use crate::experiment::Cell;

/// One model of the comparison; everything else (data, steps, optimizer) is equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classifier {
    /// The recurrent attention model with its learned location policy.
    Ram { glimpses: usize },
    /// The same model with every glimpse at a uniformly random location (the paper's
    /// "random glimpses" control), trained by cross-entropy alone.
    RandomRam { glimpses: usize },
    /// Two hidden layers of `hidden` ReLU units on the whole canvas (the paper's FC-64 and
    /// FC-256).
    Mlp { hidden: usize },
    /// The paper's convolutional network on the whole canvas.
    Cnn,
}

impl Classifier {
    /// The name in the CSVs' `model` column: `RAM`, `RAM-random`, `FC-<hidden>`, `CNN`.
    pub fn name(&self) -> String {
        match self {
            Classifier::Ram { .. } => "RAM".into(),
            Classifier::RandomRam { .. } => "RAM-random".into(),
            Classifier::Mlp { hidden } => format!("FC-{hidden}"),
            Classifier::Cnn => "CNN".into(),
        }
    }

    /// The number of glimpses (the CSVs' `train_max_len` column); 0 for whole-image models.
    pub fn glimpses(&self) -> usize {
        match self {
            Classifier::Ram { glimpses } | Classifier::RandomRam { glimpses } => *glimpses,
            Classifier::Mlp { .. } | Classifier::Cnn => 0,
        }
    }

    /// RAM's location policy (learned or random); `None` for whole-image models.
    pub fn policy(&self) -> Option<LocationPolicy> {
        match self {
            Classifier::Ram { .. } => Some(LocationPolicy::Learned),
            Classifier::RandomRam { .. } => Some(LocationPolicy::Random),
            Classifier::Mlp { .. } | Classifier::Cnn => None,
        }
    }

    /// A whole-image baseline from its name (`FC-<hidden>` or `CNN`).
    pub fn parse_baseline(name: &str) -> Result<Classifier, String> {
        if name == "CNN" {
            return Ok(Classifier::Cnn);
        }
        match name.strip_prefix("FC-").map(str::parse::<usize>) {
            Some(Ok(hidden)) if hidden > 0 => Ok(Classifier::Mlp { hidden }),
            _ => Err(format!(
                "unknown baseline '{name}': expected FC-<hidden units> (e.g. FC-64) or CNN"
            )),
        }
    }

    /// The model from a cell's name and glimpse count.
    fn from_cell(name: &str, glimpses: usize) -> Result<Classifier, String> {
        match name {
            "RAM" => Ok(Classifier::Ram { glimpses }),
            "RAM-random" => Ok(Classifier::RandomRam { glimpses }),
            other => Classifier::parse_baseline(other),
        }
    }
}

/// The cell that trains `model` on `canvas` with `seed`: its variant is `<canvas>/<model>`
/// (e.g. `cluttered-60-4/RAM`), its training length the number of glimpses.
pub fn cell(canvas: &CanvasSpec, model: Classifier, seed: u64) -> Cell {
    Cell::new(
        format!("{}/{}", canvas.name(), model.name()),
        model.glimpses(),
        seed,
    )
}

/// The canvas and the model of a cell made by [`cell`].
pub fn parse_cell(cell: &Cell) -> Result<(CanvasSpec, Classifier), String> {
    let (canvas, model) = cell
        .variant
        .split_once('/')
        .ok_or_else(|| format!("cell '{}' is not <canvas>/<model>", cell.variant))?;
    Ok((
        canvas
            .parse()
            .map_err(|e: datasets::images::canvas::CanvasError| e.to_string())?,
        Classifier::from_cell(model, cell.train_max_len)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_their_canvas_and_model_and_parse_back() {
        let canvas: CanvasSpec = "cluttered-60-4".parse().unwrap();
        for model in [
            Classifier::Ram { glimpses: 6 },
            Classifier::RandomRam { glimpses: 8 },
            Classifier::Mlp { hidden: 256 },
            Classifier::Cnn,
        ] {
            let c = cell(&canvas, model, 3);
            assert_eq!(c.variant, format!("cluttered-60-4/{}", model.name()));
            assert_eq!(c.train_max_len, model.glimpses());
            let (back_canvas, back_model) = parse_cell(&c).unwrap();
            assert_eq!(back_canvas.name(), "cluttered-60-4");
            assert_eq!(back_model, model);
        }
        assert_eq!(Classifier::Ram { glimpses: 6 }.name(), "RAM");
        assert_eq!(Classifier::Mlp { hidden: 64 }.name(), "FC-64");
    }

    #[test]
    fn bad_baselines_are_refused_with_the_accepted_spellings() {
        for bad in ["FC-", "FC-0", "FC-x", "cnn", "MLP"] {
            let err = Classifier::parse_baseline(bad).unwrap_err();
            assert!(
                err.contains(bad) && err.contains("FC-<hidden units>"),
                "{err}"
            );
        }
    }
}
