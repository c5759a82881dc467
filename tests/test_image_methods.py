"""OBoW (bag-of-words targets), GroCo (learning by sorting) and GEDI (clustering + energy)."""

import json
import math

import numpy as np
import pytest
import torch
from conftest import resumes_identically, tiny, two_processes_equal_one

from discotok import embed, evaluate
from discotok.cli import main
from discotok.encoders.cnn2d import CNN2d
from discotok.encoders.mlp import MLP
from discotok.errors import ConfigError
from discotok.methods.gedi import GEDI
from discotok.methods.groco import GroCo, relaxed_sort, sorting_loss
from discotok.methods.obow import OBoW, soft_bag_of_words
from discotok.pipeline import load_method, pretrain
from discotok.registry import DATASETS

IMAGES = {
    "data": {"name": "digits"},
    "encoder": {"name": "cnn2d", "width": 8, "depth": 2, "embed_dim": 16},
    "views": {"name": "image2d"},
}


def image_config(method, **train):
    cfg = tiny(**IMAGES, method=method, train=train)
    cfg["data"] = dict(IMAGES["data"])  # no mnist1d options
    cfg["method"] = dict(method)  # no SimCLR options
    return cfg


def test_relaxed_sort_is_a_doubly_stochastic_permutation_that_hardens_with_steepness():
    scores = torch.tensor([[0.1, 3.0, -2.0, 1.5, 0.7], [1.0, 0.0, 2.0, -1.0, 0.5]])
    for steepness in (1.0, 100.0):
        p = relaxed_sort(scores, steepness)
        assert torch.allclose(p.sum(1), torch.ones(2, 5), atol=1e-5)
        assert torch.allclose(p.sum(2), torch.ones(2, 5), atol=1e-5)
    hard = relaxed_sort(scores, 1e4)
    ranked = (hard @ scores[..., None]).squeeze(-1)
    assert torch.allclose(ranked, scores.sort(dim=1, descending=True).values, atol=1e-2)
    soft = relaxed_sort(scores, 1.0)
    assert soft.max() < 0.99  # the relaxation really is soft at steepness 1


def test_sorting_loss_rewards_positives_on_top_and_has_gradients():
    pos = torch.tensor([[2.0]], requires_grad=True)
    good = sorting_loss(pos, torch.tensor([[0.0, -1.0, -2.0]]), 1.0)
    bad = sorting_loss(torch.tensor([[-3.0]]), torch.tensor([[0.0, -1.0, -2.0]]), 1.0)
    assert good < bad
    good.backward()
    assert pos.grad.item() < 0  # raising the positive lowers the loss


def test_soft_bag_of_words_peaks_at_the_word_the_features_equal():
    words = torch.eye(4, 6) * 3
    fmap = words[2][None, :, None, None].expand(1, 6, 3, 3).clone()  # every location = word 2
    bags, nearest = soft_bag_of_words(fmap, words, 15.0, torch.tensor(1.0))
    assert torch.allclose(bags.sum(1), torch.ones(1))
    assert bags.argmax().item() == 2 and bags[0, 2] > 0.9
    assert nearest.item() == pytest.approx(0.0, abs=1e-4)


def test_obow_fills_its_vocabulary_and_moves_its_teacher():
    method = OBoW(CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16), vocabulary=48)
    x = torch.rand(16, 1, 8, 8)
    out = method({"views": [x, x.flip(3)]})
    assert set(out) == {"loss", "target_perplexity"} and torch.isfinite(out["loss"])
    assert int(method.filled) == 48  # 2 x 16 on the first step, 2 x 16 more after it
    assert 1.0 <= out["target_perplexity"] <= 48
    assert method.mean_min_dist > 0
    out["loss"].backward()
    torch.optim.SGD(method.parameters(), lr=0.5).step()
    before = method.teacher.features[0].weight.clone()
    method.after_step(1, 10)
    assert not torch.equal(before, method.teacher.features[0].weight)
    # a slower turnover: the first step fills from the whole batch, later ones add 3 a view
    slow = OBoW(CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16), vocabulary=48, words_per_view=3)
    slow({"views": [x, x.flip(3)]})
    assert int(slow.filled) == 2 * 16 + 2 * 3 and int(slow.cursor) == 38


