//! Saved image classifiers (the glimpses experiment): RAM with learned or random locations,
//! the fully connected networks and the convolutional network; what `model.json` holds for
//! them, the hook the cells call, reading image files as canvases, and classifying them with
//! a loaded model through the experiment's own test-time pass (the `classify` command).

use std::path::Path;

use anyhow::bail;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor};
use datasets::images::RgbImage;
use datasets::images::canvas::{CanvasSpec, MAX_SIDE};
use datasets::images::decode::{decode_rgb, resize_center_crop};
use models::vision::{ConvClassifierConfig, LocationPolicy, MlpClassifierConfig, RamConfig};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::{DESCRIPTION_FILE, ModelFile, SavedKind, load_weights, write_model_dir};
use crate::experiment::{Cell, CellContext};
use crate::glimpses::eval::{TestLocations, forward_pass};
use crate::glimpses::train::{TrainedModel, cnn_config, mlp_config, ram_config};
use crate::glimpses::variants::Classifier;
use crate::glimpses::{Config, GlimpseData};

/// Which network a classifier is, with the configuration that rebuilds it (`model.json`'s
/// `model.network`, tagged by `type`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClassifierNetwork {
    /// The recurrent attention model; its `policy` is `learned` (RAM) or `random`
    /// (RAM-random).
    Ram(RamConfig),
    /// A fully connected network on the whole canvas (FC-<hidden>).
    Mlp(MlpClassifierConfig),
    /// The convolutional network on the whole canvas (CNN).
    Cnn(ConvClassifierConfig),
}

impl ClassifierNetwork {
    /// The canvas side the network reads.
    fn canvas(&self) -> usize {
        match self {
            ClassifierNetwork::Ram(c) => c.canvas,
            ClassifierNetwork::Mlp(c) => c.canvas,
            ClassifierNetwork::Cnn(c) => c.canvas,
        }
    }

    /// The number of classes it scores.
    fn n_classes(&self) -> usize {
        match self {
            ClassifierNetwork::Ram(c) => c.n_classes,
            ClassifierNetwork::Mlp(c) => c.n_classes,
            ClassifierNetwork::Cnn(c) => c.n_classes,
        }
    }

    /// Whether the network can be built, so that building it cannot panic.
    fn check(&self) -> Result<(), String> {
        match self {
            ClassifierNetwork::Ram(c) => c.check(),
            ClassifierNetwork::Mlp(c) => {
                if c.canvas == 0 || c.hidden == 0 || c.n_classes == 0 {
                    return Err("canvas, hidden and n_classes must be positive".into());
                }
                Ok(())
            }
            ClassifierNetwork::Cnn(c) => {
                if c.filters == 0 || c.hidden == 0 || c.n_classes == 0 {
                    return Err("filters, hidden and n_classes must be positive".into());
                }
                c.check()
            }
        }
    }
}

/// `model.json`'s `model` for `"kind": "classifier"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSpec {
    /// The network and its configuration.
    pub network: ClassifierNetwork,
    /// The canvas it was trained and tested on, as the experiment names it
    /// (`cluttered-60-4`, `translated-60`, `centred-28`).
    pub canvas: String,
    /// The side of the square greyscale canvas it reads, in pixels.
    pub side: usize,
    /// The class names in label order (class k is `class_names[k]`).
    pub class_names: Vec<String>,
}

impl ClassifierSpec {
    /// The description of `model` trained on `canvas` in a run of `config` on `data`.
    pub fn new(
        config: &Config,
        data: &GlimpseData,
        canvas: &CanvasSpec,
        model: Classifier,
    ) -> ClassifierSpec {
        let n_classes = data.n_classes;
        let network = match model {
            Classifier::Ram { glimpses } | Classifier::RandomRam { glimpses } => {
                let policy = model.policy().expect("a RAM has a policy");
                ClassifierNetwork::Ram(ram_config(config, canvas, n_classes, glimpses, policy))
            }
            Classifier::Mlp { hidden } => {
                ClassifierNetwork::Mlp(mlp_config(canvas, hidden, n_classes))
            }
            Classifier::Cnn => ClassifierNetwork::Cnn(cnn_config(canvas, n_classes)),
        };
        ClassifierSpec {
            network,
            canvas: canvas.name(),
            side: canvas.side,
            class_names: data.train.class_names.clone(),
        }
    }

