"""OBoW (Gidaris et al. 2021): online bag-of-visual-words prediction.

A momentum teacher turns an image's local features into a bag of visual words: each location
of its feature map is softly assigned to the words of a vocabulary (a FIFO queue of local
teacher features, one random 3x3-averaged location per image and step), the assignments are
max-pooled over the locations and L1-normalised. The student sees another view and predicts
that bag from its global embedding through a dynamic head whose weights are generated from
the current vocabulary, so the head follows the vocabulary as it is refreshed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from discotok.encoders.norm import make_norm
from discotok.errors import ConfigError, check_choice, check_range
from discotok.methods.base import SSLMethod, require_feature_map
from discotok.methods.momentum import (
    cosine_momentum,
    ema_update,
    frozen_copy,
    global_mean,
    push_fifo,
)
from discotok.registry import METHODS
from discotok.train.distributed import gather_with_grad


def soft_bag_of_words(
    feature_map: torch.Tensor, words: torch.Tensor, inv_delta: float, mean_min_dist: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, C, h, w) local features, (K, C) words -> (n, K) L1-normalised bags of words and the
    batch's mean distance to the nearest word (which rescales the soft assignment)."""
    n, c, h, w = feature_map.shape
    local = feature_map.permute(0, 2, 3, 1).reshape(n, h * w, c)
    dist = torch.cdist(local, words[None].expand(n, -1, -1)).pow(2)  # (n, h*w, K)
    assign = F.softmax(-(inv_delta / mean_min_dist.clamp_min(1e-6)) * dist, dim=2)
    bags = assign.max(dim=1).values
    return bags / bags.sum(1, keepdim=True), dist.min(dim=2).values.mean()


