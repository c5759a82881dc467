"""Few labels: self-training policies, GPC category discovery, DDFA under latent label shift."""

import json

import numpy as np
import pytest
import torch
from conftest import blobs, weights

from discotok.cli import main
from discotok.errors import ConfigError, DataError
from discotok.fewlabels import (
    DDFA,
    SelfTraining,
    SemiSupervisedGMM,
    discover,
    discovery_accuracy,
    discovery_split,
    label_shift,
    label_shift_domains,
    label_shift_em,
    label_shift_scores,
    label_subset,
    self_train,
)
from discotok.fewlabels.ddfa import cross_fit
from discotok.fewlabels.gpc import HELD_OUT_STRENGTHS, niw_log_marginal
from discotok.fewlabels.selftrain import select_confident
from discotok.fewlabels.splits import class_proportions


# ---- settings built from labelled data ------------------------------------------------
def test_label_subset_is_stratified_and_labels_every_class():
    y = np.repeat(np.arange(5), [400, 200, 100, 50, 3])
    mask = label_subset(y, 0.01, seed=0)
    assert np.bincount(y[mask]).tolist() == [4, 2, 1, 1, 1]
    assert not np.array_equal(mask, label_subset(y, 0.01, seed=1))
    with pytest.raises(ConfigError, match="label_fraction"):
        label_subset(y, 0.0)


def test_discovery_split_labels_only_old_classes():
    y = np.repeat(np.arange(6), 100)
    labelled, old = discovery_split(y, 3, 0.5, seed=0)
    assert old.tolist() == [0, 1, 2]
    assert set(np.unique(y[labelled])) == {0, 1, 2}
    assert labelled.sum() == 150
    with pytest.raises(ConfigError, match="known"):
        discovery_split(y, 6)


def test_label_shift_domains_shift_only_the_class_proportions():
    y = np.repeat(np.arange(4), 2000)
    domain, truth = label_shift_domains(y, 10, 0.5, seed=0)
    assert domain.shape == y.shape and set(np.unique(domain)) <= set(range(10))
    np.testing.assert_allclose(truth.sum(1), 1)
    np.testing.assert_allclose(truth, class_proportions(domain, y, 10, 4))
    _, flat = label_shift_domains(y, 10, 100.0, seed=0)
    assert truth.std() > 3 * flat.std()  # small alpha: strong shift; large alpha: little
    np.testing.assert_array_equal(domain, label_shift_domains(y, 10, 0.5, seed=0)[0])


# ---- self-training ----------------------------------------------------------------------
def test_selection_policies():
    proba = np.array([[0.99, 0.01], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]])
    assert select_confident(proba, "fixed", 1, 5, 0.95).tolist() == [1, 0, 0, 0, 0]
    kbest = select_confident(proba, "kbest", 1, 2, 0.95)  # 1/2 x 5 / 2 classes -> 1 per class
    assert kbest.tolist() == [1, 0, 0, 1, 0]
    assert select_confident(proba, "curriculum", 2, 5, 0.95).sum() == 2  # top 40 %
    assert select_confident(proba, "curriculum", 5, 5, 0.95).all()
    # dynamic: the rarely predicted class 1 gets a lower bar than class 0
    dyn = select_confident(proba, "dynamic", 1, 5, 0.95)
    assert dyn[3] and not dyn[2]


def test_self_training_beats_the_labels_alone_on_blobs():
    gains = []
    for seed in range(3):
        x, y = blobs(300, 4, 10, 1.0, seed)
        known = label_subset(y, 0.01, seed=seed)
        args = (x[known], y[known], x[~known])
        alone = SelfTraining(rounds=0, seed=seed).fit(*args)
        model = SelfTraining("dynamic", seed=seed).fit(*args, y_unlabelled=y[~known])
        gains.append(
            (model.predict(x[~known]) == y[~known]).mean()
            - (alone.predict(x[~known]) == y[~known]).mean()
        )
        assert model.history[-1]["pseudo_labelled"] > 0.5 * (~known).sum()
        assert 0.5 < model.history[-1]["pseudo_label_acc"] <= 1
    assert min(gains) > 0.02