def test_obow_reference_head_and_border_follow_the_reference_code():
    torch.manual_seed(0)
    encoder = CNN2d((1, 16, 16), width=8, depth=2, embed_dim=16)  # 8x8 feature map
    method = OBoW(
        encoder, vocabulary=64, generator_norm="batch", normalize_embedding=False, border=1
    )
    assert isinstance(method.head.generator[1], torch.nn.BatchNorm1d)
    assert method._teacher_map(torch.rand(2, 1, 16, 16))[0].shape[2:] == (6, 6)
    small = OBoW(CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16), vocabulary=64)
    assert small._teacher_map(torch.rand(2, 1, 8, 8))[1] == 0  # 4x4: by default kept whole
    assert OBoW(encoder, vocabulary=64)._teacher_map(torch.rand(2, 1, 16, 16))[1] == 1
    x = torch.rand(16, 1, 16, 16)
    out = method({"views": [x, x.flip(3)]})
    assert torch.isfinite(out["loss"])
    # words are 3x3 averages inside the cropped map: a teacher map of ones gives words of
    # exactly one, where zero padding would shrink those sampled at its edges
    ones = torch.ones(16, encoder.feature_channels, 8, 8)
    for crop in (1, 0):
        fresh = OBoW(encoder, vocabulary=64, border=crop)
        fresh.teacher.feature_map = lambda v: ones
        fresh({"views": [x, x.flip(3)]})  # 64 words: 28 of the 64 padded places are edges
        assert torch.all(fresh.words == 1) if crop else fresh.words.min() <= 6 / 9 + 1e-6
    # without normalisation the logits grow with the embedding; with it they do not
    words, emb = torch.randn(10, encoder.feature_channels), torch.randn(3, 16)
    method.head.eval()
    assert torch.allclose(method.head(2 * emb, words), 2 * method.head(emb, words), atol=1e-5)
    cosine = OBoW(encoder, vocabulary=64, normalize_embedding=True).head
    assert torch.allclose(cosine(2 * emb, words), cosine(emb, words), atol=1e-5)
    with pytest.raises(ConfigError, match="method.border=3 leaves no 3x3"):
        OBoW(encoder, vocabulary=64, border=3)._teacher_map(torch.rand(2, 1, 16, 16))
    with pytest.raises(ConfigError, match="choose one of: none, batch"):
        OBoW(encoder, generator_norm="layer")
    with pytest.raises(ConfigError, match="normalize_embedding='yes'.*true, false"):
        OBoW(encoder, normalize_embedding="yes")


def test_groco_ranks_positives_and_counts_them():
    torch.manual_seed(0)
    method = GroCo(MLP((10,), width=16, depth=1, embed_dim=8), negatives=4)
    x = torch.randn(16, 10)
    out = method({"views": [x, x + 0.01 * torch.randn_like(x)]})
    assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    assert out["positive_on_top"] > 0.5  # near-identical views rank first even untrained


def test_gedi_langevin_lowers_the_energy_and_stays_in_the_data_range():
    torch.manual_seed(0)
    method = GEDI(MLP((2,), width=16, depth=1, embed_dim=8), clusters=4, sgld_step_size=0.1)
    x = torch.randn(200, 2)
    method.prepare(x, 0)
    assert method.replay.shape == (2048, 2)
    assert torch.all(method.replay >= method.low) and torch.all(method.replay <= method.high)
    method.eval()
    start = method._noise(64)
    moved = method.langevin(start, 20)
    assert method.energy(moved).mean() < method.energy(start).mean()
    assert torch.all(moved >= method.low) and torch.all(moved <= method.high)
    assert not any(p.grad is not None for p in method.parameters())  # weights untouched


