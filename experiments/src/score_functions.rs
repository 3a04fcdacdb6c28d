//! `score-functions`: the family of alignment scores side by side.
//!
//! One attentive encoder-decoder per score (content/cosine, Graves et al. 2014; additive,
//! Bahdanau et al. 2015; location, general and dot, Luong et al. 2015; scaled dot, Vaswani et
//! al. 2017), all in the same decoder arrangement, on the same task, lengths and seeds.
//! Everything but the score is shared, so the differences are the scores'. Writes
//! `metrics.csv` per length bucket, `timings.csv` (training ms per step per score),
//! `alignment.csv` with the same test sentence under all six (drawn as one grid), and the
//! figures.

use std::path::Path;

use anyhow::bail;
use models::scores::{ScoreConfig, ScoreKind};
use models::seq2seq::{Architecture, Arrangement, Selection};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset};
use crate::saved_model::seq2seq::{Seq2SeqSave, save_seq2seq};
use crate::seq2seq::decode::decode_alignment;
use crate::seq2seq::eval::score_seq2seq;
use crate::seq2seq::{
    self, TaskData, TaskSpec, load_data, seq2seq_model, teacher_forced_loss, train,
};
use crate::validate::require_distinct;

/// The settings of a run: the shared sequence-to-sequence settings plus the scores compared.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Task, data, model sizes, training and evaluation, as in seq2seq-length.
    pub base: seq2seq::Config,
    /// The scores to compare (one model each); see the list of scores below.
    #[schemars(with = "Vec<String>")]
    pub scores: Vec<ScoreKind>,
    /// Where attention sits in the decoder, the same for every score: luong (attend after
    /// the RNN step, input feeding) or bahdanau (attend before it).
    #[schemars(with = "String")]
    pub arrangement: Arrangement,
    /// Luong's local-p attention with this half-window D (luong arrangement only); 0: global.
    #[serde(default)]
    pub local_window: usize,
}

impl Config {
    /// A preset: seq2seq-length's, with one training length (the comparison is across
    /// scores, not lengths) and Luong's arrangement, in which his Table 4 compares
    /// location, general and dot.
    pub fn preset(preset: Preset, task: &TaskSpec) -> Config {
        let mut base = seq2seq::Config::preset(preset, task);
        match preset {
            Preset::Quick if task.is_synthetic() => {
                base.train_max_lens = vec![15];
                base.test_max_len = 20;
                base.steps = 400;
                base.test_size = 400;
            }
            Preset::Quick => {
                base.train_max_lens = vec![20];
                base.test_max_len = 30;
                base.steps = 400;
            }
            Preset::Paper => {
                base.train_max_lens = vec![50];
                // The dot scores compare the decoder state with the bidirectional
                // annotations directly, so their sizes must agree (Luong et al. use one
                // size throughout; our encoder is bidirectional).
                base.d_decoder = 2 * base.d_encoder;
            }
            Preset::Smoke => base.train_max_lens.truncate(1),
        }
        Config {
            base,
            scores: ScoreKind::ALL.to_vec(),
            arrangement: Arrangement::Luong,
            local_window: 0,
        }
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
        require_distinct("scores", &self.scores)?;
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

    /// A score's model name: local-p models are named for it (`additive-local5`), so their
    /// tables and heatmaps say so.
    fn model_name(&self, score: ScoreKind) -> String {
        match self.local_window {
            0 => score.name().to_string(),
            d => format!("{}-local{d}", score.name()),
        }
    }
}

/// The family of alignment scores side by side.
pub struct ScoreFunctions;

impl Experiment for ScoreFunctions {
    const NAME: &'static str = "score-functions";
    const ABOUT: &'static str = "Trains one attentive encoder-decoder per alignment score (same \
        task, lengths, seeds and everything else), scores them per source-length bucket, and \
        writes config.json, metrics.csv, timings.csv (ms per training step per score), \
        alignment.csv (one sentence under every score), summary.md and the figures to \
        OUT/<task>/.\n\nExpect on the quick preset (toy-translation): every score learns the \
        task inside the training range; they part past it.";
    type Config = Config;
    type Task = TaskSpec;
    type Data = TaskData;

    fn default_task() -> TaskSpec {
        TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::ToyTranslation)
    }

    fn preset(preset: Preset, task: &TaskSpec) -> Config {
        Config::preset(preset, task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.base.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<TaskData> {
        let data = load_data(Self::NAME, &config.base, task, data_dir)?;
        eprintln!(
            "{} scores, {:?} arrangement",
            config.scores.len(),
            config.arrangement
        );
        Ok(data)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names: Vec<String> = config
            .scores
            .iter()
            .map(|&s| config.model_name(s))
            .collect();
        Cell::grid(&config.base.train_max_lens, &names, &config.base.seeds)
    }

    fn run_cell(
        config: &Config,
        task: &TaskSpec,
        data: &TaskData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let base = &config.base;
        let score = *config
            .scores
            .iter()
            .find(|&&s| config.model_name(s) == cell.variant)
            .expect("a cell of this experiment");
        let device = harness::device(cell.seed)?;
        let model_config = seq2seq_model(base, data, Architecture::RnnSearch)
            .with_score(score)
            .with_arrangement(config.arrangement)
            .with_local_window(config.local_window);
        let model = model_config.init(&device);
        let trained = train(
            base,
            data.train_set(base, cell.train_max_len),
            model,
            &device,
            &cell.label(),
            0,
            |m, b, _| teacher_forced_loss(m, b),
        )?;
        let (mut record, model) = score_seq2seq(
            base,
            Self::NAME,
            task,
            data,
            cell,
            &trained,
            Selection::Soft,
        );
        if cell.seed == base.seeds[0] && cell.train_max_len == base.train_max_lens[0] {
            // The same sentence under every score, for the grid of heatmaps.
            record.alignment =
                decode_alignment(data, &model, Selection::Soft, cell).unwrap_or_default();
        }
        let save = Seq2SeqSave::new(Self::NAME, task, base, data, &model_config, Selection::Soft);
        save_seq2seq(context, cell, save, &model)?;
        Ok(record)
    }

    fn help_notes() -> String {
        format!("Scores: {}.", models::scores::help_list())
    }
}
