//! The semantic score of a caption against a scene's facts (defined on [`score`]).

use super::facts::{Relation, SceneObject};
use super::normalize_name;
use super::parse::{ParsedCaption, parse_caption};

/// The counts of one caption against one scene (defined on [`score`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptionScore {
    /// Whether the caption parsed to its last token.
    pub complete: bool,
    /// `p`: objects the caption names.
    pub mentioned: usize,
    /// `n`: objects in the scene.
    pub objects: usize,
    /// Mentions matched to a scene object of their class.
    pub matched: usize,
    /// Matched mentions naming the object's colour.
    pub colours_right: usize,
    /// Matched mentions naming the object's size.
    pub sizes_right: usize,
    /// `q`: relations the caption states.
    pub relations_stated: usize,
    /// Stated relations true of the matched objects.
    pub relations_right: usize,
    /// Stated relations whose two objects are both matched (and distinct), and so can be
    /// judged on their own: the relations of [`relations_right`](Self::relations_right)'s
    /// count, right or wrong.
    pub relations_judged: usize,
    /// Of those, the ones stated *ahead*: before the object they relate to is named ("a red
    /// square **left of** a blue ring"; the grammar's first relation). The decoder must
    /// choose the next object when it writes the relation word.
    pub ahead_judged: usize,
    /// Ahead relations that hold.
    pub ahead_right: usize,
    /// Over the judged relations, how many of the four relation words hold between the two
    /// objects' slots (1, or 2 on a diagonal): a uniformly random word is right with
    /// probability `true_words / 4` each.
    pub true_words: usize,
}

impl CaptionScore {
    /// `max(p, n)`, the denominator of the object, colour and size rates.
    pub fn object_slots(&self) -> usize {
        self.mentioned.max(self.objects)
    }

    /// `max(q, n - 1)`, the denominator of the relation rate.
    pub fn relation_slots(&self) -> usize {
        self.relations_stated.max(self.objects.saturating_sub(1))
    }

    /// `matched / max(p, n)`.
    pub fn object_rate(&self) -> f64 {
        rate(self.matched, self.object_slots())
    }

    /// `colours_right / max(p, n)`.
    pub fn colour_rate(&self) -> f64 {
        rate(self.colours_right, self.object_slots())
    }

    /// `sizes_right / max(p, n)`.
    pub fn size_rate(&self) -> f64 {
        rate(self.sizes_right, self.object_slots())
    }

    /// `relations_right / max(q, n - 1)`, 1 when both are 0.
    pub fn relation_rate(&self) -> f64 {
        rate(self.relations_right, self.relation_slots())
    }

    /// Whether the whole caption is right.
    pub fn all_right(&self) -> bool {
        let n = self.objects;
        self.complete
            && self.mentioned == n
            && self.matched == n
            && self.colours_right == n
            && self.sizes_right == n
            && self.relations_stated == n.saturating_sub(1)
            && self.relations_right == self.relations_stated
    }
}

/// `num / den`, 1 for `0 / 0`.
fn rate(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// Sums of [`CaptionScore`]s over a corpus, and their micro-averaged rates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScoreTotals {
    /// Captions added.
    pub captions: usize,
    /// Captions entirely right.
    pub all_right: usize,
    /// Sum of `matched`.
    pub matched: usize,
    /// Sum of `colours_right`.
    pub colours_right: usize,
    /// Sum of `sizes_right`.
    pub sizes_right: usize,
    /// Sum of `relations_right`.
    pub relations_right: usize,
    /// Sum of `relations_judged`.
    pub relations_judged: usize,
    /// Sum of `ahead_judged`.
    pub ahead_judged: usize,
    /// Sum of `ahead_right`.
    pub ahead_right: usize,
    /// Sum of `true_words`.
    pub true_words: usize,
    /// Sum of `max(p, n)`.
    pub object_slots: usize,
    /// Sum of `max(q, n - 1)`.
    pub relation_slots: usize,
}

impl ScoreTotals {
    /// Adds one caption's counts.
    pub fn add(&mut self, score: &CaptionScore) {
        self.captions += 1;
        self.all_right += usize::from(score.all_right());
        self.matched += score.matched;
        self.colours_right += score.colours_right;
        self.sizes_right += score.sizes_right;
        self.relations_right += score.relations_right;
        self.relations_judged += score.relations_judged;
        self.ahead_judged += score.ahead_judged;
        self.ahead_right += score.ahead_right;
        self.true_words += score.true_words;
        self.object_slots += score.object_slots();
        self.relation_slots += score.relation_slots();
    }

