"""GEDI on glyphs without its energy term, or with a weaker one: does the generative part
cause the collapse?

The glyph protocol of glyph_methods.py (same config, epochs, seeds and probes) for GEDI with
``gen_weight: 0`` (uniformity + invariance only: no energy, no SGLD) and ``gen_weight: 0.1``
(the energy term and its SGLD at a tenth of the default weight). Compare with the ``gedi``
rows of results/glyph_methods.json, the same runs with ``gen_weight: 1``.

    python benchmarks/gedi_energy_glyphs.py [--seeds 0 1 2] [--epochs 100] [--resume]
"""

from __future__ import annotations

from glyph_methods import glyph_benchmark

VARIANTS = {
    "gedi_no_energy": {"name": "gedi", "gen_weight": 0.0},
    "gedi_energy_0.1": {"name": "gedi", "gen_weight": 0.1},
}

if __name__ == "__main__":
    glyph_benchmark("gedi_energy_glyphs", VARIANTS, __doc__)