def test_gedi_cosine_logits_and_energy_stay_bounded_however_large_the_weights():
    torch.manual_seed(0)
    method = GEDI(MLP((2,), width=16, depth=1, embed_dim=8), clusters=4, cosine=True, proj_dim=6)
    assert method.prototypes.weight.shape == (4, 6)
    x = torch.randn(50, 2) * 100
    with torch.no_grad():
        for p in method.parameters():
            p.mul_(50.0)  # free logits would grow with the weights
        logits = method.logits(x)
        energy = method.energy(x)
    assert logits.shape == (50, 4) and logits.abs().max() <= 1 + 1e-5
    bound = 1 / method.temperature + math.log(4)  # |E| <= 1 / T + log(clusters)
    assert energy.abs().max() <= bound and energy.std() > 0
    free = GEDI(MLP((2,), width=16, depth=1, embed_dim=8), clusters=4)
    with torch.no_grad():
        for p in free.parameters():
            p.mul_(50.0)
        assert free.logits(x).abs().max() > 1e3  # the default's logits are unbounded
    method.prepare(x, 0)
    out = method({"views": [x, x + 0.1]})
    assert torch.isfinite(out["loss"]) and out["loss"].requires_grad


def test_gedi_assignment_entropy_spans_uniform_to_one_hot():
    method = GEDI(MLP((2,), width=16, depth=1, embed_dim=8), clusters=4)
    x = torch.randn(30, 2)
    last = method.projector[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()  # the same logits for every cluster: the uniform assignment
        assert torch.allclose(method.assignment_entropy(x), torch.full((30,), math.log(4)))
        last.bias[2] = 5.0  # one cluster 50 ahead at T = 0.1: a one-hot assignment
        entropy = method.assignment_entropy(x)
    assert entropy.max() < 1e-6 and (method.logits(x).argmax(1) == 2).all()


def test_gedi_warns_when_every_assignment_is_nearly_uniform(tmp_path):
    data = DATASETS.build({"name": "moons", "num_samples": 200, "seed": 0})
    method = GEDI(MLP((2,), width=16, depth=1, embed_dim=8), clusters=4, gen_weight=0.0)
    last = method.projector[-1]
    with torch.no_grad():
        last.bias[1] = 5.0  # every input sharply in cluster 1: low entropy, no warning
    assert "warnings" not in method.evaluate_method(data, tmp_path, 0)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()  # the same logit for every cluster: the trivial point
    found = method.evaluate_method(data, tmp_path, 0)
    assert found["assignment_entropy"] == pytest.approx(math.log(4))
    assert found["warnings"] == [
        "GEDI's cluster assignments are nearly uniform (mean entropy 1.39 of log 4 = 1.39 "
        "nats): its clustering objective sits at its trivial point and trains the encoder "
        "little. A lower method.temperature starts the assignments sharper (docs/methods.md, "
        "GEDI)."
    ]


def toy(name, **method):
    return {
        "data": {"name": name, "num_samples": 800},
        "encoder": {"name": "mlp", "width": 64, "depth": 2, "embed_dim": 32},
        "views": {"name": "vector", "noise": 0.2, "drop": 0.0},
        "method": {"name": "gedi", "clusters": 2, "proj_hidden": 64, **method},
        "train": {"epochs": 120, "batch_size": 128, "lr": 0.003, "progress": False},
    }


@pytest.mark.slow
def test_gedi_separates_the_two_moons(tmp_path):
    run = pretrain(toy("moons", gen_weight=0.0), tmp_path)
    method, _, data = load_method(run)
    found = method.evaluate_method(data, tmp_path, 0)
    assert found["cluster_nmi"] > 0.9, found
    assert "ood_auroc_unseen_classes" not in found  # moons have no unseen classes
    data.x_ood = data.x_test[:40] * 3.0
    found = method.evaluate_method(data, tmp_path, 0)
    assert 0.0 <= found["ood_auroc_unseen_classes"] <= 1.0


@pytest.mark.slow
def test_gedi_energy_tells_data_from_noise_and_the_report_shows_samples(tmp_path, capsys):
    cfg = image_config({"name": "gedi", "clusters": 10, "sgld_steps": 5, "buffer_size": 256})
    cfg["train"]["epochs"] = 3
    cfg["evaluate"]["evaluators"] = ["linear"]
    run = pretrain(cfg, tmp_path)
    embed(run)
    metrics = evaluate(run)
    found = metrics["method_metrics"]
    assert found["ood_auroc_noise"] > 0.75, found  # 3 epochs: already far above chance
    assert 0 <= found["ood_auroc_shuffled"] <= 1 and 1 <= found["clusters_used"] <= 10
    assert 0 <= found["assignment_entropy"] <= math.log(10) + 1e-5
    assert json.loads((run / "metrics.json").read_text())["method_metrics"] == found
    assert np.load(run / "samples.npy").shape == (64, 1, 8, 8)
    report = (run / "report.md").read_text()
    assert "![samples.png](samples.png)" in report and "ood_auroc_noise" in report
    assert (run / "samples.png").stat().st_size > 0
    # a cluster head with the same logit for every cluster: `evaluate` prints the method's
    # warning and the report shows it, apart from the metric list
    checkpoint = run / "checkpoints" / "last.pt"
    state = torch.load(checkpoint, weights_only=False)
    for name in ("projector.3.weight", "projector.3.bias"):
        state["model"][name].zero_()
    torch.save(state, checkpoint)
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run)]) == 0
    assert "warning: GEDI's cluster assignments are nearly uniform" in capsys.readouterr().out
    report = (run / "report.md").read_text()
    assert "- **warning: GEDI's cluster assignments are nearly uniform" in report
    assert "- warnings:" not in report


