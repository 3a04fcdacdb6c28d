//! The one command line of every experiment binary:
//!
//! ```text
//! <experiment> [--preset quick|paper|smoke|long] [--config FILE] [--task TASK]
//!              [--set KEY=VALUE]... [--data-dir DIR] [--out DIR] [--print-config]
//!              [--fresh | --resume] [--checkpoint-every N] [--save-models] [--threads N]
//!              [--list-cells | --cells LIST | --merge]
//! ```
//!
//! The configuration is built in one way for all: the preset for the task (or the JSON
//! file), then `--task`, then every `--set` in order, then checked against the
//! experiment's `Config` type (unknown fields refused). No flag touches a field by hand,
//! so none can be parsed and then dropped. `--help` lists every field with its default and
//! its doc comment, read off the configuration type.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};
use serde_json::Value;

use crate::checkpoint::Interrupted;
use crate::experiment::{Experiment, Preset, Task};
use crate::overrides;
use crate::run::{CellSelection, RunOptions};

/// The presets `--preset` accepts; the doc comments are what `--help` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PresetName {
    /// CPU-sized: minutes on 2 cores; already shows the effect (the committed results).
    Quick,
    /// The paper's lengths and sizes: hours, meant for a GPU (--features wgpu or cuda).
    Paper,
    /// Seconds: checks the pipeline end to end (CI); shows nothing.
    Smoke,
    /// The paper's shape on real data on the CPU: hours on 2 cores, meant to run as cells
    /// (--cells, then --merge). seq2seq-length on bible-en-es and tsv: tasks, reader on
    /// bible-cloze, captioning and text-to-image on scenes, glimpses on digits.
    Long,
}

/// The configuration a preset gives for a task, or an error naming the experiment and
/// task that have no such preset.
pub fn preset_config<E: Experiment>(name: PresetName, task: &E::Task) -> anyhow::Result<E::Config> {
    let preset = match name {
        PresetName::Quick => Preset::Quick,
        PresetName::Paper => Preset::Paper,
        PresetName::Smoke => Preset::Smoke,
        PresetName::Long => {
            return E::long_preset(task).with_context(|| {
                format!(
                    "{} has no long preset for task {} (--help lists the presets)",
                    E::NAME,
                    task.arg()
                )
            });
        }
    };
    Ok(E::preset(preset, task))
}

/// The options every experiment takes.
#[derive(clap::Parser, Debug, Clone)]
#[command(version)]
pub struct Args {
    /// Settings to start from (ignored with --config).
    #[arg(long, value_enum, default_value_t = PresetName::Quick)]
    pub preset: PresetName,
    /// A JSON configuration (all fields, or a config.json written by an earlier run);
    /// replaces the preset.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The task (see below). Default: the experiment's, or the task of --config. With a
    /// preset, the preset is the one for this task.
    #[arg(long)]
    pub task: Option<String>,
    /// Overrides one configuration field (repeatable). KEY is a field's path (base.steps)
    /// or a field name that only one path ends in (steps); VALUE is JSON ([1,2], 3e-3,
    /// true) or else a bare string (lstm).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Where fetched corpora live (scripts/fetch-data writes data/).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Results root; outputs go to OUT/<task>/. Default: results/<experiment>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the resolved configuration as JSON and exit without running.
    #[arg(long)]
    pub print_config: bool,
    /// Start over even if OUT/<task>/ holds an unfinished run of this configuration
    /// (without it, such a run is continued: finished cells are kept, the unfinished one
    /// resumes from its last checkpoint).
    #[arg(long, conflicts_with = "resume")]
    pub fresh: bool,
    /// Continue the unfinished run in OUT/<task>/, and fail if there is none (without it
    /// an unfinished run is continued too, and a missing one started).
    #[arg(long)]
    pub resume: bool,
    /// Save a training checkpoint every N steps (0: only at the end of each training loop
    /// and when SIGTERM, SIGINT or SIGUSR1 asks for one).
    #[arg(long, value_name = "N", default_value_t = RunOptions::default().checkpoint_every)]
    pub checkpoint_every: usize,
    /// Write every trained model, with its configuration and vocabularies, under
    /// OUT/<task>/models/ (see docs/saved-models.md).
    #[arg(long)]
    pub save_models: bool,
    /// Print the run's cells (index, variant, training length, seed, relative cost) as
    /// tab-separated lines and exit.
    #[arg(long, conflicts_with_all = ["cells", "merge"])]
    pub list_cells: bool,
    /// Run only these cells (`3,7-9`; indices from --list-cells) into their parts under
    /// OUT/<task>/checkpoints/; several such processes may share one --out. No results are
    /// written until --merge.
    #[arg(long, value_name = "LIST", conflicts_with = "merge")]
    pub cells: Option<CellSelection>,
    /// Write the results from the cells run with --cells, once every cell has finished
    /// (byte-identical to a single run; timings.csv aside). Loads no data, trains nothing.
    #[arg(long)]
    pub merge: bool,
    /// Threads this process computes with (default: every CPU it may use). Set it when
    /// several processes share a machine, so they do not oversubscribe its cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl Args {
    /// The run options the flags ask for.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            fresh: self.fresh,
            resume: self.resume,
            checkpoint_every: self.checkpoint_every,
            save_models: self.save_models,
            cells: match (&self.cells, self.merge) {
                (Some(cells), _) => cells.clone(),
                (None, true) => CellSelection::Merge,
                (None, false) => CellSelection::All,
            },
        }
    }

    /// `--out`, or `results/<experiment>`.
    pub fn out_dir<E: Experiment>(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(E::NAME))
    }
}

