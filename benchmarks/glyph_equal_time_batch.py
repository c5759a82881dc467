"""DINO and OBoW at their small batches under the same wall-clock budget, against batch 256.

On equal epochs DINO at batch 16 and OBoW at batch 32 beat their batch-256 selves on every
test split (glyph_small_batch.py): 16 and 8 times the steps. A smaller batch may also step
less efficiently on a CPU, so is the gain still there when each gets the same time? This
runs glyph_equal_time.py's protocol (BUDGET_SECONDS of training steps, calibrated on this
machine; a small batch is timed over proportionally more calibration steps) for DINO,
OBoW and SimCLR, the control (glyph_small_batch.py's), each at batch 256 in its
glyph_equal_time.py setting and at its small batch with everything else the same. All six
run here, on one machine, rather than adding three rows to glyph_equal_time.json, whose
runs were timed on another.

    python benchmarks/glyph_equal_time_batch.py [--seeds 0 1 2] [--resume [--variants NAME ...]]
                                                [--smoke]
"""

from __future__ import annotations

import sys

from glyph_equal_time import OWN_TRAIN, steps_for_run
from glyph_equal_time import VARIANTS as EQUAL_TIME
from glyph_methods import glyph_benchmark
from glyph_small_batch import TRAIN as SMALL

NAME = "glyph_equal_time_batch"  # results/<NAME>.json
SMALL_AS = {"simclr": "simclr, batch 32", "dino": "dino, batch 16", "obow": "obow, batch 32"}
VARIANTS = {}
OWN = {}
for method, small in SMALL_AS.items():
    VARIANTS[method] = VARIANTS[small] = EQUAL_TIME[method]
    OWN[method] = OWN_TRAIN.get(method, {})
    OWN[small] = {**OWN[method], "batch_size": SMALL[small]["batch_size"]}

if __name__ == "__main__":
    train = steps_for_run(sys.argv[1:], NAME, VARIANTS, OWN)
    glyph_benchmark(NAME, VARIANTS, __doc__, train=train)
