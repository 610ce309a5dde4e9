"""KD-Label (Liu et al. 2020, WWW23 form): label distillation from a teacher trained on A.

1. Teacher: MF on the unbiased training ratings A (early stopping on V).
2. Student: MF on O (the naive MF, early stopping on V).
3. Fine-tune the student on O towards the soft target
   ``(1 − w)·r + w·minmax(teacher(u, i))`` (``w = teacher_weight``; the WWW23 code adds the
   two, ``r + minmax(t)``; halving keeps the target in [0, 1] for the sigmoid output).
   The best validation AUC over phases 2 and 3 is kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from recunlearn.data.feedback.types import DebiasSplit
from recunlearn.debias.mf import MF, MFConfig
from recunlearn.debias.models import clone_params, predict_numpy
from recunlearn.debias.trainer import DebiasTrainer, TrainConfig, f_errors, user_mean_loss


@dataclass
class KDConfig(TrainConfig):
    """KD-Label.

    Attributes:
        teacher_weight: w, the share of the teacher's normalised score in the target.
        finetune_epochs: maximum fine-tuning epochs (early stopping on V).
    """

    teacher_weight: float = 0.5
    finetune_epochs: int = 100


class KDLabel(DebiasTrainer):
    """Knowledge distillation of a uniform-data teacher into labels of O."""

    name = "kd-label"
    config_class = KDConfig

    def fit(self, split: DebiasSplit) -> KDLabel:
        cfg = self.config
        base = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(TrainConfig)}
        teacher = MF(MFConfig(**base, train_on="uniform")).fit(split)
        student = MF(MFConfig(**base, train_on="biased")).fit(split)
        self._init_common(split)
        self.history = list(student.history)
        self.f = student.f
        self.batcher = student.batcher
        t = predict_numpy(teacher.f, split.train.user, split.train.item)
        t = (t - t.min()) / max(t.max() - t.min(), 1e-12)
        target = (1 - cfg.teacher_weight) * split.train.label + cfg.teacher_weight * t
        self.target = torch.tensor(target, dtype=torch.float32)
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.rng = np.random.default_rng(cfg.seed + 1)
        before = student.best_valid_auc
        state = clone_params(self.f)
        after = self._train_loop(
            self._finetune_epoch,
            epochs=cfg.finetune_epochs,
            patience=cfg.patience,
            phase="finetune",
        )
        if after < before:  # fine-tuning never beat the student on V: keep the student
            for k, v in state.items():
                self.f[k].data.copy_(v)
            self.best_valid_auc = before
        self.diagnostics["teacher_valid_auc"] = teacher.best_valid_auc
        self.diagnostics["student_valid_auc"] = before
        self.train_seconds = teacher.train_seconds + student.train_seconds + self.train_seconds
        return self

    def _finetune_epoch(self, epoch: int) -> dict[str, float]:
        losses = []
        for rows, n in self.batcher.batches(self.rng):
            target = self.target[torch.as_tensor(rows)]
            errors, *_ = f_errors(self.f, self.batcher, rows, target)
            loss = user_mean_loss(errors, self.batcher.weight[rows], n)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses))}
