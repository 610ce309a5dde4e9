"""ULTD: Unlearning To Debias (Li & Sui, AAAI-25 workshop), as specified in
``../shared/reference/debias.md`` §2; every assumption ([asm]) is a field of :class:`ULTDConfig`.

Parts:

* **Unbiased loss per user** ``L_A(u) = mean_{i∈A_u} (f(u,i) − r)²`` (f detached, refreshed once
  per epoch), shrunk towards the mean ``L̄_A`` for users with few or no A-ratings:
  ``L̃_A(u) = (|A_u|·L_A(u) + κ·L̄_A) / (|A_u| + κ)``.
* **Unlearning-rate network** (Platt scaling) ``α_u = σ(s_u·L̃_A(u) + b_u)``,
  ``s_u = softplus(ŝ_u) > 0`` (order preserving).
* **Error-maximising pseudo-label model** ``g`` (an MF with its own parameters):
  ``L_g = −mean_S (f.detach() − g)² + λ·Ω(g)`` on pairs S drawn uniformly from all pairs.
* **Debiased loss** ``L_f = mean_{u∈B}[α_u·mean_{O_u}(f − g)² + (1 − α_u)·mean_{O_u}(f − r)²]``
  (α and g detached).
* **α update**: one-step lookahead bi-level (:mod:`.lookahead`): ``θ' = θ − η∇θ L_f(θ; α(ψ))``,
  then ψ = (ŝ, b) takes an Adam step on ``mean_A (f_θ'(u,i) − r)²``. Minimising ``L_f``
  directly would drive α to 0.

Schedules: ``jl`` (every user batch: one g-step, one α-step after the warm-up, one f-step) and
``tp`` (phase 1: f with α ≡ 0 = the MF baseline; phase 2: g for ``tp_g_epochs`` with f frozen;
phase 3: fine-tune f from the phase-1 checkpoint alternating α- and f-steps). Early stopping on
validation AUC throughout. ``fixed_alpha`` pins α (``0`` reproduces MF exactly; ``1`` trains on
pseudo-labels only and collapses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from recunlearn.core.errors import ConfigError
from recunlearn.data.feedback.types import DebiasSplit, Triples
from recunlearn.debias.lookahead import meta_step
from recunlearn.debias.models import (
    clone_params,
    embedding_norm,
    init_mf,
    load_params,
    mf_predict,
    predict_numpy,
)
from recunlearn.debias.trainer import DebiasTrainer, TrainConfig, UserBatcher


@dataclass
class ULTDConfig(TrainConfig):
    """ULTD options (defaults follow debias.md §2; tuned values are recorded in
    ``benchmarks/notes/issue7_debiasing.md``).

    Attributes:
        schedule: ``jl`` (joint learning) or ``tp`` (two-phase).
        g_lr, g_weight_decay: Adam settings of the pseudo-label model g.
        g_reg: λ, weight of Ω(g).
        g_reg_kind: ``norm`` (Ω = mean ‖p'_u‖² + ‖q'_i‖² of the batch's g embeddings) or
            ``anchor`` (Ω = mean_A (g − r)²).
        g_sample_ratio: G, |S| / |O batch| for the g-step.
        alpha_lr, alpha_weight_decay: Adam settings of (ŝ, b).
        lookahead_lr: η of the lookahead step.
        s_init, b_init: initial s_u (after softplus) and b_u (α ≈ 0.1-0.15 at L_A ≈ 0.25).
        kappa: κ, shrinkage of L_A(u) towards L̄_A.
        no_a_users: ``shrink`` (L̃ as above), ``zero`` (α_u := 0 for users without A-ratings)
            or ``global`` (L̃_A = L̄_A for every user).
        standardize_loss: z-score L̃_A across users before Platt scaling.
        rate: ``user`` (s_u, b_u per user) or ``global`` (one shared s, b: ULTD-global).
        warmup_epochs: JL epochs before α starts to move (α stays at its initial value).
        fixed_alpha: pin α_u to this value for every user (no α-updates); None to learn it.
        add_uniform: variant "+A": A is appended to O in L_f (with α = 0 on A rows).
        tp_g_epochs: E_g, epochs of g training in TP phase 2.
        tp_epochs: maximum fine-tuning epochs in TP phase 3.
        tp_rounds: how many times phases 2-3 run.
    """

    schedule: str = "jl"
    g_lr: float = 0.01
    g_weight_decay: float = 0.0
    g_reg: float = 1e-3
    g_reg_kind: str = "norm"
    g_sample_ratio: float = 1.0
    alpha_lr: float = 0.01
    alpha_weight_decay: float = 1e-4
    lookahead_lr: float = 0.1
    s_init: float = 5.0
    b_init: float = -3.0
    kappa: float = 1.0
    no_a_users: str = "shrink"
    standardize_loss: bool = False
    rate: str = "user"
    warmup_epochs: int = 5
    fixed_alpha: float | None = None
    add_uniform: bool = False
    tp_g_epochs: int = 5
    tp_epochs: int = 100
    tp_rounds: int = 1

    def __post_init__(self) -> None:
        checks = {
            "schedule": ("jl", "tp"),
            "g_reg_kind": ("norm", "anchor"),
            "no_a_users": ("shrink", "zero", "global"),
            "rate": ("user", "global"),
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"ULTD {name} must be one of {allowed}")
        if self.fixed_alpha is not None and not 0 <= self.fixed_alpha <= 1:
            raise ConfigError("ULTD fixed_alpha must be in [0, 1]")
        if self.s_init <= 0:
            raise ConfigError("ULTD s_init must be > 0 (s_u = softplus(ŝ_u) > 0)")


def _inverse_softplus(x: float) -> float:
    return float(x + np.log(-np.expm1(-x)))


class ULTD(DebiasTrainer):
    """Unlearning to debias with a per-user unlearning rate and error-maximising pseudo-labels."""

    name = "ultd"
    config_class = ULTDConfig

    # ------------------------------------------------------------------ setup
    def _setup(self, split: DebiasSplit) -> None:
        cfg = self.config
        self.f = self._new_f()
        self.g = init_mf(self.n_users, self.n_items, cfg.dim, self.generator, cfg.init_std)
        self.g_rng = np.random.default_rng([cfg.seed, 1])
        self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
        self.opt_g = self._adam(self.g, cfg.g_lr, cfg.g_weight_decay)
        train = split.train
        biased_flag = np.ones(len(train), dtype=bool)
        if cfg.add_uniform:
            train = Triples.concat([split.train, split.uniform])
            biased_flag = np.concatenate([biased_flag, np.zeros(len(split.uniform), dtype=bool)])
        self.batcher = UserBatcher(train, self.n_users, cfg.user_batch)
        self.biased_row = torch.tensor(biased_flag, dtype=torch.float32)
        n_rate = self.n_users if cfg.rate == "user" else 1
        self.rate = {
            "s_hat": torch.full((n_rate,), _inverse_softplus(cfg.s_init), requires_grad=True),
            "b": torch.full((n_rate,), float(cfg.b_init), requires_grad=True),
        }
        self.opt_alpha = torch.optim.Adam(
            list(self.rate.values()), lr=cfg.alpha_lr, weight_decay=cfg.alpha_weight_decay
        )
        a = split.uniform
        self.a_u, self.a_i = torch.tensor(a.user), torch.tensor(a.item)
        self.a_y = torch.tensor(a.label)
        self.a_count = np.bincount(a.user, minlength=self.n_users).astype(np.float64)
        self.has_a = torch.tensor(self.a_count > 0)
        self.refresh_unbiased_loss()

    # ------------------------------------------------------------------ pieces
    def refresh_unbiased_loss(self) -> None:
        """Recompute ``L_A(u)`` with the current f (detached) and the shrunk ``L̃_A(u)``."""
        cfg = self.config
        if len(self.a_u) == 0:
            self.loss_a = torch.zeros(self.n_users)
            self.raw_loss_a = np.full(self.n_users, np.nan)
            return
        pred = predict_numpy(self.f, self.a_u.numpy(), self.a_i.numpy())
        sq = (pred - self.a_y.numpy()) ** 2
        total = np.bincount(self.a_u.numpy(), weights=sq, minlength=self.n_users)
        mean_all = float(sq.mean())
        with np.errstate(invalid="ignore", divide="ignore"):
            self.raw_loss_a = np.where(self.a_count > 0, total / self.a_count, np.nan)
        if cfg.no_a_users == "global":
            shrunk = np.full(self.n_users, mean_all)
        else:
            shrunk = (total + cfg.kappa * mean_all) / (self.a_count + cfg.kappa)
        if cfg.standardize_loss:
            shrunk = (shrunk - shrunk.mean()) / max(shrunk.std(), 1e-8)
        self.loss_a = torch.tensor(shrunk, dtype=torch.float32)

    def alpha(self, users: torch.Tensor | None = None) -> torch.Tensor:
        """``α_u`` for the given users (all users when None), differentiable in (ŝ, b)."""
        cfg = self.config
        if users is None:
            users = torch.arange(self.n_users)
        if cfg.fixed_alpha is not None:
            return torch.full((len(users),), float(cfg.fixed_alpha))
        idx = users if cfg.rate == "user" else torch.zeros_like(users)
        s = F.softplus(self.rate["s_hat"][idx])
        out = torch.sigmoid(s * self.loss_a[users] + self.rate["b"][idx])
        if cfg.no_a_users == "zero":
            out = out * self.has_a[users]
        return out

    def _f_loss(self, params, rows: np.ndarray, n_users: int, alpha: torch.Tensor):
        idx = torch.as_tensor(rows)
        u, i = self.batcher.user_t[idx], self.batcher.item_t[idx]
        y = self.batcher.label_t[idx]
        a = alpha * self.biased_row[idx]
        with torch.no_grad():
            pseudo = mf_predict(self.g, u, i)
        pred = mf_predict(params, u, i)
        per_row = a * (pred - pseudo) ** 2 + (1 - a) * (pred - y) ** 2
        return (self.batcher.weight[idx] * per_row).sum() / n_users

    def _g_step(self, n_pairs: int) -> float:
        cfg = self.config
        n_s = max(1, int(cfg.g_sample_ratio * n_pairs))
        su = torch.as_tensor(self.g_rng.integers(0, self.n_users, n_s))
        si = torch.as_tensor(self.g_rng.integers(0, self.n_items, n_s))
        with torch.no_grad():
            target = mf_predict(self.f, su, si)
        loss = -((target - mf_predict(self.g, su, si)) ** 2).mean()
        if cfg.g_reg > 0:
            if cfg.g_reg_kind == "norm":
                omega = embedding_norm(self.g, su, si)
            else:
                omega = ((mf_predict(self.g, self.a_u, self.a_i) - self.a_y) ** 2).mean()
            loss = loss + cfg.g_reg * omega
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return float(loss.detach())

    def _a_loss(self, params) -> torch.Tensor:
        return ((mf_predict(params, self.a_u, self.a_i) - self.a_y) ** 2).mean()

    def _alpha_step(self, rows: np.ndarray, n_users: int) -> float:
        users = self.batcher.user_t[torch.as_tensor(rows)]
        return meta_step(
            list(self.rate.values()),
            self.opt_alpha,
            self.f,
            lambda p: self._f_loss(p, rows, n_users, self.alpha(users)),
            self._a_loss,
            self.config.lookahead_lr,
        )

    def _f_step(self, rows: np.ndarray, n_users: int) -> float:
        users = self.batcher.user_t[torch.as_tensor(rows)]
        with torch.no_grad():
            alpha = self.alpha(users)
        loss = self._f_loss(self.f, rows, n_users, alpha)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def _learn_alpha(self, epoch: int) -> bool:
        cfg = self.config
        return cfg.fixed_alpha is None and len(self.a_u) > 0 and epoch >= cfg.warmup_epochs

    # ------------------------------------------------------------------ schedules
    def _jl_epoch(self, epoch: int) -> dict[str, float]:
        self.refresh_unbiased_loss()
        f_loss, g_loss, outer = [], [], []
        learn = self._learn_alpha(epoch)
        for rows, n_users in self.batcher.batches(self.rng):
            g_loss.append(self._g_step(len(rows)))
            if learn:
                outer.append(self._alpha_step(rows, n_users))
            f_loss.append(self._f_step(rows, n_users))
        return self._stats(f_loss, g_loss, outer)

    def _stats(self, f_loss, g_loss, outer) -> dict[str, float]:
        with torch.no_grad():
            alpha = self.alpha().numpy()
        return {
            "loss": float(np.mean(f_loss)) if f_loss else np.nan,
            "g_loss": float(np.mean(g_loss)) if g_loss else np.nan,
            "outer": float(np.mean(outer)) if outer else np.nan,
            "alpha_mean": float(alpha.mean()),
            "alpha_std": float(alpha.std()),
        }

    def _mf_epoch(self, epoch: int) -> dict[str, float]:
        zero = None
        losses = []
        for rows, n_users in self.batcher.batches(self.rng):
            if zero is None or len(zero) != len(rows):
                zero = torch.zeros(len(rows))
            loss = self._f_loss(self.f, rows, n_users, zero)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            losses.append(float(loss.detach()))
        return {"loss": float(np.mean(losses))}

    def _g_epoch(self) -> float:
        return float(
            np.mean([self._g_step(len(rows)) for rows, _ in self.batcher.batches(self.g_rng)])
        )

    def _tp_epoch(self, epoch: int) -> dict[str, float]:
        f_loss, outer = [], []
        for rows, n_users in self.batcher.batches(self.rng):
            if self.config.fixed_alpha is None and len(self.a_u):
                outer.append(self._alpha_step(rows, n_users))
            f_loss.append(self._f_step(rows, n_users))
        return self._stats(f_loss, [], outer)

    def fit(self, split: DebiasSplit) -> ULTD:
        """Train with the configured schedule (early stopping on validation AUC)."""
        cfg = self.config
        self._init_common(split)
        self._setup(split)
        if cfg.schedule == "jl":
            self._train_loop(self._jl_epoch, epochs=cfg.epochs, patience=cfg.patience)
        else:
            best = self._train_loop(
                self._mf_epoch, epochs=cfg.epochs, patience=cfg.patience, phase="tp1-mf"
            )
            self.diagnostics["tp_phase1_valid_auc"] = best
            best_state = clone_params(self.f)
            for round_ in range(cfg.tp_rounds):
                self.refresh_unbiased_loss()
                g_losses = [self._g_epoch() for _ in range(cfg.tp_g_epochs)]
                self.diagnostics[f"tp_round{round_}_g_loss"] = g_losses
                self.opt = self._adam(self.f, cfg.lr, cfg.weight_decay)
                score = self._train_loop(
                    self._tp_epoch,
                    epochs=cfg.tp_epochs,
                    patience=cfg.patience,
                    phase=f"tp3-round{round_}",
                )
                self.diagnostics[f"tp_round{round_}_valid_auc"] = score
                if score > best:
                    best, best_state = score, clone_params(self.f)
            load_params(self.f, best_state)
            self.best_valid_auc = best
        self._alpha_diagnostics()
        return self

    def _alpha_diagnostics(self) -> None:
        self.refresh_unbiased_loss()
        with torch.no_grad():
            alpha = self.alpha().numpy().astype(float)
        train = self.split.train
        counts = np.bincount(train.user, minlength=self.n_users)
        pos_rate = np.bincount(
            train.user, weights=train.label, minlength=self.n_users
        ) / np.maximum(counts, 1)
        hist, edges = np.histogram(alpha, bins=10, range=(0, 1))

        def corr(x, y):
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
                return None
            return float(np.corrcoef(x[ok], y[ok])[0, 1])

        self.diagnostics.update(
            alpha_mean=float(alpha.mean()),
            alpha_std=float(alpha.std()),
            alpha_min=float(alpha.min()),
            alpha_max=float(alpha.max()),
            alpha_hist=hist.tolist(),
            alpha_hist_edges=edges.round(2).tolist(),
            corr_alpha_pos_rate_O=corr(alpha, pos_rate),
            corr_alpha_loss_A=corr(alpha, self.raw_loss_a),
            users_with_A=int((self.a_count > 0).sum()),
        )
