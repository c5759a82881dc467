"""Seconds-long smoke runs of the benchmark scripts, so they keep working."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import blobs

BENCH = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [
        "demo_target.py",
        "gsimclr_vs_simclr.py",
        "clustering_methods.py",
        "glyph_methods.py",
        "msm_protocol.py",
        "gedi_toy.py",
        "kmeans_speed.py",
        "tokenizer_comparison.py",
        "joint_tokens.py",
        "few_labels.py",
        "ddfa_discriminators.py",
        "continual_schedules.py",
        "time_series.py",
        "graph_distillation.py",
        "speech_units.py",
        "throughput.py",
        "embed_tokenize_100k.py",
        "lightly_side_by_side.py",
    ],
)
def test_benchmark_script_smoke(script):
    out = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), out.stderr[-2000:]


def test_glyph_bn_heads_variants_build():
    # glyph_bn_heads.py is glyph_methods.py's (smoke-tested) loop over these variants
    from discotok.encoders.cnn2d import CNN2d
    from discotok.registry import METHODS

    module = _bench_module("glyph_bn_heads")
    assert set(module.VARIANTS) == {"simclr", "gsimclr", "swav", "dino", "groco", "gedi"} | {
        "swav, temperature 0.2",
        "groco, 40 negatives",
        "dino, the paper's lr and weight decay",
        "groco, 40 negatives, lr 0.001",
    }
    assert set(module.TRAIN) < set(module.VARIANTS)  # each step size has a variant to run
    assert module.TRAIN["dino, the paper's lr and weight decay"] == {
        "lr": 0.0005,
        "weight_decay": 0.04,
    }
    for variant in module.VARIANTS.values():
        method = METHODS.build(variant, encoder=CNN2d((1, 32, 32), width=4, depth=2, norm="none"))
        norms = [m for m in method.modules() if type(m).__name__ == "BatchNorm1d"]
        assert norms, variant  # the encoder has none: they are in the head


def test_glyph_equal_time_fills_the_budget_from_the_marginal_step_time():
    module = _bench_module("glyph_equal_time")
    methods = {v["name"] for v in _bench_module("glyph_methods").VARIANTS.values()}
    assert {v["name"] for v in module.VARIANTS.values()} == methods
    loop = {("fast", 4): 3.0, ("fast", 14): 8.0, ("slow", 4): 5.0, ("slow", 14): 25.0}
    steps = module.budget_steps(lambda v, n: loop[v, n], ["fast", "slow"], budget=120.0)
    # the 1 s of start-up in the fast run's 3 s is not counted as step time
    assert steps == {
        "fast": {"step_seconds": 0.5, "steps": 240},
        "slow": {"step_seconds": 2.0, "steps": 60},
    }
    with pytest.raises(RuntimeError, match="stalled"):
        module.budget_steps(lambda v, n: 3.0, ["stalled"])


def test_glyph_equal_time_redoes_named_variants_with_fresh_steps(tmp_path, monkeypatch):
    module = _bench_module("glyph_equal_time")
    measure = module.measure
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    monkeypatch.setattr(module, "measure", lambda m, t: 1.0 + 0.5 * t["steps"])  # 0.5 s a step
    assert module.steps_for_run(["--smoke"])["obow"] == {"steps": 2}
    fresh = module.steps_for_run([])  # no results file: every variant calibrated
    assert fresh["simclr"] == {"steps": 240} and set(fresh) == set(module.VARIANTS)
    runs = [{"variant": v, "seed": s} for v in ("simclr", "obow") for s in (0, 1)]
    saved = {"runs": runs, "variant_train": {"simclr": {"steps": 7}, "obow": {"steps": 9}}}
    (tmp_path / "glyph_equal_time.json").write_text(json.dumps(saved))
    assert module.steps_for_run(["--resume"])["obow"] == {"steps": 9}  # kept as stored
    module.steps_for_run(["--resume", "--variants", "obow", "typo"])  # refused later, so
    assert json.loads((tmp_path / "glyph_equal_time.json").read_text()) == saved  # untouched
    steps = module.steps_for_run(["--seeds", "0", "--resume", "--variants", "obow"])
    assert steps == {"simclr": {"steps": 7}, "obow": {"steps": 240}}
    kept = json.loads((tmp_path / "glyph_equal_time.json").read_text())
    assert kept["variant_train"] == steps  # the resume guard compares against the file
    assert [r["variant"] for r in kept["runs"]] == ["simclr", "simclr"]
    # DINO and GroCo bring their own step sizes, into calibration and into their runs
    assert fresh["dino"] == {"steps": 240, "lr": 0.0005, "weight_decay": 0.04}
    assert fresh["groco"] == {"steps": 240, "lr": 0.001}
    assert module.steps_for_run(["--smoke"])["groco"] == {"steps": 2, "lr": 0.001}
    seen = []

    def fake_pretrain(cfg: dict, run: Path, resume: bool) -> Path:
        seen.append(cfg["train"])
        run.mkdir(parents=True)
        (run / "train_result.json").write_text('{"seconds": 2.5}')
        return run

    monkeypatch.setattr(module, "pretrain", fake_pretrain)
    assert measure(module.VARIANTS["dino"], module.settings("dino", 3)) == 2.5
    assert seen[0]["lr"] == 0.0005 and seen[0]["weight_decay"] == 0.04 and seen[0]["steps"] == 3


def test_glyph_equal_time_batch_times_each_small_batch_against_its_batch_256(tmp_path, monkeypatch):
    module = _bench_module("glyph_equal_time_batch")
    equal_time = sys.modules["glyph_equal_time"]
    small = _bench_module("glyph_small_batch")
    pairs = {"simclr": "simclr, batch 32", "dino": "dino, batch 16", "obow": "obow, batch 32"}
    assert list(module.VARIANTS) == [v for pair in pairs.items() for v in pair]
    for method, variant in pairs.items():  # the equal-time setting at 256, and only the batch
        assert module.VARIANTS[method] == module.VARIANTS[variant] == equal_time.VARIANTS[method]
        assert module.VARIANTS[variant] == small.VARIANTS[variant]  # as on equal epochs
        assert module.OWN.get(method, {}) == equal_time.OWN_TRAIN.get(method, {})
        assert module.OWN[variant] == small.TRAIN[variant]
    timed = []

    def measure(method: dict, train: dict) -> float:  # steps take time in proportion to batch
        timed.append((train.get("batch_size", 256), train["steps"]))
        return 1.0 + train["steps"] * train.get("batch_size", 256) / 512

    monkeypatch.setattr(equal_time, "RESULTS", tmp_path)
    monkeypatch.setattr(equal_time, "measure", measure)
    steps = equal_time.steps_for_run([], module.NAME, module.VARIANTS, module.OWN)
    # the same samples in each calibration run: 8 and 16 times the steps at 32 and 16
    assert sorted(set(timed)) == [(16, 64), (16, 224), (32, 32), (32, 112), (256, 4), (256, 14)]
    assert steps["simclr"] == {"steps": 240} and steps["simclr, batch 32"]["steps"] == 1920
    assert steps["dino, batch 16"] == {"steps": 3840, **small.TRAIN["dino, batch 16"]}
    assert steps["dino"] == {"steps": 240, "lr": 0.0005, "weight_decay": 0.04}
    smoke = equal_time.steps_for_run(["--smoke"], module.NAME, module.VARIANTS, module.OWN)
    assert smoke["obow, batch 32"] == {"steps": 2, "batch_size": 32}


def test_glyph_resnet_swaps_only_the_encoder_for_the_residual_one(monkeypatch):
    from discotok.encoders.resnet import BasicBlock
    from discotok.registry import ENCODERS

    module = _bench_module("glyph_resnet")
    glyphs = _bench_module("glyph_methods")
    encoder = ENCODERS.build(dict(module.RESNET), input_shape=(1, 32, 32))
    assert any(isinstance(m, BasicBlock) for m in encoder.modules())
    seen = {}
    monkeypatch.setattr(glyphs, "compare_methods", lambda *a, **k: seen.update(k))
    glyphs.glyph_benchmark(
        "x", module.VARIANTS, "doc", train=module.OWN_TRAIN, encoder=module.RESNET
    )
    base = glyphs.glyph_config()
    assert seen["base"] == {**base, "encoder": module.RESNET}  # all else is the protocol's
    assert seen["train"]["dino"]["lr"] == 0.0005
    # DINO and OBoW also run at the batch chosen on validation families, and GEDI in its
    # best setting on cnn2d; nothing else new
    tuning = _bench_module("glyph_resnet_tuning")
    equal_time = _bench_module("glyph_equal_time")
    gedi = _bench_module("gedi_tuned_glyphs")
    added = {"dino, batch 16", "obow, batch 32", gedi.SHARP}
    assert set(module.VARIANTS) == set(equal_time.VARIANTS) | added
    sharp = {**module.VARIANTS["gedi"], "gen_weight": 0.0, "temperature": 0.01}
    assert module.VARIANTS[gedi.SHARP] == gedi.VARIANTS[gedi.SHARP] == sharp
    assert seen["train"][gedi.SHARP] == {"lr": 0.001}
    assert seen["train"]["obow, batch 32"] == tuning.TRAIN["obow, batch 32"] == {"batch_size": 32}
    assert seen["train"]["dino, batch 16"]["batch_size"] == 16
    assert module.VARIANTS["dino, batch 16"] == equal_time.VARIANTS["dino"]
    assert "dino, batch 16" not in sys.modules["glyph_equal_time"].VARIANTS  # copied, not grown
    glyphs.glyph_benchmark("x", module.VARIANTS, "doc")
    assert seen["base"]["encoder"]["name"] == "cnn2d"  # the other tables keep the config's


def test_glyph_resnet_tuning_pairs_each_method_with_itself_at_a_smaller_batch():
    module = _bench_module("glyph_resnet_tuning")
    resnet = _bench_module("glyph_resnet")
    assert module.family_from_argv(["--seeds", "1", "--family", "obow"]) == (
        "obow",
        ["--seeds", "1"],
    )
    with pytest.raises(SystemExit):
        module.family_from_argv(["--family", "swav"])  # not one of the two
    for family, variants in module.FAMILIES.items():
        small = module.SMALL[family]
        assert list(variants) == [family, small]
        assert variants[small] == variants[family] == resnet.VARIANTS[family]
        own = resnet.OWN_TRAIN.get(family, {})
        assert module.TRAIN[family] == own  # the baseline trains as in glyph_resnet.py
        batch = {"batch_size": module.SMALL_BATCH[family]}
        assert module.TRAIN[small] == {**own, **batch}  # and only that
    assert module.TRAIN["dino, batch 16"] == {"lr": 0.0005, "weight_decay": 0.04, "batch_size": 16}
    assert module.TRAIN["obow, batch 32"] == {"batch_size": 32}


def test_glyph_tuning_tries_dino_and_obow_at_the_resnets_small_batches_on_cnn2d():
    module = _bench_module("glyph_tuning")
    resnet_tuning = _bench_module("glyph_resnet_tuning")
    dino = "dino, the paper's lr and weight decay"
    pairs = {dino: "dino", "obow, reference head": "obow"}
    for best, family in pairs.items():
        batch = resnet_tuning.SMALL_BATCH[family]  # the ResNet's choice, on cnn2d
        small = f"{best}, batch {batch}"
        assert module.VARIANTS[small] == module.VARIANTS[best]
        assert module.TRAIN[small] == {**module.TRAIN.get(best, {}), "batch_size": batch}
    assert module.TRAIN[f"{dino}, batch 16"] == {
        "lr": 0.0005,
        "weight_decay": 0.04,
        "batch_size": 16,
    }
    assert "batch_size" not in module.TRAIN[dino]  # the batch-256 runs stay as they ran
    # the control: SimCLR as glyph_bn_heads.py runs it, at 256 and at OBoW's batch
    simclr = _bench_module("glyph_bn_heads").VARIANTS["simclr"]
    assert module.VARIANTS["simclr"] == module.VARIANTS["simclr, batch 32"] == simclr
    assert "simclr" not in module.TRAIN and module.TRAIN["simclr, batch 32"] == {"batch_size": 32}
    # GEDI's clustering objective alone, as gedi_energy_glyphs.py runs it, at 256 and at 32
    no_energy = _bench_module("gedi_energy_glyphs").VARIANTS["gedi_no_energy"]
    assert no_energy["gen_weight"] == 0
    assert module.VARIANTS["gedi, no energy"] == module.VARIANTS["gedi, no energy, batch 32"]
    assert module.VARIANTS["gedi, no energy"] == no_energy and "gedi, no energy" not in module.TRAIN
    assert module.TRAIN["gedi, no energy, batch 32"] == {"batch_size": 32}
    # and over-clustered, with and without the energy term, at the protocol's batch
    assert module.VARIANTS["gedi, no energy, 512 clusters"] == {**no_energy, "clusters": 512}
    assert module.VARIANTS["gedi, 512 clusters"] == {"name": "gedi", "clusters": 512}
    assert module.VARIANTS["gedi, no energy, cosine"] == {**no_energy, "cosine": True}
    assert module.VARIANTS["gedi, cosine"] == {"name": "gedi", "cosine": True}
    gedi = {v for v in module.VARIANTS if v.endswith(("512 clusters", "cosine"))}
    assert len(gedi) == 4 and not gedi & set(module.TRAIN)  # the protocol's training
    assert module.VARIANTS["gedi, no energy, BN head"] == {**no_energy, "head_norm": "batch"}
    assert module.VARIANTS["gedi, no energy, lr 0.001"] == no_energy
    assert module.TRAIN["gedi, no energy, lr 0.001"] == {"lr": 0.001}
    beta = module.VARIANTS["gedi, no energy, beta 0.1"]
    assert beta == {**no_energy, "beta": 0.1}
    assert module.VARIANTS["gedi, no energy, beta 0.1, lr 0.001"] == beta
    assert module.TRAIN["gedi, no energy, beta 0.1, lr 0.001"] == {"lr": 0.001}
    assert "gedi, no energy, beta 0.1" not in module.TRAIN


def test_glyph_small_batch_runs_each_best_cnn2d_setting_at_its_small_batch(monkeypatch):
    module = _bench_module("glyph_small_batch")
    glyphs = _bench_module("glyph_methods")
    bn_heads = _bench_module("glyph_bn_heads")
    seen = {}
    monkeypatch.setattr(glyphs, "compare_methods", lambda *a, **k: seen.update(k))
    glyphs.glyph_benchmark("x", module.VARIANTS, "doc", train=module.TRAIN)
    assert seen["base"] == glyphs.glyph_config()  # cnn2d and the protocol, unchanged
    # each is the batch-256 run of its table but for the batch
    dino = "dino, the paper's lr and weight decay"
    assert module.VARIANTS["dino, batch 16"] == bn_heads.VARIANTS[dino]
    assert seen["train"]["dino, batch 16"] == {**bn_heads.TRAIN[dino], "batch_size": 16}
    assert module.VARIANTS["obow, batch 32"] == glyphs.VARIANTS["obow"]
    assert seen["train"]["obow, batch 32"] == {"batch_size": 32}
    assert module.VARIANTS["simclr, batch 32"] == bn_heads.VARIANTS["simclr"]
    assert seen["train"]["simclr, batch 32"] == {"batch_size": 32}


def _fake_run_metrics(common) -> dict:
    """What run_pipeline returns, every score 0.5 (for compare_methods without training)."""
    scores = dict.fromkeys(common.METRICS, 0.5)
    return {
        "embedding": scores,
        "raw": scores,
        "train": {"samples_per_second": 1.0},
        "pretrain_seconds": 1.0,
    }


def _bench_module(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_summary_keeps_each_methods_own_numbers_and_the_sie_table_reads_them():
    common = _bench_module("common")
    base = dict.fromkeys(common.METRICS, 0.5) | {"pretrain_seconds": 1.0, "samples_per_second": 2.0}
    rows = [
        {"variant": "sie", "seed": 0, **base, "method_invariant_linear_acc": 0.6, "method_n": "x"},
        {"variant": "sie", "seed": 1, **base, "method_invariant_linear_acc": 0.8},
        {"variant": "sie", "seed": 2, "failed": "loss is NaN"},
    ]
    summary, _ = common._summarise({"sie": {}}, rows, [])
    assert summary["sie"]["runs"] == 2 and summary["sie"]["failed"] == 1
    assert summary["sie"]["method_invariant_linear_acc"]["mean"] == pytest.approx(0.7)
    assert "method_n" not in summary["sie"]  # not a number in every run
    lost = [{"variant": "mae", "seed": 0, "failed": "loss is NaN"}]
    _, lines = common._summarise({"mae": {}, "msm": {}}, lost, [])
    assert lines[2].startswith("| mae | failed |") and lines[3].startswith("| msm | not run |")
    sie = _bench_module("sie_equivariance")
    lines = sie.table(summary).splitlines()
    assert len(lines) == 4  # header, rule, the invariant and the equivariant half
    assert "0.700 ± 0.141" in lines[2] and lines[3].split()[2:] == ["-"] * 5
    assert sie.VARIANTS["sie_no_equivariance"]["equivariance_weight"] == 0.0


def test_variant_train_settings_reach_each_run_and_guard_resume(tmp_path, monkeypatch, capsys):
    common = _bench_module("common")
    cmim = _bench_module("cmim_batch_sizes")
    assert {t["batch_size"] for t in cmim.TRAIN.values()} == {16, 64, 256, 512}
    assert set(cmim.TRAIN) == set(cmim.VARIANTS)
    lines = cmim.table({"mim-b64": {"linear_acc": {"mean": 0.5, "std": 0.01}}}).splitlines()
    assert len(lines) == 6 and lines[3].split()[:4] == ["64", "0.500", "±", "0.010"]
    assert lines[2].split()[1:] == ["-"] * len(cmim.COLUMNS)
    seen = {}

    def fake_pipeline(cfg, run_dir):
        seen[run_dir.name] = (cfg["method"], cfg["train"]["batch_size"], cfg["train"]["lr"])
        return _fake_run_metrics(common)

    monkeypatch.setattr(common, "run_pipeline", fake_pipeline)
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    variants = {"a": {"name": "simclr"}, "b": {"name": "cmim"}}
    train = {"b": {"batch_size": 16, "lr": 0.001}}
    monkeypatch.setattr(sys, "argv", ["x", "--seeds", "0", "--epochs", "2"])
    common.compare_methods("t", variants, "doc", train=train)
    assert seen == {"a-0": ({"name": "simclr"}, 256, 0.004), "b-0": ({"name": "cmim"}, 16, 0.001)}
    saved = json.loads((tmp_path / "t.json").read_text())
    assert saved["variant_train"] == train and saved["config"]["train"]["batch_size"] == 256
    monkeypatch.setattr(sys, "argv", ["x", "--seeds", "0", "1", "--epochs", "2", "--resume"])
    common.compare_methods("t", variants, "doc", train=train)  # seed 0 kept, seed 1 run
    assert len(json.loads((tmp_path / "t.json").read_text())["runs"]) == 4
    seen.clear()  # --variants: only the named ones run; the file keeps the others' runs
    monkeypatch.setattr(
        sys, "argv", ["x", "--seeds", "0", "1", "2", "--epochs", "2", "--resume", "--variants", "b"]
    )
    common.compare_methods("t", variants, "doc", train=train)
    assert set(seen) == {"b-2"}
    assert len(json.loads((tmp_path / "t.json").read_text())["runs"]) == 5
    monkeypatch.setattr(sys, "argv", ["x", "--variants", "c"])
    with pytest.raises(SystemExit):
        common.compare_methods("t", variants, "doc", train=train)
    assert "unknown variant(s) ['c']; choose from: a, b" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["x", "--variants", "a"])  # would drop b's runs
    with pytest.raises(SystemExit):
        common.compare_methods("t", variants, "doc", train=train)
    assert "use it with --resume" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["x", "--seeds", "0", "1", "--epochs", "2", "--resume"])
    with pytest.raises(SystemExit, match="another config"):
        common.compare_methods("t", variants, "doc", train={"b": {"batch_size": 32}})
    seen.clear()  # a variant new to the file may bring its own settings; the others' stay
    variants["c"] = {"name": "simclr"}
    monkeypatch.setattr(
        sys, "argv", ["x", "--seeds", "0", "--epochs", "2", "--resume", "--variants", "c"]
    )
    common.compare_methods("t", variants, "doc", train={**train, "c": {"lr": 0.002}})
    assert seen == {"c-0": ({"name": "simclr"}, 256, 0.002)}
    saved = json.loads((tmp_path / "t.json").read_text())
    assert len(saved["runs"]) == 6 and saved["variant_train"]["c"] == {"lr": 0.002}


def test_a_method_keeps_its_lowest_seeds_figure_when_resumed_on_a_later_seed(tmp_path, monkeypatch):
    common = _bench_module("common")

    def fake_pipeline(cfg, run_dir):
        run_dir.mkdir(parents=True)
        (run_dir / "samples.png").write_text(f"seed {cfg['seed']}")
        return {**_fake_run_metrics(common), "method_metrics": {"figures": ["samples.png"]}}

    monkeypatch.setattr(common, "run_pipeline", fake_pipeline)
    monkeypatch.setattr(common, "RESULTS", tmp_path)
    figure = tmp_path / "t_a_samples.png"
    for seeds in (["1"], ["2"], ["0"]):  # a later seed keeps seed 1's; seed 0 replaces it
        monkeypatch.setattr(sys, "argv", ["x", "--seeds", *seeds, "--epochs", "2", "--resume"])
        common.compare_methods("t", {"a": {"name": "simclr"}}, "doc")
        assert figure.read_text() == f"seed {min(int(seeds[0]), 1)}"


def test_msm_protocol_resume_keeps_runs_of_the_same_config_only(tmp_path, monkeypatch):
    msm = _bench_module("msm_protocol")
    monkeypatch.setattr(sys.modules["common"], "RESULTS", tmp_path)
    assert msm.kept_runs({"train": {}}, 8) == ([], [])  # nothing yet: start fresh
    runs = [{"method": "mae", "seed": 0, "levels": "all"}]
    saved = {"environment": {"git_commit": "x"}, "args": {"grid": 8}, "config": {"a": 1}}
    (tmp_path / "msm_protocol.json").write_text(json.dumps({**saved, "runs": runs}))
    assert msm.kept_runs({"a": 1}, 8) == (runs, [{"git_commit": "x"}])
    for config, grid in (({"a": 2}, 8), ({"a": 1}, 4)):
        with pytest.raises(SystemExit, match="another config"):
            msm.kept_runs(config, grid)


def test_glyph_baselines_variants_build_on_glyphs():
    from discotok.encoders.cnn2d import CNN2d
    from discotok.registry import METHODS

    variants = _bench_module("glyph_baselines").VARIANTS
    for variant in variants.values():
        METHODS.build(variant, encoder=CNN2d((1, 32, 32), width=4, depth=2))
    assert variants["mim"] == {"name": "cmim", "contrastive_weight": 0.0}
    assert variants["cmim"] == {"name": "cmim"}  # cMIM at its defaults


def test_gedi_tuned_glyphs_runs_the_validated_setting_with_and_without_the_energy_term():
    module = _bench_module("gedi_tuned_glyphs")
    chosen = module.VARIANTS[module.CHOSEN]
    no_energy = _bench_module("gedi_energy_glyphs").VARIANTS["gedi_no_energy"]
    assert chosen == {**no_energy, "beta": 0.1}  # tried in glyph_tuning.py, as it ran there
    assert module.VARIANTS["gedi, beta 0.1, lr 0.001"] == {**chosen, "gen_weight": 1.0}
    assert module.VARIANTS[module.SHARP] == {**no_energy, "temperature": 0.01}
    light = {**module.VARIANTS[module.SHARP], "gen_weight": 0.01}
    assert module.VARIANTS[module.LIGHT] == light  # the same, with a little energy term
    assert module.VARIANTS[module.SMALL_BATCH] == module.VARIANTS[module.SHARP]
    assert module.TRAIN[module.SMALL_BATCH] == {"lr": 0.001, "batch_size": 64}
    assert module.VARIANTS[module.BATCH_32] == module.VARIANTS[module.SHARP]
    assert module.TRAIN[module.BATCH_32] == {"lr": 0.001, "batch_size": 32}
    assert module.VARIANTS[module.LIGHT_SMALL_BATCH] == light
    assert module.TRAIN[module.LIGHT_SMALL_BATCH] == {"lr": 0.001, "batch_size": 64}
    sharp = module.VARIANTS[module.SHARP]
    assert module.VARIANTS[module.CLUSTERS_128] == {**sharp, "clusters": 128}
    assert module.TRAIN[module.CLUSTERS_128] == {"lr": 0.001, "batch_size": 64}
    assert module.VARIANTS[module.EPOCHS_200] == sharp
    assert module.TRAIN[module.EPOCHS_200] == {"lr": 0.001, "batch_size": 64, "epochs": 200}
    assert {n: t["lr"] for n, t in module.TRAIN.items()} == dict.fromkeys(module.VARIANTS, 0.001)


def test_gedi_assignments_runs_the_chosen_setting_and_a_tenth_of_the_temperature():
    module = _bench_module("gedi_assignments")
    tuned = _bench_module("gedi_tuned_glyphs").VARIANTS
    assert {n: module.VARIANTS[n] for n in tuned} == tuned  # as on the test splits
    no_energy = _bench_module("gedi_energy_glyphs").VARIANTS["gedi_no_energy"]
    sharp = module.VARIANTS["gedi, no energy, temperature 0.01, lr 0.001"]
    assert sharp == {**no_energy, "temperature": 0.01}  # beta 1, the default
    assert module.VARIANTS["gedi, temperature 0.01, lr 0.001"] == {**sharp, "gen_weight": 1.0}
    assert module.VARIANTS["gedi, no energy, temperature 0.005, lr 0.001"] == {
        **sharp,
        "temperature": 0.005,
    }
    assert module.VARIANTS["gedi, no energy, temperature 0.01, lr 0.004"] == sharp
    assert module.VARIANTS["gedi, no energy, temperature 0.01, beta 0.1, lr 0.001"] == {
        **sharp,
        "beta": 0.1,
    }
    assert module.VARIANTS["gedi, no energy, temperature 0.01, lr 0.001, batch 64"] == sharp
    assert module.TRAIN["gedi, no energy, temperature 0.01, lr 0.001, batch 64"]["batch_size"] == 64
    assert module.VARIANTS["gedi, no energy, temperature 0.01, lr 0.001, batch 32"] == sharp
    assert module.TRAIN["gedi, no energy, temperature 0.01, lr 0.001, batch 32"]["batch_size"] == 32
    light = module.VARIANTS["gedi, temperature 0.01, energy weight 0.01, lr 0.001"]
    assert light == {**sharp, "gen_weight": 0.01}
    assert module.VARIANTS[module.LIGHT_SMALL_BATCH] == light  # the full method, at batch 64
    assert module.TRAIN[module.LIGHT_SMALL_BATCH]["batch_size"] == 64
    assert module.VARIANTS[module.BN_HEAD] == {**sharp, "head_norm": "batch"}
    assert module.VARIANTS[module.CLUSTERS_128] == {**sharp, "clusters": 128}
    assert module.VARIANTS[module.LR_002] == sharp
    assert module.VARIANTS[module.EPOCHS_200] == sharp
    assert module.TRAIN[module.EPOCHS_200] == {"lr": 0.001, "batch_size": 64, "epochs": 200}
    for name in (module.BN_HEAD, module.CLUSTERS_128, module.LR_002):
        assert module.TRAIN[name]["batch_size"] == 64
    lrs = {"lr 0.004": 0.004, "lr 0.002, batch 64": 0.002}
    assert {n: t["lr"] for n, t in module.TRAIN.items()} == {
        n: next((lr for end, lr in lrs.items() if n.endswith(end)), 0.001) for n in module.VARIANTS
    }


def test_gedi_energy_glyphs_variants_weaken_only_the_energy_term():
    from discotok.encoders.cnn2d import CNN2d
    from discotok.registry import METHODS

    variants = _bench_module("gedi_energy_glyphs").VARIANTS
    weights = {}
    for name, variant in variants.items():
        method = METHODS.build(variant, encoder=CNN2d((1, 32, 32), width=4, depth=2))
        assert type(method).__name__ == "GEDI" and set(variant) == {"name", "gen_weight"}
        weights[name] = method.gen_weight
    assert weights == {"gedi_no_energy": 0.0, "gedi_energy_0.1": 0.1}


def test_gpc_calibration_rows_force_each_calibration():
    # gpc_calibration.py's loop on stand-in embeddings: 12 points a class, 6 labelled, so the
    # split test has no class to test (the weakest prior) and held-out classes choose
    x, y = blobs(12, 8, 6, 3.0, 0)
    rows = _bench_module("gpc_calibration").calibrations({"train": x, "y_train": y}, 0, (4,))
    assert set(rows) == {"from K=4, split", "from K=4, held-out"}
    assert rows["from K=4, split"]["prior_strength"] == 0.0
    assert rows["from K=4, split"]["held_out_ari"] == {}
    assert len(rows["from K=4, held-out"]["held_out_ari"]) == 5


def test_ddfa_glyph_digits_rows():
    import numpy as np

    module = _bench_module("ddfa_glyph_digits")
    x, y = blobs(12, 12, 6, 3.0, 0)  # classes 10 and 11 stand for letters: left out
    emb = {"train": x[::2], "y_train": y[::2], "test": x[1::2], "y_test": y[1::2]}
    xd, yd = module.digits(emb)
    assert len(xd) == 120 and set(np.unique(yd)) == set(range(10))
    rows = module.label_shift(xd, yd, 0, (0.5,))
    assert len(rows) == len(module.DDFA_ROWS) + 1
    assert all(np.isfinite(r["p_y_given_d_l1"]) for r in rows.values())
    assert rows["alpha=0.5, EM on supervised p(y|x)"]["acc"] > 0.9  # separable stand-in