@pytest.mark.parametrize("pseudo", ["hard", "soft"])
@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_every_policy_runs_with_both_heads_and_pseudo_labels(pseudo, head):
    x, y = blobs(60, 3, 5, 3.0, 0)
    known = label_subset(y, 0.1, seed=0)
    for policy in ("fixed", "kbest", "curriculum", "dynamic"):
        model = SelfTraining(policy, pseudo=pseudo, head=head, rounds=2, head_epochs=50)
        model.fit(x[known], y[known], x[~known])
        assert (model.predict(x) == y).mean() > 0.9
        np.testing.assert_allclose(model.predict_proba(x).sum(1), 1, rtol=1e-5)


def test_self_training_bad_input():
    x, y = blobs(20, 3, 4, 3.0, 0)
    with pytest.raises(DataError, match=r"classes \[2\] have no labelled example"):
        SelfTraining().fit(x[[0, 20]], y[[0, 20]], x[40:], classes=[0, 1, 2])
    with pytest.raises(DataError, match="not in the class list"):
        SelfTraining().fit(x[:25], y[:25], x[25:], classes=[0])
    with pytest.raises(DataError, match="at least 2 classes"):
        SelfTraining().fit(x[:5], y[:5], x[5:])
    with pytest.raises(ConfigError, match="choose one of: fixed, kbest, curriculum, dynamic"):
        SelfTraining("magic")


# ---- category discovery -----------------------------------------------------------------
def test_niw_marginal_likelihood_obeys_the_chain_rule():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 1
    m0, k0, nu0, psi0 = np.zeros(3), 0.5, 6.0, 2 * np.eye(3)
    logdet = np.linalg.slogdet(psi0)[1]
    # posterior after a, as the prior for b
    n, mean = len(a), a.mean(0)
    kn, nun = k0 + n, nu0 + n
    mn = (k0 * m0 + n * mean) / kn
    diff = (mean - m0)[:, None]
    psin = psi0 + (a - mean).T @ (a - mean) + k0 * n / kn * diff @ diff.T
    joint = niw_log_marginal(np.concatenate([a, b]), m0, k0, nu0, logdet, psi0)
    chain = niw_log_marginal(a, m0, k0, nu0, logdet, psi0) + niw_log_marginal(
        b, mn, kn, nun, np.linalg.slogdet(psin)[1], psin
    )
    assert joint == pytest.approx(chain, rel=1e-10)


@pytest.mark.parametrize("k_init", [3, 12])
def test_gpc_finds_the_number_of_classes_from_half_and_double(k_init):
    x, y = blobs(200, 6, 8, 1.5, 1)
    labelled, old = discovery_split(y, 3, 0.5, seed=1)
    gmm = SemiSupervisedGMM(k_init, seed=1).fit(x, y, labelled)
    assert gmm.k_ == 6
    assert gmm.history_[0] == k_init
    assert gmm.calibration_ == "split"  # 100 labelled points a class
    u = ~labelled
    acc = discovery_accuracy(y[u], gmm.labels_[u], old)
    assert acc["new_acc"] > 0.85 and acc["old_acc"] > 0.85
    assert np.array_equal(gmm.labels_[labelled], y[labelled])  # old classes keep their ids


def test_gpc_calibrates_on_held_out_classes_when_classes_are_too_small_to_split():
    # 24 points a class in 16 dimensions, 12 labelled: no labelled class can be split-tested
    # (min_size 10 needs 20), and under the weakest prior no new class ever splits off.
    x, y = blobs(24, 16, 16, 1.0, 0)
    labelled, old = discovery_split(y, 8, 0.5, seed=0)
    weakest = SemiSupervisedGMM(8, prior_strength=0.0).fit(x, y, labelled)
    assert weakest.k_ == 8
    gmm = SemiSupervisedGMM(8).fit(x, y, labelled)
    assert gmm.calibration_ == "held-out"
    assert set(gmm.held_out_scores_) == set(HELD_OUT_STRENGTHS)
    assert gmm.strength_ == max(gmm.held_out_scores_, key=gmm.held_out_scores_.get) > 0
    assert gmm.k_ == 16
    u = ~labelled
    assert discovery_accuracy(y[u], gmm.labels_[u], old)["new_acc"] > 0.85
    x, y = blobs(24, 4, 4, 3.0, 0)  # 2 old classes: too few for two held-out folds
    few = SemiSupervisedGMM(4).fit(x, y, discovery_split(y, 2, 0.5, seed=0)[0])
    assert (few.calibration_, few.strength_) == ("none", 0.0)


