//! The image encoder's pretraining, the stand-in for Xu et al.'s ImageNet-trained VGG: a
//! multi-label task on the training images, after which the encoder is frozen and every
//! image annotated once.
//!
//! Two forms of the task, by what the images come with:
//!
//! - **Scenes** know where every object is, so the question is asked of every cell of the
//!   grid: which classes, colours and sizes lie in this cell ([`PretrainTarget::Cells`]).
//!   The image-level question ("which classes and colours are present anywhere") gave the
//!   encoder one answer per image to learn from: after 3,000 Adam steps it detected 64% of
//!   the classes present in the test scenes, after 6,000 steps 72%, and said nothing about
//!   size. Asking each of the 36 cells gives 36 answers per image, and asks for features
//!   that say what is *here*, which is what an attending decoder reads.
//! - **Photographs** come with captions only, so the question is image-level: which of the
//!   training captions' most frequent content words describe the image
//!   ([`PretrainTarget::Image`]).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use datasets::scenes::{Colour, Scene, Size};
use models::vision::{ImageEncoder, multilabel_loss};

use super::Config;
use crate::training::{
    EpochBatches, LearningRateSchedule, OptimizerSettings, cross_entropy_loss, train_loop,
};
use crate::vision::images_tensor;

/// What the pretraining labels describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PretrainTarget {
    /// The whole image: one row of `n_labels` per image.
    Image,
    /// Each cell of the grid: one row of `cells × n_labels` per image (cell-major).
    Cells,
}

/// The pretraining targets of the training images, 0/1 per label.
pub struct PretrainLabels {
    /// Whole images or cells.
    pub target: PretrainTarget,
    /// Labels of the encoder's head.
    pub n_labels: usize,
    /// One row per training image, laid out as `target` says.
    pub rows: Vec<Vec<f32>>,
}

impl PretrainLabels {
    /// The weight of a present label in the loss: absent labels per present one over the
    /// training set (at least 1), so that both count alike.
    pub fn positive_weight(&self) -> f64 {
        let total: usize = self.rows.iter().map(Vec::len).sum();
        let present = self.rows.iter().flatten().filter(|&&y| y > 0.5).count();
        ((total - present) as f64 / present.max(1) as f64).max(1.0)
    }
}

/// The labels of a scene's cells: for each of the `grid × grid` cells (row-major), 1 for the
/// class, the colour and the size of every object in the cell, in that order
/// (`n_classes + 6 + 2` labels a cell). An object is in a cell when the cell holds the centre
/// of its ink box or the box holds the cell's centre, so every object is in at least one
/// cell whatever the grid.
pub fn cell_labels(scene: &Scene, n_classes: usize, grid: usize) -> Vec<f32> {
    let n_labels = n_classes + Colour::ALL.len() + Size::ALL.len();
    let side = scene.image.width as f32 / grid as f32;
    let mut labels = vec![0.0; grid * grid * n_labels];
    for object in &scene.objects {
        let b = &object.bbox;
        let centre = ((b.x0 + b.x1) as f32 / 2.0, (b.y0 + b.y1) as f32 / 2.0);
        let colour = Colour::ALL.iter().position(|&c| c == object.colour);
        let size = Size::ALL.iter().position(|&s| s == object.size);
        for cell in 0..grid * grid {
            let (x0, y0) = ((cell % grid) as f32 * side, (cell / grid) as f32 * side);
            let holds_centre =
                (x0..x0 + side).contains(&centre.0) && (y0..y0 + side).contains(&centre.1);
            let (cx, cy) = (x0 + side / 2.0, y0 + side / 2.0);
            let centre_inside = (b.x0 as f32..b.x1 as f32).contains(&cx)
                && (b.y0 as f32..b.y1 as f32).contains(&cy);
            if holds_centre || centre_inside {
                let row = &mut labels[cell * n_labels..(cell + 1) * n_labels];
                row[object.class] = 1.0;
                row[n_classes + colour.expect("a colour of Colour::ALL")] = 1.0;
                row[n_classes + Colour::ALL.len() + size.expect("a size of Size::ALL")] = 1.0;
            }
        }
    }
    labels
}