    /// Whether the fields agree with each other and the network can be built; the error
    /// names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.side == 0 || self.side > MAX_SIDE {
            return Err(format!(
                "field 'side' is {}, not a canvas side from 1 to {MAX_SIDE}",
                self.side
            ));
        }
        let spec: CanvasSpec = self
            .canvas
            .parse()
            .map_err(|e| format!("field 'canvas': {e}"))?;
        if spec.side != self.side {
            return Err(format!(
                "field 'canvas' ({}) is not {} pixels a side, as field 'side' says",
                self.canvas, self.side
            ));
        }
        self.network
            .check()
            .map_err(|e| format!("field 'network': {e}"))?;
        if self.network.canvas() != self.side {
            return Err(format!(
                "field 'network.canvas' is {}, field 'side' {}",
                self.network.canvas(),
                self.side
            ));
        }
        if self.network.n_classes() != self.class_names.len() {
            return Err(format!(
                "field 'network.n_classes' is {}, but 'class_names' lists {}",
                self.network.n_classes(),
                self.class_names.len()
            ));
        }
        Ok(())
    }
}

/// Saves a trained classifier into the cell's model folder when `--save-models` asked for
/// one; does nothing otherwise. Draws no random numbers.
pub fn save_classifier(
    context: &CellContext,
    task: &str,
    cell: &Cell,
    spec: ClassifierSpec,
    model: &TrainedModel,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let description = ModelFile::new("glimpses", task, cell, SavedKind::Classifier(spec));
    match model {
        TrainedModel::Ram(ram) => write_model_dir(dir, &description, ram.as_ref()),
        TrainedModel::Mlp(mlp) => write_model_dir(dir, &description, mlp),
        TrainedModel::Cnn(cnn) => write_model_dir(dir, &description, cnn),
    }
}

/// A loaded classifier.
pub struct LoadedClassifier {
    /// The network, on an inference device, as the experiment scores it.
    pub model: TrainedModel,
    /// `model.json`'s model part.
    pub spec: ClassifierSpec,
    /// The whole of `model.json`.
    pub description: ModelFile,
    /// The device the network lives on.
    pub device: Device,
}

/// One canvas classified.
#[derive(Clone, Debug, PartialEq)]
pub struct Classification {
    /// The predicted class (the largest logit, as the experiment's test error counts).
    pub class: usize,
    /// The softmax of the logits, one probability per class.
    pub probabilities: Vec<f32>,
    /// RAM only: each glimpse's location `(x, y)` in `[-1, 1]²` ((-1, -1) the top-left
    /// corner), in the order taken.
    pub glimpses: Option<Vec<[f32; 2]>>,
}

