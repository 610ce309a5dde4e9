"""LEGO removes planted signal, respects its ball, edits only labelled rows, reuses bricks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import cross_val_predict

from recunlearn.protect.posthoc import lego as lego_module
from recunlearn.protect.posthoc.lego import LEGO, LEGOConfig, combine, principal_basis
from recunlearn.protect.requirement import Requirement


def bacc(matrix, labels, name) -> float:
    known = labels[name].known
    x, y = np.asarray(matrix)[known], labels[name].values[known]
    pred = cross_val_predict(LogisticRegression(max_iter=1000), x, y, cv=5)
    return balanced_accuracy_score(y, pred)


def test_calibration_removes_gender(planted_data):
    matrix, labels = planted_data
    assert bacc(matrix, labels, "gender") > 0.9
    lego = LEGO(eps_per_user=None, calibration_steps=600, lr_embeddings=1e-2, lr_variational=1e-2)
    protected = lego.fit(matrix, labels).transform("gender")
    # within 0.2 of chance on both sides: a mirrored (below-chance) result fails too
    assert abs(bacc(protected, labels, "gender") - 0.5) < 0.2
    # the other planted attribute survives a gender-only requirement
    assert bacc(protected, labels, "age") > 0.45


def test_only_labelled_rows_move(planted_data):
    matrix, labels = planted_data
    protected = (
        LEGO(calibration_steps=50, lr_embeddings=1e-2).fit(matrix, labels).transform("gender")
    )
    unknown = ~labels["gender"].known
    torch.testing.assert_close(protected[unknown], torch.as_tensor(matrix[unknown]))
    assert not torch.allclose(protected[~unknown], torch.as_tensor(matrix[~unknown]))


def test_ball_constraint_binds_and_holds(planted_data):
    matrix, labels = planted_data
    lego = LEGO(eps_per_user=0.05, calibration_steps=200, lr_embeddings=1e-2).fit(matrix, labels)
    protected = lego.transform("gender")
    eps = 0.05 * matrix.shape[0]
    distance = float(torch.linalg.vector_norm(protected - torch.as_tensor(matrix)))
    assert distance <= eps * (1 + 1e-4)
    log = lego.calibration_logs_["gender"]
    assert log.projections > 0 and abs(log.distance_ratio - 1) < 1e-3
    # the radius is the paper's eps/N times N, and the projection lands on it
    assert log.eps == pytest.approx(0.05 * matrix.shape[0])
    assert distance == pytest.approx(0.05 * matrix.shape[0], rel=1e-3)


def test_relative_ball_radius_is_a_share_of_the_original_norm(planted_data):
    matrix, labels = planted_data
    lego = LEGO(eps_relative=0.02, calibration_steps=100, lr_embeddings=1e-2).fit(matrix, labels)
    protected = lego.transform("gender")
    radius = 0.02 * float(np.linalg.norm(matrix))
    assert lego.calibration_logs_["gender"].eps == pytest.approx(radius, rel=1e-5)
    distance = float(torch.linalg.vector_norm(protected - torch.as_tensor(matrix)))
    assert distance == pytest.approx(radius, rel=1e-3)


def _with_dead_columns(matrix: np.ndarray, dead: int = 4) -> np.ndarray:
    """``matrix`` plus ``dead`` columns of ~1e-30 noise (like NCF's collapsed GMF half, whose
    entries weight decay shrank to ~1e-37)."""
    tiny = 1e-30 * np.random.default_rng(0).normal(size=(len(matrix), dead))
    return np.hstack([matrix, tiny.astype(matrix.dtype)])


def test_principal_basis_spans_only_directions_with_variance(planted_data):
    matrix = _with_dead_columns(planted_data[0])
    basis = principal_basis(torch.as_tensor(matrix), 0.999)
    assert basis.shape[1] <= matrix.shape[1] - 4
    torch.testing.assert_close(basis.T @ basis, torch.eye(basis.shape[1]), atol=1e-5, rtol=0)
    assert (basis[-4:] == 0).all()  # exactly: not even rounding noise in the dead columns


@pytest.mark.parametrize("subspace", [None, 1.0, 0.999])
def test_edit_subspace_keeps_dead_directions_untouched(planted_data, subspace):
    """Without the option Adam writes into the dead columns (where a standardising attacker
    would read the label); with it they stay exactly as they were."""
    matrix, labels = planted_data
    matrix = _with_dead_columns(matrix)
    lego = LEGO(
        eps_per_user=None, calibration_steps=100, lr_embeddings=1e-2, edit_subspace=subspace
    )
    protected = lego.fit(matrix, labels).transform("gender")
    moved = float((protected[:, -4:] - torch.as_tensor(matrix[:, -4:])).abs().max())
    if subspace is None or subspace == 1.0:  # 100 % of the variance = every direction
        assert moved > 1e-2 and lego.calibration_logs_["gender"].subspace_dims is None
    else:
        assert (
            moved < 1e-5 and lego.calibration_logs_["gender"].subspace_dims <= matrix.shape[1] - 4
        )
        assert not torch.allclose(protected, torch.as_tensor(matrix))


def test_bricks_are_reused_and_weights_on_simplex(planted_data):
    matrix, labels = planted_data
    lego = LEGO(calibration_steps=20, combination_steps=20).fit(matrix, labels)
    lego.transform("gender")
    first = lego.bricks_["gender"]
    lego.transform(Requirement(("gender", "age")))
    assert lego.bricks_["gender"] is first
    assert set(lego.bricks_) == {"gender", "age"}
    assert lego.weights_.shape == (2,) and abs(lego.weights_.sum() - 1) < 1e-6
    assert (lego.weights_ > 0).all()


def test_changed_calibration_settings_recalibrate_the_cached_brick(planted_data):
    matrix, labels = planted_data
    lego = LEGO(calibration_steps=20, combination_steps=20).fit(matrix, labels)
    lego.transform("gender")
    first = lego.bricks_["gender"]
    lego.config = lego.config.model_copy(update={"combination_steps": 10})
    lego.transform("gender")
    assert lego.bricks_["gender"] is first  # combination settings do not touch bricks
    lego.config = lego.config.model_copy(update={"calibration_steps": 5})
    lego.transform("gender")
    assert lego.bricks_["gender"] is not first
    assert lego.calibration_logs_["gender"].steps == 5


def test_every_calibration_option_and_only_those_key_a_brick():
    """A cached brick is reused only when nothing its calibration read has changed."""
    assert set(LEGOConfig().brick_params()) == {
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
    assert LEGOConfig(batch_size=64).brick_params() != LEGOConfig().brick_params()
    assert LEGOConfig(combination_steps=3).brick_params() == LEGOConfig().brick_params()


def test_a_batch_as_large_as_the_data_is_every_row_in_order():
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    assert torch.equal(lego_module._batch(5, 5, generator), torch.arange(5))
    assert torch.equal(generator.get_state(), state)  # nothing drawn
    assert len(set(lego_module._batch(9, 5, generator).tolist())) == 5


def test_average_is_the_plain_mean(planted_data):
    matrix, labels = planted_data
    lego = LEGO(calibration_steps=20, combination="average").fit(matrix, labels)
    combined = lego.transform("gender,age")
    torch.testing.assert_close(combined, (lego.bricks_["gender"] + lego.bricks_["age"]) / 2)


def test_continuous_attribute_is_calibrated(planted_data):
    matrix, labels = planted_data
    lego = LEGO(eps_per_user=None, calibration_steps=300, lr_embeddings=1e-2, lr_variational=1e-2)
    protected = lego.fit(matrix, labels).transform("age_raw")
    y = labels["age_raw"].values
    before = np.corrcoef(matrix[:, 1], y)[0, 1]
    after = np.corrcoef(np.asarray(protected)[:, 1], y)[0, 1]
    assert abs(after) < abs(before)


def test_relative_ball_and_rms_step(planted_data):
    matrix, labels = planted_data
    lego = LEGO(eps_relative=0.05, lr_scale="rms", calibration_steps=100).fit(matrix, labels)
    protected = lego.transform("gender")
    norm = float(np.linalg.norm(matrix))
    distance = float(torch.linalg.vector_norm(protected - torch.as_tensor(matrix)))
    assert distance <= 0.05 * norm * (1 + 1e-4)
    assert lego.calibration_logs_["gender"].eps == pytest.approx(0.05 * norm, rel=1e-5)


def test_d2dfr_bricks_are_combined(planted_data):
    matrix, labels = planted_data
    lego = LEGO(calibrator="d2dfr", combination_steps=5).fit(matrix, labels)
    items = torch.randn(20, matrix.shape[1], generator=torch.Generator().manual_seed(0))
    lego.scorer_ = lambda users, table: table[users] @ items.T
    combined = lego.transform("gender,age")
    assert combined.shape == matrix.shape
    assert set(lego.bricks_) == {"age", "gender"}
    assert lego.calibration_logs_["gender"].steps == 500
    assert {a: log.attribute for a, log in lego.calibration_logs_.items()} == {
        "age": "age",
        "gender": "gender",
    }


@pytest.mark.parametrize(
    "options",
    [{}, {"combination_q_warmup": 50, "combination_q_steps": 3}, {"combination_batch_size": 48}],
    ids=["paper", "fitq", "small-batch"],
)
def test_combination_prefers_the_brick_without_the_attribute(planted_data, options):
    matrix, labels = planted_data
    lego = LEGO(eps_per_user=None, calibration_steps=400, lr_embeddings=1e-2, lr_variational=1e-2)
    calibrated = lego.fit(matrix, labels).transform("gender")
    config = LEGOConfig(
        combination_steps=60,
        lr_combination=5e-2,
        lr_variational=1e-2,
        combination_update="adam",
        **options,
    )
    steps: list[int] = []
    _, weights = combine(
        [calibrated, torch.as_tensor(matrix)],
        [labels["gender"], labels["gender"]],
        config,
        torch.Generator().manual_seed(0),
        on_step=lambda step, _: steps.append(step),
    )
    assert steps == list(range(60))
    assert weights[0] > 0.7


def test_combination_mixes_kinds_and_skips_missing_labels(planted_data):
    """A Gaussian head listed first, gender unknown for 20 users: still the right brick wins."""
    matrix, labels = planted_data
    without_gender = matrix.copy()
    without_gender[:, 0] = np.random.default_rng(1).normal(0, 1, len(matrix))
    config = LEGOConfig(
        combination_steps=60, lr_combination=5e-2, lr_variational=1e-2, combination_update="adam"
    )
    _, weights = combine(
        [torch.as_tensor(matrix), torch.as_tensor(without_gender)],
        [labels["age_raw"], labels["gender"]],
        config,
        torch.Generator().manual_seed(0),
    )
    assert np.isfinite(weights).all()
    assert weights[1] > 0.7


def test_combination_batch_size_is_not_a_brick_option(planted_data):
    """Another combination batch reuses the cached bricks and draws other batches."""
    matrix, labels = planted_data
    lego = LEGO(calibration_steps=50).fit(matrix, labels)
    lego.transform("gender,age")
    bricks = dict(lego.bricks_)
    default_weights = lego.weights_.copy()
    lego.config = lego.config.model_copy(update={"combination_batch_size": 32})
    lego.transform("gender,age")
    assert all(lego.bricks_[a] is bricks[a] for a in bricks)
    assert not np.allclose(lego.weights_, default_weights)
    assert "combination_batch_size" not in LEGOConfig().brick_params()
    assert LEGOConfig().combination_rows == 512
    assert LEGOConfig(combination_batch_size=32).combination_rows == 32


def test_paper_combination_rule_is_a_contraction_that_settles(planted_data):
    """Algorithm 1's literal update alpha <- softmax(alpha - eta * grad) from 1/k: the weights
    stay on the simplex and their steps shrink (the softmax Jacobian has norm <= 1/k)."""
    matrix, labels = planted_data
    without_gender = matrix.copy()
    without_gender[:, 0] = np.random.default_rng(1).normal(0, 1, len(matrix))
    config = LEGOConfig(combination_steps=80, lr_combination=5e-2, lr_variational=1e-2)
    assert config.combination_update == "paper"
    trajectory: list[np.ndarray] = []
    _, weights = combine(
        [torch.as_tensor(matrix), torch.as_tensor(without_gender)],
        [labels["gender"], labels["gender"]],
        config,
        torch.Generator().manual_seed(0),
        on_step=lambda step, w: trajectory.append(w.copy()),
    )
    assert np.isclose(weights.sum(), 1.0) and (weights > 0).all()
    steps = np.abs(np.diff(np.array(trajectory), axis=0)).sum(axis=1)
    assert steps[-10:].mean() < steps[:10].mean()
    assert weights[1] > 0.5  # it still leans to the brick without gender


def _spectrum(n: int = 600) -> np.ndarray:
    """Rows with variances 9, 4, 1 along three rotated directions, a non-zero mean and one
    nearly dead coordinate (std 1e-6 against a largest std above 2)."""
    rng = np.random.default_rng(0)
    core = rng.normal(size=(n, 3)) * np.array([3.0, 2.0, 1.0])
    core = (core - core.mean(0)) / core.std(0) * np.array([3.0, 2.0, 1.0])
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    dead = 1e-6 * rng.normal(size=(n, 1))
    return np.hstack([core @ rotation.T + np.array([5.0, -3.0, 2.0]), dead])


@pytest.mark.parametrize(("fraction", "m"), [(0.5, 1), (0.64, 1), (0.65, 2), (0.92, 2), (0.93, 3)])
def test_principal_basis_takes_the_fewest_directions_by_hand(fraction, m):
    # shares of the variance: 9/14 = 0.643, 13/14 = 0.929, 1
    matrix = torch.as_tensor(_spectrum())
    basis = principal_basis(matrix, fraction)
    assert basis.shape == (4, m) and basis.dtype == torch.float64
    assert (basis[3] == 0).all()  # the nearly dead coordinate is left out exactly
    # the same directions whatever the units or the offset of the matrix
    for other in (matrix * 1e-3, matrix - 7.0, matrix * 1e4):
        b = principal_basis(other, fraction)
        assert b.shape == (4, m)
        torch.testing.assert_close(b @ b.T, basis @ basis.T, atol=1e-6, rtol=0)
