//! The data every captioning cell shares: the scenes, the caption vocabulary, and the
//! annotation grid of every image from an encoder pretrained once and then frozen (Xu et
//! al. precomputed VGG's conv features the same way), so a cell trains only its decoder.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::images::LabelledGlyphs;
use datasets::images::karpathy::{CaptionedImage, KarpathyOptions, read_karpathy};
use datasets::scenes::{Colour, Scene, Size, class_names, splits};
use datasets::vocab::Vocab;
use models::seq2seq::{BOS, EOS, PAD};
use models::vision::ImageEncoder;

use super::encoder::{
    PretrainLabels, PretrainTarget, annotate, cell_labels, presence_accuracy, pretrain_encoder,
};
use super::{CaptionTask, Config};
use crate::experiment::Task;
use crate::vision::GlyphSet;

/// Scenes with their annotation grids, on the host.
pub struct AnnotatedScenes {
    /// The scenes (image, facts, five captions).
    pub scenes: Vec<Scene>,
    /// `[scenes, L, D]` row-major: the frozen encoder's annotation vectors.
    pub annotations: Vec<f32>,
}

impl AnnotatedScenes {
    /// The annotations of scenes `idx` as a tensor `[idx.len(), L, D]`.
    pub fn batch(&self, idx: &[usize], cells: usize, d: usize, device: &Device) -> Tensor<3> {
        let size = cells * d;
        let mut data = Vec::with_capacity(idx.len() * size);
        for &i in idx {
            data.extend_from_slice(&self.annotations[i * size..(i + 1) * size]);
        }
        Tensor::from_data(TensorData::new(data, [idx.len(), cells, d]), device)
    }
}

/// What every cell of a run shares.
pub struct CaptionData {
    /// Caption words, with `<pad>`, `<s>`, `</s>`, `<unk>` first.
    pub vocab: Vocab,
    /// The class names captions use.
    pub class_names: Vec<String>,
    /// Training scenes.
    pub train: AnnotatedScenes,
    /// In-distribution test scenes.
    pub test: AnnotatedScenes,
    /// Compositional test scenes.
    pub compositional: AnnotatedScenes,
    /// `L = G²`, the regions attended over.
    pub cells: usize,
    /// Size of an annotation vector.
    pub d_annotation: usize,
    /// Whether the scenes carry facts (objects), so semantic and pointing accuracy apply:
    /// not for a user's photographs.
    pub has_facts: bool,
    /// The pretrained encoder, without autodiff (what annotated the images; a fine-tuning
    /// cell takes it back to training).
    pub encoder: ImageEncoder,
}

/// The glyph sources of a scene task.
fn glyph_sources(
    config: &Config,
    task: &CaptionTask,
    data_dir: &Path,
) -> anyhow::Result<Vec<LabelledGlyphs>> {
    let set = match task {
        CaptionTask::Karpathy(_) => unreachable!("photographs have no glyphs"),
        CaptionTask::Shapes => GlyphSet::Procedural {
            per_class: config.glyphs_per_class,
        },
        CaptionTask::Scenes => GlyphSet::Real,
    };
    let sources = crate::vision::glyph_sources(set, config.scene_seed, data_dir)?;
    if config.exclude_classes.is_empty() {
        return Ok(sources);
    }
    let known: Vec<&str> = sources
        .iter()
        .flat_map(|s| s.class_names.iter().map(String::as_str))
        .collect();
    for name in &config.exclude_classes {
        if !known.contains(&name.as_str()) {
            bail!(
                "config field 'exclude_classes': no class is named '{name}' (the classes: {})",
                known.join(", ")
            );
        }
    }
    let excluded = |name: &str| config.exclude_classes.iter().any(|n| n == name);
    Ok(sources
        .into_iter()
        .map(|source| source.retain_classes(|name| !excluded(name)))
        .filter(|source| !source.class_names.is_empty())
        .collect())
}

