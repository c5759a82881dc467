"""SwAV (Sinkhorn prototypes) and DINO (centred, sharpened momentum teacher)."""

import pytest
import torch
from conftest import resumes_identically, tiny, two_processes_equal_one, weights

from discotok.encoders.cnn1d import CNN1d
from discotok.errors import ConfigError
from discotok.methods.dino import DINO
from discotok.methods.momentum import cosine_momentum
from discotok.methods.swav import SwAV, sinkhorn
from discotok.pipeline import pretrain


def test_sinkhorn_assignments_are_balanced_and_sum_to_one():
    torch.manual_seed(0)
    protos = torch.nn.functional.normalize(torch.randn(8, 16), dim=1)
    z = torch.nn.functional.normalize(torch.randn(64, 16) + 2 * protos[0], dim=1)
    scores = z @ protos.T  # most samples lean to prototype 0
    plain = torch.softmax(scores / 0.1, 1).sum(0)
    assert plain[0] > 30  # without balancing, one prototype takes half the batch
    for iterations, tolerance in ((3, 1.5), (10, 0.1)):
        q = sinkhorn(scores, epsilon=0.05, iterations=iterations)
        assert torch.allclose(q.sum(1), torch.ones(64), atol=1e-5)
        assert torch.allclose(q.sum(0), torch.full((8,), 8.0), atol=tolerance)
    wide = sinkhorn(scores * 30, epsilon=0.05)  # no underflow to NaN on wide score ranges
    assert torch.isfinite(wide).all()


@pytest.mark.parametrize("cls", [SwAV, DINO])
def test_methods_return_named_losses(cls):
    method = cls(CNN1d((1, 40), width=8, depth=2, embed_dim=8))
    x = torch.randn(16, 1, 40)
    out = method({"views": [x, x + 0.1 * torch.randn_like(x)]})
    assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    assert len(out) == 2


def test_momentum_schedule_rises_to_one():
    assert cosine_momentum(0.996, 0, 100) == pytest.approx(0.996)
    assert cosine_momentum(0.996, 50, 100) == pytest.approx(0.998)
    assert cosine_momentum(0.996, 100, 100) == pytest.approx(1.0)


def test_dino_teacher_follows_the_student_and_is_checkpointed(tmp_path):
    cfg = tiny()
    cfg["method"] = {"name": "dino", "out_dim": 64, "hidden": 32, "bottleneck": 16}
    run = pretrain(cfg, tmp_path)
    state = weights(run)["model"]
    torch.manual_seed(0)
    fresh = DINO(CNN1d((1, 40), width=16, depth=2, embed_dim=16), 64, 32, 16).state_dict()
    key = "teacher_encoder.features.0.weight"
    assert key in state and not torch.equal(state[key], fresh[key])  # the teacher moved
    student = key.replace("teacher_encoder", "encoder")
    assert not torch.equal(state[key], state[student])  # ... but is not the student
    assert state["center"].abs().sum() > 0


@pytest.mark.parametrize("name", ["swav", "dino"])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, name):
    cfg = tiny(train={"epochs": 2})
    cfg["method"] = {"name": name}  # none of SimCLR's options
    resumes_identically(cfg, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("method", [{"name": "swav", "prototypes": 10}, {"name": "dino"}])
def test_two_processes_equal_one_with_the_global_batch(tmp_path, method):
    two_processes_equal_one(method, tmp_path)


def test_option_ranges():
    enc = CNN1d((1, 40), width=8, depth=2, embed_dim=8)
    with pytest.raises(ConfigError, match="method.prototypes"):
        SwAV(enc, prototypes=1)
    with pytest.raises(ConfigError, match="method.teacher_temperature"):
        DINO(enc, teacher_temperature=0)


@pytest.mark.parametrize("name", ["swav", "dino", "groco", "gedi"])
def test_head_norm_puts_batchnorm_in_the_head(name):
    from discotok.registry import METHODS

    encoder = CNN1d(input_shape=(1, 40), width=8, depth=2, embed_dim=16)
    plain = METHODS.build({"name": name}, encoder=encoder)
    normed = METHODS.build({"name": name, "head_norm": "batch"}, encoder=encoder)
    count = lambda m: sum(isinstance(x, torch.nn.BatchNorm1d) for x in m.modules())  # noqa: E731
    assert count(normed) > count(plain)
    normed.prepare(torch.randn(64, 1, 40), 0)  # GEDI sizes its replay buffer here
    losses = normed({"views": [torch.randn(8, 1, 40), torch.randn(8, 1, 40)], "index": None})
    assert torch.isfinite(losses["loss"])
    if name == "dino":  # no norm slot without the option: older checkpoints still load
        assert isinstance(plain.head.mlp[2], torch.nn.Linear)
    with pytest.raises(ConfigError, match="batch"):
        METHODS.build({"name": name, "head_norm": "group"}, encoder=encoder)


def test_dino_multi_crop_feeds_the_student_small_crops_and_the_teacher_global_views():
    from discotok.encoders.cnn2d import CNN2d

    method = DINO(CNN2d((1, 16, 16), width=8, depth=2, embed_dim=8), local_crops=3)
    assert method.num_views == 5
    seen = {"student": [], "teacher": []}
    method.encoder.register_forward_hook(lambda m, i, o: seen["student"].append(i[0].shape))
    method.teacher_encoder.register_forward_hook(lambda m, i, o: seen["teacher"].append(i[0].shape))
    views = [torch.rand(6, 1, 16, 16) for _ in range(5)]
    out = method({"views": views})
    assert out["loss"].requires_grad and torch.isfinite(out["loss"])
    assert seen["teacher"] == [(6, 1, 16, 16)] * 2
    assert seen["student"] == [(6, 1, 16, 16)] * 2 + [(6, 1, 8, 8)] * 3
    # without local crops (the default): two views, no local ones
    plain = DINO(CNN2d((1, 16, 16), width=8, depth=2, embed_dim=8))
    assert plain.num_views == 2 and plain.local_views(views[:2]) == []


def test_dino_multi_crop_trains_through_the_engine_and_resumes_identically(tmp_path):
    cfg = tiny(
        data={"name": "digits"},
        encoder={"name": "cnn2d", "width": 8, "depth": 2, "embed_dim": 16},
        views={"name": "image2d"},
    )
    cfg["data"] = {"name": "digits"}
    cfg["method"] = {"name": "dino", "out_dim": 64, "local_crops": 2}
    resumes_identically(cfg, tmp_path)


def test_dino_multi_crop_options_are_checked():
    from discotok.encoders.cnn2d import CNN2d

    with pytest.raises(ConfigError, match="local_crops needs an image encoder"):
        DINO(CNN1d((1, 40), width=8, depth=2, embed_dim=8), local_crops=2)
    image = CNN2d((1, 16, 16), width=8, depth=2, embed_dim=8)
    with pytest.raises(ConfigError, match="local_min <= local_max"):
        DINO(image, local_crops=2, local_min=0.6, local_max=0.3)
    with pytest.raises(ConfigError, match="method.local_size"):
        DINO(image, local_crops=2, local_size=1.5)
    with pytest.raises(ConfigError, match="method.local_crops"):
        DINO(image, local_crops=-1)
