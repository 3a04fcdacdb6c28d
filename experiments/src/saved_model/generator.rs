//! Saved text-to-image generators (the text-to-image experiment): AttnGAN's two-stage
//! generator and the frozen DAMSM text encoder it was conditioned on, in one file; what
//! `model.json` holds for them, the hook the cells call, and drawing images from typed
//! captions with a loaded model (the `draw` command).

use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use datasets::images::RgbImage;
use datasets::vocab::{SPECIALS, Vocab};
use models::vision::{
    AttnGanGenerator, AttnGanGeneratorConfig, DamsmTextEncoder, DamsmTextEncoderConfig,
    GeneratorConditioning, GeneratorNoise, GeneratorOutput,
};
use serde::{Deserialize, Serialize};

use super::{DESCRIPTION_FILE, ModelFile, SavedKind, load_weights, write_model_dir};
use crate::experiment::{Cell, CellContext};
use crate::text_to_image::Variant;
use crate::text_to_image::pretrain::tokens_tensor;
use crate::text_to_image::{draw_captions, stage2_images};

/// What drawing needs, as one module so that one `model.safetensors` holds it: tensor names
/// start with `text.` (the DAMSM text encoder) and `generator.` (AttnGAN's generator).
#[derive(Module, Debug)]
pub struct DrawingModel {
    /// The DAMSM text encoder the generator was trained against, frozen: captions to word
    /// features and a sentence vector.
    pub text: DamsmTextEncoder,
    /// The two-stage generator.
    pub generator: AttnGanGenerator,
}

/// How a typed caption becomes words, as the experiment's captions were written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptionTokenization {
    /// The scene grammar's words (`datasets::scenes::caption`): lowercased; whitespace
    /// separates words and `,` is a word of its own; any other character stays inside its
    /// word, so class names such as `t-shirt` stay whole.
    SceneWords,
}

impl CaptionTokenization {
    /// The words of `caption`.
    pub fn words(self, caption: &str) -> Vec<String> {
        match self {
            CaptionTokenization::SceneWords => caption
                .to_lowercase()
                .replace(',', " , ")
                .split_whitespace()
                .map(String::from)
                .collect(),
        }
    }
}

/// `model.json`'s `model` for `"kind": "text-to-image"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    /// The variant the cell trained: `attngan` and `no-damsm` have word attention,
    /// `sentence-only` does not.
    pub variant: Variant,
    /// The DAMSM text encoder's configuration (vocabulary size, embedding size, `d_common`).
    pub text: DamsmTextEncoderConfig,
    /// The generator's configuration (sizes, canvas, conditioning: `word-attention` or
    /// `sentence-only`).
    pub generator: AttnGanGeneratorConfig,
    /// Caption words in id order (ids 0-3: `<pad>`, `<s>`, `</s>`, `<unk>`): every word of the
    /// training captions.
    pub vocab: Vocab,
    /// How a typed caption becomes words.
    pub tokenization: CaptionTokenization,
    /// The side of the square stage-2 image in pixels (stage 1 draws at half of it).
    pub image_size: usize,
}

