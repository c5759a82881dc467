"""Self-training with encoder fine-tuning: the run's encoder and a linear head trained
end to end on the labelled samples plus the pseudo-labels of a frozen-feature self-training
model (teacher -> student). The head starts from the teacher's linear classifier, BatchNorm
keeps its pretrained statistics, and the learning rate is small (1e-4), so the student
starts where the teacher is; ``augment=True`` adds the run's own augmentations as noise (as
in Noisy Student), off by default: strong views make pseudo-labels of small data noisier.

`domain_discriminator` fine-tunes the same way on DDFA's domain task (latent label shift),
with augmentation on and a larger learning rate (its docstring says why); `view_embeddings`
embeds augmented copies of the train samples with the frozen encoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from discotok.errors import DataError, check_range
from discotok.fewlabels.ddfa import Discriminator
from discotok.fewlabels.head import fit_scaled_head, one_hot


class EncoderClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, dim: int, classes: int) -> None:
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def fine_tune(
    run_dir: str | Path,
    rows: np.ndarray,
    targets: np.ndarray,
    *,
    epochs: int = 10,
    batch_size: int = 256,
    lr: float = 1e-4,
    augment: bool = False,
    head: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    device: str = "auto",
) -> tuple[EncoderClassifier, torch.device]:
    """Fine-tune the run's encoder + a linear head on train samples `rows` with soft
    `targets` (len(rows) x classes). `head` (weight, bias) starts the head from a classifier
    already fit on the frozen embedding; a random head would first wreck the features.
    Returns the model (eval mode) and its device."""
    from discotok.train.engine import resolve_device

    check_range("finetune epochs", epochs, 1)
    check_range("finetune batch_size", batch_size, 1)
    encoder, views, data = encoder_and_views(run_dir)
    dev = resolve_device(device)
    x = torch.as_tensor(data.x_train[rows], dtype=torch.float32)
    t = torch.as_tensor(targets, dtype=torch.float32)
    with torch.no_grad():
        dim = encoder(x[:2]).shape[1]
    torch.manual_seed(seed)
    model = EncoderClassifier(encoder, dim, targets.shape[1])
    if head is not None:
        with torch.no_grad():
            model.head.weight.copy_(torch.as_tensor(head[0]))
            model.head.bias.copy_(torch.as_tensor(head[1]))
    # BatchNorm keeps its pretrained statistics: a few hundred labelled samples and their
    # augmentations are not the distribution the encoder was normalised for.
    model = model.to(dev).eval()
    views.to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            xb = x[idx].to(dev)
            if augment:
                xb = views(xb)
            loss = -(t[idx].to(dev) * torch.log_softmax(model(xb), 1)).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval(), dev


@torch.no_grad()
def predict_proba(
    model: EncoderClassifier, x: np.ndarray, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """Class probabilities of each sample (softmax of the classifier)."""
    data = torch.as_tensor(x, dtype=torch.float32)
    out = [
        torch.softmax(model(data[i : i + batch_size].to(device)), 1).cpu()
        for i in range(0, len(data), batch_size)
    ]
    return torch.cat(out).numpy()


def predict(
    model: EncoderClassifier, x: np.ndarray, device: torch.device, batch_size: int = 1024
) -> np.ndarray:
    """Class index (0..K-1) of each sample."""
    return predict_proba(model, x, device, batch_size).argmax(1)


def view_embeddings(run_dir: str | Path, n: int, copies: int, seed: int = 0) -> np.ndarray:
    """The run's `n` train samples embedded by its encoder, then `copies` - 1 views of each
    drawn by the run's own augmentations: (copies * n, dim), one block per copy
    (`encode_with_views`). More points for what needs many, e.g. DDFA's discriminator on
    small domains."""
    from discotok.encoders.inference import encode_with_views
    from discotok.train.engine import resolve_device

    samples = run_data(run_dir, n).x_train
    encoder, views, _ = encoder_and_views(run_dir)
    return encode_with_views(encoder, views, samples, copies, seed, device=resolve_device("auto"))


def encoder_and_views(run_dir: str | Path) -> tuple[nn.Module, nn.Module, Any]:
    """The run's trained encoder (eval mode, CPU), the augmentation views it was trained
    with, and its dataset."""
    from discotok.pipeline import build_method, load_encoder

    encoder, cfg, data = load_encoder(run_dir)
    _, views = build_method(cfg, data)
    return encoder, views, data


def run_data(run_dir: str | Path, n: int) -> Any:
    """The run's dataset, checked against its `n` train embeddings."""
    from discotok.pipeline import load_eval_dataset, read_config

    data = load_eval_dataset(read_config(run_dir))
    if len(data.x_train) != n:
        raise DataError("the run's embeddings do not match its data; run `discotok embed` again")
    return data


def domain_discriminator(
    run_dir: str | Path,
    x: np.ndarray,
    code: np.ndarray,
    epochs: int,
    seed: int = 0,
    *,
    lr: float = 1e-3,
    augment: bool = True,
) -> Discriminator:
    """DDFA's discriminator trained end to end, as the paper trains it: the run's encoder
    and a linear head fine-tuned on the domain ids `code` (0..D-1 per train sample), the head
    started from a linear classifier of the frozen embeddings `x`. For `cross_fit`.

    Domain ids are noisy class labels, and a fine-tuned encoder soon memorises them: the
    run's own augmentations are on by default (in our trials on MNIST-1D, without them at
    lr 1e-3 it overfit and did worse than the frozen head; not a committed benchmark)."""
    check_range("finetune_epochs", epochs, 1)
    samples = run_data(run_dir, len(x)).x_train
    targets = one_hot(code, int(code.max()) + 1)

    def fit_and_score(fit_on: np.ndarray, score: np.ndarray) -> np.ndarray:
        head, mean, std = fit_scaled_head(x[fit_on], targets[fit_on], seed=seed)
        start = head.unscaled_linear(mean, std)
        fit = (run_dir, fit_on, targets[fit_on])
        model, dev = fine_tune(*fit, epochs=epochs, lr=lr, augment=augment, head=start, seed=seed)
        return predict_proba(model, samples[score], dev)

    return fit_and_score