class DynamicHead(nn.Module):
    """Classifier weights generated from the vocabulary: L2norm(MLP(L2norm(words))); logits =
    kappa x the embedding (L2-normalised first when `normalize`) . weights."""

    def __init__(
        self,
        word_dim: int,
        embed_dim: int,
        kappa: float,
        norm: str,
        normalize: bool,
    ) -> None:
        super().__init__()
        self.generator = nn.Sequential(
            nn.Linear(word_dim, embed_dim, bias=norm == "none"),
            make_norm(norm, embed_dim, 0),
            nn.ReLU(inplace=True),
            nn.Linear(embed_dim, embed_dim),
        )
        self.kappa = kappa
        self.normalize = normalize

    def forward(self, embedding: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        weights = F.normalize(self.generator(F.normalize(words, dim=1)), dim=1)
        if self.normalize:
            embedding = F.normalize(embedding, dim=1)
        return self.kappa * embedding @ weights.T


@METHODS.register("obow")
class OBoW(SSLMethod):
    """OBoW with two views; targets from the teacher's feature map (the encoder's last stage).

    The defaults follow the authors' code: a BatchNorm in the weight generator, logits from
    the embedding as it is (not L2-normalised), and the teacher map's outer ring of locations
    left out of the bags and the vocabulary (`border=None`: one location, where the map is
    at least 5x5 and so keeps a 3x3 neighbourhood; none on smaller maps, such as the 4x4 of
    8x8 images; an explicit number is kept or refused). `generator_norm="none"`,
    `normalize_embedding=True`, `border=0` give the head this library had until 2026-11-27
    (the setting of the glyph results measured before that)."""

    def __init__(
        self,
        encoder: nn.Module,
        vocabulary: int = 1024,
        inv_delta: float = 15.0,
        kappa: float = 8.0,
        momentum: float = 0.99,
        distance_momentum: float = 0.99,
        words_per_view: int = 0,
        generator_norm: str = "batch",
        normalize_embedding: bool = False,
        border: int | None = None,
    ) -> None:
        super().__init__(encoder)
        require_feature_map(encoder, "obow")
        check_range("method.vocabulary", vocabulary, 2)
        check_range("method.inv_delta", inv_delta, 0, low_inclusive=False)
        check_range("method.kappa", kappa, 0, low_inclusive=False)
        check_range("method.momentum", momentum, 0, 1)
        check_range("method.distance_momentum", distance_momentum, 0, 1)
        check_range("method.words_per_view", words_per_view, 0)
        check_choice("method.generator_norm", generator_norm, ("none", "batch"))
        if not isinstance(normalize_embedding, bool):
            raise ConfigError(
                f"method.normalize_embedding={normalize_embedding!r} is not valid; "
                "choose one of: true, false"
            )
        if border is not None:
            check_range("method.border", border, 0)
        channels = encoder.feature_channels
        self.head = DynamicHead(
            channels, encoder.embed_dim, kappa, generator_norm, normalize_embedding
        )
        self.teacher = frozen_copy(encoder)
        self.register_buffer("words", torch.zeros(vocabulary, channels))
        self.register_buffer("filled", torch.tensor(0))  # words written so far (caps at K)
        self.register_buffer("cursor", torch.tensor(0))
        self.register_buffer("mean_min_dist", torch.tensor(-1.0))  # set on the first step
        self.inv_delta = inv_delta
        self.momentum = momentum
        self.distance_momentum = distance_momentum
        self.words_per_view = words_per_view
        self.border = border

    def _teacher_map(self, view: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The teacher's feature map without its outer border locations, and that border."""
        fmap = self.teacher.feature_map(view)
        h, w = fmap.shape[2:]
        b = self.border if self.border is not None else int(min(h, w) >= 5)
        if b and min(h, w) <= 2 * b + 2:
            raise ConfigError(
                f"method.border={b} leaves no 3x3 neighbourhood of the teacher's {h}x{w} "
                "feature map; lower method.border"
            )
        return (fmap[:, :, b : h - b, b : w - b] if b else fmap), b

    @torch.no_grad()
    def _enqueue(self, feature_map: torch.Tensor, padding: int, limit: int = 0) -> None:
        """One random 3x3-averaged location per image (from every process) into the queue;
        `padding` 0: only averages that lie inside the map (a border was cropped), 1:
        zero-padded ones at its edges too; with `limit` > 0 only the first `limit` of them
        (the batch is shuffled)."""
        pooled = F.avg_pool2d(feature_map, 3, stride=1, padding=padding)
        n, c, h, w = pooled.shape
        where = torch.randint(h * w, (n,), device=pooled.device)
        local = pooled.flatten(2)[torch.arange(n, device=pooled.device), :, where]
        local = gather_with_grad(local)[: len(self.words)]
        if limit:
            local = local[:limit]
        push_fifo(self.words, self.cursor, local)
        self.filled.copy_(torch.clamp(self.filled + len(local), max=len(self.words)))

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        views = batch["views"][:2]
        with torch.no_grad():
            (first, border), (second, _) = (self._teacher_map(v) for v in views)
            maps, padding = [first, second], 0 if border else 1
            if int(self.filled) == 0:  # first step: a vocabulary from this batch
                for m in maps:
                    self._enqueue(m, padding)
            words = self.words[: int(self.filled)]
            if self.mean_min_dist < 0:
                _, d = soft_bag_of_words(maps[0], words, self.inv_delta, torch.ones(()))
                self.mean_min_dist.copy_(global_mean(d[None]).squeeze())
            targets, nearest = [], []
            for m in maps:
                bags, d = soft_bag_of_words(m, words, self.inv_delta, self.mean_min_dist)
                targets.append(bags)
                nearest.append(d)
        loss = 0.0
        for i, target in enumerate(targets):
            logits = self.head(self.encoder(views[1 - i]), words)
            log_p = F.log_softmax(logits, dim=1)
            loss = loss + (target * (target.clamp_min(1e-12).log() - log_p)).sum(1).mean() / 2
        with torch.no_grad():
            d = global_mean(torch.stack(nearest)[:, None]).squeeze()
            self.mean_min_dist.mul_(self.distance_momentum).add_(
                d, alpha=1 - self.distance_momentum
            )
            for m in maps:
                self._enqueue(m, padding, self.words_per_view)
            mean_bag = torch.cat(targets).mean(0)
            perplexity = torch.exp(-(mean_bag * mean_bag.clamp_min(1e-12).log()).sum())
        return {"loss": loss, "target_perplexity": perplexity}

    def after_step(self, step: int, total_steps: int) -> None:
        ema_update(self.teacher, self.encoder, cosine_momentum(self.momentum, step, total_steps))