@pytest.mark.parametrize("explore", [0.0, 0.5])
def test_gpc_explores_under_the_weakest_prior_first(explore):
    x, y = blobs(100, 4, 4, 1.0, 0)
    labelled, _ = discovery_split(y, 2, 0.5, seed=0)
    seen = []

    class Spy(SemiSupervisedGMM):
        def _split(self, z, labels, labelled, rng):
            seen.append(self.strength_)
            return super()._split(z, labels, labelled, rng)

    gmm = Spy(2, iterations=10, prior_strength=200.0, explore=explore).fit(x, y, labelled)
    weak = (int(explore * 10) + 1) // 2  # splits run on iterations 0, 2, 4, ...
    assert seen == [0.0] * weak + [200.0] * (5 - weak)
    assert gmm.strength_ == 200.0


def test_discovery_accuracy_is_one_hungarian_map():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert discovery_accuracy(y, np.array([5, 5, 7, 7, 9, 9]), [0]) == {
        "all_acc": 1.0,
        "old_acc": 1.0,
        "new_acc": 1.0,
    }
    acc = discovery_accuracy(y, np.array([1, 1, 1, 1, 2, 2]), [0])
    assert acc["all_acc"] == pytest.approx(4 / 6) and acc["new_acc"] == 0.5


def test_gpc_bad_input():
    x, y = blobs(30, 4, 3, 3.0, 0)
    labelled = np.isin(y, [0, 1]) & (np.arange(len(y)) % 2 == 0)
    with pytest.raises(DataError, match="below the 2 labelled classes"):
        SemiSupervisedGMM(1).fit(x, y, labelled)
    with pytest.raises(DataError, match="cannot seed"):
        SemiSupervisedGMM(200).fit(x, y, labelled)
    with pytest.raises(DataError, match="one label and one labelled flag per row"):
        SemiSupervisedGMM(4).fit(x, y[:-1], labelled)
    with pytest.raises(ConfigError, match="explore"):
        SemiSupervisedGMM(4, explore=1.0)
    with pytest.raises(ConfigError, match="auto, split, held-out"):
        SemiSupervisedGMM(4, calibrate="cv")


# ---- latent label shift -----------------------------------------------------------------
def test_ddfa_factorisation_is_exact_given_the_true_discriminator():
    x, y = blobs(300, 4, 6, 3.0, 0)
    domain, truth = label_shift_domains(y, 10, 0.5, seed=0)
    p_d = np.bincount(domain) / len(domain)
    p_d_given_y = truth * p_d[:, None] / (truth * p_d[:, None]).sum(0)
    # the true p(d | x), given as if from a discriminator of the user's own
    model = DDFA(4).fit(x, domain, domain_proba=p_d_given_y[:, y].T)
    scores = label_shift_scores(y, model.labels_, model.p_y_given_d_, truth)
    assert scores["acc"] == 1.0 and scores["p_y_given_d_l1"] < 1e-6


def test_label_shift_em_keeps_p_y_x_where_the_domain_holds_none_of_its_classes():
    p_y_x = np.array([[0.0, 1.0], [0.5, 0.5], [0.9, 0.1]])
    p_y_d = np.array([[1.0, 0.0], [0.5, 0.5]])  # domain 0 holds no class 1 (say, NMF's zero)
    p_y_d, adjusted = label_shift_em(p_y_x, p_y_d, np.array([0, 0, 1]), steps=3)
    assert np.isfinite(adjusted).all() and np.isfinite(p_y_d).all()
    assert np.allclose(adjusted[0], [0.0, 1.0])  # only class 1 possible: its own p(y|x)
    assert np.allclose(adjusted.sum(1), 1) and np.allclose(p_y_d.sum(1), 1)


