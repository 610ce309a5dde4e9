"""A dataset's fingerprint: runs and records are comparable only when theirs agree."""

from __future__ import annotations

import hashlib

import numpy as np

from recunlearn.data.types import Dataset


def dataset_fingerprint(dataset: Dataset) -> str:
    """A hash of a dataset's interactions, ids and attribute values (16 hex digits).

    Two runs are only comparable when their fingerprints agree; a run directory refuses to
    load against data whose fingerprint changed.
    """
    digest = hashlib.sha256()
    inter = dataset.interactions
    for array in (inter.user, inter.item, inter.rating, inter.timestamp):
        digest.update(np.ascontiguousarray(array).tobytes())
    for ids in (dataset.user_ids, dataset.item_ids):
        digest.update(np.asarray(ids).astype(str).astype("U").tobytes())
    for attribute in dataset.attributes:
        digest.update(attribute.name.encode())
        digest.update(np.ascontiguousarray(dataset.user_values[attribute.name]).tobytes())
    return digest.hexdigest()[:16]