    /// Share of captions entirely right (1 when empty).
    pub fn caption_rate(&self) -> f64 {
        rate(self.all_right, self.captions)
    }

    /// Σ matched / Σ max(p, n).
    pub fn object_rate(&self) -> f64 {
        rate(self.matched, self.object_slots)
    }

    /// Σ colours right / Σ max(p, n).
    pub fn colour_rate(&self) -> f64 {
        rate(self.colours_right, self.object_slots)
    }

    /// Σ sizes right / Σ max(p, n).
    pub fn size_rate(&self) -> f64 {
        rate(self.sizes_right, self.object_slots)
    }

    /// Σ relations right / Σ max(q, n - 1).
    pub fn relation_rate(&self) -> f64 {
        rate(self.relations_right, self.relation_slots)
    }

    /// Of the judged relations stated ahead of their second object, the share that hold
    /// (1 when there are none).
    pub fn ahead_relation_rate(&self) -> f64 {
        rate(self.ahead_right, self.ahead_judged)
    }

    /// Of the judged relations stated after both their objects, the share that hold (1
    /// when there are none).
    pub fn behind_relation_rate(&self) -> f64 {
        rate(
            self.relations_right - self.ahead_right,
            self.relations_judged - self.ahead_judged,
        )
    }

    /// What a uniformly random relation word would score on the judged relations: Σ
    /// true words / (4 · Σ judged) (1 when there are none).
    pub fn relation_chance(&self) -> f64 {
        rate(self.true_words, 4 * self.relations_judged)
    }
}

/// Agreement of a matched pair: (1, colour agrees, size agrees), compared lexicographically.
type Gain = (usize, usize, usize);