@pytest.mark.parametrize("folds", [2, 3])
def test_cross_fit_scores_every_point_with_a_model_fit_on_the_other_folds(folds):
    calls = []

    def fit_and_score(fit_on, score):
        calls.append((fit_on, score))
        return np.tile(np.float32(len(calls)), (len(score), 2))  # which model scored it

    proba = cross_fit(11, fit_and_score, seed=3, folds=folds)
    assert len(calls) == folds
    scored = np.concatenate([score for _, score in calls])
    assert sorted(scored.tolist()) == list(range(11))  # each point scored exactly once
    for i, (fit_on, score) in enumerate(calls, 1):
        assert sorted([*fit_on, *score]) == list(range(11))  # fit on all the others
        assert (proba[score] == i).all() and len(score) in (11 // folds, 11 // folds + 1)
    with pytest.raises(ConfigError, match="folds"):
        DDFA(3, folds=1)


def test_a_linear_head_folds_its_standardisation_into_raw_feature_weights():
    from discotok.fewlabels.head import fit_scaled_head, one_hot

    x, y = blobs(40, 3, 5, 3.0, 0)
    x = x * np.array([1, 10, 100, 0.1, 1], dtype=np.float32) + 7
    head, mean, std = fit_scaled_head(x, one_hot(y, 3), epochs=50)
    w, b = head.unscaled_linear(mean, std)
    proba = torch.softmax(torch.as_tensor(x @ w.T + b), 1).numpy()
    np.testing.assert_allclose(proba, head.predict_proba((x - mean) / std), atol=1e-5)
    assert fit_scaled_head(x, one_hot(y, 3), "mlp", epochs=1)[0].unscaled_linear(mean, std) is None


def test_ddfa_recovers_classes_and_proportions_from_domains():
    x, y = blobs(500, 4, 6, 3.0, 1)
    domain, truth = label_shift_domains(y, 10, 0.5, seed=1)
    model = DDFA(4, seed=1).fit(x, domain)
    scores = label_shift_scores(y, model.labels_, model.p_y_given_d_, truth)
    assert scores["acc"] > 0.85 and scores["p_y_given_d_l1"] < 0.2
    np.testing.assert_allclose(model.p_y_given_d_.sum(1), 1)


def test_ddfa_refit_rounds_self_train_from_its_labels():
    x, y = blobs(300, 4, 6, 2.0, 0)
    domain, truth = label_shift_domains(y, 10, 0.5, seed=0)
    scores, changes = [], []
    for rounds in (0, 3):
        model = DDFA(4, refit_rounds=rounds, head_epochs=100).fit(x, domain)
        scores.append(label_shift_scores(y, model.labels_, model.p_y_given_d_, truth))
        changes.append(model.refit_changes_)
    assert changes[0] == [] and len(changes[1]) == 3
    assert changes[1][0] > changes[1][-1] > 0  # the labels settle
    assert scores[1]["acc"] > scores[0]["acc"] + 0.03  # 0.863 -> 0.931
    assert scores[1]["p_y_given_d_l1"] < scores[0]["p_y_given_d_l1"]  # 0.157 -> 0.134
    with pytest.raises(ConfigError, match="refit_rounds"):
        DDFA(4, refit_rounds=-1)


def test_ddfa_bad_input():
    x, y = blobs(20, 3, 4, 3.0, 0)
    with pytest.raises(DataError, match="at least as many domains as classes"):
        DDFA(3).fit(x, np.arange(len(x)) % 2)
    one = np.arange(len(x)) % 4
    one[0] = 9
    with pytest.raises(DataError, match=r"domains \[9\] hold a single point"):
        DDFA(3).fit(x, one)
    with pytest.raises(DataError, match="one domain id per row"):
        DDFA(3).fit(x, one[:-1])
    with pytest.raises(ConfigError, match="spa, nmf"):
        DDFA(3, factorization="lda")
    domain = np.arange(len(x)) % 4
    with pytest.raises(DataError, match=r"\(60, 4\); got \(60, 3\)"):
        DDFA(3).fit(x, domain, domain_proba=np.full((60, 3), 1 / 3))
    with pytest.raises(DataError, match="finite, non-negative"):
        DDFA(3).fit(x, domain, domain_proba=np.full((60, 4), np.nan))


# ---- workflows on a run directory, and the CLI ------------------------------------------
@pytest.fixture
def run_with_embeddings(tmp_path):
    x, y = blobs(200, 4, 8, 2.0, 0)
    xt, yt = blobs(50, 4, 8, 2.0, 0)
    np.savez(tmp_path / "embeddings.npz", train=x, test=xt, y_train=y, y_test=yt)
    return tmp_path


def test_workflows_write_results_and_predictions(run_with_embeddings):
    run = run_with_embeddings
    result = self_train(run, label_fraction=0.02)
    assert result["settings"]["labelled"] == 16 and result["settings"]["labels"] == "simulated"
    assert set(result["test_acc"]) == {"self_training", "labels_only", "sklearn_self_training"}
    assert json.loads((run / "self_train.json").read_text())["test_acc"] == result["test_acc"]
    with np.load(run / "self_train.npz") as out:
        assert out["train_pred"].shape == (800,) and out["test_pred"].shape == (200,)

    result = discover(run, k_init=8)
    assert result["settings"]["old_classes"] == [0, 1] and result["true_k"] == 4
    assert result["settings"]["explore"] == 0.5  # the split/merge schedule is on record
    assert {"all_acc", "old_acc", "new_acc"} <= set(result["gpc"])
    with np.load(run / "discovery.npz") as out:
        assert out["clusters"].max() + 1 == result["k_estimate"]

    result = label_shift(run, num_domains=8, alpha=0.5, refit_rounds=2)
    assert np.asarray(result["p_y_given_d"]).shape == (8, 4)
    assert len(result["refit_label_changes"]) == 2
    assert 0 <= result["ddfa"]["acc"] <= 1
    with np.load(run / "label_shift.npz") as out:
        assert out["components"].shape == (800,)


def test_users_own_labels_and_domains(run_with_embeddings, capsys):
    run = run_with_embeddings
    with np.load(run / "embeddings.npz") as emb:
        y = emb["y_train"]
    labels = np.full(len(y), -1)
    labels[::20] = y[::20]
    np.save(run / "labels.npy", labels)
    assert main(["self-train", "--run", str(run), "--labels", str(run / "labels.npy")]) == 0
    printed = capsys.readouterr().out
    assert "labels given" in printed and "self_training" in printed
    assert json.loads((run / "self_train.json").read_text())["settings"]["labelled"] == 40

    labels[np.isin(y, [2, 3])] = -1
    np.save(run / "labels.npy", labels)
    assert main(["discover", "--run", str(run), "--labels", str(run / "labels.npy")]) == 0
    assert "GPC (K estimated)" in capsys.readouterr().out

    np.save(run / "domains.npy", np.arange(len(y)) % 6)
    argv = ["label-shift", "--run", str(run), "--domains", str(run / "domains.npy")]
    assert main([*argv, "--refit-rounds", "1"]) == 0
    printed = capsys.readouterr().out
    assert "DDFA" in printed and "labels changed by each refit round" in printed
    lonely = np.arange(len(y)) % 6
    lonely[0] = 7  # checked before any fine-tuning starts (this run has no encoder to tune)
    with pytest.raises(DataError, match=r"domains \[7\] hold a single point"):
        label_shift(run, domains=lonely, finetune_epochs=1)


def test_cli_bad_label_files_are_clear_errors(run_with_embeddings, capsys):
    run = run_with_embeddings
    (run / "empty.npy").write_bytes(b"")
    (run / "corrupt.npy").write_bytes(b"not numpy at all")
    np.save(run / "short.npy", np.zeros(5, dtype=int))
    np.save(run / "floats.npy", np.zeros(800))
    cases = {
        "empty.npy": "missing or empty",
        "corrupt.npy": "not a readable .npy",
        "short.npy": "must be 800 integers",
        "floats.npy": "must be 800 integers",
    }
    for name, message in cases.items():
        assert main(["self-train", "--run", str(run), "--labels", str(run / name)]) == 2
        assert message in capsys.readouterr().err
    one_class = np.full(800, -1)
    one_class[:10] = 0
    np.save(run / "one.npy", one_class)
    assert main(["self-train", "--run", str(run), "--labels", str(run / "one.npy")]) == 2
    assert "at least 2 classes" in capsys.readouterr().err


def test_unlabelled_run_needs_given_labels(tmp_path):
    x, _ = blobs(50, 2, 4, 2.0, 0)
    np.savez(tmp_path / "embeddings.npz", train=x, test=x)
    with pytest.raises(DataError, match="no labels to simulate"):
        self_train(tmp_path)
    with pytest.raises(DataError, match="number of classes"):
        label_shift(tmp_path, domains=np.arange(100) % 5)


def test_encoder_fine_tuning_learns_and_leaves_the_run_intact(tmp_path, tiny_config):
    from discotok import embed, pretrain
    from discotok.fewlabels.finetune import fine_tune, predict
    from discotok.fewlabels.head import one_hot
    from discotok.pipeline import load_dataset, read_config

    run = pretrain(tiny_config(), tmp_path / "run")
    embed(run)
    before = weights(run)["model"]
    data = load_dataset(read_config(run))
    rows = np.arange(64)
    targets = one_hot(data.y_train[rows], 10)
    model, dev = fine_tune(run, rows, targets, epochs=150, lr=3e-3, augment=False)
    assert (predict(model, data.x_train[rows], dev) == data.y_train[rows]).mean() > 0.9

    result = self_train(run, label_fraction=0.1, finetune_epochs=1)
    assert {"self_training_finetuned", "labels_only_finetuned"} <= set(result["test_acc"])
    result = label_shift(run, num_domains=10, finetune_epochs=1)  # end-to-end discriminator
    assert result["settings"]["finetune_epochs"] == 1 and 0 <= result["ddfa"]["acc"] <= 1
    result = label_shift(run, num_domains=10, copies=2)  # the frozen head on 2x the points
    assert result["settings"]["copies"] == 2 and 0 <= result["ddfa"]["acc"] <= 1
    with np.load(run / "label_shift.npz") as out:  # one row per sample, not per copy
        assert out["components"].shape == (len(data.x_train),)
        np.testing.assert_allclose(out["proba"].sum(1), 1, rtol=1e-5)
    with pytest.raises(ConfigError, match="use one of the two"):
        label_shift(run, num_domains=10, copies=2, finetune_epochs=1)
    after = weights(run)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_cluster_prototypes_are_normalised_means_of_normalised_rows():
    from discotok.fewlabels.prototypes import cluster_prototypes

    z = torch.tensor([[2.0, 0.0], [0.0, 5.0], [0.0, -1.0], [3.0, 3.0]])
    p = cluster_prototypes(z, torch.tensor([0, 0, 1, 2]), 3)
    assert torch.allclose(p[0], torch.tensor([1.0, 1.0]) / 2**0.5)
    assert torch.allclose(p[1], torch.tensor([0.0, -1.0]))
    assert torch.allclose(p.norm(dim=1), torch.ones(3))


def test_prototype_fine_tuning_pulls_samples_to_their_clusters(tmp_path, tiny_config):
    from discotok import embed, pretrain
    from discotok.fewlabels.prototypes import cluster_prototypes, prototype_finetune
    from discotok.pipeline import read_embeddings
    from discotok.report import format_few_labels

    run = pretrain(tiny_config(), tmp_path / "run")
    embed(run)
    before = weights(run)["model"]
    emb = read_embeddings(run)
    clusters = torch.as_tensor(emb["y_train"])

    def own_prototype_is_nearest(z: np.ndarray) -> float:
        z = torch.as_tensor(z)
        p = cluster_prototypes(z, clusters, int(clusters.max()) + 1)
        nearest = (torch.nn.functional.normalize(z, dim=1) @ p.T).argmax(1)
        return float((nearest == clusters).float().mean())

    train, test, losses = prototype_finetune(run, emb["y_train"], epochs=15, batch_size=32, lr=3e-3)
    assert train.shape == emb["train"].shape and test.shape == emb["test"].shape
    assert losses[-1] < losses[0]
    # measured: 0.29 before, 0.52 after
    assert own_prototype_is_nearest(train) > own_prototype_is_nearest(emb["train"]) + 0.15
    after = weights(run)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)  # the run is left intact
    with pytest.raises(DataError, match="one cluster id >= 0 per train sample"):
        prototype_finetune(run, emb["y_train"][:-1])

    result = discover(run, finetune_epochs=1)
    assert result["settings"]["finetune_epochs"] == 1
    first = result["before_finetune"]
    assert len(first["finetune_losses"]) == 1 and result["k_history"][0] == first["k_estimate"]
    assert {"all_acc", "old_acc", "new_acc"} <= set(first["gpc"]) == set(result["gpc"])
    with np.load(run / "discovery.npz") as out:
        assert out["train_finetuned"].shape == emb["train"].shape
    printed = format_few_labels("discovery", result)
    assert f"-> fine-tuned -> {result['k_estimate']}" in printed
    assert "before fine-tuning: GPC" in printed
