"""Predictive speech SSL (HuBERT, Hsu et al. 2021): predict k-means units of masked frames,
then re-cluster the model's own features and train again.

Iteration 1 clusters MFCCs (with deltas) computed from the input log-mels, averaged onto the
20 ms frame grid; each later iteration clusters layer `recluster_layer` of the encoder
trained so far. Targets are faiss k-means ids (``tokenizers.kmeans``), one per frame, kept
in the method's state so a resumed run continues with the same targets. Training predicts
the target of every masked frame from the transformer output: cosine similarity to a
learned embedding per unit over a temperature, cross-entropy (the paper's alpha = 1: loss
on masked frames only). Set ``train.epochs`` to ``iterations * epochs_per_iteration``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from discotok.encoders.speech import span_mask
from discotok.errors import check_range
from discotok.methods.base import SSLMethod
from discotok.methods.speech_common import require_speech_encoder
from discotok.registry import METHODS
from discotok.speech.features import pair_frames
from discotok.tokenizers.kmeans import faiss_kmeans


def mfcc_from_log_mel(x: torch.Tensor, n_mfcc: int = 13) -> torch.Tensor:
    """(n, bins, frames) log-mels -> (n, frames // 2, 3 * n_mfcc) MFCC + deltas at 20 ms."""
    from discotok.speech.features import cepstra

    return pair_frames(cepstra(torch.nan_to_num(x, nan=0.0), n_mfcc)).transpose(1, 2)


@torch.no_grad()
def frame_features(
    encoder: nn.Module, x: torch.Tensor, layer: int | None, batch_size: int = 64
) -> torch.Tensor:
    """Layer `layer` of `encoder` on every clip of `x`, in eval mode: (n, frames // 2, width)."""
    was_training = encoder.training
    encoder.eval()
    out = torch.cat(
        [encoder.frames(x[i : i + batch_size], layer=layer) for i in range(0, len(x), batch_size)]
    )
    encoder.train(was_training)
    return out


def cluster_frames(
    features: torch.Tensor, valid: torch.Tensor, codes: int, seed: int
) -> torch.Tensor:
    """k-means ids (n, frames) of the valid frames; -1 on padding."""
    points = features[valid].double().cpu().numpy().astype(np.float32)
    _, ids, _ = faiss_kmeans(points, codes, seed=seed)
    targets = torch.full(valid.shape, -1, dtype=torch.long)
    targets[valid.cpu()] = torch.from_numpy(ids.astype(np.int64))
    return targets


@METHODS.register("hubert")
class HuBERT(SSLMethod):
    """Masked prediction of k-means units; re-clusters its own features each iteration."""

    num_views = 1
    augment = False
    data_sized_buffers = ("targets",)

    def __init__(
        self,
        encoder: nn.Module,
        codes: int = 50,
        iterations: int = 2,
        epochs_per_iteration: int = 10,
        recluster_layer: int | None = None,
        mask_prob: float = 0.08,
        mask_span: int = 5,
        temperature: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__(encoder)
        require_speech_encoder(encoder, "hubert")
        check_range("method.codes", codes, 2)
        check_range("method.iterations", iterations, 1)
        check_range("method.epochs_per_iteration", epochs_per_iteration, 1)
        self.codes, self.iterations = codes, iterations
        self.epochs_per_iteration = epochs_per_iteration
        self.recluster_layer = recluster_layer or max(1, (encoder.depth + 1) // 2 + 1)
        check_range("method.recluster_layer", self.recluster_layer, 1, encoder.depth)
        self.mask_prob, self.mask_span, self.temperature = mask_prob, mask_span, temperature
        self.seed = seed
        self.proj = nn.Linear(encoder.width, encoder.width)
        self.unit_embedding = nn.Parameter(torch.randn(codes, encoder.width) * 0.02)
        self.register_buffer("targets", torch.zeros(0, 0, dtype=torch.long))
        self.register_buffer("iteration", torch.tensor(-1))

    def prepare(self, x_train: torch.Tensor, epoch: int) -> None:
        """Compute the targets of the iteration that `epoch` belongs to, if not done yet."""
        iteration = min(epoch // self.epochs_per_iteration, self.iterations - 1)
        if int(self.iteration) == iteration and self.targets.shape[0] == len(x_train):
            return
        valid = self.encoder.frame_valid(x_train)
        if iteration == 0:
            features = mfcc_from_log_mel(x_train)
        else:
            features = frame_features(self.encoder, x_train, self.recluster_layer)
        targets = cluster_frames(features, valid, self.codes, self.seed + iteration)
        targets = targets.to(self.unit_embedding.device)
        if dist.is_available() and dist.is_initialized():  # every process trains on rank 0's
            dist.broadcast(targets, src=0)
        self.targets = targets
        self.iteration = torch.tensor(iteration)
        with torch.no_grad():  # new units mean new unit embeddings
            fresh = torch.randn(
                self.unit_embedding.shape, generator=torch.Generator().manual_seed(self.seed)
            )
            self.unit_embedding.copy_(fresh * 0.02)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        x, index = batch["views"][0], batch["index"]
        local = self.encoder.local_features(x)
        valid = local[1]
        mask = span_mask(valid, self.mask_prob, self.mask_span)
        h = self.encoder.frames(x, mask=mask, local=local)
        targets = self.targets[index.to(self.targets.device)][:, : h.shape[1]]
        logits = (
            F.normalize(self.proj(h[mask]), dim=-1) @ F.normalize(self.unit_embedding, dim=-1).T
        )
        loss = F.cross_entropy(logits / self.temperature, targets[mask])
        accuracy = (logits.argmax(1) == targets[mask]).float().mean()
        return {"loss": loss, "accuracy": accuracy, "iteration": self.iteration.float()}