/// Trains the encoder's multi-label head on the training images, then returns the encoder
/// without autodiff (frozen) and its device.
pub fn pretrain_encoder(
    config: &Config,
    train: &[Scene],
    labels: &PretrainLabels,
) -> anyhow::Result<(ImageEncoder, Device)> {
    let n_labels = labels.n_labels.max(1);
    let positive_weight = labels.positive_weight();
    let device = harness::device(config.encoder_seed)?;
    let encoder = config.encoder_config(n_labels).init(&device);
    let mut batches = EpochBatches::new(train.len(), config.batch_size);
    let next_batch = || {
        let idx = batches.next_batch();
        let scenes: Vec<&Scene> = idx.iter().map(|&i| &train[i]).collect();
        let targets: Vec<f32> = idx.iter().flat_map(|&i| &labels.rows[i]).copied().collect();
        let rows = targets.len() / n_labels; // images, or images × cells
        (
            images_tensor(&scenes, &device),
            Tensor::<2>::from_data(TensorData::new(targets, [rows, n_labels]), &device),
        )
    };
    let settings = OptimizerSettings {
        steps: config.pretrain_steps,
        learning_rate: config.pretrain_learning_rate,
        grad_clip: config.grad_clip,
        schedule: LearningRateSchedule::Constant,
    };
    let trained = train_loop(
        &settings,
        encoder,
        "encoder pretraining",
        0,
        next_batch,
        |encoder: &ImageEncoder, (images, targets), _| {
            let annotations = encoder.forward(images.clone()); // [B, L, D]
            let logits = match labels.target {
                PretrainTarget::Image => encoder.label_logits(annotations),
                PretrainTarget::Cells => {
                    let [batch, cells, _] = annotations.dims();
                    // [B, L, n_labels] -> [B·L, n_labels], cell-major like the targets.
                    let logits = encoder.cell_label_logits(annotations);
                    logits.reshape([batch * cells, n_labels])
                }
            };
            cross_entropy_loss(multilabel_loss(logits, targets.clone(), positive_weight))
        },
    )?;
    Ok((trained.model.valid(), device.without_autodiff()))
}

/// How often each label (the classes, then the colours) was claimed in scenes where it was
/// present and in scenes where it was absent.
#[derive(Clone, Debug, PartialEq)]
pub struct PresenceCounts {
    n_classes: usize,
    /// Per label, `[present][claimed]` scene counts.
    counts: Vec<[[usize; 2]; 2]>,
}

impl PresenceCounts {
    /// No scenes yet, for `n_classes` classes and the six colours.
    pub fn new(n_classes: usize) -> Self {
        Self {
            n_classes,
            counts: vec![[[0; 2]; 2]; n_classes + Colour::ALL.len()],
        }
    }

    /// Counts one scene: `claimed[label]` is whether the encoder claimed it, `present`
    /// whether the scene holds it.
    ///
    /// # Panics
    /// If either slice is not one value per label.
    pub fn add(&mut self, claimed: &[bool], present: &[bool]) {
        assert_eq!(claimed.len(), self.counts.len(), "one claim per label");
        assert_eq!(present.len(), self.counts.len(), "one truth per label");
        for ((count, &claimed), &present) in self.counts.iter_mut().zip(claimed).zip(present) {
            count[usize::from(present)][usize::from(claimed)] += 1;
        }
    }

    /// `[recall, false alarms]` over `labels`: the share of (scene, present label) pairs
    /// claimed, and of (scene, absent label) pairs claimed; 0 where there are none.
    fn rates(&self, labels: std::ops::Range<usize>) -> [f64; 2] {
        let mut sums = [[0usize; 2]; 2];
        for count in &self.counts[labels] {
            for (sum, c) in sums.iter_mut().zip(count) {
                sum[0] += c[0];
                sum[1] += c[1];
            }
        }
        let rate = |c: [usize; 2]| c[1] as f64 / (c[0] + c[1]).max(1) as f64;
        [rate(sums[1]), rate(sums[0])]
    }

