//! `score-functions`: the family of alignment scores side by side.
//!
//! One attentive encoder-decoder per score (content/cosine, Graves et al. 2014; additive,
//! Bahdanau et al. 2015; location, general and dot, Luong et al. 2015; scaled dot, Vaswani et
//! al. 2017), all in the same decoder arrangement, on the same task, lengths and seeds.
//! Everything but the score is shared, so the differences are the scores'. Writes
//! `metrics.csv` per length bucket, `timings.csv` (training ms per step per score),
//! `alignment.csv` with the same test sentence under all six (drawn as one grid), and the
//! figures.

use std::path::{Path, PathBuf};

use anyhow::bail;
use models::scores::{ScoreConfig, ScoreKind};
use models::seq2seq::{Architecture, Arrangement, Selection};
use serde::{Deserialize, Serialize};

use crate::translation::{self, Recorder, TaskSpec, seq2seq_model, teacher_forced_loss, train};

/// The experiment's name in CSVs and paths.
pub const EXPERIMENT: &str = "score-functions";

/// The settings of a run: the shared sequence-to-sequence settings plus the scores compared.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Task, data, model sizes, training and evaluation, as in seq2seq-length.
    pub base: translation::Config,
    /// The scores to compare (one model each).
    pub scores: Vec<ScoreKind>,
    /// Where attention sits in the decoder, the same for every score.
    pub arrangement: Arrangement,
    /// Luong's local-p attention with this half-window (Luong arrangement only); 0: global.
    #[serde(default)]
    pub local_window: usize,
}

impl Config {
    /// A named preset (`quick`, `paper`, `smoke`): seq2seq-length's, with one training length
    /// (the comparison is across scores, not lengths) and Luong's arrangement, in which his
    /// Table 4 compares location, general and dot.
    pub fn preset(name: &str, task: &TaskSpec) -> anyhow::Result<Config> {
        let mut base = translation::Config::preset(name, task)?;
        match name {
            "quick" if matches!(task, TaskSpec::Synthetic(_)) => {
                base.train_max_lens = vec![15];
                base.test_max_len = 20;
                base.steps = 400;
                base.test_size = 400;
            }
            "quick" => {
                base.train_max_lens = vec![20];
                base.test_max_len = 30;
                base.steps = 400;
            }
            "paper" => base.train_max_lens = vec![50],
            _ => base.train_max_lens.truncate(1),
        }
        Ok(Config {
            base,
            scores: ScoreKind::ALL.to_vec(),
            arrangement: Arrangement::Luong,
            local_window: 0,
        })
    }

    /// Checks the configuration, naming the field at fault.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.base.validate()?;
        if self.local_window > 0 && self.arrangement != Arrangement::Luong {
            bail!("config field 'local_window' needs the luong arrangement");
        }
        if self.scores.is_empty() {
            bail!("config field 'scores' must list at least one score");
        }
        for &kind in &self.scores {
            let d_key = 2 * self.base.d_encoder;
            ScoreConfig::new(kind, self.base.d_decoder, d_key)
                .check()
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{e}: set d_decoder = 2 * d_encoder (now {} and {})",
                        self.base.d_decoder,
                        self.base.d_encoder
                    )
                })?;
        }
        Ok(())
    }
}

/// Runs the comparison and writes its outputs under `out_dir/<task>/`.
pub fn run(
    config: &Config,
    task: &TaskSpec,
    data_dir: &Path,
    out_dir: &Path,
) -> anyhow::Result<PathBuf> {
    config.validate()?;
    let base = &config.base;
    let mut recorder = Recorder::start(EXPERIMENT, config, base, task, data_dir, out_dir)?;
    eprintln!(
        "{} scores, {:?} arrangement",
        config.scores.len(),
        config.arrangement
    );
    for (k_index, &k) in base.train_max_lens.iter().enumerate() {
        for &score in &config.scores {
            for &seed in &base.seeds {
                // Local-p models are named for it, so their tables and heatmaps say so.
                let name = match config.local_window {
                    0 => score.name().to_string(),
                    d => format!("{}-local{d}", score.name()),
                };
                let name = name.as_str();
                let device = harness::device(seed)?;
                let model = seq2seq_model(base, &recorder.data, Architecture::RnnSearch)
                    .with_score(score)
                    .with_arrangement(config.arrangement)
                    .with_local_window(config.local_window)
                    .init(&device);
                let label = format!("{name}-{k} seed {seed}");
                let trained = train(
                    base,
                    &recorder.data.train[k_index],
                    model,
                    &device,
                    &label,
                    0,
                    teacher_forced_loss,
                )?;
                let model =
                    recorder.score_seq2seq(base, name, k, seed, &trained, Selection::Soft)?;
                if seed == base.seeds[0] && k_index == 0 {
                    // The same sentence under every score, for the grid of heatmaps.
                    recorder.add_alignment(&model, Selection::Soft, name, k, seed)?;
                }
            }
        }
    }
    recorder.finish()
}
