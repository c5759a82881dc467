"""GEDI (Sansone & Manhaeve 2023): clustering self-supervision with an energy-based model.

Discriminative part: a projector gives logits over `clusters`; with p = softmax(logits / T),
a uniformity term (KL from the uniform prior to the batch's mean assignment: every cluster is
used) and an invariance term (cross-entropy between the two views' assignments), weighted
0.5 and 0.5 * beta (beta = 1 by default: the 0.05-0.1 of our method notes left the two
moons unseparated, NMI 0.57, where beta = 1 separates them). Generative part
(``gen_weight > 0``): the same logits define an energy E(x) = -logsumexp(logits(x)), trained
as in JEM: lower energy on data, higher on samples drawn by stochastic gradient Langevin
dynamics (SGLD) from a persistent replay buffer, plus a small penalty on squared energies
that keeps them bounded. The energy scores out-of-distribution
inputs and the sampler generates; ``discotok evaluate`` reports both for a GEDI run.

``cosine=True`` (ours, not the paper's): the logits are cosine similarities between the
L2-normalised projection (``proj_dim``) and ``clusters`` L2-normalised prototypes, as in
SwAV's head, so they stay in [-1, 1] and the assignments cannot harden without bound; the
energy is then the free energy of the assignment itself, -logsumexp(logits / temperature).

Decided here: the energy passes run with BatchNorm in eval mode (running statistics from the
data views, not updated by samples), so data and samples are scored by the same function and
samples never leak into the normalisation; SGLD starts from uniform noise in the training
data's range (per input element) and is clamped to it.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.data.base import Dataset
from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.registry import METHODS

# mean assignment entropy, as a fraction of log(clusters), above which a run is warned about
TRIVIAL_ENTROPY = 0.9


@contextmanager
def _frozen_statistics(module: nn.Module):  # noqa: ANN202
    """Eval mode (BatchNorm uses and keeps its running statistics) inside the block."""
    was = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was)


@METHODS.register("gedi")
class GEDI(SSLMethod):
    """GEDI: uniformity + invariance over cluster assignments, plus a JEM energy term."""

    data_sized_buffers = ("replay", "low", "high")

    def __init__(
        self,
        encoder: nn.Module,
        clusters: int = 64,
        temperature: float = 0.1,
        beta: float = 1.0,
        proj_hidden: int = 256,
        gen_weight: float = 1.0,
        energy_reg: float = 0.1,
        sgld_steps: int = 10,
        sgld_step_size: float = 1.0,
        sgld_noise: float = 0.01,
        sgld_batch: int = 64,
        buffer_size: int = 2048,
        reinit: float = 0.05,
        head_norm: str = "none",
        cosine: bool = False,
        proj_dim: int = 128,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder)
        check_range("method.clusters", clusters, 2)
        check_range("method.temperature", temperature, 0, low_inclusive=False)
        check_range("method.beta", beta, 0)
        check_range("method.gen_weight", gen_weight, 0)
        check_range("method.energy_reg", energy_reg, 0)
        check_range("method.sgld_steps", sgld_steps, 1)
        check_range("method.sgld_step_size", sgld_step_size, 0, low_inclusive=False)
        check_range("method.sgld_noise", sgld_noise, 0)
        check_range("method.sgld_batch", sgld_batch, 1)
        check_range("method.buffer_size", buffer_size, 1)
        check_range("method.reinit", reinit, 0, 1)
        check_range("method.proj_dim", proj_dim, 1)
        self.cosine, self.clusters = cosine, clusters
        out_dim = proj_dim if cosine else clusters
        self.projector = ProjectionHead(encoder.embed_dim, proj_hidden, out_dim, head_norm)
        if cosine:
            self.prototypes = nn.Linear(proj_dim, clusters, bias=False)
        self.temperature, self.beta = temperature, beta
        self.gen_weight, self.energy_reg = gen_weight, energy_reg
        self.sgld_steps, self.sgld_step_size, self.sgld_noise = (
            sgld_steps,
            sgld_step_size,
            sgld_noise,
        )
        self.sgld_batch, self.buffer_size, self.reinit = sgld_batch, buffer_size, reinit
        self.seed = seed
        # sized by the data in prepare(): the SGLD replay buffer and the data's range
        self.register_buffer("replay", torch.zeros(0))
        self.register_buffer("low", torch.zeros(0))
        self.register_buffer("high", torch.zeros(0))

    def prepare(self, x_train: torch.Tensor, epoch: int) -> None:
        """On the first epoch: the data's range and a replay buffer of uniform noise in it."""
        if self.replay.numel():
            return
        self.low = x_train.amin(0).to(self.projector[0].weight.device)
        self.high = x_train.amax(0).to(self.low.device)
        self.replay = self._noise(self.buffer_size, torch.Generator().manual_seed(self.seed))

    def _noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand((n, *self.low.shape), generator=generator).to(self.low.device)
        return self.low + u * (self.high - self.low)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        z = self.projector(self.encoder(x))
        if not self.cosine:
            return z
        return F.linear(F.normalize(z, dim=1), F.normalize(self.prototypes.weight, dim=1))

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        """E(x) = -logsumexp of the cluster logits (of logits / temperature for cosine
        logits): low on data the model has learnt."""
        logits = self.logits(x)
        return -torch.logsumexp(logits / self.temperature if self.cosine else logits, dim=1)

    def langevin(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """`steps` SGLD steps downhill in energy from `x` (model weights untouched)."""
        with _frozen_statistics(self), torch.enable_grad():
            for _ in range(steps):
                x = x.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(self.energy(x).sum(), x)
                x = x - self.sgld_step_size * grad + self.sgld_noise * torch.randn_like(x)
                x = torch.maximum(torch.minimum(x, self.high), self.low)
        return x.detach()

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        v1, v2 = batch["views"][:2]
        p1 = F.softmax(self.logits(v1) / self.temperature, dim=1)
        p2 = F.softmax(self.logits(v2) / self.temperature, dim=1)
        mean = torch.cat([p1, p2]).mean(0)
        uniformity = -mean.clamp_min(1e-12).log().mean() - math.log(len(mean))
        invariance = (
            -(
                (p1 * p2.clamp_min(1e-12).log()).sum(1) + (p2 * p1.clamp_min(1e-12).log()).sum(1)
            ).mean()
            / 2
        )
        loss = 0.5 * uniformity + 0.5 * self.beta * invariance
        out = {"uniformity": uniformity.detach(), "invariance": invariance.detach()}
        if self.gen_weight > 0:
            # distinct chains: writing back duplicates would make the buffer nondeterministic
            pick = torch.randperm(len(self.replay), device=self.replay.device)[: self.sgld_batch]
            start = self.replay[pick]
            fresh = torch.rand(len(pick), device=start.device) < self.reinit
            start[fresh] = self._noise(int(fresh.sum()))
            samples = self.langevin(start, self.sgld_steps)
            self.replay[pick] = samples
            with _frozen_statistics(self):
                e_data, e_samples = self.energy(v1), self.energy(samples)
            generative = e_data.mean() - e_samples.mean()
            penalty = (e_data.pow(2).mean() + e_samples.pow(2).mean()) * self.energy_reg
            loss = loss + self.gen_weight * (generative + penalty)
            out["energy_gap"] = generative.detach()
        return {"loss": loss, **out}

    def assignment_entropy(self, x: torch.Tensor) -> torch.Tensor:
        """Entropy (nats) of each input's cluster assignment softmax(logits / T): log
        `clusters` when the assignment is uniform, 0 when it is one-hot."""
        return _entropy(self.logits(x) / self.temperature)

    def evaluate_method(self, data: Dataset, run_dir: Path, seed: int) -> dict[str, Any]:
        """OOD AUROC of the energy (test data vs uniform noise, for inputs of more than 16
        values vs pixel-shuffled test data, and vs the dataset's unseen classes ``x_ood``
        when it has them), cluster NMI of the argmax assignment, the mean assignment entropy
        on test data (near log `clusters`: every input gets nearly the uniform assignment,
        and the clustering objective sits at its trivial point), and 64 samples from 200
        SGLD steps."""
        from sklearn.metrics import normalized_mutual_info_score, roc_auc_score

        torch.manual_seed(seed)
        self.eval()
        x = torch.from_numpy(data.x_test[:1000])
        if not self.low.numel():
            self.prepare(torch.from_numpy(data.x_train), 0)
        flat = x.reshape(len(x), -1)
        shuffled = flat[:, torch.randperm(flat.shape[1])].reshape(x.shape)
        with torch.no_grad():
            scores = {
                "data": -self.energy(x).numpy(),
                "noise": -self.energy(self._noise(len(x))).numpy(),
                "shuffled": -self.energy(shuffled).numpy(),
            }
            if data.x_ood is not None:  # classes the data never holds (unseen characters)
                scores["unseen_classes"] = -self.energy(torch.from_numpy(data.x_ood)).numpy()
            logits = self.logits(x)
            assign = logits.argmax(1).numpy()
            entropy = float(_entropy(logits / self.temperature).mean())
        out: dict[str, Any] = {}
        names = ["noise", "shuffled"] if flat.shape[1] > 16 else ["noise"]
        for name in names + (["unseen_classes"] if "unseen_classes" in scores else []):
            truth = np.r_[np.ones(len(x)), np.zeros(len(scores[name]))]
            out[f"ood_auroc_{name}"] = float(
                roc_auc_score(truth, np.r_[scores["data"], scores[name]])
            )
        if data.y_test is not None:
            out["cluster_nmi"] = float(normalized_mutual_info_score(data.y_test[: len(x)], assign))
        out["clusters_used"] = int(len(np.unique(assign)))
        out["assignment_entropy"] = entropy
        if entropy > TRIVIAL_ENTROPY * math.log(self.clusters):
            out["warnings"] = [
                f"GEDI's cluster assignments are nearly uniform (mean entropy {entropy:.2f} of "
                f"log {self.clusters} = {math.log(self.clusters):.2f} nats): its clustering "
                "objective sits at its trivial point and trains the encoder little. A lower "
                "method.temperature starts the assignments sharper (docs/methods.md, GEDI)."
            ]
        samples = self.langevin(self._noise(64), 200).numpy()
        np.save(run_dir / "samples.npy", samples)
        if samples.ndim == 4 and samples.shape[1] in (1, 3):
            out["figures"] = [_save_grid(samples, run_dir / "samples.png").name]
        return out


def _entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of softmax(logits), row by row."""
    return -(F.softmax(logits, dim=1) * F.log_softmax(logits, dim=1)).sum(1)


def _save_grid(images: np.ndarray, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    side = int(math.ceil(math.sqrt(len(images))))
    fig, axes = plt.subplots(side, side, figsize=(side * 0.6, side * 0.6))
    for ax in axes.flat:
        ax.axis("off")
    for ax, img in zip(axes.flat, images, strict=False):
        ax.imshow(np.moveaxis(img, 0, -1).squeeze(), cmap="gray")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
