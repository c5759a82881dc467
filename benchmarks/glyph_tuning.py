"""Tuning on validation font families: a setting is chosen here, never on the test families.

The glyph protocol of glyph_bn_heads.py (configs/glyphs_simclr.yaml, BatchNorm projection
heads, 3 seeds) with ``data.validation: true``: each seed's test families are dropped and a
quarter of its training families (2 of 6 here) stand in as the test split. The winner on
these validation splits is then run on the real test splits in glyph_bn_heads.py.

Candidates: SwAV's softmax temperature, 0.1 (the paper's and our default) against 0.2 (the
value SimCLR uses on glyphs; glyph_methods.py). DINO's teacher momentum, 0.996 (the paper's,
for runs of ~100k steps) against 0.99: these runs are 500 steps, and at 0.996 the teacher
averages over the last ~250 of them (added after the SwAV pair, on the same seeds).

Added later, on the same seeds: GroCo's number of hardest negatives, 10 (the paper's, for
ImageNet's 1000 classes) against 40: a batch of 256 glyphs holds ~4 of each of the 62
characters, so an anchor's 10 hardest negatives are mostly its own character in other fonts
(false negatives). DINO's teacher temperature, 0.04 against 0.07 (where the paper's warm-up
ends; solo-learn's small-image configs train at 0.07). GEDI's invariance weight beta, 1 (our
default, chosen on the two moons) against 0.1 (the top of the paper's 0.05-0.1): a weaker
pull towards view-invariant cluster assignments keeps more of what tells the glyphs apart.
DINO's output dimension, 1024 against 256: ~1500 training glyphs spread over 1024 outputs
leave one or two an output (the paper's 65536 are sized for ImageNet's 1.3 million).
OBoW's vocabulary turnover: by default each view adds one word per image and step, so 512
words refresh the 1024-word queue every 2 steps; 16 words a view refresh it every 32 steps,
the paper's rate (8192 words, one per image of a 256 batch). Later still: OBoW's head as
the authors' code builds it (now the default), against the head both earlier OBoW variants
ran with: a BatchNorm in the weight generator, logits from the embedding as it is rather
than L2-normalised, and the teacher map's outer ring left out of bags and vocabulary.
Later again: DINO with the paper's optimizer settings (AdamW at lr 0.0005 for a batch of 256,
weight decay 0.04, where the paper's schedule starts) against the glyph protocol's shared
lr 0.004 and weight decay 1e-4, eight times the paper's step size. And GroCo with 40
negatives at lr 0.001 (a quarter of the protocol's), against "groco, 40 negatives" above.
Later: DINO at the paper's lr and weight decay with multi-crop, 6 local crops (the paper's
2 global + 6 local views; here 16x16 crops of a quarter to a half of a view's area), against
the same without. And DINO at the paper's lr and weight decay with the paper's 10 warm-up
epochs (the protocol warms up for 1), against the same with 1.
Later: DINO and OBoW at a smaller batch, DINO at 16 and OBoW at 32 (the sizes chosen for the
ResNet encoder in glyph_resnet_tuning.py): at the protocol's batch of 256 a validation split
gives them 300-400 steps in 100 epochs; at the small batch they take 16 and 8 times the
steps, at the same lr a step. Each against its best setting above at batch 256: DINO at the
paper's lr and weight decay, OBoW with the reference head.
Later: the control for those two, SimCLR (glyph_bn_heads.py's: BatchNorm head, temperature
0.2) at batch 256 and at OBoW's 32: the small batch gives SimCLR 8 times the steps too, but
fewer negatives a step (62 in a batch of 32 against 510), so does it gain as much?
Later: GEDI's clustering objective alone (``gen_weight: 0``, no energy term and no SGLD;
gedi_energy_glyphs.py's ``gedi_no_energy``, with its default head as there; the closest GEDI
has come to raw pixels on the test splits) at batch 256 and at OBoW's 32: do more steps lift
it as they lift the others?
Later: GEDI with 512 clusters (8 times the default 64, about 8 to a character), with and
without its energy term, against the same at 64 ("gedi, no energy" above; with the energy
term, the test splits' glyph_methods.py rows). With 64 clusters for 62 characters in a dozen
typefaces, uniformity forces the assignments to split the glyphs into a few dozen groups that
need not follow the characters, and the encoder learns to forget all else (RankMe 5-7 on
validation). Over-clustering, as SwAV's 3000 prototypes for ImageNet's 1000 classes, asks the
encoder to keep more apart.
Later: GEDI with cosine logits (``cosine: true``: an L2-normalised projection scored against
L2-normalised prototypes, as in SwAV), with and without its energy term, against the same
with the paper's free logits. The hypothesis: free logits grow until the assignments are
one-hot and the encoder stops learning, where cosines in [-1, 1] at temperature 0.1 keep them
soft and the energy bounded (it did not hold: cosine logits did worse, README).
Later: GEDI's clustering objective alone with a BatchNorm head (``head_norm: batch``, which
lifted SwAV by 14 linear points on the test splits; "gedi, beta 1" above had it with the
energy term), and at lr 0.001 (a quarter of the protocol's step, which lifted GroCo): each
against "gedi, no energy".
Later: GEDI's clustering objective alone at beta 0.1, the top of the paper's 0.05-0.1 (our
default 1 was chosen on the two moons), at the protocol's lr and at lr 0.001. At beta 1 the
held-out glyphs fall into a handful of the 64 clusters ("gedi, no energy": 2 to 12, the
results' ``method_clusters_used``): the invariance term outweighs uniformity. At a tenth of
the invariance weight uniformity is the stronger pull, as in the paper.

    python benchmarks/glyph_tuning.py [--seeds 0 1 2] [--epochs 100] [--smoke]
"""

