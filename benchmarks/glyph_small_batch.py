"""DINO and OBoW on cnn2d at the small batches chosen on validation font families.

Both learn from a momentum (EMA) teacher, and the glyph protocol's batch of 256 gives them
500-600 steps in 100 epochs on a test split. On validation families (glyph_tuning.py) DINO
at batch 16 and OBoW at batch 32, 16 and 8 times the steps at the same lr a step, beat
their best settings at 256 (the sizes were first chosen for the ResNet encoder,
glyph_resnet_tuning.py). This runs the two on the real test splits with the glyph protocol
of glyph_methods.py (configs/glyphs_simclr.yaml, cnn2d, 100 epochs, probes, seeds), each
in that best setting otherwise: DINO with BatchNorm in its head at the paper's lr 0.0005
and weight decay 0.04 (glyph_bn_heads.py's ``dino, the paper's lr and weight decay``),
OBoW with its own heads (glyph_methods.py's ``obow``). Their batch-256 runs are in those
two results files, on the same seeds and splits.

Added later, the control: SimCLR as glyph_bn_heads.py runs it (BatchNorm head, temperature
0.2) at OBoW's batch of 32, so that OBoW at 32 is also compared with SimCLR at the same
batch and steps (glyph_tuning.py ran the pair on validation families first).

    python benchmarks/glyph_small_batch.py [--seeds 0 1 2] [--resume [--variants NAME ...]]
                                           [--smoke]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark
from glyph_tuning import PAPER_DINO
from glyph_tuning import TRAIN as TUNED
from glyph_tuning import VARIANTS as TRIED

# this table's variants, and the names they ran under on validation families
TRIED_AS = {
    "dino, batch 16": f"{PAPER_DINO}, batch 16",
    "obow, batch 32": "obow, reference head, batch 32",
    "simclr, batch 32": "simclr, batch 32",
}
VARIANTS = {name: TRIED[tried] for name, tried in TRIED_AS.items()}
TRAIN = {name: TUNED[tried] for name, tried in TRIED_AS.items()}

if __name__ == "__main__":
    glyph_benchmark("glyph_small_batch", VARIANTS, __doc__, train=TRAIN)
