"""Image augmentations through kornia, batched on the tensor's device."""

from __future__ import annotations

import torch
from torch import nn

from discotok.errors import check_range
from discotok.registry import VIEWS


@VIEWS.register("image2d")
class ImageViews(nn.Module):
    """Random resized crop, small affine, brightness/contrast jitter, blur (kornia)."""

    def __init__(
        self,
        crop_min: float = 0.5,
        rotate: float = 15.0,
        jitter: float = 0.4,
        blur_prob: float = 0.3,
        flip: bool = False,
        noise: float = 0.05,
        translate: float = 0.1,
    ) -> None:
        super().__init__()
        import kornia.augmentation as K

        check_range("views.crop_min", crop_min, 0.0, 1.0, low_inclusive=False)
        check_range("views.rotate", rotate, 0.0, 180.0)
        check_range("views.jitter", jitter, 0.0, 1.0)
        check_range("views.blur_prob", blur_prob, 0.0, 1.0)
        check_range("views.noise", noise, 0.0)
        check_range("views.translate", translate, 0.0, 1.0)
        self.settings = dict(
            crop_min=crop_min,
            rotate=rotate,
            jitter=jitter,
            blur_prob=blur_prob,
            flip=flip,
            noise=noise,
            translate=translate,
        )
        self.crop_min = crop_min
        self.noise = noise
        steps: list[nn.Module] = []
        if rotate > 0 or translate > 0:
            steps.append(
                K.RandomAffine(
                    degrees=rotate, translate=(translate, translate), p=1.0, padding_mode="zeros"
                )
            )
        if jitter > 0:
            steps.append(K.ColorJiggle(brightness=jitter, contrast=jitter, p=0.8))
        if flip:
            steps.append(K.RandomHorizontalFlip())
        if blur_prob > 0:
            steps.append(K.RandomGaussianBlur((3, 3), (0.1, 1.0), p=blur_prob))
        self.augment = K.AugmentationSequential(*steps) if steps else nn.Identity()
        self._resized_crop: nn.Module | None = None
        self._crop_size: tuple[int, int] | None = None

    def variants(self) -> dict[str, nn.Module]:
        """One view per augmentation, the others switched off (for robustness metrics)."""
        off = dict(
            crop_min=1.0,
            rotate=0.0,
            jitter=0.0,
            blur_prob=0.0,
            flip=False,
            noise=0.0,
            translate=0.0,
        )
        groups = {
            "crop": ["crop_min"],
            "affine": ["rotate", "translate"],
            "jitter": ["jitter"],
            "blur": ["blur_prob"],
            "noise": ["noise"],
        }
        return {
            name: ImageViews(**{**off, **{k: self.settings[k] for k in keys}})
            for name, keys in groups.items()
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import kornia.augmentation as K

        size = (int(x.shape[-2]), int(x.shape[-1]))
        if self.crop_min < 1.0 and self._crop_size != size:  # the crop needs the output size
            self._resized_crop = K.RandomResizedCrop(size, scale=(self.crop_min, 1.0))
            self._crop_size = size
        out = self.augment(self._resized_crop(x) if self.crop_min < 1.0 else x)
        if self.noise > 0:
            out = out + self.noise * torch.randn_like(out)
        return out