impl GeneratorSpec {
    /// Checks what the modules cannot be built from, naming the field; `path` is
    /// `model.json`'s.
    fn check(&self, path: &Path) -> anyhow::Result<()> {
        let file = path.display();
        let (text, generator) = (&self.text, &self.generator);
        for (field, value) in [
            ("text.vocab", text.vocab),
            ("text.d_embed", text.d_embed),
            ("text.d_common", text.d_common),
            ("generator.d_sentence", generator.d_sentence),
            ("generator.d_word", generator.d_word),
            ("generator.d_condition", generator.d_condition),
            ("generator.d_noise", generator.d_noise),
            ("generator.d_hidden", generator.d_hidden),
            ("generator.canvas", generator.canvas),
        ] {
            if value == 0 {
                bail!("{file}: field 'model.{field}' must be positive");
            }
        }
        if !text.d_common.is_multiple_of(2) {
            bail!("{file}: field 'model.text.d_common' must be even (half per direction)");
        }
        if !(0.0..1.0).contains(&text.dropout) {
            bail!("{file}: field 'model.text.dropout' must be in [0, 1)");
        }
        if text.vocab != self.vocab.len() {
            bail!(
                "{file}: field 'model.text.vocab' is {}, but 'model.vocab.tokens' lists {} words",
                text.vocab,
                self.vocab.len()
            );
        }
        for (field, value) in [
            ("generator.d_sentence", generator.d_sentence),
            ("generator.d_word", generator.d_word),
        ] {
            if value != text.d_common {
                bail!(
                    "{file}: field 'model.{field}' is {value}, the text encoder's d_common is {}",
                    text.d_common
                );
            }
        }
        if !generator.canvas.is_multiple_of(8) {
            bail!("{file}: field 'model.generator.canvas' must be a multiple of 8");
        }
        if generator.canvas != self.image_size {
            bail!(
                "{file}: field 'model.image_size' is {}, the generator's canvas is {}",
                self.image_size,
                generator.canvas
            );
        }
        if generator.conditioning != self.variant.conditioning() {
            bail!(
                "{file}: field 'model.generator.conditioning' is {}, variant {} needs {}",
                generator.conditioning.name(),
                self.variant.name(),
                self.variant.conditioning().name()
            );
        }
        Ok(())
    }
}

/// What a text-to-image cell saves besides the modules.
pub struct GeneratorSave<'a> {
    /// The task as `--task` spells it.
    pub task: String,
    /// The cell's variant.
    pub variant: Variant,
    /// The DAMSM text encoder's configuration.
    pub text: DamsmTextEncoderConfig,
    /// The generator's configuration.
    pub generator: AttnGanGeneratorConfig,
    /// The caption vocabulary.
    pub vocab: &'a Vocab,
}

/// Saves a trained generator and the frozen DAMSM text encoder it was conditioned on into the
/// cell's model folder when `--save-models` asked for one; does nothing otherwise. Draws no
/// random numbers.
pub fn save_generator(
    context: &CellContext,
    cell: &Cell,
    save: GeneratorSave<'_>,
    text: &DamsmTextEncoder,
    generator: &AttnGanGenerator,
) -> anyhow::Result<()> {
    let Some(dir) = &context.model_dir else {
        return Ok(());
    };
    let spec = GeneratorSpec {
        variant: save.variant,
        image_size: save.generator.canvas,
        text: save.text,
        generator: save.generator,
        vocab: save.vocab.clone(),
        tokenization: CaptionTokenization::SceneWords,
    };
    let description = ModelFile::new(
        "text-to-image",
        &save.task,
        cell,
        SavedKind::TextToImage(spec),
    );
    let module = DrawingModel {
        text: text.clone(),
        generator: generator.clone(),
    };
    write_model_dir(dir, &description, &module)
}

/// A loaded text encoder and generator.
pub struct LoadedGenerator {
    /// The DAMSM text encoder, on an inference device.
    pub text: DamsmTextEncoder,
    /// The generator.
    pub generator: AttnGanGenerator,
    /// `model.json`'s model part.
    pub spec: GeneratorSpec,
    /// The whole of `model.json`.
    pub description: ModelFile,
    /// The device both run on (its generator draws the noise).
    device: Device,
}

/// The images drawn from one caption.
#[derive(Clone, Debug)]
pub struct Drawing {
    /// The caption's words, as the model read them.
    pub words: Vec<String>,
    /// One stage-2 image per sample, `image_size` square, values in (0, 1).
    pub images: Vec<RgbImage>,
    /// With word attention: per sample, per word, its weights over stage 2's
    /// `(image_size / 2)²` sub-regions (row-major); `None` for `sentence-only`.
    pub attention: Option<Vec<Vec<Vec<f32>>>>,
}