from __future__ import annotations

from common import compare_methods
from gedi_energy_glyphs import VARIANTS as GEDI_VARIANTS
from glyph_methods import VARIANTS as GLYPH_VARIANTS
from glyph_methods import glyph_config

# OBoW's head until 2026-11-27: the two variants run with it, before its defaults changed
OLD_OBOW_HEAD = {"generator_norm": "none", "normalize_embedding": True, "border": 0}
VARIANTS = {
    "swav, temperature 0.1": {"name": "swav", "head_norm": "batch", "temperature": 0.1},
    "swav, temperature 0.2": {"name": "swav", "head_norm": "batch", "temperature": 0.2},
    "dino, momentum 0.996": {"name": "dino", "head_norm": "batch", "momentum": 0.996},
    "dino, momentum 0.99": {"name": "dino", "head_norm": "batch", "momentum": 0.99},
    "groco, 10 negatives": {"name": "groco", "head_norm": "batch", "negatives": 10},
    "groco, 40 negatives": {"name": "groco", "head_norm": "batch", "negatives": 40},
    "dino, teacher temperature 0.07": {
        "name": "dino",
        "head_norm": "batch",
        "teacher_temperature": 0.07,
    },
    "gedi, beta 1": {"name": "gedi", "head_norm": "batch", "beta": 1.0},
    "gedi, beta 0.1": {"name": "gedi", "head_norm": "batch", "beta": 0.1},
    "dino, out_dim 256": {"name": "dino", "head_norm": "batch", "out_dim": 256},
    "obow": {"name": "obow", **OLD_OBOW_HEAD},
    "obow, 16 words a view": {"name": "obow", "words_per_view": 16, **OLD_OBOW_HEAD},
    "obow, reference head": {"name": "obow"},
    "dino, the paper's lr and weight decay": {"name": "dino", "head_norm": "batch"},
    "groco, 40 negatives, lr 0.001": {"name": "groco", "head_norm": "batch", "negatives": 40},
}
# DINO at the paper's lr and weight decay, and the same with one more of the paper's settings
PAPER_DINO = "dino, the paper's lr and weight decay"
VARIANTS[f"{PAPER_DINO}, 6 local crops"] = {**VARIANTS[PAPER_DINO], "local_crops": 6}
VARIANTS[f"{PAPER_DINO}, 10 warm-up epochs"] = VARIANTS[PAPER_DINO]
# training settings of the variants that do not use the glyph protocol's
TRAIN = {
    "dino, the paper's lr and weight decay": {"lr": 0.0005, "weight_decay": 0.04},
    "groco, 40 negatives, lr 0.001": {"lr": 0.001},
}
TRAIN[f"{PAPER_DINO}, 6 local crops"] = TRAIN[PAPER_DINO]
TRAIN[f"{PAPER_DINO}, 10 warm-up epochs"] = {**TRAIN[PAPER_DINO], "warmup_epochs": 10}
# DINO and OBoW at the batch sizes chosen for the ResNet (glyph_resnet_tuning.py reads them
# from here: it imports this module, so this one cannot import it)
FAMILY_BATCH = {"dino": 16, "obow": 32}
SMALL_BATCH = {PAPER_DINO: FAMILY_BATCH["dino"], "obow, reference head": FAMILY_BATCH["obow"]}