/// The configuration and task the options ask for (not yet validated).
pub fn resolve<E: Experiment>(args: &Args) -> anyhow::Result<(E::Config, E::Task)> {
    let parse_task = |spelling: &str| spelling.parse::<E::Task>().map_err(anyhow::Error::msg);
    let cli_task = args.task.as_deref().map(parse_task).transpose()?;
    let mut value = match &args.config {
        Some(path) => crate::config_file::read_config_value(path)?,
        None => {
            let task = cli_task.clone().unwrap_or_else(E::default_task);
            serde_json::to_value(preset_config::<E>(args.preset, &task)?)?
        }
    };
    if let Some(task) = &cli_task {
        let mut config: E::Config = from_value(&value, args)?;
        *E::task_field(&mut config) = task.arg();
        value = serde_json::to_value(config)?;
    }
    if !args.overrides.is_empty() {
        let schema = schemars::schema_for!(E::Config);
        value = overrides::with_omitted_defaults(value, schema.as_value());
    }
    for assignment in &args.overrides {
        overrides::apply(&mut value, assignment)?;
    }
    let mut config: E::Config = from_value(&value, args)?;
    let task = parse_task(E::task_field(&mut config)).context("configuration field 'task'")?;
    Ok((config, task))
}

/// Checks a configuration value against the experiment's type, naming where it came from.
fn from_value<C: serde::de::DeserializeOwned>(value: &Value, args: &Args) -> anyhow::Result<C> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        // The path names the field whatever set it: the file, the preset or a --set.
        let field = match e.path().to_string().as_str() {
            "." => String::new(),
            path => format!("field '{path}': "),
        };
        let inner = e.into_inner();
        match &args.config {
            Some(path) => anyhow::anyhow!("{}: {field}{inner}", path.display()),
            None => anyhow::anyhow!("configuration: {field}{inner}"),
        }
    })
}

/// The `--help` text after the options: what the experiment reproduces, then every
/// configuration field with its default on the quick preset of the default task.
fn long_help<E: Experiment>() -> String {
    let schema = schemars::schema_for!(E::Config);
    let defaults = overrides::with_omitted_defaults(
        serde_json::to_value(E::preset(Preset::Quick, &E::default_task()))
            .expect("a configuration serializes to JSON"),
        schema.as_value(),
    );
    let notes = E::help_notes();
    format!(
        "Tasks: {}.\n\nConfiguration fields (--set KEY=VALUE; defaults of --preset quick --task {}):\n{}{}",
        <E::Task as Task>::CHOICES,
        E::default_task().arg(),
        overrides::field_help(schema.as_value(), &defaults),
        if notes.is_empty() {
            String::new()
        } else {
            format!("\n{notes}")
        }
    )
}

/// The whole of an experiment binary: parses the options, builds the configuration and
/// runs the experiment on every core, printing where the results went, or an error as one
/// line on stderr and exiting non-zero.
pub fn main<E: Experiment>() -> ExitCode {
    let command = Args::command()
        .name(E::NAME)
        .about(E::ABOUT)
        .after_help(long_help::<E>());
    let args = match command
        .try_get_matches()
        .and_then(|matches| Args::from_arg_matches(&matches))
    {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    run_in_pool(threads, || {
        let (config, task) = resolve::<E>(&args)?;
        if args.print_config {
            return print_listing(serde_json::to_string_pretty(&config)? + "\n");
        }
        if args.list_cells {
            E::validate(&config)?;
            let mut listing = String::from("index\tvariant\ttrain_max_len\tseed\tcost\n");
            for (index, cell) in E::cells(&config).iter().enumerate() {
                let cost = E::cell_cost(&config, cell);
                listing += &format!(
                    "{index}\t{}\t{}\t{}\t{cost}\n",
                    cell.variant, cell.train_max_len, cell.seed
                );
            }
            return print_listing(listing);
        }
        crate::checkpoint::signals::install()?;
        let out = args.out_dir::<E>();
        match crate::run::run_with::<E>(&config, &task, &args.data_dir, &out, &args.run_options()) {
            Ok(dir) => {
                if args.cells.is_none() {
                    eprintln!("results in {}", dir.display());
                }
                Ok(())
            }
            Err(e) if e.downcast_ref::<Interrupted>().is_some() => Err(e.context(format!(
                "finished cells are in {}; run the same command again to continue",
                out.join(task.name()).display()
            ))),
            Err(e) => Err(e),
        }
    })
}

/// Writes `text` to stdout. A reader that closed the pipe early (`--print-config | head`)
/// had what it wanted: that is not an error, where `println!` would panic.
fn print_listing(text: String) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Runs `body` on a pool of `threads` threads (see [`harness::in_thread_pool`]), printing
/// an error as one line on stderr and exiting non-zero. The benchmarks call it with their
/// `--threads`.
pub fn run_in_pool(threads: usize, body: impl FnOnce() -> anyhow::Result<()> + Send) -> ExitCode {
    match harness::in_thread_pool(threads, body).and_then(|result| result) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