    /// `[recall, false alarms]` over the classes.
    pub fn classes(&self) -> [f64; 2] {
        self.rates(0..self.n_classes)
    }

    /// `[recall, false alarms]` over the colours.
    pub fn colours(&self) -> [f64; 2] {
        self.rates(self.n_classes..self.counts.len())
    }

    /// Each class's recall, in class order, with the number of scenes that hold it.
    pub fn class_recalls(&self) -> Vec<(f64, usize)> {
        (0..self.n_classes)
            .map(|class| {
                let present = self.counts[class][1];
                (self.rates(class..class + 1)[0], present[0] + present[1])
            })
            .collect()
    }
}

/// How well the cell head of a scene-pretrained encoder reads `scenes`, as an image-level
/// question: a class (colour) counts as claimed when some cell's logit for it is above
/// `ln w`, `w` the loss's positive weight (where the weighted loss puts even odds).
pub fn presence_accuracy(
    encoder: &ImageEncoder,
    scenes: &[Scene],
    n_classes: usize,
    positive_weight: f64,
    device: &Device,
) -> PresenceCounts {
    let threshold = positive_weight.ln() as f32;
    let mut counts = PresenceCounts::new(n_classes);
    let n_judged = n_classes + Colour::ALL.len();
    for part in scenes.chunks(256) {
        let refs: Vec<&Scene> = part.iter().collect();
        let annotations = encoder.forward(images_tensor(&refs, device));
        let [batch, _, _] = annotations.dims();
        let strongest = encoder.cell_label_logits(annotations).max_dim(1); // [B, 1, n_labels]
        let logits: Vec<f32> = strongest.into_data().iter::<f32>().collect();
        let n_labels = logits.len() / batch;
        for (scene, row) in part.iter().zip(logits.chunks(n_labels)) {
            let mut present = vec![false; n_judged];
            for object in &scene.objects {
                present[object.class] = true;
                let colour = Colour::ALL.iter().position(|&c| c == object.colour);
                present[n_classes + colour.expect("a colour of Colour::ALL")] = true;
            }
            let claimed: Vec<bool> = row[..n_judged].iter().map(|&l| l > threshold).collect();
            counts.add(&claimed, &present);
        }
    }
    counts
}

/// The annotation vectors of every scene, `[scenes, L, D]` row-major, in chunks.
pub fn annotate(
    encoder: &ImageEncoder,
    scenes: &[Scene],
    chunk: usize,
    device: &Device,
) -> Vec<f32> {
    let mut out = Vec::new();
    for part in scenes.chunks(chunk.max(1)) {
        let refs: Vec<&Scene> = part.iter().collect();
        let annotations = encoder.forward(images_tensor(&refs, device));
        out.extend(annotations.into_data().iter::<f32>());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes and the six colours (8 labels). Scene A holds class 0 in colour 0, and
    /// the encoder claims class 0, class 1 and colour 0; scene B holds class 1 in colour 1,
    /// and nothing is claimed. Present classes: (A, 0) claimed, (B, 1) not: recall 1/2.
    /// Absent classes: (A, 1) claimed, (B, 0) not: false alarms 1/2. Colours: (A, 0)
    /// claimed, (B, 1) not; none of the 10 absent ones claimed.
    #[test]
    fn presence_counts_give_hand_counted_rates() {
        let mut counts = PresenceCounts::new(2);
        let labels = |on: &[usize]| -> Vec<bool> { (0..8).map(|l| on.contains(&l)).collect() };
        counts.add(&labels(&[0, 1, 2]), &labels(&[0, 2]));
        counts.add(&labels(&[]), &labels(&[1, 3]));
        assert_eq!(counts.classes(), [0.5, 0.5]);
        assert_eq!(counts.colours(), [0.5, 0.0]);
        assert_eq!(counts.class_recalls(), vec![(1.0, 1), (0.0, 1)]);
    }
}