@pytest.mark.slow
@pytest.mark.parametrize("method", ["obow", "gedi", "groco"])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, method):
    cfg = image_config({"name": method}, epochs=2, batch_size=128)
    if method == "gedi":
        cfg["method"].update(sgld_steps=2, buffer_size=128)
    resumes_identically(cfg, tmp_path)


@pytest.mark.slow
def test_groco_two_processes_equal_one_with_the_global_batch(tmp_path):
    two_processes_equal_one(
        {"name": "groco", "negatives": 6, "proj_hidden": 32, "proj_dim": 16}, tmp_path
    )


def test_toy_datasets_are_standardised_two_class_sets():
    for name in ("moons", "circles"):
        d = DATASETS.build({"name": name, "num_samples": 400, "seed": 1})
        assert d.x_train.shape == (300, 2) and d.x_test.shape == (100, 2)
        both = np.concatenate([d.x_train, d.x_test])
        assert np.allclose(both.mean(0), 0, atol=1e-5) and np.allclose(both.std(0), 1, atol=1e-4)
        assert set(np.unique(d.y_train)) == {0, 1}
    with pytest.raises(ConfigError, match="data.num_samples"):
        DATASETS.build({"name": "moons", "num_samples": 3})


def test_bad_options_are_named():
    images = CNN2d((1, 8, 8), width=8, depth=2, embed_dim=16)
    with pytest.raises(ConfigError, match="feature map.*cnn2d or resnet"):
        OBoW(MLP((10,), width=8, depth=1, embed_dim=8))
    with pytest.raises(ConfigError, match="method.inv_delta"):
        OBoW(images, inv_delta=0)
    with pytest.raises(ConfigError, match="method.steepness"):
        GroCo(images, steepness=0)
    with pytest.raises(ConfigError, match="method.reinit"):
        GEDI(images, reinit=1.5)
    with pytest.raises(ConfigError, match="method.proj_dim"):
        GEDI(images, cosine=True, proj_dim=0)
    groco = GroCo(MLP((10,), width=8, depth=1, embed_dim=8), negatives=10)
    x = torch.randn(4, 10)
    with pytest.raises(ConfigError, match="raise train.batch_size"):
        groco({"views": [x, x]})
