//! The scene judge of the text-to-image experiment: its shapes and slot order, its targets,
//! its loss and posteriors on hand-built logits, and a small judge that must learn to read
//! procedural scenes it has not seen.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor};
use datasets::images::shapes::{SHAPES, procedural_glyphs};
use datasets::scenes::{Colour, GRID, Scene, SceneConfig, SceneObject, generate};
use models::vision::{JudgeOutput, SLOTS, SceneJudgeConfig, judge_loss, target_tensors};

mod common;
use common::{assert_close, seed_device, tensor, values};

fn ids(t: Tensor<2, Int>) -> Vec<i64> {
    t.into_data().iter::<i64>().collect()
}

/// A scene's objects as the judge's `(slot, class, colour)` triples: slot `row * 3 + col`,
/// the colour's index in [`Colour::ALL`] (the quick preset's colour list).
fn triples(objects: &[SceneObject]) -> Vec<(usize, usize, usize)> {
    objects
        .iter()
        .map(|o| {
            let colour = Colour::ALL.iter().position(|&c| c == o.colour).unwrap();
            (o.slot.row * GRID + o.slot.col, o.class, colour)
        })
        .collect()
}

#[test]
fn judge_reads_nine_slots_in_row_major_order() {
    let device = Device::flex();
    let _rng = seed_device(&device, 1);
    let config = SceneJudgeConfig::new(6);
    let judge = config.init(&device);
    // Image 1 has a bright 8 × 8 patch in the top-right slot (rows 0..16, columns 32..48).
    let mut pixels = vec![0.0f32; 2 * 3 * 48 * 48];
    for c in 0..3 {
        for y in 4..12 {
            for x in 36..44 {
                pixels[((3 + c) * 48 + y) * 48 + x] = 1.0;
            }
        }
    }
    let out = judge.forward(tensor(pixels, [2, 3, 48, 48], &device));
    assert_eq!(out.features.dims(), [2, 9, 128]);
    assert_eq!(out.class_logits.dims(), [2, 9, 7]);
    assert_eq!(out.colour_logits.dims(), [2, 9, 7]);
    assert_eq!(out.predicted_classes().dims(), [2, 9]);
    assert_eq!(out.predicted_colours().dims(), [2, 9]);
    assert_eq!(out.image_features().dims(), [2, 128]);
    let posteriors = out.class_posteriors();
    assert_eq!(posteriors.objects.dims(), [2, 9, 6]);
    assert_eq!(posteriors.occupied.dims(), [2, 9]);

    let f = values(out.features.clone());
    let slot = |image: usize, i: usize| &f[(image * 9 + i) * 128..(image * 9 + i + 1) * 128];
    assert_ne!(
        slot(0, 2),
        slot(1, 2),
        "the patch changes slot 2 (row 0, column 2)"
    );
    for far in [0, 6, 7, 8] {
        assert_eq!(slot(0, far), slot(1, far), "and not slot {far}");
    }
    // The image-level features are the slots' mean.
    let mean: Vec<f32> = (0..128)
        .map(|k| (0..9).map(|i| slot(1, i)[k]).sum::<f32>() / 9.0)
        .collect();
    assert_close(&values(out.image_features())[128..], &mean, 1e-6, "mean");

    assert!(config.check().is_ok());
    assert!(
        config.clone().with_canvas(32).check().is_err(),
        "a 4 × 4 map does not split into 3 × 3 slots"
    );
    assert!(config.clone().with_canvas(50).check().is_err());
    assert!(config.clone().with_channels(vec![]).check().is_err());
    assert!(
        config
            .clone()
            .with_canvas(24)
            .with_channels(vec![8, 16, 32])
            .check()
            .is_ok()
    );
}

#[test]
fn slot_targets_mark_the_objects_and_leave_the_rest_empty() {
    let device = Device::flex();
    let config = SceneJudgeConfig::new(4).with_n_colours(3);
    assert_eq!((config.empty_class(), config.empty_colour()), (4, 3));
    let a = config.slot_targets(&[(0, 2, 1), (8, 3, 0)]);
    assert_eq!(a.classes, [2, 4, 4, 4, 4, 4, 4, 4, 3]);
    assert_eq!(a.colours, [1, 3, 3, 3, 3, 3, 3, 3, 0]);
    let b = config.slot_targets(&[(4, 0, 2)]);
    let (classes, colours) = target_tensors(&[a, b], &device);
    assert_eq!(classes.dims(), [2, SLOTS]);
    let classes = ids(classes);
    assert_eq!(&classes[..9], &[2, 4, 4, 4, 4, 4, 4, 4, 3]);
    assert_eq!(&classes[9..], &[4, 4, 4, 4, 0, 4, 4, 4, 4]);
    assert_eq!(&ids(colours)[9..], &[3, 3, 3, 3, 2, 3, 3, 3, 3]);
}

