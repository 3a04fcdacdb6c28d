//! The networks every cell of a run shares, trained once in [`super::data::load`] on the
//! training scenes and then frozen: the DAMSM the generators learn from, a second DAMSM from
//! another seed that only scores them, and the judge that reads generated scenes.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use datasets::scenes::{Colour, GRID, Scene};
use datasets::vocab::Vocab;
use models::seq2seq::PAD;
use models::vision::{
    DamsmImageEncoder, DamsmTextEncoder, SceneJudge, SlotTargets, judge_loss, target_tensors,
};
use plots::CurveRow;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::Config;
use super::negatives::one_attribute_off;
use crate::training::{
    EpochBatches, LearningRateSchedule, OptimizerSettings, Trained, cross_entropy_loss, train_loop,
};
use crate::vision::images_tensor;

/// A DAMSM: the text and image encoders trained together by the DAMSM loss.
#[derive(Module, Debug)]
pub struct Damsm {
    /// Captions to word features and a sentence vector.
    pub text: DamsmTextEncoder,
    /// Images to region features and a global vector.
    pub image: DamsmImageEncoder,
}

/// Caption ids `[B, T]`, PAD after each caption's end.
pub fn tokens_tensor(captions: &[&[String]], vocab: &Vocab, device: &Device) -> Tensor<2, Int> {
    let ids: Vec<Vec<u32>> = captions.iter().map(|c| vocab.encode(c)).collect();
    let len = ids.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut data = vec![PAD as i64; ids.len() * len];
    for (row, caption) in ids.iter().enumerate() {
        for (t, &id) in caption.iter().enumerate() {
            data[row * len + t] = id as i64;
        }
    }
    Tensor::from_data(TensorData::new(data, [ids.len(), len]), device)
}

/// Every (scene, caption) pair of `scenes`, scene-major: an epoch visits each caption once.
pub fn caption_pairs(scenes: &[Scene]) -> Vec<(usize, usize)> {
    (0..scenes.len())
        .flat_map(|s| (0..scenes[s].captions.len()).map(move |c| (s, c)))
        .collect()
}

/// The curve of a pretraining, as `learning_curve.csv` rows of `model`.
pub fn curve_rows(model: &str, curve: &[(usize, f64)]) -> Vec<CurveRow> {
    curve
        .iter()
        .map(|&(step, loss)| CurveRow {
            model: model.to_string(),
            train_max_len: 0,
            seed: 0,
            step,
            loss,
        })
        .collect()
}

/// Trains a DAMSM from `seed` on the training scenes' captions: each step a batch of
/// (scene, caption) pairs, every other pair of the batch a negative, and with
/// `damsm_hard_negatives` each caption one attribute off as a further negative (drawn from
/// `seed`); the loss is the DAMSM loss averaged over the batch. Returns the model on the
/// autodiff device.
pub fn train_damsm(
    config: &Config,
    train: &[Scene],
    vocab: &Vocab,
    class_names: &[String],
    seed: u64,
    label: &str,
) -> anyhow::Result<Trained<Damsm>> {
    let device = harness::device(seed)?;
    let model = Damsm {
        text: config.damsm_text(vocab.len()).init(&device),
        image: config.damsm_image().init(&device),
    };
    let pairs = caption_pairs(train);
    let mut batches = EpochBatches::new(pairs.len(), config.batch_size);
    let mut negatives_rng = StdRng::seed_from_u64(seed);
    let next_batch = || {
        let batch: Vec<(usize, usize)> = batches.next_batch().iter().map(|&i| pairs[i]).collect();
        let scenes: Vec<&Scene> = batch.iter().map(|&(s, _)| &train[s]).collect();
        let mut captions: Vec<Vec<String>> = batch
            .iter()
            .map(|&(s, c)| train[s].captions[c].clone())
            .collect();
        if config.damsm_hard_negatives {
            let negatives: Vec<Vec<String>> = captions
                .iter()
                .filter_map(|c| one_attribute_off(c, class_names, &mut negatives_rng))
                .collect();
            captions.extend(negatives);
        }
        let refs: Vec<&[String]> = captions.iter().map(Vec::as_slice).collect();
        (
            images_tensor(&scenes, &device),
            tokens_tensor(&refs, vocab, &device),
        )
    };
    let settings = OptimizerSettings {
        steps: config.damsm_steps,
        learning_rate: config.damsm_learning_rate,
        grad_clip: 5.0,
        schedule: LearningRateSchedule::Constant,
    };
    let matching = config.damsm();
    train_loop(
        &settings,
        model,
        label,
        config.curve_every,
        next_batch,
        |model: &Damsm, (images, tokens), _| {
            let batch = images.dims()[0];
            let loss = matching.loss(
                &model.image.forward(images.clone()),
                &model.text.forward(tokens.clone()),
            );
            cross_entropy_loss(loss.total.div_scalar(batch as f64))
        },
    )
}

/// What the judge should read in each slot of `scene`.
pub fn judge_targets(judge: &models::vision::SceneJudgeConfig, scene: &Scene) -> SlotTargets {
    let objects: Vec<(usize, usize, usize)> = scene
        .objects
        .iter()
        .map(|o| {
            let colour = Colour::ALL.iter().position(|&c| c == o.colour);
            (
                o.slot.row * GRID + o.slot.col,
                o.class,
                colour.expect("a colour of Colour::ALL"),
            )
        })
        .collect();
    judge.slot_targets(&objects)
}

/// Trains the judge on the training scenes to read every slot's class and colour.
pub fn train_judge(
    config: &Config,
    train: &[Scene],
    n_classes: usize,
) -> anyhow::Result<Trained<SceneJudge>> {
    let device = harness::device(config.judge_seed)?;
    let judge_config = config.judge(n_classes);
    let judge = judge_config.init(&device);
    let targets: Vec<SlotTargets> = train
        .iter()
        .map(|s| judge_targets(&judge_config, s))
        .collect();
    let mut batches = EpochBatches::new(train.len(), config.batch_size);
    let next_batch = || {
        let idx = batches.next_batch();
        let scenes: Vec<&Scene> = idx.iter().map(|&i| &train[i]).collect();
        let batch_targets: Vec<SlotTargets> = idx.iter().map(|&i| targets[i]).collect();
        let (classes, colours) = target_tensors(&batch_targets, &device);
        (images_tensor(&scenes, &device), classes, colours)
    };
    let settings = OptimizerSettings {
        steps: config.judge_steps,
        learning_rate: 3e-3,
        grad_clip: 5.0,
        schedule: LearningRateSchedule::Constant,
    };
    train_loop(
        &settings,
        judge,
        "judge",
        config.curve_every,
        next_batch,
        |judge: &SceneJudge, (images, classes, colours), _| {
            let out = judge.forward(images.clone());
            cross_entropy_loss(judge_loss(&out, classes.clone(), colours.clone()))
        },
    )
}
