"""SIE (Garrido et al. 2023): split invariant / equivariant representations.

The embedding is split in two halves. Two views of an image differ by a known transformation
(rotation angle, scale, brightness shift, drawn here, so their parameters are exact). The
invariant half of the two views should agree; the equivariant half of the second view should
be predictable from the first's by a linear map that a hypernetwork generates from the
relative transformation (cos and sin of the angle difference, log scale ratio, brightness
difference). Loss (VICReg-style): 25 x invariance MSE on the invariant projections +
``equivariance_weight`` (0.45) x 25 x MSE of the predicted equivariant projection + 25 x
variance hinge + 1 x covariance on both projections.

The method makes its own views (``augment = False``): it needs the parameters, which the
generic image views do not return. ``evaluate_method`` reports the linear probe of each half
and the R^2 of the relative transformation regressed from pairs of halves.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from discotok.data.base import Dataset
from discotok.errors import ConfigError, check_range
from discotok.methods.base import SSLMethod
from discotok.methods.heads import ProjectionHead
from discotok.methods.vicreg import gathered_batch, vicreg_terms
from discotok.registry import EVALUATORS, METHODS

PARAMETERS = ("cos_angle", "sin_angle", "log_scale", "brightness")
TRANSFORMATIONS = {"angle": (0, 1), "scale": (2,), "brightness": (3,)}  # columns of PARAMETERS


def transform(
    x: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, brightness: torch.Tensor
) -> torch.Tensor:
    """Rotate by `angle` (radians) and scale about the centre, then add `brightness`."""
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
    return out + brightness.view(-1, *([1] * (x.ndim - 1)))


def relative(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> torch.Tensor:
    """The transformation from view a to view b as (n, 4) features."""
    d = b["angle"] - a["angle"]
    return torch.stack(
        [
            torch.cos(d),
            torch.sin(d),
            torch.log(b["scale"] / a["scale"]),
            b["brightness"] - a["brightness"],
        ],
        1,
    )


@METHODS.register("sie")
class SIE(SSLMethod):
    """SIE on images: invariant half, equivariant half, hypernetwork predictor."""

    num_views = 1
    augment = False

    def __init__(
        self,
        encoder: nn.Module,
        max_angle: float = 180.0,
        scale_range: float = 0.25,
        max_brightness: float = 0.3,
        proj_hidden: int = 256,
        proj_dim: int = 64,
        hyper_hidden: int = 64,
        equivariance_weight: float = 0.45,
    ) -> None:
        super().__init__(encoder)
        check_range("method.max_angle", max_angle, 0, 180)
        check_range("method.scale_range", scale_range, 0, 1, high_inclusive=False)
        check_range("method.max_brightness", max_brightness, 0)
        check_range("method.equivariance_weight", equivariance_weight, 0)
        if encoder.embed_dim < 2:
            raise ConfigError("method 'sie' splits the embedding in two: encoder.embed_dim >= 2")
        self.half = encoder.embed_dim // 2
        self.max_angle = math.radians(max_angle)
        self.scale_range, self.max_brightness = scale_range, max_brightness
        self.inv_projector = ProjectionHead(self.half, proj_hidden, proj_dim, "batch")
        self.equi_projector = ProjectionHead(
            encoder.embed_dim - self.half, proj_hidden, proj_dim, "batch"
        )
        self.hypernetwork = nn.Sequential(
            nn.Linear(len(PARAMETERS), hyper_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hyper_hidden, proj_dim * proj_dim),
        )
        self.proj_dim = proj_dim
        self.equivariance_weight = equivariance_weight

    def sample_parameters(self, n: int, device: torch.device) -> dict[str, torch.Tensor]:
        u = torch.rand(3, n, device=device) * 2 - 1
        return {
            "angle": u[0] * self.max_angle,
            "scale": 1 + u[1] * self.scale_range,
            "brightness": u[2] * self.max_brightness,
        }

    def views(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Two transformed views of the images `x` and the relative transformation."""
        if x.ndim != 4:
            raise ConfigError(
                f"method 'sie' rotates and scales images (n, channels, height, width); got a "
                f"batch of shape {tuple(x.shape)}"
            )
        a, b = (self.sample_parameters(len(x), x.device) for _ in range(2))
        return transform(x, **a), transform(x, **b), relative(a, b)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return h[:, : self.half], h[:, self.half :]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        v1, v2, params = self.views(batch["views"][0])
        (i1, e1), (i2, e2) = self.split(v1), self.split(v2)
        zi1, zi2 = self.inv_projector(i1), self.inv_projector(i2)
        ze1, ze2 = self.equi_projector(e1), self.equi_projector(e2)
        maps = self.hypernetwork(params).view(-1, self.proj_dim, self.proj_dim)
        predicted = torch.bmm(maps, ze1[..., None]).squeeze(-1)
        equivariance = F.mse_loss(predicted, ze2)
        first = vicreg_terms(gathered_batch(zi1, "sie"), gathered_batch(zi2, "sie"))
        second = vicreg_terms(gathered_batch(ze1, "sie"), gathered_batch(ze2, "sie"))
        loss = (
            25 * first["invariance"]
            + self.equivariance_weight * 25 * equivariance
            + 25 * (first["variance"] + second["variance"])
            + first["covariance"]
            + second["covariance"]
        )
        return {
            "loss": loss,
            "invariance": first["invariance"].detach(),
            "equivariance": equivariance.detach(),
        }

    @torch.no_grad()
    def _pairs(self, x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        torch.manual_seed(seed)
        v1, v2, params = self.views(torch.from_numpy(x))
        (i1, e1), (i2, e2) = self.split(v1), self.split(v2)
        inv = torch.cat([i1, i2], 1).numpy()
        equi = torch.cat([e1, e2], 1).numpy()
        return inv, equi, params.numpy()

    def evaluate_method(self, data: Dataset, run_dir: Path, seed: int) -> dict[str, Any]:
        """Linear probe on each half; R^2 of the relative transformation regressed by an MLP
        (as in the paper: the relation between the pair is not linear) from the pair of
        equivariant halves, and from the pair of invariant halves as the control; and that R^2
        per transformation (angle: the mean over its cos and sin)."""
        from sklearn.metrics import r2_score
        from sklearn.neural_network import MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.eval()
        out: dict[str, Any] = {}
        if data.has_labels:
            with torch.no_grad():
                train = [t.numpy() for t in self.split(torch.from_numpy(data.x_train))]
                test = [t.numpy() for t in self.split(torch.from_numpy(data.x_test))]
            linear = EVALUATORS.get("linear")
            for k, name in enumerate(("invariant", "equivariant")):
                found = linear(train[k], data.y_train, test[k], data.y_test, seed=seed)
                out[f"{name}_linear_acc"] = found["linear_acc"]
        inv_tr, equi_tr, p_tr = self._pairs(data.x_train, seed)
        inv_te, equi_te, p_te = self._pairs(data.x_test, seed + 1)
        for name, tr, te in (("equivariant", equi_tr, equi_te), ("invariant", inv_tr, inv_te)):
            model = make_pipeline(
                StandardScaler(),
                MLPRegressor(
                    hidden_layer_sizes=(256,), max_iter=300, early_stopping=True, random_state=seed
                ),
            ).fit(tr, p_tr)
            predicted = model.predict(te)
            out[f"{name}_transform_r2"] = float(r2_score(p_te, predicted))
            per_column = r2_score(p_te, predicted, multioutput="raw_values")
            for parameter, columns in TRANSFORMATIONS.items():
                out[f"{name}_r2_{parameter}"] = float(per_column[list(columns)].mean())
        return out
