//! Saved captioners (the captioning experiment): the image encoder and the caption decoder in
//! one file, what `model.json` holds for them, the hook the cells call, and captioning image
//! files with a loaded model (the `caption` command).

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use datasets::images::RgbImage;
use datasets::images::decode::load_square;
use datasets::vocab::Vocab;
use models::vision::{Captioner, CaptionerConfig, ContextKind, ImageEncoder, ImageEncoderConfig};
use serde::{Deserialize, Serialize};

use super::{DESCRIPTION_FILE, ModelFile, SavedKind, load_weights, write_model_dir};
use crate::captioning::CaptionModel;
use crate::experiment::{Cell, CellContext};

/// What the training images were, so new images are prepared the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSource {
    /// Rendered scenes (`scenes`, `shapes`): objects on a black canvas of `size` pixels.
    Scenes,
    /// Photographs (`karpathy:JSON`), resized as the experiment resized them.
    Photographs,
}

/// How an image file becomes the encoder's input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePreparation {
    /// Scenes or photographs.
    pub source: ImageSource,
    /// The side of the square input: the shorter side is scaled to it, then the centre is
    /// cropped (Pillow's bilinear weights; the identity on an image of that size already).
    pub size: usize,
    /// RGB in [0, 1] that transparent pixels are composited over.
    pub background: [f32; 3],
}

/// `model.json`'s `model` for `"kind": "captioner"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptionerSpec {
    /// The image encoder's configuration (canvas, channels, grid, annotation size, and the
    /// pretraining head's labels, whose weights are saved too).
    pub encoder: ImageEncoderConfig,
    /// The decoder's configuration (vocabulary, sizes, grid cells, context: none, soft or
    /// hard).
    pub captioner: CaptionerConfig,
    /// Caption words in id order (ids 0-3: `<pad>`, `<s>`, `</s>`, `<unk>`).
    pub vocab: Vocab,
    /// The longest caption generated, in tokens (EOS included).
    pub max_caption_len: usize,
    /// How an image file is prepared.
    pub image: ImagePreparation,
    /// The object classes the scenes' captions name (empty for photographs).
    pub class_names: Vec<String>,
}

/// What a captioning cell saves besides the modules.
pub struct CaptionerSave<'a> {
    /// The task as `--task` spells it.
    pub task: String,
    /// The decoder's configuration as the cell built it.
    pub captioner: &'a CaptionerConfig,
    /// The encoder's configuration (without its head's size: read off the module).
    pub encoder: ImageEncoderConfig,
    /// The caption vocabulary.
    pub vocab: &'a Vocab,
    /// `max_caption_len` of the run.
    pub max_caption_len: usize,
    /// How images were prepared.
    pub image: ImagePreparation,
    /// The class names of the scenes.
    pub class_names: &'a [String],
}

/// Saves a trained captioner and the encoder it read (frozen or fine-tuned) into the cell's
/// model folder when `--save-models` asked for one; does nothing otherwise. Draws no random
/// numbers.
pub fn save_captioner(
    context: &CellContext,
    cell: &Cell,
    save: CaptionerSave<'_>,
    encoder: &ImageEncoder,
    captioner: &Captioner,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let n_labels = encoder.head.as_ref().map(|head| head.weight.dims()[1]);
    let spec = CaptionerSpec {
        encoder: save.encoder.with_n_labels(n_labels),
        captioner: save.captioner.clone(),
        vocab: save.vocab.clone(),
        max_caption_len: save.max_caption_len,
        image: save.image,
        class_names: save.class_names.to_vec(),
    };
    let description = ModelFile::new("captioning", &save.task, cell, SavedKind::Captioner(spec));
    let module = CaptionModel {
        encoder: Some(encoder.clone()),
        captioner: captioner.clone(),
    };
    write_model_dir(dir, &description, &module)
}

/// A loaded encoder and decoder.
pub struct LoadedCaptioner {
    /// The image encoder, on an inference device.
    pub encoder: ImageEncoder,
    /// The decoder.
    pub captioner: Captioner,
    /// `model.json`'s model part.
    pub spec: CaptionerSpec,
    /// The whole of `model.json`.
    pub description: ModelFile,
}

