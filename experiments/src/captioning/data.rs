//! The data every captioning cell shares: the scenes, the caption vocabulary, and the
//! annotation grid of every image from an encoder pretrained once and then frozen (Xu et
//! al. precomputed VGG's conv features the same way), so a cell trains only its decoder.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::images::karpathy::{CaptionedImage, KarpathyOptions, read_karpathy};
use datasets::images::{LabelledGlyphs, RgbImage, digits, idx, shapes};
use datasets::scenes::{Colour, Scene, class_names, splits};
use datasets::vocab::Vocab;
use models::seq2seq::{BOS, EOS, PAD};
use models::vision::{ImageEncoder, multilabel_loss};

use super::{CaptionTask, Config};
use crate::experiment::Task;
use crate::training::{EpochBatches, OptimizerSettings, cross_entropy_loss, train_loop};

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
}

/// The glyph sources of a task: the fetched digits and Fashion-MNIST training images, or
/// procedural shapes.
fn glyph_sources(
    config: &Config,
    task: &CaptionTask,
    data_dir: &Path,
) -> anyhow::Result<Vec<LabelledGlyphs>> {
    match task {
        CaptionTask::Karpathy(_) => unreachable!("photographs have no glyphs"),
        CaptionTask::Shapes => Ok(vec![shapes::procedural_glyphs(
            config.glyphs_per_class,
            config.scene_seed,
        )]),
        CaptionTask::Scenes => {
            let (digits_dir, fashion_dir) =
                (data_dir.join("digits"), data_dir.join("fashion-mnist"));
            for dir in [&digits_dir, &fashion_dir] {
                if !dir.is_dir() {
                    bail!("{} not found: run scripts/fetch-data first", dir.display());
                }
            }
            Ok(vec![
                digits::read_digits(&digits_dir)?,
                idx::read_fashion_mnist(&fashion_dir, idx::Split::Train)?,
            ])
        }
    }
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
    let labels: Vec<Vec<f32>> = split
        .train
        .iter()
        .map(|s| presence_labels(s, names.len()))
        .collect();
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
    let labels: Vec<Vec<f32>> = train
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
/// and frozen, every image's annotations. With facts, how well the encoder detects classes
/// and colours is reported.
fn annotated(
    config: &Config,
    class_names: Vec<String>,
    [train, test, compositional]: [Vec<Scene>; 3],
    labels: &[Vec<f32>],
    has_facts: bool,
) -> anyhow::Result<CaptionData> {
    let captions = train
        .iter()
        .flat_map(|s| s.captions.iter().map(Vec::as_slice));
    let vocab = Vocab::build(captions, usize::MAX);
    eprintln!("captioning: vocab {}", vocab.len());
    let (encoder, device) = pretrain_encoder(config, &train, labels)?;
    if has_facts {
        let [classes, colours] = presence_accuracy(&encoder, &test, class_names.len(), &device);
        eprintln!(
            "encoder on the test scenes: detects {:.1}% of present classes ({:.1}% false alarms), {:.1}% of present colours ({:.1}% false alarms)",
            100.0 * classes[0],
            100.0 * classes[1],
            100.0 * colours[0],
            100.0 * colours[1]
        );
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
    })
}

/// The images of `scenes` as a tensor `[B, 3, H, W]`.
pub fn images_tensor(scenes: &[&Scene], device: &Device) -> Tensor<4> {
    let RgbImage { height, width, .. } = scenes[0].image;
    let data: Vec<f32> = scenes
        .iter()
        .flat_map(|s| s.image.data.iter().copied())
        .collect();
    Tensor::from_data(
        TensorData::new(data, [scenes.len(), 3, height, width]),
        device,
    )
}

/// The pretraining targets of a scene: 1 for every class present, then for every colour.
fn presence_labels(scene: &Scene, n_classes: usize) -> Vec<f32> {
    let mut labels = vec![0.0; n_classes + Colour::ALL.len()];
    for object in &scene.objects {
        labels[object.class] = 1.0;
        let colour = Colour::ALL
            .iter()
            .position(|&c| c == object.colour)
            .unwrap_or(0);
        labels[n_classes + colour] = 1.0;
    }
    labels
}

