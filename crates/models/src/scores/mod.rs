//! The family of alignment scores: one number per (query, source position) pair, turned into
//! weights by [`crate::attention::attend`].
//!
//! Each score is one file of this folder, holding its parameters, its maths and its paper,
//! and one line of the registry below (the `registry!` invocation). [`ScoreKind`] (with
//! [`ScoreKind::ALL`], the names used in CSVs, on the command line and in config files, and
//! the table of all scores in its docs), [`Score`], [`ScoreConfig::check`],
//! [`ScoreConfig::init`] and [`help_list`] are all generated from the registry.
//!
//! Every score splits its work in two: [`Score::prepare`] does what depends only on the
//! source (once per sentence: `U h` for additive, unit-length keys for content), and
//! [`Score::scores`] does what depends on the query (once per decoder step).
//!
//! # Adding a score
//!
//! 1. Write `scores/<file>.rs`: a `#[derive(Module, Debug)] pub struct <Name>Score` holding
//!    its parameters, and `impl AlignmentScore for <Name>Score` (`init` draws the parameters
//!    from the [`ScoreConfig`], `prepare` and `scores` do the maths, `check` refuses sizes
//!    the score cannot take), with a doc comment citing the paper and giving the formula and
//!    the shape of every input and output.
//! 2. Add one line to the `registry!` invocation below:
//!    `<Variant> = <file>::<Name>Score, "<name>", "<paper>", "<one-line description>";`.
//!    The line's position is the score's place in [`ScoreKind::ALL`]: append, so that the
//!    order of the existing scores (and of every experiment that runs them all) stays.
//!
//! The registry declares the file's module itself, so there is no `mod` line to add. (One
//! consequence: `cargo fmt` does not descend into modules declared by a macro; format the
//! score files with `rustfmt --edition 2024 crates/models/src/scores/*.rs`.)

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// What one score file implements; [`Score`] dispatches to it.
///
/// Shapes: `query` `[batch, d_query]`, `keys` `[batch, src_len, d_key]`, the prepared keys
/// `[batch, src_len, _]` (the width is the score's business), the scores `[batch, src_len]`.
pub trait AlignmentScore: Sized {
    /// Creates the module with the sizes of `config` (which has passed [`Self::check`]).
    /// Parameters are drawn in the order they are created: keep that order, or every result
    /// that depends on the seed changes.
    fn init(config: &ScoreConfig, device: &Device) -> Self;

    /// Whether the score can take the sizes of `config`; most can take any.
    fn check(config: &ScoreConfig) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// Once per sentence: keys `[batch, src_len, d_key]` -> what [`Self::scores`] reads,
    /// `[batch, src_len, _]`.
    fn prepare(&self, keys: Tensor<3>) -> Tensor<3>;

    /// Once per step: the query `[batch, d_query]` against the prepared keys
    /// `[batch, src_len, _]` -> scores `[batch, src_len]` (not yet masked).
    fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2>;
}

/// Configuration of a [`Score`].
#[derive(Config, Debug)]
pub struct ScoreConfig {
    /// Which score.
    pub kind: ScoreKind,
    /// Size of the query (the decoder state).
    pub d_query: usize,
    /// Size of a key (an encoder annotation).
    pub d_key: usize,
    /// Hidden size of the additive score's alignment model (n' in Bahdanau et al.).
    #[config(default = 128)]
    pub d_attention: usize,
    /// Longest source (tokens, EOS included) the location score can address: its weights
    /// have one row per position, the limitation Luong et al. point out.
    #[config(default = 64)]
    pub max_src_len: usize,
}

/// The scores as a comma-separated list with their papers, for command-line help:
/// `content (Graves et al. 2014: sharpened cosine β(s) cos(W_k s, h_i)), additive (Bahdanau
/// et al. 2015: v^T tanh(W s + U h_i)), ...`, in the order of [`ScoreKind::ALL`].
pub fn help_list() -> String {
    let entries: Vec<String> = ScoreKind::ALL
        .iter()
        .map(|k| format!("{} ({}: {})", k.name(), k.paper(), k.description()))
        .collect();
    entries.join(", ")
}

/// `Σ_d q_d k_id`: `[B, D]` against `[B, S, D]` -> `[B, S]`. An elementwise product and a sum:
/// for one query per row that is cheaper than a batched `[1, D] x [D, S]` product.
pub fn dot_scores(query: Tensor<2>, keys: &Tensor<3>) -> Tensor<2> {
    let [batch, src_len, _] = keys.dims();
    (keys.clone() * query.unsqueeze_dim::<3>(1)) // [B, S, D]
        .sum_dim(2) // [B, S, 1]
        .reshape([batch, src_len])
}

/// A `Linear` layer `[d_input, d_output]`, with or without bias, as every score creates its
/// layers.
fn linear_layer(d_input: usize, d_output: usize, bias: bool, device: &Device) -> Linear {
    LinearConfig::new(d_input, d_output)
        .with_bias(bias)
        .init(device)
}

/// [`AlignmentScore::check`] for the scores that take a dot product of the query with a key.
fn require_equal_sizes(config: &ScoreConfig) -> Result<(), String> {
    if config.d_query != config.d_key {
        return Err(format!(
            "the {} score needs the query size ({}) to equal the key size ({})",
            config.kind.name(),
            config.d_query,
            config.d_key
        ));
    }
    Ok(())
}

