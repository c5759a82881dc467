"""VQGraph (Yang et al. 2024): a graph tokenizer on a GNN teacher, distilled into an MLP.

Teacher: a GNN (GraphSAGE or GCN, torch_geometric) that classifies nodes from its node
representations, which a cosine VQ codebook (vector-quantize-pytorch: EMA updates, k-means
init, commitment) quantizes at the same time. From the codes, decoders reconstruct node
features and local structure (edges against random pairs), so a code stands for a kind of
node and neighbourhood. (Classifying from the quantized vector instead cost 13 points of
accuracy on the Debian graph in a first run: 256 codes are too coarse for 58 sections.)

Student: an MLP on node features alone, trained on the labels, the teacher's soft labels
(GLNN), and the teacher's soft code assignments: the student's logits over the teacher's
codebook are matched to the teacher's code distribution by KL at temperature `tau` (4).
Code logits are cosine similarities sharpened by `code_temperature` (0.1): cosines live in
[-1, 1], so without it every code would look equally likely. At inference the student
needs no graph, which is where the speed-up comes from.

Optional graph self-supervised pretraining of the teacher's GNN (`ssl_epochs`): GRACE-style
NT-Xent between two views made by dropping edges and masking features, for when labels
are few.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.errors import check_choice, check_range
from discotok.methods.ntxent_loss import NTXentLoss

CONVS = ("sage", "gcn")


class GNN(nn.Module):
    """`layers` graph convolutions (ReLU and dropout between them)."""

    def __init__(
        self, in_dim: int, hidden: int, layers: int = 2, conv: str = "sage", dropout: float = 0.5
    ) -> None:
        super().__init__()
        from torch_geometric.nn import GCNConv, SAGEConv

        check_choice("conv", conv, CONVS)
        check_range("layers", layers, 1)
        make = SAGEConv if conv == "sage" else GCNConv
        dims = [in_dim] + [hidden] * layers
        self.convs = nn.ModuleList(make(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.dropout = dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


def code_logits(h: torch.Tensor, codebook: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cosine similarity of each vector to each code, divided by `temperature`."""
    return F.normalize(h, dim=-1) @ F.normalize(codebook, dim=-1).T / temperature


class GraphTeacher(nn.Module):
    """GNN -> cosine VQ codebook -> classifier, feature decoder and edge decoder."""

    def __init__(
        self,
        in_dim: int,
        num_classes: int,
        hidden: int = 128,
        layers: int = 2,
        conv: str = "sage",
        codes: int = 512,
        dropout: float = 0.5,
        commitment: float = 0.25,
    ) -> None:
        super().__init__()
        from vector_quantize_pytorch import VectorQuantize

        check_range("codes", codes, 2)
        self.gnn = GNN(in_dim, hidden, layers, conv, dropout)
        self.vq = VectorQuantize(
            dim=hidden,
            codebook_size=codes,
            use_cosine_sim=True,
            kmeans_init=True,
            decay=0.8,
            commitment_weight=commitment,
            threshold_ema_dead_code=2,
        )
        self.classifier = nn.Linear(hidden, num_classes)
        self.feature_decoder = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, in_dim)
        )

    @property
    def codebook(self) -> torch.Tensor:
        return self.vq.codebook.detach()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.gnn(x, edge_index)
        q, codes, commit = self.vq(h[None])
        q, codes = q[0], codes[0]
        return {
            "h": h,
            "q": q,
            "codes": codes,
            "commit": commit.sum(),
            "logits": self.classifier(h),
        }


