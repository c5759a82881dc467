"""The glyph protocol's seven methods on the small ResNet instead of cnn2d.

The glyph tables (glyph_methods.py, glyph_bn_heads.py, glyph_equal_time.py) use `cnn2d`:
three plain conv-BatchNorm-ReLU stages of 32/64/128 channels with max-pooling, 110k
parameters. This reruns their protocol (configs/glyphs_simclr.yaml: same glyphs, splits,
kornia views, batch 256, AdamW, cosine, 100 epochs, probes, seeds) with the encoder
`resnet`, the ResNet-style one: a 3x3 stem and three stages of one residual basic block
(two 3x3 convolutions and a skip), 16/32/64 channels, strided, 85k parameters. Each
method runs in its best setting on cnn2d, not retuned for the ResNet: glyph_equal_time.py's
VARIANTS and OWN_TRAIN (BatchNorm heads for SimCLR, G-SimCLR, SwAV at temperature 0.2,
DINO, GroCo with 40 hardest negatives; DINO at lr 0.0005 and weight decay 0.04, GroCo at
lr 0.001; GEDI without; OBoW with its own heads). Seeds 0 and 1 ran on 2026-11-27, seed
2 for all but GEDI too; GEDI's seed 2 in the next session. Added later, same seeds:
``dino, batch 16`` and ``obow, batch 32``, the two at the batch chosen for the ResNet on
validation families (glyph_resnet_tuning.py; at 256 they take 500-600 steps in 100 epochs here),
with ``--resume --variants``. Later still: GEDI's best setting on cnn2d, its clustering
objective alone at T 0.01 and lr 0.001 (gedi_tuned_glyphs.py), as "gedi" above runs the
method's defaults.

    python benchmarks/glyph_resnet.py [--seeds 0 1 2] [--resume [--variants NAME ...]]
                                      [--smoke]
"""

from __future__ import annotations

import glyph_equal_time
from gedi_tuned_glyphs import SHARP
from gedi_tuned_glyphs import TRAIN as GEDI_TRAIN
from gedi_tuned_glyphs import VARIANTS as GEDI_VARIANTS
from glyph_methods import RESNET, glyph_benchmark
from glyph_resnet_tuning import SMALL
from glyph_resnet_tuning import TRAIN as TUNED

# the equal-time table's settings, and DINO and OBoW at the batch chosen for the ResNet
VARIANTS = {**glyph_equal_time.VARIANTS}
VARIANTS |= {SMALL[family]: VARIANTS[family] for family in SMALL}
OWN_TRAIN = {**glyph_equal_time.OWN_TRAIN, **{name: TUNED[name] for name in SMALL.values()}}
VARIANTS[SHARP] = GEDI_VARIANTS[SHARP]
OWN_TRAIN[SHARP] = GEDI_TRAIN[SHARP]

if __name__ == "__main__":
    glyph_benchmark("glyph_resnet", VARIANTS, __doc__, train=OWN_TRAIN, encoder=RESNET)