impl LoadedClassifier {
    /// Reads the model folder `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> anyhow::Result<LoadedClassifier> {
        let description = ModelFile::read(dir)?;
        let SavedKind::Classifier(spec) = description.model.clone() else {
            return Err(description.wrong_kind(dir, "classify", "classifier"));
        };
        spec.check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(DESCRIPTION_FILE).display()))?;
        let model = match &spec.network {
            ClassifierNetwork::Ram(c) => {
                TrainedModel::Ram(Box::new(load_weights(c.init(device), dir)?))
            }
            ClassifierNetwork::Mlp(c) => TrainedModel::Mlp(load_weights(c.init(device), dir)?),
            ClassifierNetwork::Cnn(c) => TrainedModel::Cnn(load_weights(c.init(device), dir)?),
        };
        Ok(LoadedClassifier {
            model,
            spec,
            description,
            device: device.clone(),
        })
    }

    /// RAM's location policy; `None` for the whole-image networks.
    pub fn policy(&self) -> Option<LocationPolicy> {
        match &self.spec.network {
            ClassifierNetwork::Ram(c) => Some(c.policy),
            ClassifierNetwork::Mlp(_) | ClassifierNetwork::Cnn(_) => None,
        }
    }

    /// Reads an image file as a canvas of the model's side ([`canvas_from_image`]); the
    /// error names the file.
    pub fn read_canvas(&self, path: &Path) -> anyhow::Result<Vec<f32>> {
        let image =
            decode_rgb(path, [0.0; 3]).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(canvas_from_image(&image, self.spec.side))
    }

    /// Classifies `canvases` (each `side²` pixels, row-major, in `[0, 1]`) in one pass of
    /// the experiment's test-time code; RAM takes the policy's mean locations or one sample
    /// per glimpse drawn from `noise` (per step, per image, as the test error draws them).
    /// The whole-image networks ignore `locations`. Errors: a canvas of another size; the
    /// mean locations of a RAM with random ones.
    pub fn classify(
        &self,
        canvases: &[Vec<f32>],
        locations: TestLocations,
        noise: &mut StdRng,
    ) -> anyhow::Result<Vec<Classification>> {
        let side = self.spec.side;
        if let Some(c) = canvases.iter().find(|c| c.len() != side * side) {
            bail!(
                "a canvas of {} pixels, the model reads {side} × {side}",
                c.len()
            );
        }
        if canvases.is_empty() {
            return Ok(Vec::new());
        }
        if locations == TestLocations::Mean && self.policy() == Some(LocationPolicy::Random) {
            bail!("a RAM with random locations has no mean location: sample them");
        }
        let pixels: Vec<f32> = canvases.concat();
        let batch = canvases.len();
        let (logits, glimpses) = forward_pass(
            &self.model,
            &pixels,
            batch,
            side,
            locations,
            noise,
            &self.device,
        );
        let classes: Tensor<2, Int> = logits.clone().argmax(1);
        let classes: Vec<usize> = classes
            .into_data()
            .iter::<i64>()
            .map(|c| c as usize)
            .collect();
        let probabilities: Vec<f32> = softmax(logits, 1).into_data().iter::<f32>().collect();
        let n_classes = probabilities.len() / batch;
        let mut glimpses = glimpses.map(Vec::into_iter);
        Ok(classes
            .into_iter()
            .zip(probabilities.chunks_exact(n_classes))
            .map(|(class, probabilities)| Classification {
                class,
                probabilities: probabilities.to_vec(),
                glimpses: glimpses.as_mut().and_then(Iterator::next),
            })
            .collect())
    }

    /// The centre of a glimpse at `location` in pixels, `(row, column)` from the top left,
    /// as the sensor maps it before snapping to a pixel corner.
    pub fn glimpse_centre(&self, location: [f32; 2]) -> (f64, f64) {
        let side = self.spec.side as f64;
        let [x, y] = location.map(|v| (f64::from(v) + 1.0) / 2.0 * side);
        (y, x)
    }
}

/// A decoded image as a `side × side` greyscale canvas (row-major, values in `[0, 1]`):
///
/// - grey: an image whose three channels agree is read as that value; a colour one as the
///   luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, Pillow's `convert("L")`);
/// - an image of exactly `side × side` pixels is taken as it is;
/// - one that fits (neither side longer than `side`) is placed unscaled at the centre of a
///   black canvas, its top-left pixel at `((side − width) / 2, (side − height) / 2)`
///   rounded down;
/// - a larger one (either side longer) is centred on a black square of its longer side,
///   then that square is scaled to `side × side` with Pillow's antialiased bilinear weights
///   ([`resize_center_crop`]): the whole image is kept, aspect ratio included.
///
/// The canvases are white objects on black; an image of dark ink on white should be
/// inverted first.
pub fn canvas_from_image(image: &RgbImage, side: usize) -> Vec<f32> {
    let (height, width) = (image.height, image.width);
    if height <= side && width <= side {
        let grey = grey_values(image);
        let (top, left) = ((side - height) / 2, (side - width) / 2);
        let mut canvas = vec![0.0; side * side];
        for (y, row) in grey.chunks_exact(width).enumerate() {
            canvas[(top + y) * side + left..][..width].copy_from_slice(row);
        }
        return canvas;
    }
    let long = height.max(width);
    let (top, left) = ((long - height) / 2, (long - width) / 2);
    let mut square = RgbImage::filled(long, long, [0.0; 3]);
    for ch in 0..3 {
        for y in 0..height {
            for x in 0..width {
                square.set(ch, top + y, left + x, image.at(ch, y, x));
            }
        }
    }
    grey_values(&resize_center_crop(&square, side))
}

/// The grey value of every pixel of `image`, row-major (see [`canvas_from_image`]).
fn grey_values(image: &RgbImage) -> Vec<f32> {
    let plane = image.height * image.width;
    let (red, rest) = image.data.split_at(plane);
    let (green, blue) = rest.split_at(plane);
    red.iter()
        .zip(green)
        .zip(blue)
        .map(|((&r, &g), &b)| {
            if r == g && g == b {
                r
            } else {
                (0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)) as f32
            }
        })
        .collect()
}