impl LoadedGenerator {
    /// Reads the model folder `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> anyhow::Result<LoadedGenerator> {
        let description = ModelFile::read(dir)?;
        let SavedKind::TextToImage(spec) = description.model.clone() else {
            return Err(description.wrong_kind(dir, "draw", "text-to-image"));
        };
        spec.check(&dir.join(DESCRIPTION_FILE))?;
        let module = DrawingModel {
            text: spec.text.init(device),
            generator: spec.generator.init(device),
        };
        let DrawingModel { text, generator } = load_weights(module, dir)?;
        Ok(LoadedGenerator {
            text,
            generator,
            spec,
            description,
            device: device.clone(),
        })
    }

    /// Whether stage 2 attends over the words, so it has weights to show.
    pub fn has_attention(&self) -> bool {
        self.spec.generator.conditioning == GeneratorConditioning::WordAttention
    }

    /// The side of the attention grid: stage 2's sub-regions are the pixels of a map of half
    /// the image's side.
    pub fn attention_grid(&self) -> usize {
        self.spec.image_size / 2
    }

    /// The words of a typed caption, refusing an empty one and any word the model does not
    /// know. The vocabulary is every word of the training captions, so `<unk>` never occurred
    /// in training and its embedding is its random initialization: an unknown word is an
    /// error naming it and listing known words, not `<unk>`.
    pub fn words(&self, caption: &str) -> anyhow::Result<Vec<String>> {
        let words = self.spec.tokenization.words(caption);
        if words.is_empty() {
            bail!("an empty caption: give at least one word");
        }
        let vocab = &self.spec.vocab;
        if let Some(unknown) = words
            .iter()
            .find(|w| (vocab.id(w) as usize) < SPECIALS.len())
        {
            let known: Vec<&str> = (SPECIALS.len()..vocab.len())
                .map(|id| vocab.token(id as u32))
                .collect();
            let shown = known
                .iter()
                .take(12)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            bail!(
                "the word '{unknown}' (in \"{caption}\") is not in the model's vocabulary of {} words ({shown}{}; model.json's vocab.tokens lists all)",
                known.len(),
                if known.len() > 12 { ", ..." } else { "" }
            );
        }
        Ok(words)
    }

    /// Draws `samples` images of one caption's `words` (known words: see
    /// [`LoadedGenerator::words`]). The noise comes from `seed`: the device's generator is
    /// seeded with it, then each sample's `z` and `ε` are drawn in turn and the sample is
    /// drawn alone, so a seed gives the same images on the same build and machine, every
    /// caption of a call gets the same noise, and the first samples do not depend on how many
    /// are asked for.
    pub fn draw(&self, words: &[String], samples: usize, seed: u64) -> anyhow::Result<Drawing> {
        if samples == 0 {
            bail!("at least one sample per caption");
        }
        self.device.seed(seed);
        let mut images = Vec::with_capacity(samples);
        let mut attention = self.has_attention().then(Vec::new);
        for _ in 0..samples {
            let noise = self.generator.draw_noise(1, &self.device);
            let out = self.draw_tokens(&[words], noise);
            let [image] = <[RgbImage; 1]>::try_from(stage2_images(&out))
                .map_err(|_| anyhow::anyhow!("the generator drew no image"))?;
            images.push(image);
            if let (Some(list), Some(weights)) = (attention.as_mut(), out.weights) {
                list.push(word_weights(weights).context("the generator's attention")?);
            }
        }
        Ok(Drawing {
            words: words.to_vec(),
            images,
            attention,
        })
    }

    /// Both stages from captions (as words) and given noise, through the experiment's own
    /// drawing path ([`draw_captions`]).
    pub fn draw_tokens(&self, captions: &[&[String]], noise: GeneratorNoise) -> GeneratorOutput {
        let tokens = tokens_tensor(captions, &self.spec.vocab, &self.device);
        draw_captions(&self.text, &self.generator, tokens, |_| noise)
    }
}

/// The attention of a batch of one, `[1, N, T]`, as one row of `N` weights per word.
fn word_weights(weights: Tensor<3>) -> anyhow::Result<Vec<Vec<f32>>> {
    let [batch, regions, len] = weights.dims();
    if batch != 1 {
        bail!("{batch} captions where one was drawn");
    }
    let values: Vec<f32> = weights.into_data().iter::<f32>().collect();
    Ok((0..len)
        .map(|t| (0..regions).map(|r| values[r * len + t]).collect())
        .collect())
}
