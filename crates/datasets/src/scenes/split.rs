//! Seeded train / validation / test splits, and a compositional test split (see [`splits`]).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use serde::{Deserialize, Serialize};

use super::facts::{Colour, Scene};
use super::render::{Constraint, Pool, generate_with};
use super::{SceneConfig, SceneError, derive_seed, normalize_name};
use crate::images::LabelledGlyphs;

/// How many scenes each split holds, and how many pairs are held out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Training scenes (no held-out pair).
    pub train: usize,
    /// Validation scenes (no held-out pair).
    pub valid: usize,
    /// In-distribution test scenes (no held-out pair).
    pub test: usize,
    /// Compositional test scenes (at least one held-out pair each).
    pub compositional: usize,
    /// How many colour–class pairs [`splits`] holds out, chosen by [`choose_held_out`];
    /// [`splits_holding_out`] takes its list instead.
    pub held_out_pairs: usize,
}

impl SplitConfig {
    /// The quick preset: 4000 / 500 / 500 scenes, 500 compositional ones, 6 held-out pairs.
    pub fn quick() -> SplitConfig {
        SplitConfig {
            train: 4000,
            valid: 500,
            test: 500,
            compositional: 500,
            held_out_pairs: 6,
        }
    }
}

/// A colour on a class, kept out of training.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeldOutPair {
    /// The colour.
    pub colour: Colour,
    /// The class name, as [`class_names`](super::class_names) lists it.
    pub class_name: String,
}

/// The four splits and the pairs held out of the first three.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneSplits {
    /// Training scenes.
    pub train: Vec<Scene>,
    /// Validation scenes.
    pub valid: Vec<Scene>,
    /// In-distribution test scenes.
    pub test: Vec<Scene>,
    /// Compositional test scenes.
    pub compositional: Vec<Scene>,
    /// The held-out pairs.
    pub held_out: Vec<HeldOutPair>,
}

/// Up to `count` colour–class pairs over `class_names` and `colours`, deterministic in
/// `seed`: the classes are visited in a seeded order, round after round, and each visit holds
/// out one more colour drawn uniformly from those of the class not yet held out, so pairs
/// spread over distinct classes before any class loses a second colour; a class always
/// keeps at least one colour. So at most `classes × (colours − 1)` pairs come back.
pub fn choose_held_out(
    class_names: &[String],
    colours: &[Colour],
    count: usize,
    seed: u64,
) -> Vec<HeldOutPair> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut classes: Vec<&String> = class_names.iter().collect();
    classes.shuffle(&mut rng);
    let mut pairs: Vec<HeldOutPair> = Vec::new();
    loop {
        let before = pairs.len();
        for class in &classes {
            if pairs.len() == count {
                return pairs;
            }
            let free: Vec<Colour> = colours
                .iter()
                .copied()
                .filter(|&c| {
                    !pairs
                        .iter()
                        .any(|p| p.colour == c && p.class_name == **class)
                })
                .collect();
            if free.len() > 1 {
                let colour = *free.choose(&mut rng).expect("two or more colours");
                pairs.push(HeldOutPair {
                    colour,
                    class_name: (*class).clone(),
                });
            }
        }
        if pairs.len() == before {
            return pairs;
        }
    }
}

/// The four splits from `config.seed`, holding out [`SplitConfig::held_out_pairs`] pairs
/// chosen by [`choose_held_out`] over the sources' classes and the configured colours.
///
///
/// A *held-out pair* is a colour on a class ("red sneaker"). Scenes of the train, validation
/// and (in-distribution) test splits never contain an object with a held-out colour on its
/// class, at any size; every scene of the compositional split contains at least one, and may
/// contain any other object too. A model that binds colours to objects, rather than
/// memorising colour–class pairs, should caption both test splits equally well.
///
/// Each split is drawn by [`generate`](super::generate) from its own seed, derived from
/// [`SceneConfig::seed`](super::SceneConfig::seed) (streams 1 to 4 for train, validation,
/// test and compositional; stream 0 chooses the held-out pairs), so changing one split's
/// size leaves the other splits unchanged.
///
/// Fails as [`generate`](super::generate) does, or when fewer pairs can be held out than
/// asked for.
pub fn splits(
    config: &SceneConfig,
    sources: &[LabelledGlyphs],
    split: &SplitConfig,
) -> Result<SceneSplits, SceneError> {
    let pool = Pool::new(sources)?;
    let held_out = choose_held_out(
        &pool.names,
        &config.colours,
        split.held_out_pairs,
        derive_seed(config.seed, 0),
    );
    if held_out.len() < split.held_out_pairs {
        return Err(SceneError::HeldOut(format!(
            "only {} of {} pairs can be held out while every class keeps a colour",
            held_out.len(),
            split.held_out_pairs
        )));
    }
    build(config, &pool, split, held_out)
}

/// The four splits from `config.seed` with a fixed list of held-out pairs
/// ([`SplitConfig::held_out_pairs`] is ignored). Fails as [`generate`](super::generate)
/// does, when a pair names a class the sources lack or a colour the configuration does not
/// use, or when a compositional split is asked for with no pair.
pub fn splits_holding_out(
    config: &SceneConfig,
    sources: &[LabelledGlyphs],
    split: &SplitConfig,
    held_out: Vec<HeldOutPair>,
) -> Result<SceneSplits, SceneError> {
    build(config, &Pool::new(sources)?, split, held_out)
}

fn build(
    config: &SceneConfig,
    pool: &Pool,
    split: &SplitConfig,
    mut held_out: Vec<HeldOutPair>,
) -> Result<SceneSplits, SceneError> {
    let mut pairs = Vec::with_capacity(held_out.len());
    for pair in &mut held_out {
        pair.class_name = normalize_name(&pair.class_name);
        let Some(class) = pool.names.iter().position(|n| *n == pair.class_name) else {
            return Err(SceneError::HeldOut(format!(
                "no class {:?} in the sources",
                pair.class_name
            )));
        };
        if !config.colours.contains(&pair.colour) {
            return Err(SceneError::HeldOut(format!(
                "{} is not among the configured colours",
                pair.colour.name()
            )));
        }
        if !pairs.contains(&(class, pair.colour)) {
            pairs.push((class, pair.colour));
        }
    }
    if split.compositional > 0 && pairs.is_empty() {
        return Err(SceneError::HeldOut(
            "a compositional split needs at least one held-out pair".into(),
        ));
    }
    let seed = |stream| derive_seed(config.seed, stream);
    let exclude = Constraint::Exclude(&pairs);
    Ok(SceneSplits {
        train: generate_with(config, pool, split.train, seed(1), &exclude)?,
        valid: generate_with(config, pool, split.valid, seed(2), &exclude)?,
        test: generate_with(config, pool, split.test, seed(3), &exclude)?,
        compositional: if split.compositional == 0 {
            Vec::new()
        } else {
            let require = Constraint::RequireOne(&pairs);
            generate_with(config, pool, split.compositional, seed(4), &require)?
        },
        held_out,
    })
}