/// Generates, from one line per score, everything that lists the scores; see the module docs.
macro_rules! registry {
    ($(
        $variant:ident = $file:ident :: $score:ident, $name:literal, $paper:literal, $what:literal;
    )+) => {
        $(
            pub mod $file;
            pub use $file::$score;
        )+

        /// Which alignment score. The registry, in its order (that of [`ScoreKind::ALL`]):
        ///
        /// | name | score | paper |
        /// |---|---|---|
        $(#[doc = concat!("| `", $name, "` | ", $what, " | ", $paper, " |")])+
        ///
        /// Serialized (config files) and parsed (command line) by its name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ScoreKind {
            $(
                #[doc = concat!($what, " (", $paper, ").")]
                #[serde(rename = $name)]
                $variant,
            )+
        }

        impl ScoreKind {
            /// Every score, in registry order.
            pub const ALL: [ScoreKind; [$(stringify!($variant)),+].len()] =
                [$(ScoreKind::$variant),+];

            /// The file of each score under `src/scores/`, in registry order.
            #[cfg(test)]
            const FILES: [&'static str; ScoreKind::ALL.len()] = [$(stringify!($file)),+];

            /// The name used in CSVs, on the command line and in config files.
            pub fn name(self) -> &'static str {
                match self {
                    $(ScoreKind::$variant => $name,)+
                }
            }

            /// The paper the score comes from, `Author et al. year`.
            pub fn paper(self) -> &'static str {
                match self {
                    $(ScoreKind::$variant => $paper,)+
                }
            }

            /// What the score computes, in one line.
            pub fn description(self) -> &'static str {
                match self {
                    $(ScoreKind::$variant => $what,)+
                }
            }
        }

        /// An alignment score: one module per entry of the registry; see [`ScoreKind`].
        #[derive(Module, Debug)]
        pub enum Score {
            $(
                #[doc = concat!("`", $name, "`: ", $what, " (", $paper, ").")]
                $variant($score),
            )+
        }

        impl Score {
            /// The kind of this score.
            pub fn kind(&self) -> ScoreKind {
                match self {
                    $(Score::$variant(_) => ScoreKind::$variant,)+
                }
            }

            /// Once per sentence: keys `[batch, src_len, d_key]` -> what [`Self::scores`] reads
            /// (`U h` for additive, unit-length keys for content, the keys themselves
            /// otherwise), `[batch, src_len, _]`.
            pub fn prepare(&self, keys: Tensor<3>) -> Tensor<3> {
                match self {
                    $(Score::$variant(s) => AlignmentScore::prepare(s, keys),)+
                }
            }

            /// Once per step: the query `[batch, d_query]` against the prepared keys
            /// `[batch, src_len, _]` -> scores `[batch, src_len]` (not yet masked).
            pub fn scores(&self, query: Tensor<2>, prepared: &Tensor<3>) -> Tensor<2> {
                match self {
                    $(Score::$variant(s) => AlignmentScore::scores(s, query, prepared),)+
                }
            }
        }

        impl ScoreConfig {
            /// Checks that the sizes fit the score: dot products need `d_query == d_key`.
            pub fn check(&self) -> Result<(), String> {
                match self.kind {
                    $(ScoreKind::$variant => <$score as AlignmentScore>::check(self),)+
                }
            }

            /// Creates the score module.
            ///
            /// # Panics
            /// If [`Self::check`] fails.
            pub fn init(&self, device: &Device) -> Score {
                if let Err(e) = self.check() {
                    panic!("{e}");
                }
                match self.kind {
                    $(ScoreKind::$variant => {
                        Score::$variant(<$score as AlignmentScore>::init(self, device))
                    })+
                }
            }
        }
    };
}

// The registry: one line per score, `Variant = file::Type, "name", "paper", "description"`.
// The order is that of `ScoreKind::ALL`, which experiments iterate: append new scores.
registry! {
    Content = content::ContentScore, "content", "Graves et al. 2014", "sharpened cosine β(s) cos(W_k s, h_i)";
    Additive = additive::AdditiveScore, "additive", "Bahdanau et al. 2015", "v^T tanh(W s + U h_i)";
    Location = location::LocationScore, "location", "Luong et al. 2015", "(W_a s)_i, from the query alone";
    General = general::GeneralScore, "general", "Luong et al. 2015", "bilinear s^T W_a h_i";
    Dot = dot::DotScore, "dot", "Luong et al. 2015", "s^T h_i";
    ScaledDot = scaled_dot::ScaledDotScore, "scaled-dot", "Vaswani et al. 2017", "s^T h_i / sqrt(d)";
}

impl std::str::FromStr for ScoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScoreKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ScoreKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown score '{s}': expected one of {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::ScoreKind;

    /// Every `.rs` file beside this one is a score with a line in the registry, and every
    /// line names a file: a score file without its line would not even be compiled.
    #[test]
    fn registry_has_one_line_per_score_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/scores");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter_map(|name| name.strip_suffix(".rs").map(str::to_owned))
            .filter(|stem| stem != "mod")
            .collect();
        files.sort();
        let mut registered: Vec<String> = ScoreKind::FILES.iter().map(|f| f.to_string()).collect();
        registered.sort();
        assert_eq!(
            files, registered,
            "the files of src/scores/ (left) and the registry's (right) differ"
        );
    }
}