/// Trains the encoder's multi-label head on the training images (`labels[i]`: 0/1 per label
/// of image i: which classes and colours are present, or which words describe it), then
/// returns the encoder without autodiff (frozen) and its device.
fn pretrain_encoder(
    config: &Config,
    train: &[Scene],
    labels: &[Vec<f32>],
) -> anyhow::Result<(ImageEncoder, Device)> {
    let n_labels = labels.first().map_or(1, Vec::len).max(1);
    let device = harness::device(config.encoder_seed)?;
    let encoder = config.encoder_config(n_labels).init(&device);
    let mut batches = EpochBatches::new(train.len(), config.batch_size);
    let next_batch = || {
        let idx = batches.next_batch();
        let scenes: Vec<&Scene> = idx.iter().map(|&i| &train[i]).collect();
        let targets: Vec<f32> = idx
            .iter()
            .flat_map(|&i| labels[i].iter().copied())
            .collect();
        (
            images_tensor(&scenes, &device),
            Tensor::<2>::from_data(TensorData::new(targets, [idx.len(), n_labels]), &device),
        )
    };
    let settings = OptimizerSettings {
        steps: config.pretrain_steps,
        learning_rate: config.pretrain_learning_rate,
        grad_clip: config.grad_clip,
    };
    let trained = train_loop(
        &settings,
        encoder,
        "encoder pretraining",
        0,
        next_batch,
        |encoder: &ImageEncoder, (images, labels)| {
            let logits = encoder.label_logits(encoder.forward(images.clone()));
            cross_entropy_loss(multilabel_loss(logits, labels.clone()))
        },
    )?;
    Ok((trained.model.valid(), device.without_autodiff()))
}

/// How well the pretrained presence head reads `scenes`: the share of present classes it
/// detects (logit above 0) and the share of absent classes it claims, and the same two for
/// colours: `[[class recall, class false alarms], [colour recall, colour false alarms]]`.
fn presence_accuracy(
    encoder: &ImageEncoder,
    scenes: &[Scene],
    n_classes: usize,
    device: &Device,
) -> [[f64; 2]; 2] {
    // counts[kind][present][claimed]
    let mut counts = [[[0usize; 2]; 2]; 2];
    for part in scenes.chunks(256) {
        let refs: Vec<&Scene> = part.iter().collect();
        let logits: Vec<f32> = encoder
            .label_logits(encoder.forward(images_tensor(&refs, device)))
            .into_data()
            .iter::<f32>()
            .collect();
        let n_labels = logits.len() / part.len();
        for (scene, row) in part.iter().zip(logits.chunks(n_labels)) {
            let truth = presence_labels(scene, n_classes);
            for (label, (&logit, &target)) in row.iter().zip(&truth).enumerate() {
                let kind = usize::from(label >= n_classes);
                counts[kind][usize::from(target > 0.5)][usize::from(logit > 0.0)] += 1;
            }
        }
    }
    let rate = |c: [usize; 2]| c[1] as f64 / (c[0] + c[1]).max(1) as f64;
    counts.map(|kind| [rate(kind[1]), rate(kind[0])])
}

/// The annotation vectors of every scene, `[scenes, L, D]` row-major, in chunks.
fn annotate(encoder: &ImageEncoder, scenes: &[Scene], chunk: usize, device: &Device) -> Vec<f32> {
    let mut out = Vec::new();
    for part in scenes.chunks(chunk.max(1)) {
        let refs: Vec<&Scene> = part.iter().collect();
        let annotations = encoder.forward(images_tensor(&refs, device));
        out.extend(annotations.into_data().iter::<f32>());
    }
    out
}

/// Decoder input (`<s>` + caption) and target (caption + `</s>`) ids `[B, T]`, PAD-padded.
pub fn caption_tensors(
    captions: &[&[String]],
    vocab: &Vocab,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let ids: Vec<Vec<u32>> = captions.iter().map(|c| vocab.encode(c)).collect();
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
