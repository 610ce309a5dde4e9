"""The training loop's selection hooks: they choose the kept epoch, the log keeps the metric."""

from __future__ import annotations

from recunlearn.models.registry import make_model


def test_selection_hook_picks_the_epoch_and_the_log_keeps_the_metric(tiny_split):
    model = make_model("mf", epochs=4, batch_size=64, patience=100, seed=0)
    seen = []

    def prefer_epoch_two(epoch: int, value: float) -> float:
        seen.append((epoch, value))
        return 1.0 if epoch == 2 else 0.0

    model.selection_hooks.append(prefer_epoch_two)
    model.fit(tiny_split, progress=False)
    assert model.best_epoch_ == 2
    assert [e for e, _ in seen] == [1, 2, 3, 4]
    # the log holds what validate() measured, not the hook's values
    assert [r["NDCG@10"] for r in model.valid_log_] == [v for _, v in seen]
    assert any(v not in (0.0, 1.0) for _, v in seen)


def test_hooks_chain_in_order(tiny_split):
    model = make_model("mf", epochs=2, batch_size=64, patience=100, seed=0)
    calls = []
    model.selection_hooks += [
        lambda epoch, value: calls.append(("a", value)) or 10.0 + epoch,
        lambda epoch, value: calls.append(("b", value)) or -value,
    ]
    model.fit(tiny_split, progress=False)
    assert [c[0] for c in calls] == ["a", "b", "a", "b"]
    assert calls[1][1] == 11.0 and calls[3][1] == 12.0
    assert model.best_epoch_ == 1  # -11 > -12
