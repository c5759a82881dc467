"""Tuning for the ResNet on validation font families: DINO's and OBoW's batch size.

glyph_resnet.py runs the glyph protocol with the ResNet encoder, each method in its best
cnn2d setting; DINO and OBoW fall far below raw pixels there. Both learn from a momentum
(EMA) teacher, and the protocol's batch of 256 leaves them few updates: a validation split
trains on 868-1116 glyphs, 3-4 steps an epoch, 300-400 steps in 100 epochs (a test split
500-600), where their papers train for hundreds of thousands. Here each runs at the protocol's batch
of 256 against a small batch, with 256/batch times the steps in the same 100 epochs (the
same lr a step): OBoW at 32, DINO at 16 (on seed 0's validation split linear accuracy rose
with each halving of the batch, DINO's still from 32 to 16). The splits are glyph_tuning.py's
validation splits (``data.validation: true``: each seed's test families dropped, a quarter
of its training families stand in as the test split), the encoder and the training settings
glyph_resnet.py's. The winner on these splits is then run on the real test splits in
glyph_resnet.py.

``--family dino`` or ``--family obow`` picks one method's pair; each family writes its own
results file (results/glyph_resnet_tuning_<family>.json), so the two can run side by side,
one on each core.

    python benchmarks/glyph_resnet_tuning.py --family {dino,obow} [--seeds 0 1 2] [--smoke]
"""

from __future__ import annotations

import argparse
import sys

from common import compare_methods
from glyph_equal_time import OWN_TRAIN, VARIANTS
from glyph_methods import RESNET, glyph_config
from glyph_tuning import FAMILY_BATCH as SMALL_BATCH  # cnn2d's validation runs use them too

SMALL = {family: f"{family}, batch {batch}" for family, batch in SMALL_BATCH.items()}
FAMILIES = {family: {family: VARIANTS[family], SMALL[family]: VARIANTS[family]} for family in SMALL}
# glyph_resnet.py's training settings, and the same at the small batch
TRAIN = {family: OWN_TRAIN.get(family, {}) for family in FAMILIES}
TRAIN |= {SMALL[f]: {**TRAIN[f], "batch_size": SMALL_BATCH[f]} for f in FAMILIES}


def family_from_argv(argv: list[str]) -> tuple[str, list[str]]:
    """The --family value, and the rest of the command line (for compare_methods)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--family", choices=sorted(FAMILIES), required=True)
    args, rest = parser.parse_known_args(argv)
    return args.family, rest


if __name__ == "__main__":
    family, sys.argv[1:] = family_from_argv(sys.argv[1:])
    base = glyph_config()
    base["data"]["validation"] = True
    base["encoder"] = RESNET
    smoke = {"name": "glyphs", "charset": "digits", "validation": True}
    train = {name: TRAIN[name] for name in FAMILIES[family]}
    compare_methods(
        f"glyph_resnet_tuning_{family}",
        FAMILIES[family],
        __doc__,
        base=base,
        smoke_data=smoke,
        train=train,
    )
