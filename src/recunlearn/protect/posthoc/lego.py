"""LEGO (Yu et al., MM 2025): Embedding Calibration per attribute + Flexible Combination.

Step 1, per attribute ``t``: starting from the original matrix ``U0``, alternate one
maximum-likelihood step on a variational net ``q_t(a | u)`` (fitted on detached rows) with one
Adam step on the matrix minimising the batch vCLUB estimate, then project the matrix onto the
Frobenius ball ``||U_t - U0|| <= eps`` (eq. 11; ``eps = eps_per_user * N``). Only rows of users
with a label are ever in a batch, so only their rows move (the transductive setting of the
paper).

Step 2, for a requirement naming several attributes: ``U(alpha) = sum_i alpha_i U_i`` over the
frozen calibrated matrices, with fresh variational nets per attribute and the weights updated to
lower the sum of the vCLUB estimates (eq. 12-13). The paper's literal update (Algorithm 1, lines
13 and 18-19) is ``alpha <- softmax(alpha - eta * grad)`` from ``alpha = 1/k``: a contraction (the
softmax Jacobian has norm <= 1/k) that settles near the uniform mix; ``combination_update="adam"``
is the variant this library used before (Adam on softmax logits), which drifts to a vertex chosen
by the seed. ``combination="average"`` gives the EC-AC ablation (plain average).

This class is ``lego-paper``: the paper's method kept exactly, for reproduction rows. Under a
strong attacker it does not remove the attribute (below); the default of ``recunlearn unlearn`` is
another method.

Two facts about the paper's settings, measured here (BENCHMARKS.md): (1) with ``eps/N = 0.5``
the Frobenius ball has radius ``0.5 N``, i.e. an RMS row displacement of ``0.5 sqrt(N)`` -- far
larger than the rows of 32-d embeddings -- so it never binds; (2) the per-user vCLUB term is
unbounded below (it is smallest when ``q`` confidently predicts a *wrong* class), so with a
slow variational net (lr 1e-4) and no binding ball, Adam pushes labelled rows across the class
boundary: the attribute is not removed but *flipped* (an attacker trained on other users scores
far below chance, one trained on the calibrated users themselves far above). ``eps_relative``
(a radius relative to ``||U0||_F``) and ``lr_scale="rms"`` give settings where the ball
really trades leakage against accuracy.

Calibrated matrices ("bricks") are cached per attribute, so a new requirement only calibrates
the attributes not seen before.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import Field

from recunlearn.protect.posthoc.base import AttributeLabels, Unlearner, UnlearnerConfig
from recunlearn.protect.posthoc.d2dfr import D2DFR
from recunlearn.protect.posthoc.flat_adam import FlatAdam
from recunlearn.protect.posthoc.store import BrickStore, brick_key, matrix_fingerprint
from recunlearn.protect.posthoc.vclub import JointVariationalNets, VariationalNet
from recunlearn.protect.requirement import Requirement


class LEGOConfig(UnlearnerConfig):
    """Options of :class:`LEGO` (defaults: the paper's §5.1 settings where it gives them).

    ``batch_size`` and ``combination_steps`` are not given in the paper; ``lr_combination``
    neither (the paper writes one step size ``eta``).
    """

    eps_per_user: float | None = Field(
        0.5, ge=0, description="radius of the Frobenius ball per user (eps/N); None = no ball"
    )
    eps_relative: float | None = Field(
        None,
        ge=0,
        description="radius as a fraction of ||U0||_F; overrides eps_per_user when set "
        "(the paper's eps/N = 0.5 never binds on 32-d embeddings: see the module docstring)",
    )
    lr_scale: Literal["absolute", "rms"] = Field(
        "absolute",
        description="'rms' multiplies lr_embeddings by the RMS entry of U0, so a step moves "
        "embeddings of any scale by the same relative amount (Adam steps are ~lr per entry)",
    )
    edit_subspace: float | None = Field(
        None,
        gt=0,
        le=1,
        description="keep each calibration edit in the span of U0's principal directions that "
        "carry this fraction of its variance; None = edit every direction (the paper). Adam "
        "moves every coordinate by about the same step, so without it a calibration also "
        "writes into directions where U0 has no variance (NCF's collapsed GMF half, MultVAE's "
        "unused latent directions), where a standardising attacker reads the label",
    )
    calibration_steps: int = Field(2000, ge=1, description="E1")
    combination_steps: int = Field(500, ge=0, description="E2")
    batch_size: int = Field(512, ge=2)
    combination_batch_size: int | None = Field(
        None,
        ge=2,
        description="users per Flexible Combination step; None = batch_size (not a brick "
        "option: cached bricks are reused). Measured on 943 x 64 NCF bricks: 256 instead of 512 "
        "was at best ~1.3x faster and within this machine's noise, since a step's many small "
        "operations cost as much as its products",
    )
    lr_embeddings: float = Field(1e-3, gt=0, description="Adam step size on the matrix")
    lr_variational: float = Field(1e-4, gt=0, description="Adam step size on q(a | u)")
    lr_combination: float = Field(1e-2, gt=0, description="step size eta on the weights")
    combination_update: Literal["paper", "adam"] = Field(
        "paper",
        description="'paper': alpha <- softmax(alpha - eta * grad) from alpha = 1/k (Algorithm "
        "1, lines 13, 18-19); 'adam': Adam on softmax logits (this library's earlier variant)",
    )
    combination_q_warmup: int = Field(
        0,
        ge=0,
        description="steps fitting the combination's q networks on the starting (uniform) mix "
        "before the weights move; 0 = the paper's Algorithm 1 (weights move from step one, "
        "against barely fitted q networks, so their gradient is mostly noise)",
    )
    combination_q_steps: int = Field(
        1, ge=1, description="q network updates per weight update (Algorithm 1: one)"
    )
    hidden: int = Field(100, ge=1, description="hidden width of q(a | u)")
    combination: Literal["flexible", "average"] = "flexible"
    calibrator: Literal["vclub", "d2dfr"] = Field(
        "vclub",
        description="Step 1: LEGO's vCLUB calibration, or D2DFR per attribute (the D2DFR-FC "
        "ablation of LEGO Table 2; D2DFR's own defaults, needs a scorer, runs in-process)",
    )
    n_jobs: int = Field(1, ge=1, description="processes calibrating missing attributes in parallel")

    @property
    def combination_rows(self) -> int:
        """Users per Flexible Combination step: ``combination_batch_size``, else ``batch_size``."""
        return self.combination_batch_size or self.batch_size

    def brick_params(self) -> dict:
        """The options a calibrated matrix depends on (its store key)."""
        return self.model_dump(
            include={
                "calibrator",
                "eps_per_user",
                "eps_relative",
                "lr_scale",
                "edit_subspace",
                "calibration_steps",
                "batch_size",
                "lr_embeddings",
                "lr_variational",
                "hidden",
                "seed",
            }
        )


@dataclass
class CalibrationLog:
    """What one calibration did: vCLUB trace, how often the ball constraint bound, distance."""

    attribute: str
    steps: int
    eps: float | None
    subspace_dims: int | None = None
    projections: int = 0
    distance: float = 0.0
    seconds: float = 0.0
    vclub: list[float] = field(default_factory=list)

    @property
    def projection_rate(self) -> float:
        """Fraction of steps whose update left the ball and was projected back."""
        return self.projections / max(1, self.steps)

    @property
    def distance_ratio(self) -> float | None:
        """``||U_t - U0|| / eps`` at the end (None without a ball)."""
        return None if not self.eps else self.distance / self.eps


def _targets(labels: AttributeLabels) -> tuple[np.ndarray, torch.Tensor, int]:
    """Known rows, their targets (codes, or standardised floats) and the class count."""
    rows = np.flatnonzero(labels.known)
    if labels.attribute.kind == "categorical":
        return (
            rows,
            torch.as_tensor(labels.values[rows], dtype=torch.long),
            labels.attribute.n_classes,
        )
    values = labels.values[rows].astype(np.float64)
    scaled = (values - values.mean()) / max(values.std(), 1e-12)
    return rows, torch.as_tensor(scaled, dtype=torch.float32), 0


def _batch(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    if n <= size:
        return torch.arange(n)
    return torch.randperm(n, generator=generator)[:size]


def principal_basis(
    matrix: torch.Tensor, fraction: float, dead_tolerance: float = 1e-6
) -> torch.Tensor:
    """Orthonormal columns (d x m) spanning the fewest principal directions of ``matrix``'s rows
    (centred) that carry at least ``fraction`` of their variance.

    Coordinates whose standard deviation is below ``dead_tolerance`` times the largest are
    left out exactly (their rows of the basis are 0.0, not rounding noise): an attacker that
    standardises its inputs would otherwise read whatever tiny edit leaks into them.
    """
    scale = matrix.std(dim=0)
    live = scale > dead_tolerance * scale.max()
    part = matrix[:, live].double()
    centred = part - part.mean(dim=0)
    values, vectors = torch.linalg.eigh(centred.T @ centred)
    values, vectors = values.flip(0).clamp(min=0), vectors.flip(1)
    share = torch.cumsum(values, 0) / values.sum().clamp(min=1e-300)
    m = min(
        int(torch.searchsorted(share, torch.tensor(fraction, dtype=share.dtype))) + 1, len(values)
    )
    basis = torch.zeros(matrix.shape[1], m, dtype=matrix.dtype)
    basis[live] = vectors[:, :m].to(matrix.dtype)
    return basis


def calibrate(
    original: torch.Tensor,
    labels: AttributeLabels,
    config: LEGOConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, CalibrationLog]:
    """Embedding Calibration of one attribute (Algorithm 1, lines 2-11)."""
    started = time.perf_counter()
    rows_np, targets, n_classes = _targets(labels)
    rows = torch.as_tensor(rows_np)
    if config.eps_relative is not None:
        eps = config.eps_relative * float(torch.linalg.vector_norm(original))
    elif config.eps_per_user is not None:
        eps = config.eps_per_user * original.shape[0]
    else:
        eps = None
    basis = None
    if config.edit_subspace is not None and config.edit_subspace < 1:
        basis = principal_basis(original, config.edit_subspace)
    log = CalibrationLog(
        labels.attribute.name,
        config.calibration_steps,
        eps,
        subspace_dims=None if basis is None else basis.shape[1],
    )
    matrix = original.clone().requires_grad_(True)
    net = VariationalNet(original.shape[1], n_classes, config.hidden)
    lr = config.lr_embeddings
    if config.lr_scale == "rms":
        lr *= float(original.pow(2).mean().sqrt())
    opt_u = torch.optim.Adam([matrix], lr=lr)
    opt_q = torch.optim.Adam(net.parameters(), lr=config.lr_variational)
    for _ in range(config.calibration_steps):
        pick = _batch(len(rows), config.batch_size, generator)
        index, a = rows[pick], targets[pick]
        opt_q.zero_grad(set_to_none=True)
        (-net.log_likelihood(matrix[index].detach(), a)).backward()
        opt_q.step()
        opt_u.zero_grad(set_to_none=True)
        estimate = net.vclub(matrix[index], a)
        estimate.backward()
        opt_u.step()
        log.vclub.append(float(estimate.detach()))
        if basis is not None:
            with torch.no_grad():
                matrix.copy_(original + (matrix - original) @ basis @ basis.T)
        if eps is not None:
            with torch.no_grad():
                delta = matrix - original
                norm = float(torch.linalg.vector_norm(delta))
                if norm > eps:
                    matrix.copy_(original + delta * (eps / norm))
                    log.projections += 1
    result = matrix.detach()
    log.distance = float(torch.linalg.vector_norm(result - original))
    log.seconds = time.perf_counter() - started
    return result, log


def _joint_targets(
    labels: list[AttributeLabels],
) -> tuple[list[int], torch.Tensor, torch.Tensor, torch.Tensor]:
    """The requirement's labels for :class:`JointVariationalNets`, over all N rows.

    Returns the class counts (categorical attributes first, as the nets expect), the class
    codes (categorical count, N; 0 where unknown), the standardised values (continuous count,
    N; 0 where unknown) and the known mask (k, N) in the same order.
    """
    ordered = sorted(labels, key=lambda entry: entry.attribute.kind != "categorical")
    n = len(ordered[0].values)
    codes, values, known = [], [], []
    for entry in ordered:
        _, targets, _ = _targets(entry)
        mask = torch.as_tensor(entry.known)
        full = torch.zeros(n, dtype=targets.dtype)
        full[mask] = targets
        (codes if entry.attribute.kind == "categorical" else values).append(full)
        known.append(mask)
    n_classes = [entry.attribute.n_classes for entry in ordered]
    codes_or_empty = torch.stack(codes) if codes else torch.zeros(0, n, dtype=torch.long)
    values_or_empty = torch.stack(values) if values else torch.zeros(0, n)
    return n_classes, codes_or_empty, values_or_empty, torch.stack(known)


def combine(
    bricks: list[torch.Tensor],
    labels: list[AttributeLabels],
    config: LEGOConfig,
    generator: torch.Generator,
    on_step: Callable[[int, np.ndarray], None] | None = None,
) -> tuple[torch.Tensor, np.ndarray]:
    """Flexible Combination (Algorithm 1, lines 13-21): the weights and the combined matrix.

    ``on_step(step, weights)`` is called after every weight update (to log the trajectory).

    Each step samples one batch of ``combination_batch_size`` users (default ``batch_size``;
    line 14) among those with at least
    one of the requirement's labels, fits the k variational networks on it and takes one step
    on the weights. An attribute's terms average over the batch's users that have its label,
    so users with some labels missing still count for the others. The networks share the batch,
    so a step is a few matrix products whatever k is; their gradients, and the weights'
    gradient through the mix and the softmax, are written out by hand (no autograd graph per
    step) and every Adam update is a few in-place operations on one flat tensor.
    """
    k = len(bricks)
    stack = torch.stack(bricks)  # (k, N, d)
    if config.combination == "average" or k == 1 or config.combination_steps == 0:
        weights = torch.full((k,), 1.0 / k)
        return torch.einsum("k,knd->nd", weights, stack), weights.numpy()
    paper = config.combination_update == "paper"
    n_classes, codes, values, known = _joint_targets(labels)
    eligible = torch.nonzero(known.any(dim=0)).squeeze(1)
    known = known.to(torch.float32)
    size = min(config.combination_rows, len(eligible))
    nets = JointVariationalNets(stack.shape[2], n_classes, config.hidden)
    opt_q = FlatAdam(nets.params, nets.grad, lr=config.lr_variational)
    theta, theta_grad = torch.zeros(k), torch.zeros(k)
    opt_theta = FlatAdam(theta, theta_grad, lr=config.lr_combination)
    alpha = torch.full((k,), 1.0 / k)  # the paper's weights (combination_update="paper")

    def current() -> torch.Tensor:
        return alpha if paper else torch.softmax(theta, dim=0)

    def draw(weights: torch.Tensor) -> tuple:
        """One batch: gathered brick rows (k, B * d), their mix (B, d) and the targets."""
        rows = eligible[_batch(len(eligible), size, generator)]
        gathered = stack.index_select(1, rows).view(k, -1)
        mask = known.index_select(1, rows)
        row_weights = mask / mask.sum(dim=1, keepdim=True).clamp_(min=1.0)
        targets = (codes.index_select(1, rows), values.index_select(1, rows), row_weights)
        return gathered, (weights @ gathered).view(len(rows), -1), targets

    with torch.no_grad():
        start = torch.softmax(theta, dim=0)
        for _ in range(config.combination_q_warmup):
            _, u, targets = draw(start)
            nets.likelihood_gradients(u, *targets)
            opt_q.step()
        for step in range(config.combination_steps):
            weights = current()
            for _ in range(config.combination_q_steps):
                gathered, u, targets = draw(weights)
                nets.likelihood_gradients(u, *targets)
                opt_q.step()
            # d(sum of vCLUB)/d weights through u = sum_k w_k U_k[rows]
            grad_w = gathered @ nets.vclub_input_gradient(u, *targets).view(-1)
            if paper:
                alpha = torch.softmax(alpha - config.lr_combination * grad_w, dim=0)
            else:  # through the softmax to the logits, then Adam
                theta_grad.copy_(weights * (grad_w - weights @ grad_w))
                opt_theta.step()
            if on_step is not None:
                on_step(step, current().numpy())
    weights = current()
    return torch.einsum("k,knd->nd", weights, stack), weights.numpy()


def _brick_seed(seed: int, attribute: str) -> int:
    return seed * 1_000_003 + sum(map(ord, attribute))


def _calibrate_job(
    original: np.ndarray,
    labels: AttributeLabels,
    config: LEGOConfig,
    store_root: str | None,
    key: str,
    source: str,
) -> tuple[np.ndarray, dict]:
    """One attribute's calibration in a worker process (writes its brick when given a store)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny steps: one thread is faster, and workers share 2 cores
    try:
        seed = _brick_seed(config.seed, labels.attribute.name)
        torch.manual_seed(seed)
        matrix, log = calibrate(
            torch.as_tensor(original), labels, config, torch.Generator().manual_seed(seed)
        )
    finally:
        torch.set_num_threads(previous)
    if store_root is not None:
        from recunlearn.protect.posthoc.store import BrickStore

        BrickStore(store_root).put(key, matrix, _brick_meta(labels, source, config, log))
    return matrix.numpy(), asdict(log)


def _brick_meta(
    labels: AttributeLabels, source: str, config: LEGOConfig, log: CalibrationLog
) -> dict:
    return {
        "attribute": labels.attribute.name,
        "source": source,
        "config": config.brick_params(),
        "log": {k: v for k, v in asdict(log).items() if k != "vclub"},
    }


class LEGO(Unlearner):
    """Multi-attribute unlearning by calibration and combination (see the module docstring).

    After ``transform``, ``calibration_logs_`` holds one :class:`CalibrationLog` per calibrated
    attribute (bricks read from a store carry the log saved with them, without the vCLUB
    trace), ``weights_`` the combination weights of the last requirement and
    ``timings_`` the seconds spent calibrating / loading / combining.
    """

    name: ClassVar[str] = "lego-paper"
    Config: ClassVar[type[UnlearnerConfig]] = LEGOConfig
    uses_store: ClassVar[bool] = True
    config: LEGOConfig

    def fit(self, embeddings, labels, *, scorer=None, store=None) -> LEGO:  # type: ignore[override]
        """Store ``U0`` and the labels; bricks are computed lazily per attribute.

        Args:
            embeddings: ``U0``.
            labels: per attribute, values aligned with the rows.
            scorer: unused (accepted for interface compatibility).
            store: an optional :class:`~recunlearn.protect.posthoc.store.BrickStore` (or its
                folder): bricks are read from it and new ones written to it.
        """

        super().fit(embeddings, labels, scorer=scorer)
        self.store_ = BrickStore(store) if isinstance(store, str | Path) else store
        self.source_ = matrix_fingerprint(self.embeddings_)
        self.bricks_: dict[str, torch.Tensor] = {}
        self._brick_keys: dict[str, str] = {}  # the key each cached brick was computed under
        self.calibration_logs_: dict[str, CalibrationLog] = {}
        self.weights_: np.ndarray | None = None
        self.timings_: dict[str, float] = {}
        return self

    def _key(self, attribute: str) -> str:

        return brick_key(
            self.source_, attribute, self.labels_[attribute].values, self.config.brick_params()
        )

    def prepare(self, attributes: list[str] | tuple[str, ...]) -> None:
        """Make sure a brick exists for every attribute: memory, then store, then calibrate.

        Missing attributes are calibrated in ``n_jobs`` worker processes when there are
        several; each worker writes its brick to the store as soon as it is done.
        """
        started = time.perf_counter()
        keys = {attribute: self._key(attribute) for attribute in attributes}
        missing = []
        for attribute, key in keys.items():
            # a brick cached under other calibration settings (config changed since) is stale
            if self._brick_keys.get(attribute) == key:
                continue
            found = self.store_.get(key, self.source_) if self.store_ else None
            if found is None:
                missing.append(attribute)
                continue
            matrix, meta = found
            self.bricks_[attribute] = matrix
            self._brick_keys[attribute] = key
            self.calibration_logs_[attribute] = CalibrationLog(**meta["log"])
        self.timings_["load_seconds"] = time.perf_counter() - started
        started = time.perf_counter()
        root = None if self.store_ is None else str(self.store_.root)
        jobs = [
            (
                self.embeddings_.numpy(),
                self.labels_[a],
                self.config,
                root,
                keys[a],
                self.source_,
            )
            for a in missing
        ]
        if self.config.calibrator == "d2dfr":
            results = [self._d2dfr_brick(a, root, keys[a]) for a in missing]
        elif len(jobs) > 1 and self.config.n_jobs > 1:
            context = multiprocessing.get_context("spawn")
            workers = min(self.config.n_jobs, len(jobs))
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                results = list(pool.map(_calibrate_job, *zip(*jobs, strict=True)))
        else:
            results = [_calibrate_job(*job) for job in jobs] if jobs else []
        for attribute, (matrix, log) in zip(missing, results, strict=True):
            self.bricks_[attribute] = torch.as_tensor(matrix)
            self._brick_keys[attribute] = keys[attribute]
            self.calibration_logs_[attribute] = CalibrationLog(**log)
        self.timings_["calibrate_seconds"] = time.perf_counter() - started
        self.timings_["calibrated"] = float(len(missing))

    def _d2dfr_brick(self, attribute: str, root: str | None, key: str) -> tuple[np.ndarray, dict]:
        """One attribute unlearned by D2DFR, as a brick (the D2DFR-FC ablation)."""

        started = time.perf_counter()
        seed = _brick_seed(self.config.seed, attribute)
        d2dfr = D2DFR(seed=seed).fit(self.embeddings_, self.labels_, scorer=self.scorer_)
        matrix, _ = d2dfr.unlearn_one(
            self.embeddings_, self.labels_[attribute], torch.Generator().manual_seed(seed)
        )
        log = CalibrationLog(attribute, d2dfr.config.steps, None)
        log.distance = float(torch.linalg.vector_norm(matrix - self.embeddings_))
        log.seconds = time.perf_counter() - started
        if root is not None:
            from recunlearn.protect.posthoc.store import BrickStore

            meta = _brick_meta(self.labels_[attribute], self.source_, self.config, log)
            BrickStore(root).put(key, matrix, meta)
        return matrix.numpy(), asdict(log)

    def brick(self, attribute: str) -> torch.Tensor:
        """The calibrated matrix of one attribute (computed once, then cached)."""
        self.prepare([attribute])
        return self.bricks_[attribute]

    def _transform(self, requirement: Requirement) -> torch.Tensor:
        self.prepare(requirement.attributes)
        bricks = [self.bricks_[a] for a in requirement.attributes]
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(self.config.seed)
        torch.manual_seed(self.config.seed)
        combined, self.weights_ = combine(
            bricks, [self.labels_[a] for a in requirement.attributes], self.config, generator
        )
        self.timings_["combine_seconds"] = time.perf_counter() - started
        return combined
