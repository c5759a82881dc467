"""Few labels or none: self-training, category discovery with an unknown number of classes
(GPC), and unsupervised learning under latent label shift (DDFA)."""

from discotok.fewlabels.ddfa import DDFA, cross_fit, label_shift_em, label_shift_scores
from discotok.fewlabels.finetune import domain_discriminator
from discotok.fewlabels.gpc import SemiSupervisedGMM, discovery_accuracy
from discotok.fewlabels.selftrain import POLICIES, SelfTraining, sklearn_self_training
from discotok.fewlabels.splits import discovery_split, label_shift_domains, label_subset
from discotok.fewlabels.workflows import discover, label_shift, self_train

__all__ = [
    "DDFA",
    "POLICIES",
    "SelfTraining",
    "SemiSupervisedGMM",
    "cross_fit",
    "discover",
    "discovery_accuracy",
    "discovery_split",
    "domain_discriminator",
    "label_shift",
    "label_shift_domains",
    "label_shift_em",
    "label_shift_scores",
    "label_subset",
    "self_train",
    "sklearn_self_training",
]
