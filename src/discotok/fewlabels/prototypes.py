"""GPC's prototypical contrastive fine-tuning: the representation learns from the clusters.

After the split/merge mixture has partitioned the train set (labelled points pinned to their
class), the run's featurizer (the network that made ``embeddings.npz``) is fine-tuned so
that each sample lies near its cluster's prototype and apart from the others (ProtoNCE:
cross-entropy over cosine similarities to every prototype at ``temperature``), plus an
instance term (NT-Xent between two of the run's augmented views) that keeps samples of one
cluster from collapsing onto a point (``instance_weight``, 1). Prototypes are the
normalised means of the clusters' normalised embeddings, recomputed with the current
network at the start of every epoch.
The mixture is then fitted again on the new embeddings (``discover(finetune_epochs=N)``).

Decided where the paper leaves room: one round (cluster -> fine-tune -> cluster), equal
weights for the two terms, a small learning rate (1e-4) and BatchNorm in eval mode, as in
``finetune.py``: a few epochs should refine the pretrained features, not retrain them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from discotok.errors import DataError, check_range
from discotok.methods.ntxent_loss import NTXentLoss


@torch.no_grad()
def cluster_prototypes(z: torch.Tensor, clusters: torch.Tensor, k: int) -> torch.Tensor:
    """Normalised mean of the normalised rows of `z` in each of the `k` clusters (k x dim)."""
    z = F.normalize(z, dim=1)
    sums = torch.zeros(k, z.shape[1], dtype=z.dtype).index_add_(0, clusters, z)
    return F.normalize(sums, dim=1)


def prototype_finetune(
    run_dir: str | Path,
    clusters: np.ndarray,
    *,
    epochs: int = 5,
    batch_size: int = 256,
    lr: float = 1e-4,
    temperature: float = 0.1,
    instance_weight: float = 1.0,
    seed: int = 0,
    device: str = "auto",
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Fine-tune the run's featurizer on `clusters` (one id 0..K-1 per train sample);
    returns the new train and test embeddings and the mean loss of each epoch. The run's
    own files are left as they are."""
    from discotok.pipeline import build_method, encode_array, load_featurizer
    from discotok.train.engine import resolve_device

    check_range("finetune epochs", epochs, 1)
    check_range("finetune batch_size", batch_size, 2)
    check_range("finetune temperature", temperature, 0.0, low_inclusive=False)
    check_range("finetune instance_weight", instance_weight, 0.0)
    net, cfg, data = load_featurizer(run_dir)
    clusters = np.asarray(clusters)
    if clusters.shape != (len(data.x_train),) or clusters.min() < 0:
        raise DataError(
            f"prototype fine-tuning needs one cluster id >= 0 per train sample "
            f"({len(data.x_train)}); got shape {clusters.shape}"
        )
    _, views = build_method(cfg, data)
    dev = resolve_device(device)
    x = torch.as_tensor(data.x_train, dtype=torch.float32)
    c = torch.as_tensor(clusters, dtype=torch.long)
    k = int(c.max()) + 1
    torch.manual_seed(seed)
    net = net.to(dev).eval()  # BatchNorm keeps its pretrained statistics
    views.to(dev)
    instance = NTXentLoss(0.2)
    opt = torch.optim.AdamW(net.parameters(), lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        embedded = torch.from_numpy(encode_array(net, data.x_train, 1024, dev))
        prototypes = cluster_prototypes(embedded, c, k).to(dev)
        total, steps = 0.0, 0
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            if len(idx) < 2:
                continue
            xb = x[idx].to(dev)
            z1, z2 = net(views(xb)), net(views(xb))
            logits = F.normalize(z1, dim=1) @ prototypes.T / temperature
            loss = F.cross_entropy(logits, c[idx].to(dev))
            if instance_weight:
                loss = loss + instance_weight * instance(z1, z2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, steps = total + float(loss.detach()), steps + 1
        losses.append(total / max(1, steps))
    net.eval()
    train = encode_array(net, data.x_train, 1024, dev)
    return train, encode_array(net, data.x_test, 1024, dev), losses
