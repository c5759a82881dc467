"""A tokenizer trained jointly with the encoder (``train.token_weight`` > 0).

The run's tokenizer, if it is a trainable family (vq, rvq, fsq, lfq, binary, sparse), sits on
the encoder's pooled embedding while the method pretrains: every embedding the method computes
with gradients in a training step (all views) is standardized with the batch's statistics
(a BatchNorm without affine parameters or running statistics), passed through the tokenizer's
autoencoder, and
``token_weight * (MSE(reconstruction, embedding) + quantizer loss)`` is added to the method's
loss. The reconstruction target is the embedding with its gradient stopped, so the encoder is
only pulled towards embeddings its tokens can reconstruct, through the quantizer's
straight-through path; the method's own loss keeps it from collapsing.

Nothing in the method changes: the module hangs on the method as ``method.joint_tokens`` and
listens through forward hooks (on the encoder to collect embeddings, on the method to add the
loss), so the engine, checkpoints, resume and DDP see one ordinary module. After training,
``export`` returns an ordinary fitted tokenizer that standardizes with the statistics of the
final training embeddings, as a tokenizer fitted after training does (running statistics
would lag behind a moving encoder, and a short run never lets them settle); ``discotok
tokenize`` writes and measures it like any other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.errors import ConfigError
from discotok.tokenizers.base import check_vectors
from discotok.tokenizers.trainable import TrainableTokenizer


def trainable_families() -> list[str]:
    """Registered tokenizer names that train by gradient descent (can train jointly)."""
    from discotok.registry import TOKENIZERS

    return [n for n in TOKENIZERS.names() if issubclass(TOKENIZERS.get(n), TrainableTokenizer)]


class JointTokens(nn.Module):
    """A trainable tokenizer's net on the encoder's embedding; see the module docstring."""

    def __init__(self, tokenizer: TrainableTokenizer, dim: int, weight: float) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(dim, affine=False, track_running_stats=False)
        self.net = tokenizer.build(dim)
        self.weight = weight
        self._seen: list[torch.Tensor] = []

    def losses(self) -> dict[str, torch.Tensor]:
        """The token loss on the embeddings collected since the method's forward began."""
        h = self.norm(torch.cat(self._seen))
        self._seen = []
        recon, codes, aux = self.net(h)
        mse = nn.functional.mse_loss(recon, h.detach())
        used = torch.unique(codes).numel()
        return {
            "token_loss": mse + aux,
            "token_mse": mse.detach(),
            "token_used": codes.new_tensor(used),
        }

    def export(self, tokenizer: TrainableTokenizer, train: np.ndarray) -> TrainableTokenizer:
        """`tokenizer` (unfitted, same spec as at training) holding this net, standardizing
        with the statistics of `train`, the final embeddings of the training split."""
        train = check_vectors(train, "joint tokenizer statistics", self.norm.num_features)
        self.eval()
        tokenizer.mean = train.mean(0)
        tokenizer.std = train.std(0).clip(1e-6)
        tokenizer.net = self.net.cpu()
        return tokenizer


def attach_joint_tokens(
    method: nn.Module, tokenizer: Any, dim: int, weight: float, method_name: str
) -> JointTokens:
    """Hang a `JointTokens` on `method` and wire its hooks; `tokenizer` is the run's
    (unfitted) tokenizer, `dim` the encoder's embedding size."""
    if not isinstance(tokenizer, TrainableTokenizer):
        raise ConfigError(
            f"train.token_weight > 0 trains the tokenizer with the encoder, which needs a "
            f"trainable family, not {tokenizer.kind!r}; choose tokenizer.name from "
            f"{', '.join(trainable_families())} (or set train.token_weight=0 to fit it "
            "afterwards)"
        )
    joint = JointTokens(tokenizer, dim, weight)
    method.joint_tokens = joint

    def collect(module: nn.Module, args: Any, output: torch.Tensor) -> None:
        if joint.training and torch.is_grad_enabled():
            joint._seen.append(output)

    def start(module: nn.Module, args: Any) -> None:
        joint._seen = []

    def add_loss(module: nn.Module, args: Any, losses: dict[str, torch.Tensor]) -> Any:
        if not joint.training:
            return losses
        if not joint._seen:
            raise ConfigError(
                f"train.token_weight > 0: method {method_name!r} never computes a pooled "
                "embedding with its encoder's forward, so there is nothing to tokenize "
                "jointly; fit the tokenizer after pretraining (train.token_weight=0)"
            )
        extra = joint.losses()
        return {
            **losses,
            "loss": losses["loss"] + joint.weight * extra["token_loss"],
            **{k: v.detach() for k, v in extra.items()},
        }

    method.encoder.register_forward_hook(collect)
    method.register_forward_pre_hook(start)
    method.register_forward_hook(add_loss)
    return joint