fn plus(a: Gain, b: Gain) -> Gain {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

/// The best matching of `mentions` to `objects` (all of one class), as (mention, object)
/// pairs: exhaustive over subsets of objects for up to 12 objects, greedy beyond (no scene
/// has that many).
fn match_class(
    mentions: &[usize],
    objects: &[usize],
    gain: impl Fn(usize, usize) -> Gain,
) -> Vec<(usize, usize)> {
    let k = objects.len();
    if k > 12 {
        let mut used = vec![false; k];
        let mut pairs = Vec::new();
        for &m in mentions {
            let best = (0..k)
                .filter(|&j| !used[j])
                .max_by_key(|&j| (gain(m, objects[j]), std::cmp::Reverse(j)));
            if let Some(j) = best {
                used[j] = true;
                pairs.push((m, objects[j]));
            }
        }
        return pairs;
    }
    // best[i][mask]: the most gain from mentions i.. with the objects in `mask` taken.
    let masks = 1usize << k;
    let mut best = vec![vec![(0, 0, 0); masks]; mentions.len() + 1];
    let mut choice = vec![vec![None; masks]; mentions.len()];
    for i in (0..mentions.len()).rev() {
        for mask in 0..masks {
            // Candidates in order: each free object (ascending), then leaving mention i
            // unmatched; the first best one wins.
            let mut top: Option<(Gain, Option<usize>)> = None;
            for j in (0..k).filter(|j| mask & (1 << j) == 0) {
                let value = plus(gain(mentions[i], objects[j]), best[i + 1][mask | (1 << j)]);
                if top.is_none_or(|(t, _)| value > t) {
                    top = Some((value, Some(j)));
                }
            }
            let skip = best[i + 1][mask];
            let (value, pick) = match top {
                Some((t, pick)) if t >= skip => (t, pick),
                _ => (skip, None),
            };
            best[i][mask] = value;
            choice[i][mask] = pick;
        }
    }
    let mut pairs = Vec::new();
    let mut mask = 0;
    for (i, row) in choice.iter().enumerate() {
        if let Some(j) = row[mask] {
            pairs.push((mentions[i], objects[j]));
            mask |= 1 << j;
        }
    }
    pairs
}

/// Scores what a caption says against a scene's `objects`.
///
/// # Definition
///
/// Let the caption mention `p` objects and state `q` relations, and the scene hold `n`
/// objects.
///
/// 1. **Matching.** Mentions are matched one-to-one to scene objects *of the same class*,
///    choosing among all such matchings the one with the most matched pairs, then the most
///    pairs whose colour agrees, then the most whose size agrees; remaining ties go to the
///    earliest scene object for the earliest mention. (Scene objects differ in class, colour
///    or size, so a caption naming every object correctly has exactly one best matching.)
/// 2. **Counts.** `matched` = matched pairs (the size of the multiset intersection of the
///    mentioned and the present classes); `colours_right` / `sizes_right` = matched pairs
///    whose mention names the object's colour / size (a missing word is wrong);
///    `relations_right` = stated relations whose two mentions are both matched and that
///    [hold](super::Relation::holds) between the matched objects' slots (on a diagonal
///    either of the two true words counts). Stated relations whose two mentions are both
///    matched (to different objects) are `relations_judged`; those stated *ahead* of the
///    object they relate to (its mention comes after the subject's: "a red square left of
///    a blue ring") are `ahead_judged`, `ahead_right` of them hold; `true_words` counts,
///    over the judged ones, the relation words that hold.
/// 3. **Rates**, each 1 exactly when that aspect is entirely right:
///    objects `matched / max(p, n)`, colours `colours_right / max(p, n)`, sizes
///    `sizes_right / max(p, n)`, relations `relations_right / max(q, n - 1)` (1 when both
///    are 0). Extra mentions and extra relations thus lower the rates as missing ones do.
/// 4. **Whole caption right**: the caption parsed completely, `p = n`, and every count is
///    full: `matched = colours_right = sizes_right = n`, `relations_right = q = n - 1`.
///
/// A caption that does not parse at all scores as mentioning nothing.
pub fn score(parsed: &ParsedCaption, objects: &[SceneObject]) -> CaptionScore {
    let mention_names: Vec<String> = parsed
        .objects
        .iter()
        .map(|m| normalize_name(&m.class_name))
        .collect();
    let object_names: Vec<String> = objects
        .iter()
        .map(|o| normalize_name(&o.class_name))
        .collect();
    let gain = |m: usize, o: usize| {
        let (mention, object) = (&parsed.objects[m], &objects[o]);
        (
            1,
            usize::from(mention.colour == Some(object.colour)),
            usize::from(mention.size == Some(object.size)),
        )
    };
    let mut matched: Vec<Option<usize>> = vec![None; parsed.objects.len()];
    let mut classes: Vec<&String> = object_names.iter().collect();
    classes.sort();
    classes.dedup();
    for class in classes {
        let of_class = |names: &[String]| -> Vec<usize> {
            (0..names.len()).filter(|&i| names[i] == *class).collect()
        };
        for (m, o) in match_class(&of_class(&mention_names), &of_class(&object_names), gain) {
            matched[m] = Some(o);
        }
    }
    let mut score = CaptionScore {
        complete: parsed.complete,
        mentioned: parsed.objects.len(),
        objects: objects.len(),
        relations_stated: parsed.relations.len(),
        ..CaptionScore::default()
    };
    for (m, o) in matched.iter().enumerate() {
        if let Some(o) = *o {
            let (_, colour, size) = gain(m, o);
            score.matched += 1;
            score.colours_right += colour;
            score.sizes_right += size;
        }
    }
    for r in &parsed.relations {
        let end = |i: usize| matched.get(i).copied().flatten().map(|o| objects[o].slot);
        if let (Some(a), Some(b)) = (end(r.subject), end(r.reference))
            && r.subject != r.reference
        {
            let ahead = r.reference > r.subject;
            let holds = r.relation.holds(a, b);
            score.relations_judged += 1;
            score.ahead_judged += usize::from(ahead);
            score.relations_right += usize::from(holds);
            score.ahead_right += usize::from(ahead && holds);
            score.true_words += Relation::ALL.iter().filter(|w| w.holds(a, b)).count();
        }
    }
    score
}

/// Parses `tokens` over `class_names` and [`score`]s them against `objects`; a caption that
/// does not parse scores as mentioning nothing.
pub fn score_caption<S: AsRef<str>>(
    tokens: &[S],
    class_names: &[String],
    objects: &[SceneObject],
) -> CaptionScore {
    let parsed = parse_caption(tokens, class_names).unwrap_or_default();
    score(&parsed, objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenes::facts::{Colour, Size};

    /// `caption` scored against a small red square at (0, 0), a large blue ring at (0, 2)
    /// and a small green ankle boot at (2, 1).
    fn score_three(caption: &str) -> CaptionScore {
        let classes: Vec<String> = ["square", "ring", "ankle boot"].map(String::from).to_vec();
        let objects = [
            SceneObject::test("square", Colour::Red, Size::Small, 0, 0),
            SceneObject::test("ring", Colour::Blue, Size::Large, 0, 2),
            SceneObject::test("ankle boot", Colour::Green, Size::Small, 2, 1),
        ];
        score_caption(&crate::scenes::toks(caption), &classes, &objects)
    }

    #[test]
    fn score_counts_each_aspect() {
        let sc = score_three;
        let right = sc(
            "there is a small red square to the left of a large blue ring , and a small green ankle boot under it",
        );
        assert!(right.all_right());
        // The diagonal's other true relation counts too.
        assert!(
            sc(
                "a small red square left of a large blue ring , and a small green ankle boot left of it"
            )
            .all_right()
        );
        let colour = sc(
            "a small blue square left of a large red ring , and a small green ankle boot below it",
        );
        assert_eq!(
            (
                colour.matched,
                colour.colours_right,
                colour.sizes_right,
                colour.relations_right
            ),
            (3, 1, 3, 2)
        );
        assert!(!colour.all_right() && colour.object_rate() == 1.0);
        let rel = sc(
            "a small red square right of a large blue ring , and a small green ankle boot above it",
        );
        assert_eq!(
            (rel.relations_stated, rel.relations_right, rel.colours_right),
            (2, 0, 3)
        );
        let short = sc("a red square left of a large blue ring");
        assert_eq!(
            (
                short.mentioned,
                short.matched,
                short.sizes_right,
                short.colours_right
            ),
            (2, 2, 1, 2)
        );
        assert!((short.object_rate() - 2.0 / 3.0).abs() < 1e-12 && short.relation_rate() == 0.5);
        let extra = sc(
            "a small red square left of a large blue ring , and a small green ankle boot below it , and a small red ring above it",
        );
        assert_eq!(
            (extra.mentioned, extra.matched, extra.relations_right),
            (4, 3, 2)
        );
        assert_eq!(extra.object_rate(), 0.75);
        let twice = sc("a small red square left of a small red square");
        assert_eq!((twice.matched, twice.relations_right), (1, 0));
        let junk = sc("hello world");
        assert_eq!(
            (junk.mentioned, junk.object_rate(), junk.all_right()),
            (0, 0.0, false)
        );
        let mut totals = ScoreTotals::default();
        for s in [right, colour, rel] {
            totals.add(&s);
        }
        assert_eq!(
            (totals.captions, totals.all_right, totals.object_slots),
            (3, 1, 9)
        );
        assert!((totals.colour_rate() - 7.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn relations_stated_ahead_and_behind_are_told_apart() {
        // square (0,0), ring (0,2), boot (2,1): square-ring share a row (one true word),
        // boot-ring sit on a diagonal (two: "left of" and "below").
        let sc = score_three;
        let counts = |s: &CaptionScore| {
            (
                s.relations_judged,
                s.ahead_judged,
                s.ahead_right,
                s.relations_right,
                s.true_words,
            )
        };
        let right = sc(
            "a small red square left of a large blue ring , and a small green ankle boot below it",
        );
        assert_eq!(counts(&right), (2, 1, 1, 2, 3));
        // Ahead wrong ("right of" before the ring is named), behind right.
        let planned_wrong = sc(
            "a small red square right of a large blue ring , and a small green ankle boot below it",
        );
        assert_eq!(counts(&planned_wrong), (2, 1, 0, 1, 3));
        // Both wrong: the counts of what can be judged do not move.
        let both_wrong = sc(
            "a small red square above a large blue ring , and a small green ankle boot right of it",
        );
        assert_eq!(counts(&both_wrong), (2, 1, 0, 0, 3));
        // A relation to an unmatched mention cannot be judged.
        let unmatched = sc("a small red square left of a small red square");
        assert_eq!(counts(&unmatched), (0, 0, 0, 0, 0));
        let mut totals = ScoreTotals::default();
        for s in [right, planned_wrong, both_wrong, unmatched] {
            totals.add(&s);
        }
        // Ahead: 1 of 3; behind: 2 of 3; chance: 9 true words of 6 × 4.
        assert!((totals.ahead_relation_rate() - 1.0 / 3.0).abs() < 1e-12);
        assert!((totals.behind_relation_rate() - 2.0 / 3.0).abs() < 1e-12);
        assert!((totals.relation_chance() - 9.0 / 24.0).abs() < 1e-12);
        let empty = ScoreTotals::default();
        assert_eq!(
            (
                empty.ahead_relation_rate(),
                empty.behind_relation_rate(),
                empty.relation_chance()
            ),
            (1.0, 1.0, 1.0)
        );
    }
}