#[test]
#[should_panic(expected = "two objects in slot 5")]
fn slot_targets_refuse_two_objects_in_one_slot() {
    SceneJudgeConfig::new(4).slot_targets(&[(5, 0, 0), (5, 1, 1)]);
}

#[test]
#[should_panic(expected = "class 4 is outside")]
fn slot_targets_refuse_the_empty_class_as_an_object() {
    SceneJudgeConfig::new(4).slot_targets(&[(0, 4, 0)]);
}

/// Two classes and one colour (empty ids 2 and 1), one image.
///
/// Class head: slot 0 logits (2, 0, -1), target 0: `ln(e² + 1 + e⁻¹) - 2 = 0.1698460`;
/// slot 1 (0, 1, 0), target empty: `ln(2 + e) = 1.5514447`; slots 2-8 all 0, target empty:
/// `ln 3 = 1.0986123` each. Mean `(0.1698460 + 1.5514447 + 7 ln 3) / 9 = 1.0457308`.
///
/// Colour head: slot 0 (3, 0), target 0: `ln(e³ + 1) - 3 = 0.0485874`; slot 1 (-1, 1),
/// target empty: `ln(e⁻¹ + e) - 1 = 0.1269280`; slots 2-8 all 0, target empty: `ln 2 =
/// 0.6931472` each. Mean `(0.0485874 + 0.1269280 + 7 ln 2) / 9 = 0.5586162`. Loss:
/// `1.0457308 + 0.5586162 = 1.6043469` (1.60434694 unrounded).
///
/// Posteriors: slot 0, `p(occupied) = 1 - e⁻¹ / (e² + 1 + e⁻¹) = 0.9579899` and
/// `p(class | occupied) = softmax(2, 0) = (0.8807971, 0.1192029)`; slot 1, `1 - 1 / (2 + e)
/// = 0.7880584` and `softmax(0, 1) = (0.2689414, 0.7310586)`; the rest `2/3` and `(½, ½)`.
#[test]
fn loss_and_posteriors_match_hand_derivation() {
    let device = Device::flex();
    let mut class_logits = vec![2.0, 0.0, -1.0, 0.0, 1.0, 0.0];
    class_logits.extend([0.0; 21]);
    let mut colour_logits = vec![3.0, 0.0, -1.0, 1.0];
    colour_logits.extend([0.0; 14]);
    let output = JudgeOutput {
        features: Tensor::zeros([1, 9, 4], &device),
        class_logits: tensor(class_logits, [1, 9, 3], &device),
        colour_logits: tensor(colour_logits, [1, 9, 2], &device),
    };
    let config = SceneJudgeConfig::new(2).with_n_colours(1);
    let (classes, colours) = target_tensors(&[config.slot_targets(&[(0, 0, 0)])], &device);
    let loss = judge_loss(&output, classes, colours);
    assert_close(&values(loss), &[1.6043469], 1e-6, "loss");

    assert_eq!(ids(output.predicted_classes()), [0, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(ids(output.predicted_colours()), [0, 1, 0, 0, 0, 0, 0, 0, 0]);
    let posteriors = output.class_posteriors();
    let mut occupied = vec![0.9579899, 0.7880584];
    occupied.extend([2.0 / 3.0; 7]);
    assert_close(&values(posteriors.occupied), &occupied, 1e-6, "p(occupied)");
    let mut objects = vec![0.8807971, 0.1192029, 0.2689414, 0.7310586];
    objects.extend([0.5; 14]);
    assert_close(
        &values(posteriors.objects),
        &objects,
        1e-6,
        "p(class | occupied)",
    );
}

/// `n` scenes of the quick preset (48 pixels, 1 to 4 objects, six colours) drawn with `seed`
/// from 20 procedural glyphs of each shape, themselves drawn with `glyph_seed`.
fn scenes(n: usize, glyph_seed: u64, seed: u64) -> Vec<Scene> {
    let glyphs = procedural_glyphs(20, glyph_seed);
    generate(&SceneConfig::quick(), &[glyphs], n, seed).unwrap()
}

/// The images and the class and colour targets of `batch`.
fn batch_tensors(
    config: &SceneJudgeConfig,
    batch: &[&Scene],
    device: &Device,
) -> (Tensor<4>, Tensor<2, Int>, Tensor<2, Int>) {
    let pixels: Vec<f32> = batch.iter().flat_map(|s| s.image.data.clone()).collect();
    let images = tensor(pixels, [batch.len(), 3, 48, 48], device);
    let targets: Vec<_> = batch
        .iter()
        .map(|s| config.slot_targets(&triples(&s.objects)))
        .collect();
    let (classes, colours) = target_tensors(&targets, device);
    (images, classes, colours)
}

/// A deterministic stream for the batch order: splitmix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E9B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small judge (blocks of 8, 16 and 32 channels, 64 features) trained on 400 procedural
/// scenes for 500 Adam steps of 32 scenes reads the slots of 60 scenes drawn from other
/// glyphs: at least 90% of all slots right class-or-empty, 95% colour-or-empty, and 75% of
/// the objects (occupied slots) right on both. About 72% of slots are empty, so a judge that
/// reads every slot as empty fails all three. Measured with this seed: 0.963, 0.993 and
/// 0.856; with three other seeds (model and scenes): 0.965 to 0.989, 0.993 to 1.0 and 0.849
/// to 0.966. About 18 s on two busy cores.
#[test]
fn judge_learns_to_read_unseen_scenes() {
    let plain = Device::flex();
    let _rng = seed_device(&plain, 2);
    let device = plain.clone().autodiff();
    let config = SceneJudgeConfig::new(SHAPES.len())
        .with_channels(vec![8, 16, 32])
        .with_d_features(64);
    let mut judge = config.init(&device);
    let mut optim = AdamConfig::new().init();
    let train = scenes(400, 11, 12);
    let test = scenes(60, 13, 14);
    let mut state = 15u64;
    let batch = 32;
    let mut order: Vec<usize> = (0..train.len()).collect();
    for step in 0..500 {
        if step % (train.len() / batch) == 0 {
            for i in (1..order.len()).rev() {
                order.swap(i, (next(&mut state) % (i as u64 + 1)) as usize);
            }
        }
        let start = (step % (train.len() / batch)) * batch;
        let picked: Vec<&Scene> = order[start..start + batch]
            .iter()
            .map(|&i| &train[i])
            .collect();
        let (images, classes, colours) = batch_tensors(&config, &picked, &device);
        let loss = judge_loss(&judge.forward(images), classes, colours);
        let grads = GradientsParams::from_grads(loss.backward(), &judge);
        judge = optim.step(3e-3, judge, grads);
    }

    let judge = judge.valid();
    let picked: Vec<&Scene> = test.iter().collect();
    let (images, classes, colours) = batch_tensors(&config, &picked, &plain);
    let out = judge.forward(images);
    let (classes, colours) = (ids(classes), ids(colours));
    let (read_classes, read_colours) = (ids(out.predicted_classes()), ids(out.predicted_colours()));
    let share = |hits: usize, of: usize| hits as f32 / of as f32;
    let slots = classes.len();
    let class_hits = (0..slots)
        .filter(|&i| read_classes[i] == classes[i])
        .count();
    let colour_hits = (0..slots)
        .filter(|&i| read_colours[i] == colours[i])
        .count();
    let occupied: Vec<usize> = (0..slots)
        .filter(|&i| classes[i] != config.empty_class() as i64)
        .collect();
    let object_hits = occupied
        .iter()
        .filter(|&&i| read_classes[i] == classes[i] && read_colours[i] == colours[i])
        .count();
    let (class_acc, colour_acc, object_acc) = (
        share(class_hits, slots),
        share(colour_hits, slots),
        share(object_hits, occupied.len()),
    );
    eprintln!(
        "judge on {} unseen scenes: class-or-empty {class_acc:.3}, colour-or-empty \
         {colour_acc:.3} of {slots} slots; objects fully right {object_acc:.3} of {}",
        test.len(),
        occupied.len()
    );
    assert!(
        class_acc >= 0.9,
        "class-or-empty right in {class_acc} of slots"
    );
    assert!(
        colour_acc >= 0.95,
        "colour-or-empty right in {colour_acc} of slots"
    );
    assert!(object_acc >= 0.75, "objects fully right: {object_acc}");
}