/// Loads the images, builds the vocabulary, pretrains the encoder and annotates every image.
pub fn load(config: &Config, task: &CaptionTask, data_dir: &Path) -> anyhow::Result<CaptionData> {
    match task {
        CaptionTask::Karpathy(json) => load_photographs(config, task, json),
        CaptionTask::Scenes | CaptionTask::Shapes => load_scenes(config, task, data_dir),
    }
}

/// Scenes of glyphs, with their facts and a compositional split.
fn load_scenes(
    config: &Config,
    task: &CaptionTask,
    data_dir: &Path,
) -> anyhow::Result<CaptionData> {
    let sources = glyph_sources(config, task, data_dir)?;
    let names = class_names(&sources).context("glyph sources")?;
    let split =
        splits(&config.scene_config(), &sources, &config.split_config()).context("scenes")?;
    let held_out: Vec<String> = split
        .held_out
        .iter()
        .map(|p| format!("{} {}", p.colour.name(), p.class_name))
        .collect();
    eprintln!(
        "captioning / {}: {} classes, train {} / test {} / compositional {} scenes (held out: {}), {} backend",
        task.name(),
        names.len(),
        split.train.len(),
        split.test.len(),
        split.compositional.len(),
        held_out.join(", "),
        harness::backend_name()
    );
    let labels = PretrainLabels {
        target: PretrainTarget::Cells,
        n_labels: names.len() + Colour::ALL.len() + Size::ALL.len(),
        rows: split
            .train
            .iter()
            .map(|s| cell_labels(s, names.len(), config.grid))
            .collect(),
    };
    let splits = [split.train, split.test, split.compositional];
    annotated(config, names, splits, &labels, true)
}

/// Words too common to tell images apart, left out of the photographs' presence labels.
const STOP_WORDS: [&str; 16] = [
    "a", "an", "the", "of", "in", "on", "and", "is", "are", "with", "to", "at", ",", ".", "its",
    "his",
];