class StudentMLP(nn.Module):
    """Node features -> hidden -> class logits, plus a projection onto the codebook space."""

    def __init__(
        self,
        in_dim: int,
        num_classes: int,
        hidden: int = 128,
        layers: int = 2,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        check_range("layers", layers, 1)
        dims = [in_dim] + [hidden] * layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.classifier = nn.Linear(hidden, num_classes)
        self.code_head = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        for layer in self.layers:
            x = F.relu(layer(F.dropout(x, self.dropout, self.training)))
        return {"h": x, "logits": self.classifier(x)}


def _edge_loss(q: torch.Tensor, edge_index: torch.Tensor, samples: int) -> torch.Tensor:
    """Local structure: linked pairs score high, random pairs low (BCE on scaled cosines)."""
    if edge_index.shape[1] == 0:
        return q.sum() * 0.0
    pick = torch.randint(0, edge_index.shape[1], (min(samples, edge_index.shape[1]),))
    pos = edge_index[:, pick]
    neg = torch.randint(0, q.shape[0], pos.shape)
    qn = F.normalize(q, dim=-1)

    def score(pairs: torch.Tensor) -> torch.Tensor:
        return 5.0 * (qn[pairs[0]] * qn[pairs[1]]).sum(-1)

    s_pos, s_neg = score(pos), score(neg)
    return F.binary_cross_entropy_with_logits(
        torch.cat([s_pos, s_neg]), torch.cat([torch.ones_like(s_pos), torch.zeros_like(s_neg)])
    )


def _drop_view(
    x: torch.Tensor, edge_index: torch.Tensor, p_edge: float, p_feat: float
) -> tuple[torch.Tensor, torch.Tensor]:
    keep = torch.rand(edge_index.shape[1]) >= p_edge
    mask = (torch.rand(x.shape[1]) >= p_feat).to(x.dtype)
    return x * mask, edge_index[:, keep]


def pretrain_gnn(
    gnn: GNN,
    x: torch.Tensor,
    edge_index: torch.Tensor,
    epochs: int,
    lr: float = 0.001,
    nodes_per_step: int = 2048,
) -> list[float]:
    """GRACE-style contrastive pretraining: edge dropping + feature masking, NT-Xent on a
    random sample of nodes each step. Returns the loss per epoch."""
    hidden = gnn.convs[-1].out_channels
    head = nn.Sequential(nn.Linear(hidden, hidden), nn.ELU(), nn.Linear(hidden, hidden))
    criterion = NTXentLoss(0.5)
    opt = torch.optim.Adam([*gnn.parameters(), *head.parameters()], lr=lr, weight_decay=1e-5)
    losses = []
    gnn.train()
    for _ in range(epochs):
        a = gnn(*_drop_view(x, edge_index, 0.2, 0.2))
        b = gnn(*_drop_view(x, edge_index, 0.3, 0.3))
        pick = torch.randperm(x.shape[0])[:nodes_per_step]
        loss = criterion(head(a[pick]), head(b[pick]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


@dataclass
class TrainSettings:
    """Adam, keeping the state with the best validation accuracy. The teacher trains
    full-batch for `epochs` (checked every `eval_every`); the students on mini-batches for
    `student_steps` steps (checked every `student_eval_every`): each step takes
    `batch_size` labelled nodes for the label loss and, when distilling, `batch_size` nodes
    of the whole graph for the soft-label and code losses."""

    epochs: int = 200
    eval_every: int = 5
    student_steps: int = 3000
    student_eval_every: int = 100
    batch_size: int = 512
    student_dropout: float = 0.2
    lr: float = 0.01
    weight_decay: float = 5e-4
    feature_weight: float = 1.0
    edge_weight: float = 1.0
    edge_samples: int = 8192
    label_weight: float = 0.5  # the student's share of label CE against soft-label KL
    code_weight: float = 1.0
    tau: float = 4.0
    code_temperature: float = 0.1

    def __post_init__(self) -> None:
        check_range("epochs", self.epochs, 1)
        check_range("eval_every", self.eval_every, 1)
        check_range("student_steps", self.student_steps, 1)
        check_range("student_eval_every", self.student_eval_every, 1)
        check_range("batch_size", self.batch_size, 1)
        check_range("student_dropout", self.student_dropout, 0.0, 1.0, high_inclusive=False)
        check_range("lr", self.lr, 0.0, low_inclusive=False)
        check_range("label_weight", self.label_weight, 0.0, 1.0)
        check_range("tau", self.tau, 0.0, low_inclusive=False)
        check_range("code_temperature", self.code_temperature, 0.0, low_inclusive=False)


def _accuracy(logits: torch.Tensor, y: torch.Tensor, nodes: torch.Tensor) -> float:
    if len(nodes) == 0:
        return float("nan")
    return float((logits[nodes].argmax(-1) == y[nodes]).float().mean())


def _fit(
    model: nn.Module,
    step_loss: callable,
    evaluate: callable,
    settings: TrainSettings,
    steps: int,
    eval_every: int,
) -> nn.Module:
    """`steps` optimiser steps; every `eval_every` (and at the end) keep the best state."""
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    best, best_state = -1.0, None
    for step in range(1, steps + 1):
        model.train()
        loss = step_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every and step != steps:
            continue
        model.eval()
        with torch.no_grad():
            val = evaluate()
        if val > best:
            best, best_state = val, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model


def train_teacher(
    teacher: GraphTeacher,
    x: torch.Tensor,
    edge_index: torch.Tensor,
    y: torch.Tensor,
    train: torch.Tensor,
    val: torch.Tensor,
    settings: TrainSettings,
    use_vq: bool = True,
) -> GraphTeacher:
    """Labels on `train`; features and edges of every node; model selection on `val`.
    ``use_vq=False`` trains the plain GNN (no codebook, no decoders)."""

    def step_loss() -> torch.Tensor:
        if not use_vq:
            return F.cross_entropy(teacher.classifier(teacher.gnn(x, edge_index))[train], y[train])
        out = teacher(x, edge_index)
        loss = F.cross_entropy(out["logits"][train], y[train]) + out["commit"]
        loss = loss + settings.feature_weight * F.mse_loss(teacher.feature_decoder(out["q"]), x)
        return loss + settings.edge_weight * _edge_loss(out["q"], edge_index, settings.edge_samples)

    def evaluate() -> float:
        return _accuracy(teacher_logits(teacher, x, edge_index), y, val)

    return _fit(teacher, step_loss, evaluate, settings, settings.epochs, settings.eval_every)


@torch.no_grad()
def teacher_logits(
    teacher: GraphTeacher, x: torch.Tensor, edge_index: torch.Tensor
) -> torch.Tensor:
    """Class logits of every node (eval mode; the mode is restored after)."""
    was = teacher.training
    teacher.eval()
    try:
        return teacher.classifier(teacher.gnn(x, edge_index))
    finally:
        teacher.train(was)


def train_student(
    student: StudentMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    train: torch.Tensor,
    val: torch.Tensor,
    settings: TrainSettings,
    soft_labels: torch.Tensor | None = None,
    soft_codes: torch.Tensor | None = None,
    codebook: torch.Tensor | None = None,
) -> StudentMLP:
    """Labels only; or labels + the teacher's soft labels on every node (GLNN); or both plus
    the teacher's code distribution (VQGraph). Mini-batches: see TrainSettings."""
    lam, tau = settings.label_weight, settings.tau
    labelled = _Batches(train, settings.batch_size)
    every_node = _Batches(torch.arange(x.shape[0]), settings.batch_size)

    def step_loss() -> torch.Tensor:
        b = labelled.next()
        loss = F.cross_entropy(student(x[b])["logits"], y[b])
        if soft_labels is None:
            return loss
        b = every_node.next()
        out = student(x[b])
        kl = F.kl_div(F.log_softmax(out["logits"], -1), soft_labels[b], reduction="batchmean")
        loss = lam * loss + (1 - lam) * kl
        if soft_codes is not None:
            mine = code_logits(student.code_head(out["h"]), codebook, settings.code_temperature)
            loss = loss + settings.code_weight * (tau**2) * F.kl_div(
                F.log_softmax(mine / tau, -1), soft_codes[b], reduction="batchmean"
            )
        return loss

    def evaluate() -> float:
        return _accuracy(student(x)["logits"], y, val)

    return _fit(
        student, step_loss, evaluate, settings, settings.student_steps, settings.student_eval_every
    )


class _Batches:
    """Endless shuffled mini-batches of `nodes` (a new permutation after each pass)."""

    def __init__(self, nodes: torch.Tensor, size: int) -> None:
        self.nodes, self.size = nodes, size
        self.order, self.at = nodes[:0], 0

    def next(self) -> torch.Tensor:
        if self.at + self.size > len(self.order):
            self.order, self.at = self.nodes[torch.randperm(len(self.nodes))], 0
        self.at += self.size
        return self.order[self.at - self.size : self.at]


@torch.no_grad()
def teacher_code_distribution(
    teacher: GraphTeacher, x: torch.Tensor, edge_index: torch.Tensor, settings: TrainSettings
) -> torch.Tensor:
    """The teacher's soft code assignment of every node, at temperature tau."""
    teacher.eval()
    h = teacher.gnn(x, edge_index)
    logits = code_logits(h, teacher.codebook, settings.code_temperature)
    return F.softmax(logits / settings.tau, -1)


def code_statistics(codes: np.ndarray, labels: np.ndarray, num_codes: int) -> dict[str, float]:
    """Codebook usage, perplexity and how codes cluster by label (NMI, purity)."""
    from sklearn.metrics import normalized_mutual_info_score

    counts = np.bincount(codes, minlength=num_codes)
    p = counts[counts > 0] / counts.sum()
    known = labels >= 0
    purity = 0.0
    for code in np.unique(codes[known]):
        purity += np.bincount(labels[known][codes[known] == code]).max()
    return {
        "codes_used": int((counts > 0).sum()),
        "codebook_size": int(num_codes),
        "code_perplexity": float(np.exp(-(p * np.log(p)).sum())),
        "code_label_nmi": float(normalized_mutual_info_score(labels[known], codes[known])),
        "code_label_purity": float(purity / max(1, known.sum())),
    }
