"""AFRL (Zhu, Zhang, Yang, SIGIR'24): one model that serves every per-user requirement.

Post hoc on a frozen base model's user representation ``u`` (any model of the library):

* **attribute encoders** ``E_i`` with classifiers ``C_i``: ``z_i = E_i(u)`` keeps (only) the
  information of attribute ``i``;
* the **debiased collaborative encoder** ``F`` with discriminators ``D_i``: ``z_0 = F(u)``
  reconstructs ``u`` while fooling every ``D_i``;
* the **aggregation network** ``G``: ``u* = G([z_0, z_1 (1 - m_1), ..., z_M (1 - m_M)])`` with
  ``m_i = 1`` when user asked for attribute ``i`` to be removed; trained alone, by BPR through
  the frozen scorer, with requirements sampled during training.

Per batch (of ``batch_size`` training (user, item) rows, one uniform negative each): E/C step,
F step, D step, G step, each with its own Adam (lr 5e-5, weight decay 1e-8).

Where the paper and the official code (``zhuxinyu2700/AFRL``, see ``afrl.md``) disagree,
each choice is an option; the defaults are the code's:

=====================  =========================================  ==============================
option                 ``code`` (default)                         paper
=====================  =========================================  ==============================
``encoder``            LayerNorm + d-2d-4d-8d-4d-2d-d ReLU        the same MLP, no LayerNorm
``attribute_objective`` one joint step of E_i, C_i on              C_i step on NLL, then E_i step
                       ``NLL + beta * mean ||z_i||_2``             on ``1/2 ||z_i||^2 + beta NLL``
                                                                  (Eq. 13, EM alternation)
``reconstruction``     MSE, mean over dimensions                  squared L2, summed (Eq. 16)
``mask_sampling``      one mask per batch                         one per user (Algorithm 1)
``init``               N(0, .1) for E, F; N(0, .01) for G, C, D   (not stated)
``validation``         after epochs 0, 10, ..., 40, then every    (early stopping, not
                       epoch from 50; stop after > 10 without a   detailed)
                       best or 5 falls in a row; selection on the
                       mean validation NDCG@10 of masks 000, 111
=====================  =========================================  ==============================

``beta`` / ``lam`` default to the code's 1 / 1 (Table 1 gives 0.1 / 0.1 for PMF and DeepModel
on ML-1M; §4.5's text says 1 / 1). ``adversary_objective="confusion"`` replaces the unbounded
``-lam * NLL(D_i(z_0))`` (which F can lower by making D_i confidently wrong, i.e. flip the
attribute) with the bounded cross entropy to the uniform prediction. Two further differences,
both forced by running post hoc here: validation ranks every item (the code: 1 + 99 cached
negatives), and the classifiers / discriminators only learn from the labels given to ``fit``
(with the held-out view of the leakage guard, the hidden users' labels are never seen -- the
code trains them on every user, the attacker's test users included).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from recunlearn.core.options import LATE_OPTION
from recunlearn.protect.personal.base import PersonalConfig, PersonalUnlearner
from recunlearn.protect.personal.epochs import eval_mode
from recunlearn.protect.personal.nets import (
    AdversaryObjective,
    LabelTarget,
    adversary_loss,
    init_default,
    init_normal,
    mlp,
    weighted_nll,
)
from recunlearn.protect.personal.training import (
    FrozenBPR,
    Schedule,
    require_bpr_scorer,
)
from recunlearn.protect.posthoc.base import AttributeLabels, Scorer, UnlearnerConfig


class AFRLConfig(PersonalConfig):
    """Options of :class:`AFRL` (defaults: the official code's; see the module docstring)."""

    beta: float = Field(1.0, ge=0, description="weight of the attribute embeddings' norm term")
    lam: float = Field(1.0, ge=0, description="lambda: weight of the discriminators against F")
    batch_size: int = Field(256, ge=2, description="(user, item) training rows per batch")
    lr: float = Field(5e-5, gt=0)
    weight_decay: float = Field(1e-8, ge=0)
    encoder: Literal["code", "paper"] = "code"
    attribute_objective: Literal["code", "paper"] = "code"
    reconstruction: Literal["mean", "sum"] = "mean"
    adversary_objective: AdversaryObjective = "reversal"
    mask_sampling: Literal["batch", "user"] = "batch"
    init: Literal["code", "torch"] = "code"
    validation: Schedule = "code"
    decreasing: int = Field(5, ge=0, description="stop after this many falls in a row (0: off)")
    attribute_folds: int = Field(
        1,
        ge=1,
        description="k > 1: k sets of attribute encoders and classifiers, set j trained without "
        "the labels of fold j of the labelled users; a labelled user's z_i comes from the set "
        "that never saw their label, an unlabelled user's is the mean over the sets (so z_i "
        "carries what is predictable from u, not the user's own label). 1 = the paper's",
        json_schema_extra=LATE_OPTION,
    )


class _AFRLNets(nn.Module):
    """Every network of AFRL for ``d``-dimensional inputs and the given targets."""

    def __init__(self, d: int, targets: list[LabelTarget], encoder: str, sets: int = 1) -> None:
        super().__init__()
        widths = [d, 2 * d, 4 * d, 8 * d, 4 * d, 2 * d, d]
        norm = encoder == "code"
        # attribute i of set j at index j * M + i (one set unless cross-fitted)
        self.encoders = nn.ModuleList(
            mlp(widths, layer_norm=norm) for _ in range(sets) for _ in targets
        )
        self.collaborative = mlp(widths, layer_norm=norm)
        self.classifiers = nn.ModuleList(
            mlp([d, d, t.n_classes]) for _ in range(sets) for t in targets
        )
        self.discriminators = nn.ModuleList(mlp([d, d, t.n_classes]) for t in targets)
        m = len(targets)
        self.aggregator = mlp([(m + 1) * d, 8 * d, 4 * d, d])

    def initialise(self, how: str, generator: torch.Generator) -> None:
        if how == "torch":
            init_default(self, generator)
            return
        for module in (*self.encoders, self.collaborative):
            init_normal(module, 0.1, generator)
        for module in (*self.classifiers, *self.discriminators, self.aggregator):
            init_normal(module, 0.01, generator)

    def aggregate(
        self, z0: torch.Tensor, zs: list[torch.Tensor], mask: torch.Tensor
    ) -> torch.Tensor:
        """``G([z_0, z_i (1 - m_i)...])``; ``mask`` is (M,) or (n, M), 1 = removed."""
        keep = 1.0 - mask.to(z0.dtype)
        if keep.ndim == 1:
            keep = keep.expand(len(z0), -1)
        parts = [z0, *(z * keep[:, i : i + 1] for i, z in enumerate(zs))]
        return self.aggregator(torch.cat(parts, dim=1))


class AFRL(PersonalUnlearner):
    """Adaptive Fair Representation Learning, post hoc (see the module docstring).

    ``transform(requirement)`` serves one requirement to every user;
    ``transform_personal(table)`` serves each user's own (one forward pass). After ``fit``:
    ``attributes_`` (the served attributes, mask order), ``logs_`` (per epoch mean losses, the
    validation trace, the kept epoch) and ``timings_`` (fit seconds).
    """

    name: ClassVar[str] = "afrl"
    Config: ClassVar[type[UnlearnerConfig]] = AFRLConfig
    config: AFRLConfig

    def fit(
        self,
        embeddings: torch.Tensor | np.ndarray,
        labels: Mapping[str, AttributeLabels],
        *,
        scorer: Scorer | None = None,
        store: Any = None,
    ) -> AFRL:
        """Train every network on the frozen matrix ``U0`` (see the module docstring).

        Raises:
            ConfigError: no scorer with the training interactions, an unknown or continuous
                attribute in ``attributes``, or nothing to protect.
        """
        super().fit(embeddings, labels, scorer=scorer, store=store)
        bpr_scorer = require_bpr_scorer(scorer, self.name)
        cfg = self.config
        self._serve_targets(labels)

        self._cross_fit_folds()

        def train(generator: torch.Generator) -> dict[str, Any]:
            self.nets_ = _AFRLNets(
                self.embeddings_.shape[1], self.targets_, cfg.encoder, cfg.attribute_folds
            )
            self.nets_.initialise(cfg.init, generator)
            return self._train(FrozenBPR(bpr_scorer, self.embeddings_), generator)

        self._seeded_training(train)
        return self

    # ------------------------------------------------------------------------- training
    def _cross_fit_folds(self) -> None:
        """``folds_``: each user's fold (-1: no label of a served attribute), and
        ``set_targets_[j]``: the targets with fold ``j``'s labels hidden (one set, the targets
        themselves, when ``attribute_folds`` is 1)."""
        k = self.config.attribute_folds
        n = self.embeddings_.shape[0]
        self.folds_ = torch.full((n,), -1, dtype=torch.long)
        if k == 1:
            self.set_targets_ = [self.targets_]
            return
        labelled = torch.zeros(n, dtype=torch.bool)
        for target in self.targets_:
            labelled |= target.codes >= 0
        rows = np.flatnonzero(labelled.numpy())
        order = np.random.default_rng(self.config.seed).permutation(len(rows))
        self.folds_[torch.from_numpy(rows[order])] = torch.arange(len(rows)) % k
        self.set_targets_ = [
            [replace(t, codes=torch.where(self.folds_ == j, -1, t.codes)) for t in self.targets_]
            for j in range(k)
        ]

    def _route(self, per_set: list[list[torch.Tensor]], users: torch.Tensor) -> list[torch.Tensor]:
        """Each user's attribute embeddings: from the set that never saw the user's labels, or
        the mean over the sets for unlabelled users (``per_set[j][i]``: set ``j``, attribute
        ``i``, rows of ``users``)."""
        if len(per_set) == 1:
            return per_set[0]
        folds = self.folds_[users]
        known = folds >= 0
        picked = folds.clamp(min=0)
        rows = torch.arange(len(users))
        out = []
        for i in range(len(per_set[0])):
            stacked = torch.stack([zs[i] for zs in per_set])  # (sets, n, d)
            z = stacked.mean(dim=0)
            z = torch.where(known[:, None], stacked[picked, rows], z)
            out.append(z)
        return out

    def _sets(self) -> list[tuple[list[nn.Module], list[nn.Module], list[LabelTarget]]]:
        """(encoders, classifiers, targets) of each set of attribute networks."""
        m = len(self.targets_)
        nets = self.nets_
        return [
            (
                list(nets.encoders[j * m : (j + 1) * m]),
                list(nets.classifiers[j * m : (j + 1) * m]),
                targets,
            )
            for j, targets in enumerate(self.set_targets_)
        ]

    @staticmethod
    def _heads(
        per_set: list[list[torch.Tensor]],
        sets: list[tuple[list[nn.Module], list[nn.Module], list[LabelTarget]]],
    ) -> Iterator[tuple[torch.Tensor, nn.Module, LabelTarget]]:
        """(z_i, classifier, target) of every attribute of every set."""
        for zs, (_, classifiers, targets) in zip(per_set, sets, strict=True):
            yield from zip(zs, classifiers, targets, strict=True)

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg, nets = self.config, self.nets_

        def adam(*modules: nn.Module) -> torch.optim.Optimizer:
            params = [p for m in modules for p in m.parameters()]
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

        out = {
            "f": adam(nets.collaborative),
            "d": adam(*nets.discriminators),
            "g": adam(nets.aggregator),
        }
        if cfg.attribute_objective == "code":
            out["ec"] = adam(*nets.encoders, *nets.classifiers)
        else:
            out["c"] = adam(*nets.classifiers)
            out["e"] = adam(*nets.encoders)
        return out

    def _attribute_step(
        self,
        opt: dict,
        u: torch.Tensor,
        distinct: torch.Tensor,
        inverse: torch.Tensor,
        users: torch.Tensor,
    ) -> tuple[float, list[torch.Tensor]]:
        """One step of the attribute encoders and classifiers (of every set) on the rows ``u``
        of the users ``distinct``; returns the loss and the (detached, routed) attribute
        embeddings."""
        cfg = self.config
        sets = self._sets()
        per_set = [[encoder(u) for encoder in encoders] for encoders, _, _ in sets]
        detached = self._route([[z.detach() for z in zs] for zs in per_set], distinct)
        if cfg.attribute_objective == "code":
            loss = u.new_zeros(())
            for z, classifier, target in self._heads(per_set, sets):
                nll = weighted_nll(classifier(z)[inverse], target, users)
                loss = loss + nll + cfg.beta * z.norm(dim=1)[inverse].mean()
            opt["ec"].zero_grad(set_to_none=True)
            loss.backward()
            opt["ec"].step()
            return float(loss.detach()), detached
        # the paper's alternation (Eqs. 10-13): C_i on detached z_i, then E_i with C_i fixed
        loss_c = u.new_zeros(())
        for z, classifier, target in self._heads(per_set, sets):
            loss_c = loss_c + weighted_nll(classifier(z.detach())[inverse], target, users)
        opt["c"].zero_grad(set_to_none=True)
        loss_c.backward()
        opt["c"].step()
        loss_e = u.new_zeros(())
        for z, classifier, target in self._heads(per_set, sets):
            nll = weighted_nll(classifier(z)[inverse], target, users)
            loss_e = loss_e + 0.5 * z.pow(2).sum(dim=1)[inverse].mean() + cfg.beta * nll
        opt["e"].zero_grad(set_to_none=True)
        loss_e.backward()
        opt["e"].step()
        return float(loss_e.detach()), detached

    def _collaborative_steps(
        self, opt: dict, u: torch.Tensor, inverse: torch.Tensor, users: torch.Tensor
    ) -> tuple[float, float, torch.Tensor]:
        """One step of F, then one of the discriminators on the detached ``z_0``; returns both
        losses and the detached ``z_0``."""
        cfg, nets = self.config, self.nets_
        z0 = nets.collaborative(u)
        squared = (z0 - u).pow(2)[inverse]
        recon = squared.mean() if cfg.reconstruction == "mean" else squared.sum(dim=1).mean()
        adversarial = u.new_zeros(())
        for disc, target in zip(nets.discriminators, self.targets_, strict=True):
            logits = disc(z0)[inverse]
            adversarial = adversarial + adversary_loss(
                cfg.adversary_objective, logits, target, users
            )
        loss_f = recon + cfg.lam * adversarial
        opt["f"].zero_grad(set_to_none=True)
        loss_f.backward()
        opt["f"].step()
        detached = z0.detach()
        loss_d = u.new_zeros(())
        for disc, target in zip(nets.discriminators, self.targets_, strict=True):
            loss_d = loss_d + weighted_nll(disc(detached)[inverse], target, users)
        opt["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        opt["d"].step()
        return float(loss_f.detach()), float(loss_d.detach()), detached

    def _sample_mask(self, n: int, generator: torch.Generator) -> torch.Tensor:
        m = len(self.targets_)
        shape = (m,) if self.config.mask_sampling == "batch" else (n, m)
        return torch.randint(0, 2, shape, generator=generator).float()

    def _train(self, bpr: FrozenBPR, generator: torch.Generator) -> dict[str, Any]:
        cfg, nets = self.config, self.nets_
        opt = self._optimizers()
        matrix = self.embeddings_
        best = self._best_epoch(
            lambda: self._extreme_masks_ndcg(bpr.scorer), list(opt.values()), generator
        )
        for epoch in best.epochs(cfg.epochs):
            nets.train()
            sums = np.zeros(4)
            steps = 0
            for users, items, negatives in bpr.epoch(cfg.batch_size, generator):
                distinct, inverse = torch.unique(users, return_inverse=True)
                u = matrix[distinct]
                # G sees the embeddings of this step's forward passes (before the E / F
                # updates of the step; the code recomputes them after, at twice the cost)
                loss_ec, zs = self._attribute_step(opt, u, distinct, inverse, users)
                loss_f, loss_d, z0 = self._collaborative_steps(opt, u, inverse, users)
                rows = nets.aggregate(z0, zs, self._sample_mask(len(distinct), generator))
                loss_g = bpr.loss(distinct, inverse, rows, items, negatives)
                opt["g"].zero_grad(set_to_none=True)
                loss_g.backward()
                opt["g"].step()
                sums += (loss_ec, loss_f, loss_d, float(loss_g.detach()))
                steps += 1
            record: dict[str, Any] = dict(
                zip(("ec", "f", "d", "g"), (sums / max(1, steps)).tolist(), strict=True)
            )
            record["epoch"] = epoch
            if best.after_epoch(epoch, record):
                break
        kept = best.restore("mean validation NDCG@10 of the masks 0...0 and 1...1")
        return {"epochs": best.records, **kept}

    # ------------------------------------------------------------------------ serving
    def _serve(self, mask: torch.Tensor) -> torch.Tensor:
        u = self.embeddings_
        with eval_mode(self.nets_) as nets:
            per_set = [[encoder(u) for encoder in encoders] for encoders, _, _ in self._sets()]
            zs = self._route(per_set, torch.arange(len(u)))
            return nets.aggregate(nets.collaborative(u), zs, mask)
