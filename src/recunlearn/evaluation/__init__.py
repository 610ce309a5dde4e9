"""Ranking metrics and batched full-ranking / sampled evaluators."""

from recunlearn.evaluation.evaluator import EvalResult, evaluate, evaluate_scores

__all__ = ["EvalResult", "evaluate", "evaluate_scores"]
