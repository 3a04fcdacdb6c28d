//! The data every text-to-image cell shares: the scenes and their captions' vocabulary, the
//! three frozen networks of [`super::pretrain`], and everything about the real test images
//! that does not depend on a generator (their scores, the R-precision candidates and their
//! sentence vectors), computed once.

use std::path::Path;

use anyhow::Context;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use datasets::scenes::{Scene, class_names, splits};
use datasets::vocab::Vocab;
use models::vision::{DamsmConfig, DamsmTextEncoder, SceneJudge};
use plots::CurveRow;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::candidates::{hard_candidates, random_candidates};
use super::eval::{ImageScores, read_images, score_images};
use super::pretrain::{Damsm, curve_rows, tokens_tensor, train_damsm, train_judge};
use super::{Config, TextToImageTask};
use crate::experiment::Task;

/// The R-precision candidates of every test image, with the evaluation DAMSM's sentence
/// vectors of them (the word-level score encodes the captions again when it scores: their
/// word features would take hundreds of megabytes).
pub struct Candidates {
    /// The evaluation DAMSM's sentence vector of the first caption of every test scene.
    pub first_captions: Vec<Vec<f64>>,
    /// For each test scene, the other scenes whose first captions are its random candidates.
    pub random: Vec<Vec<usize>>,
    /// For each test scene, its hard candidates, the canonical caption first.
    pub hard_captions: Vec<Vec<Vec<String>>>,
    /// The evaluation DAMSM's sentence vectors of `hard_captions`.
    pub hard: Vec<Vec<Vec<f64>>>,
}

/// What every cell of a run shares.
pub struct TextToImageData {
    /// Caption words, with `<pad>`, `<s>`, `</s>`, `<unk>` first.
    pub vocab: Vocab,
    /// The class names captions use.
    pub class_names: Vec<String>,
    /// Training scenes.
    pub train: Vec<Scene>,
    /// Test scenes: each drawn from its first caption.
    pub test: Vec<Scene>,
    /// The DAMSM the generators train against (without autodiff; a cell takes it back to
    /// its training device, frozen).
    pub damsm: Damsm,
    /// The DAMSM that scores (without autodiff).
    pub eval_damsm: Damsm,
    /// The γ1 and γ2 of the evaluation DAMSM's word-level score.
    pub matching: DamsmConfig,
    /// The judge (without autodiff).
    pub judge: SceneJudge,
    /// R-precision's candidates.
    pub candidates: Candidates,
    /// The real test images' scores: the ceiling of every metric.
    pub real: ImageScores,
    /// The judge's features of a second set of real scenes (as many as the test scenes):
    /// FID's floor compares the test images with them.
    pub reference_features: Vec<Vec<f64>>,
    /// The pretraining curves of both DAMSMs and the judge.
    pub pretrain_curves: Vec<CurveRow>,
    /// The device without autodiff that evaluation runs on.
    pub device: Device,
}

/// The evaluation DAMSM's sentence vectors of `captions`, in chunks.
pub fn sentence_vectors(
    text: &DamsmTextEncoder,
    captions: &[&[String]],
    vocab: &Vocab,
    chunk: usize,
    device: &Device,
) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(captions.len());
    for part in captions.chunks(chunk.max(1)) {
        let sentence = text.forward(tokens_tensor(part, vocab, device)).sentence;
        out.extend(rows(sentence));
    }
    out
}

/// A `[rows, d]` tensor's rows on the host.
pub fn rows(x: Tensor<2>) -> Vec<Vec<f64>> {
    let [_, d] = x.dims();
    let values: Vec<f64> = x.into_data().iter::<f32>().map(f64::from).collect();
    values.chunks(d).map(<[f64]>::to_vec).collect()
}

/// Generates the scenes, builds the vocabulary, trains both DAMSMs and the judge, and scores
/// the real test images.
pub fn load(
    config: &Config,
    task: &TextToImageTask,
    data_dir: &Path,
) -> anyhow::Result<TextToImageData> {
    let sources = crate::vision::glyph_sources(
        task.glyphs(config.glyphs_per_class),
        config.scene_seed,
        data_dir,
    )?;
    let names = class_names(&sources).context("glyph sources")?;
    let split =
        splits(&config.scene_config(), &sources, &config.split_config()).context("scenes")?;
    let vocab = Vocab::build(
        split
            .train
            .iter()
            .flat_map(|s| s.captions.iter().map(Vec::as_slice)),
        usize::MAX,
    );
    eprintln!(
        "text-to-image / {}: {} classes, train {} / test {} scenes, vocab {}, {} backend",
        task.name(),
        names.len(),
        split.train.len(),
        split.test.len(),
        vocab.len(),
        harness::backend_name()
    );
    let damsm = train_damsm(
        config,
        &split.train,
        &vocab,
        &names,
        config.damsm_seed,
        "DAMSM",
    )?;
    let eval_damsm = train_damsm(
        config,
        &split.train,
        &vocab,
        &names,
        config.eval_damsm_seed,
        "evaluation DAMSM",
    )?;
    let judge = train_judge(config, &split.train, names.len())?;
    let mut pretrain_curves = curve_rows("DAMSM", &damsm.curve);
    pretrain_curves.extend(curve_rows("evaluation DAMSM", &eval_damsm.curve));
    pretrain_curves.extend(curve_rows("judge", &judge.curve));
    let device = harness::device(config.damsm_seed)?.without_autodiff();
    let (damsm, eval_damsm, judge) = (
        damsm.model.valid(),
        eval_damsm.model.valid(),
        judge.model.valid(),
    );

    let firsts: Vec<&[String]> = split
        .test
        .iter()
        .map(|s| s.captions[0].as_slice())
        .collect();
    let first_captions = sentence_vectors(
        &eval_damsm.text,
        &firsts,
        &vocab,
        config.eval_batch_size,
        &device,
    );
    let mut rng = StdRng::seed_from_u64(config.scene_seed);
    let hard_captions: Vec<Vec<Vec<String>>> = split
        .test
        .iter()
        .map(|scene| hard_candidates(scene, &names, config.candidates, &mut rng))
        .collect();
    let hard = hard_captions
        .iter()
        .map(|captions| {
            let refs: Vec<&[String]> = captions.iter().map(Vec::as_slice).collect();
            sentence_vectors(
                &eval_damsm.text,
                &refs,
                &vocab,
                config.eval_batch_size,
                &device,
            )
        })
        .collect();
    let candidates = Candidates {
        first_captions,
        random: random_candidates(&split.test, config.candidates, config.scene_seed),
        hard_captions,
        hard,
    };
    let mut data = TextToImageData {
        vocab,
        class_names: names,
        train: split.train,
        test: split.test,
        damsm,
        eval_damsm,
        matching: config.damsm(),
        judge,
        candidates,
        real: ImageScores::default(),
        reference_features: Vec::new(),
        pretrain_curves,
        device,
    };
    let real_images: Vec<Tensor<4>> = data
        .test
        .chunks(config.eval_batch_size)
        .map(|part| {
            let refs: Vec<&Scene> = part.iter().collect();
            crate::vision::images_tensor(&refs, &data.device)
        })
        .collect();
    data.real = score_images(&data, real_images);
    let reference_images: Vec<Tensor<4>> = split
        .valid
        .chunks(config.eval_batch_size)
        .map(|part| {
            let refs: Vec<&Scene> = part.iter().collect();
            crate::vision::images_tensor(&refs, &data.device)
        })
        .collect();
    data.reference_features = read_images(&data.judge, reference_images).features;
    Ok(data)
}
