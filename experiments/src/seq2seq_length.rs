//! `seq2seq-length`: Bahdanau et al. 2015, Figure 2, in shape.
//!
//! RNNencdec-k (Cho et al. 2014, one fixed context vector) and RNNsearch-k (additive
//! attention) are trained on sentences of at most k source tokens, for two values of k and
//! several seeds, then scored per source-length bucket on a test set that reaches beyond
//! the longest training length. The plain model falls as sentences grow; the attentive one
//! stays nearly flat.
//!
//! Outputs, in `<out>/<task>/`: `config.json`, `metrics.csv` (long format, reproducible byte
//! for byte on the same backend and build), `timings.csv` (wall clock, kept apart),
//! `alignment.csv` (attention weights of one long test sentence) and the figures redrawn
//! from those CSVs.

use std::path::Path;

use models::seq2seq::{Architecture, Selection};

use crate::experiment::{Cell, CellContext, CellRecord, Experiment, Preset};
use crate::saved_model::seq2seq::{Seq2SeqSave, save_seq2seq};
use crate::seq2seq::decode::decode_alignment;
use crate::seq2seq::eval::score_seq2seq;
use crate::seq2seq::{
    Config, TaskData, TaskSpec, load_data, seq2seq_model, teacher_forced_loss, train,
};

/// Plain encoder-decoder against attention as sentences grow.
pub struct Seq2SeqLength;

/// The two architectures compared, in the order of the cells.
const ARCHITECTURES: [Architecture; 2] = [Architecture::RnnEncDec, Architecture::RnnSearch];

impl Experiment for Seq2SeqLength {
    const NAME: &'static str = "seq2seq-length";
    const ABOUT: &'static str = "Trains RNNencdec-k and RNNsearch-k (Bahdanau et al. 2015, Fig. 2) \
        for each training length k and seed, scores them per source-length bucket, and writes \
        config.json, metrics.csv, timings.csv, alignment.csv, summary.md and the figures to \
        OUT/<task>/.\n\nExpect on the quick preset (reverse): on the longest bucket inside the \
        training range RNNsearch stays far above RNNencdec, while on the shortest both are \
        near 100%.";
    type Config = Config;
    type Task = TaskSpec;
    type Data = TaskData;

    fn default_task() -> TaskSpec {
        TaskSpec::Synthetic(datasets::synthetic::SyntheticTask::Reverse)
    }

    fn preset(preset: Preset, task: &TaskSpec) -> Config {
        Config::preset(preset, task)
    }

    fn long_preset(task: &TaskSpec) -> Option<Config> {
        Config::long(task)
    }

    fn task_field(config: &mut Config) -> &mut String {
        &mut config.task
    }

    fn validate(config: &Config) -> anyhow::Result<()> {
        config.validate()
    }

    fn load(config: &Config, task: &TaskSpec, data_dir: &Path) -> anyhow::Result<TaskData> {
        load_data(Self::NAME, config, task, data_dir)
    }

    fn cells(config: &Config) -> Vec<Cell> {
        let names = ARCHITECTURES.map(Architecture::name);
        Cell::grid(&config.train_max_lens, &names, &config.seeds)
    }

    fn run_cell(
        config: &Config,
        task: &TaskSpec,
        data: &TaskData,
        cell: &Cell,
        context: &CellContext,
    ) -> anyhow::Result<CellRecord> {
        let architecture = ARCHITECTURES
            .into_iter()
            .find(|a| a.name() == cell.variant)
            .expect("a cell of this experiment");
        let device = harness::device(cell.seed)?;
        let model_config = seq2seq_model(config, data, architecture);
        let model = model_config.init(&device);
        let trained = train(
            config,
            data.train_set(config, cell.train_max_len),
            model,
            &device,
            &cell.label(),
            0,
            |m, b, _| teacher_forced_loss(m, b),
        )?;
        let (mut record, model) = score_seq2seq(
            config,
            Self::NAME,
            task,
            data,
            cell,
            &trained,
            Selection::Soft,
        );
        if cell.train_max_len == config.longest_train_len() && cell.seed == config.seeds[0] {
            record.alignment =
                decode_alignment(data, &model, Selection::Soft, cell).unwrap_or_default();
        }
        let save = Seq2SeqSave::new(
            Self::NAME,
            task,
            config,
            data,
            &model_config,
            Selection::Soft,
        );
        save_seq2seq(context, cell, save, &model)?;
        Ok(record)
    }
}
