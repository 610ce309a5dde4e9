"""Rating matrix factorisation as plain parameter dictionaries (functional, so that a one-step
lookahead can evaluate the model at ``θ - η ∇θ L`` without copying modules).

``f(u, i) = σ(p_uᵀ q_i + b_u + b_i + b_0)``: MF with user, item and global biases and a
sigmoid, trained with the squared error on 0/1 labels (debias.md §2 [asm]).
"""

from __future__ import annotations

import numpy as np
import torch

Params = dict[str, torch.Tensor]


def init_mf(
    n_users: int, n_items: int, dim: int, generator: torch.Generator, std: float = 0.1
) -> Params:
    """Fresh MF parameters (``P``, ``Q`` ~ N(0, std²); biases 0), all requiring grad."""
    params = {
        "P": torch.randn(n_users, dim, generator=generator) * std,
        "Q": torch.randn(n_items, dim, generator=generator) * std,
        "bu": torch.zeros(n_users),
        "bi": torch.zeros(n_items),
        "b0": torch.zeros(1),
    }
    for tensor in params.values():
        tensor.requires_grad_(True)
    return params


def mf_logits(params: Params, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """``p_uᵀ q_i + b_u + b_i + b_0`` for aligned index tensors."""
    p = params["P"][users]
    q = params["Q"][items]
    return (p * q).sum(-1) + params["bu"][users] + params["bi"][items] + params["b0"]


def mf_predict(params: Params, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """``σ(mf_logits)``: a prediction in (0, 1)."""
    return torch.sigmoid(mf_logits(params, users, items))


def embedding_norm(params: Params, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """Mean over the pairs of ``‖p_u‖² + ‖q_i‖²`` (the embeddings a batch uses)."""
    return (params["P"][users].pow(2).sum(-1) + params["Q"][items].pow(2).sum(-1)).mean()


def clone_params(params: Params) -> Params:
    """Detached copies (a checkpoint)."""
    return {k: v.detach().clone() for k, v in params.items()}


def load_params(params: Params, state: Params) -> None:
    """Copy a checkpoint into live parameters in place."""
    with torch.no_grad():
        for key, value in state.items():
            params[key].copy_(value)


def predict_numpy(params: Params, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Predictions for index arrays, as ``float64`` numpy, without building a graph."""
    with torch.no_grad():
        u = torch.tensor(np.asarray(users, dtype=np.int64))
        i = torch.tensor(np.asarray(items, dtype=np.int64))
        return mf_predict(params, u, i).double().numpy()