/// A user's captioned photographs from a Karpathy split file: `train` (with `restval`) to
/// train on, `test` to score; no facts, so only BLEU is reported.
fn load_photographs(
    config: &Config,
    task: &CaptionTask,
    json: &Path,
) -> anyhow::Result<CaptionData> {
    if config.images_dir.is_empty() {
        bail!(
            "task {}: set the image folder with --set images_dir=DIR",
            task.arg()
        );
    }
    let options = KarpathyOptions {
        size: config.canvas,
        skip_bad: config.skip_bad,
        max_per_split: (config.max_images_per_split > 0).then_some(config.max_images_per_split),
        ..KarpathyOptions::default()
    };
    let set = read_karpathy(json, Path::new(&config.images_dir), &options)?;
    if set.train.is_empty() || set.test.is_empty() {
        bail!(
            "{}: needs train and test images, found {} and {}",
            json.display(),
            set.train.len(),
            set.test.len()
        );
    }
    if !set.skipped.is_empty() {
        eprintln!(
            "{}: skipped {} images, e.g. {}",
            json.display(),
            set.skipped.len(),
            set.skipped[0].1
        );
    }
    let as_scenes = |images: Vec<CaptionedImage>| -> Vec<Scene> {
        images
            .into_iter()
            .map(|i| Scene {
                image: i.image,
                objects: Vec::new(),
                captions: i.captions,
            })
            .collect()
    };
    let (train, test) = (as_scenes(set.train), as_scenes(set.test));
    // The presence labels: the most frequent content words of the training captions.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for caption in train.iter().flat_map(|s| &s.captions) {
        for word in caption.iter().filter(|w| !STOP_WORDS.contains(&w.as_str())) {
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let words: Vec<&str> = words
        .into_iter()
        .take(config.presence_words)
        .map(|(w, _)| w)
        .collect();
    let rows: Vec<Vec<f32>> = train
        .iter()
        .map(|scene| {
            words
                .iter()
                .map(|w| {
                    f32::from(u8::from(
                        scene.captions.iter().any(|c| c.iter().any(|t| t == w)),
                    ))
                })
                .collect()
        })
        .collect();
    eprintln!(
        "captioning / {}: train {} / test {} images, {} presence words, {} backend",
        task.name(),
        train.len(),
        test.len(),
        words.len(),
        harness::backend_name()
    );
    let labels = PretrainLabels {
        target: PretrainTarget::Image,
        n_labels: words.len(),
        rows,
    };
    annotated(
        config,
        Vec::new(),
        [train, test, Vec::new()],
        &labels,
        false,
    )
}

/// The data of a run from its images (train, test, compositional test): the vocabulary of
/// the training captions, the encoder pretrained on `labels` (one row per training image)
/// and frozen (see [`super::encoder`]), every image's annotations. With facts, how well the encoder detects classes
/// and colours is reported.
fn annotated(
    config: &Config,
    class_names: Vec<String>,
    [train, test, compositional]: [Vec<Scene>; 3],
    labels: &PretrainLabels,
    has_facts: bool,
) -> anyhow::Result<CaptionData> {
    let captions = train
        .iter()
        .flat_map(|s| s.captions.iter().map(Vec::as_slice));
    let vocab = Vocab::build(captions, usize::MAX);
    eprintln!("captioning: vocab {}", vocab.len());
    let (encoder, device) = pretrain_encoder(config, &train, labels)?;
    if has_facts {
        let counts = presence_accuracy(
            &encoder,
            &test,
            class_names.len(),
            labels.positive_weight(),
            &device,
        );
        let ([classes, class_alarms], [colours, colour_alarms]) =
            (counts.classes(), counts.colours());
        eprintln!(
            "encoder on the test scenes: detects {:.1}% of present classes ({:.1}% false alarms), {:.1}% of present colours ({:.1}% false alarms)",
            100.0 * classes,
            100.0 * class_alarms,
            100.0 * colours,
            100.0 * colour_alarms
        );
        let recalls: Vec<String> = class_names
            .iter()
            .zip(counts.class_recalls())
            .map(|(name, (recall, scenes))| format!("{name} {:.0}% of {scenes}", 100.0 * recall))
            .collect();
        eprintln!("encoder, each class detected: {}", recalls.join(", "));
    }
    let annotate = |scenes: Vec<Scene>| AnnotatedScenes {
        annotations: annotate(&encoder, &scenes, config.eval_batch_size, &device),
        scenes,
    };
    Ok(CaptionData {
        vocab,
        class_names,
        train: annotate(train),
        test: annotate(test),
        compositional: annotate(compositional),
        cells: config.grid * config.grid,
        d_annotation: config.d_annotation,
        has_facts,
        encoder,
    })
}

/// Decoder input (`<s>` + caption) and target (caption + `</s>`) ids `[B, T]`, PAD-padded.
pub fn caption_tensors(
    captions: &[&[String]],
    vocab: &Vocab,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let ids: Vec<Vec<u32>> = captions.iter().map(|c| vocab.encode(c)).collect();
    caption_id_tensors(&ids, device)
}

/// [`caption_tensors`] of captions already encoded: `<s>` + ids and ids + `</s>`, `[B, T]`
/// with `T` one more than the longest caption, PAD-padded.
pub fn caption_id_tensors(ids: &[Vec<u32>], device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let len = ids.iter().map(Vec::len).max().unwrap_or(0) + 1;
    let (mut tgt_in, mut tgt_out) = (
        vec![PAD as i64; ids.len() * len],
        vec![PAD as i64; ids.len() * len],
    );
    for (row, caption) in ids.iter().enumerate() {
        tgt_in[row * len] = BOS as i64;
        for (t, &id) in caption.iter().enumerate() {
            tgt_in[row * len + t + 1] = id as i64;
            tgt_out[row * len + t] = id as i64;
        }
        tgt_out[row * len + caption.len()] = EOS as i64;
    }
    let shape = [ids.len(), len];
    (
        Tensor::from_data(TensorData::new(tgt_in, shape), device),
        Tensor::from_data(TensorData::new(tgt_out, shape), device),
    )
}