def add_small_batch(best: str, batch: int) -> None:
    """Variant `best` again at `batch`, with its own training settings otherwise."""
    VARIANTS[f"{best}, batch {batch}"] = VARIANTS[best]
    TRAIN[f"{best}, batch {batch}"] = {**TRAIN.get(best, {}), "batch_size": batch}


for best, batch in SMALL_BATCH.items():
    add_small_batch(best, batch)
# SimCLR as glyph_bn_heads.py runs it, at 256 and at OBoW's small batch
VARIANTS["simclr"] = {**GLYPH_VARIANTS["simclr"], "head_norm": "batch"}
add_small_batch("simclr", FAMILY_BATCH["obow"])
# GEDI without its energy term, as gedi_energy_glyphs.py runs it, at 256 and at OBoW's batch
VARIANTS["gedi, no energy"] = GEDI_VARIANTS["gedi_no_energy"]
add_small_batch("gedi, no energy", FAMILY_BATCH["obow"])
# GEDI over-clustered: 512 clusters, with and without its energy term
VARIANTS["gedi, no energy, 512 clusters"] = {**VARIANTS["gedi, no energy"], "clusters": 512}
VARIANTS["gedi, 512 clusters"] = {"name": "gedi", "clusters": 512}
# GEDI with cosine logits (prototypes on the unit sphere), with and without its energy term
VARIANTS["gedi, no energy, cosine"] = {**VARIANTS["gedi, no energy"], "cosine": True}
VARIANTS["gedi, cosine"] = {"name": "gedi", "cosine": True}
# GEDI's clustering objective alone with a BatchNorm head, and at a quarter of the lr
VARIANTS["gedi, no energy, BN head"] = {**VARIANTS["gedi, no energy"], "head_norm": "batch"}
VARIANTS["gedi, no energy, lr 0.001"] = VARIANTS["gedi, no energy"]
TRAIN["gedi, no energy, lr 0.001"] = {"lr": 0.001}
# GEDI's clustering objective alone at the paper's invariance weight, at both lrs
VARIANTS["gedi, no energy, beta 0.1"] = {**VARIANTS["gedi, no energy"], "beta": 0.1}
VARIANTS["gedi, no energy, beta 0.1, lr 0.001"] = VARIANTS["gedi, no energy, beta 0.1"]
TRAIN["gedi, no energy, beta 0.1, lr 0.001"] = TRAIN["gedi, no energy, lr 0.001"]

if __name__ == "__main__":
    base = glyph_config()
    base["data"]["validation"] = True
    smoke = {"name": "glyphs", "charset": "digits", "validation": True}
    compare_methods("glyph_tuning", VARIANTS, __doc__, base=base, smoke_data=smoke, train=TRAIN)