/// One generated caption.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageCaption {
    /// The words (no `</s>`).
    pub words: Vec<String>,
    /// With attention, per word its weights over the `G × G` grid cells (row-major).
    pub weights: Option<Vec<Vec<f32>>>,
}

impl LoadedCaptioner {
    /// Reads the model folder `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> anyhow::Result<LoadedCaptioner> {
        let description = ModelFile::read(dir)?;
        let SavedKind::Captioner(spec) = description.model.clone() else {
            return Err(description.wrong_kind(dir, "caption", "captioner"));
        };
        let path = dir.join(DESCRIPTION_FILE);
        spec.encoder
            .check()
            .map_err(|e| anyhow::anyhow!("{}: field 'encoder': {e}", path.display()))?;
        if spec.encoder.cells() != spec.captioner.grid_cells {
            anyhow::bail!(
                "{}: field 'captioner.grid_cells' is {}, the encoder's grid has {}",
                path.display(),
                spec.captioner.grid_cells,
                spec.encoder.cells()
            );
        }
        let module = CaptionModel {
            encoder: Some(spec.encoder.init(device)),
            captioner: spec.captioner.init(device),
        };
        let CaptionModel { encoder, captioner } = load_weights(module, dir)?;
        Ok(LoadedCaptioner {
            encoder: encoder.expect("built with an encoder"),
            captioner,
            spec,
            description,
        })
    }

    /// Whether the decoder attends (soft or hard), so it has weights to show.
    pub fn has_attention(&self) -> bool {
        self.spec.captioner.context != ContextKind::None
    }

    /// The side G of the attention grid.
    pub fn grid(&self) -> usize {
        self.spec.encoder.grid
    }

    /// Reads an image file and prepares it as the training images were.
    pub fn read_image(&self, path: &Path) -> anyhow::Result<RgbImage> {
        let image = &self.spec.image;
        load_square(path, image.size, image.background)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The encoder's annotations of `images` (all `size × size`), `[B, L, D]`.
    pub fn annotate(&self, images: &[&RgbImage]) -> Tensor<3> {
        let size = self.spec.image.size;
        let data: Vec<f32> = images.iter().flat_map(|i| i.data.iter().copied()).collect();
        let device = self.captioner.embedding.weight.val().device();
        let pixels = Tensor::from_data(
            TensorData::new(data, [images.len(), 3, size, size]),
            &device,
        );
        self.encoder.forward(pixels)
    }

    /// Captions `images` greedily, as the experiment does.
    pub fn caption(&self, images: &[&RgbImage]) -> Vec<ImageCaption> {
        let caption = self
            .captioner
            .greedy(self.annotate(images), self.spec.max_caption_len);
        let cells = self.spec.captioner.grid_cells;
        let weights = caption.weights.map(|w| {
            let steps = w.dims()[1];
            (w.into_data().iter::<f32>().collect::<Vec<_>>(), steps)
        });
        caption
            .tokens
            .iter()
            .enumerate()
            .map(|(row, tokens)| {
                let words = self.spec.vocab.decode(tokens);
                let weights = weights.as_ref().map(|(w, steps)| {
                    let start = row * steps * cells;
                    (0..words.len().min(*steps))
                        .map(|t| w[start + t * cells..start + (t + 1) * cells].to_vec())
                        .collect()
                });
                ImageCaption { words, weights }
            })
            .collect()
    }
}

/// For each word, the grid cell attended most: `word -> row r, column c (0.42)`.
pub fn attention_lines(caption: &ImageCaption, grid: usize) -> Vec<String> {
    let Some(weights) = &caption.weights else {
        return Vec::new();
    };
    caption
        .words
        .iter()
        .zip(weights)
        .map(|(word, row)| {
            let (cell, weight) =
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &w)| {
                        if w > best.1 { (i, w) } else { best }
                    });
            format!(
                "{word} -> row {}, column {} ({weight:.2})",
                cell / grid,
                cell % grid
            )
        })
        .collect()
}
