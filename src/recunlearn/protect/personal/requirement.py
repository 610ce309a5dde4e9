"""Per-user requirements: which attributes each user asked not to shape their own
recommendations.

A :class:`PersonalRequirement` is a users x attributes boolean matrix (row ``u``, column ``a``:
user ``u`` asked for attribute ``a`` to be removed). It is read from a table with the columns
``user_id,requirement`` (``gender+age``; empty = no protection), built uniformly (every user
the same requirement: the papers' columns) or drawn at random per user (the mixed population
of the AFRL paper's training).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recunlearn.core.errors import ConfigError, DataError
from recunlearn.data.tabular import row_label
from recunlearn.protect.requirement import Requirement

SEPARATOR = "+"
"""Between the attributes of one user's requirement (``gender+age``); ``,`` is accepted too."""

USER_COLUMN = "user_id"
REQUIREMENT_COLUMN = "requirement"


def combinations(
    attributes: Sequence[str], *, include_empty: bool = False
) -> list[tuple[str, ...]]:
    """Every combination of ``attributes`` by size then order (G, A, O, G+A, G+O, A+O, G+A+O:
    the seven requirements of the AFRL paper's Table 2), the empty one first if asked."""
    out: list[tuple[str, ...]] = [()] if include_empty else []
    for size in range(1, len(attributes) + 1):
        out += list(itertools.combinations(attributes, size))
    return out


def parse_names(text: str) -> tuple[str, ...]:
    """``"gender+age"`` -> ``("gender", "age")``; blank -> ``()``."""
    parts = text.replace(",", SEPARATOR).split(SEPARATOR)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


@dataclass(frozen=True)
class PersonalRequirement:
    """Per user, the attributes to remove from that user's representation.

    Attributes:
        attributes: the columns (attribute names) of :attr:`mask`.
        mask: ``(n_users, len(attributes))`` booleans, rows aligned with the embedding rows;
            ``mask[u, i]``: user ``u`` asked for ``attributes[i]`` to be removed.
    """

    attributes: tuple[str, ...]
    mask: np.ndarray

    def __post_init__(self) -> None:
        mask = np.asarray(self.mask, dtype=bool)
        if mask.ndim != 2 or mask.shape[1] != len(self.attributes):
            raise ConfigError(
                f"a personal requirement needs an n_users x {len(self.attributes)} mask, "
                f"got shape {mask.shape}"
            )
        if len(set(self.attributes)) != len(self.attributes):
            raise ConfigError(f"attributes listed twice: {list(self.attributes)}")
        mask = mask.copy()
        mask.flags.writeable = False
        object.__setattr__(self, "attributes", tuple(self.attributes))
        object.__setattr__(self, "mask", mask)

    # ------------------------------------------------------------------------ builders
    @classmethod
    def uniform(
        cls,
        n_users: int,
        attributes: Sequence[str],
        requirement: Requirement | str | Iterable[str] | None,
    ) -> PersonalRequirement:
        """Every user with the same requirement (None or ``""``: nobody protected).

        Raises:
            ConfigError: the requirement names an attribute not in ``attributes``.
        """
        names = () if requirement in (None, "") else Requirement.parse(requirement).attributes
        unknown = [n for n in names if n not in attributes]
        if unknown:
            raise ConfigError(f"unknown attribute(s) {unknown}; known: {list(attributes)}")
        row = np.array([a in names for a in attributes], dtype=bool)
        return cls(tuple(attributes), np.tile(row, (n_users, 1)))

    @classmethod
    def random(
        cls,
        n_users: int,
        attributes: Sequence[str],
        seed: int,
        *,
        choices: Sequence[Sequence[str]] | None = None,
        include_empty: bool = False,
    ) -> PersonalRequirement:
        """Each user draws one requirement uniformly from ``choices`` (default: every non-empty
        combination of ``attributes``, plus the empty one with ``include_empty``), with
        ``numpy.random.default_rng(seed)``."""
        options = (
            [tuple(c) for c in choices]
            if choices is not None
            else combinations(attributes, include_empty=include_empty)
        )
        if not options:
            raise ConfigError("no requirement to draw from")
        rows = np.array([[a in option for a in attributes] for option in options], dtype=bool)
        picks = np.random.default_rng(seed).integers(0, len(options), n_users)
        return cls(tuple(attributes), rows[picks])

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        user_ids: np.ndarray,
        attributes: Sequence[str],
        *,
        path: str | Path | None = None,
    ) -> PersonalRequirement:
        """From a table with the columns ``user_id`` and ``requirement``.

        Users of ``user_ids`` absent from the table ask for nothing. Ids are matched as text
        (``7`` and ``"7"`` are one user).

        Raises:
            DataError: a missing column, an unknown or repeated user, or an unknown attribute;
                the message names the file, the row and the field.
        """
        for column in (USER_COLUMN, REQUIREMENT_COLUMN):
            if column not in frame.columns:
                known = ", ".join(map(str, frame.columns))
                raise DataError(f"column not found (columns: {known})", path=path, field=column)
        index = {str(u): i for i, u in enumerate(np.asarray(user_ids))}
        mask = np.zeros((len(index), len(attributes)), dtype=bool)
        position = {a: i for i, a in enumerate(attributes)}
        seen: dict[int, int] = {}

        def where(row: int) -> str:
            if path is None:
                return f"row {row + 1}"
            return row_label(Path(path), row, len(frame))

        ids = frame[USER_COLUMN].tolist()
        texts = frame[REQUIREMENT_COLUMN].tolist()
        for row, (raw, text) in enumerate(zip(ids, texts, strict=True)):
            key = _id_text(raw)
            if key not in index:
                raise DataError(
                    f"{where(row)}: user {key!r} is not a user of this run", path=path,
                    field=USER_COLUMN,
                )  # fmt: skip
            user = index[key]
            if user in seen:
                raise DataError(
                    f"{where(row)}: user {key!r} already has a requirement at {where(seen[user])}",
                    path=path,
                    field=USER_COLUMN,
                )
            seen[user] = row
            names = () if _blank(text) else parse_names(str(text))
            unknown = [n for n in names if n not in position]
            if unknown:
                raise DataError(
                    f"{where(row)}: unknown attribute(s) {unknown} in requirement {text!r}; "
                    f"known: {', '.join(attributes)}",
                    path=path,
                    field=REQUIREMENT_COLUMN,
                )
            mask[user, [position[n] for n in names]] = True
        return cls(tuple(attributes), mask)

    @classmethod
    def read_csv(
        cls, path: str | Path, user_ids: np.ndarray, attributes: Sequence[str]
    ) -> PersonalRequirement:
        """Read a ``user_id,requirement`` CSV (see :meth:`from_frame`).

        Raises:
            DataError: a missing or unreadable file, and every problem of :meth:`from_frame`.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError("file not found", path=path)
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"not a readable CSV table ({exc})", path=path) from exc
        return cls.from_frame(frame, user_ids, attributes, path=path)

    # --------------------------------------------------------------------------- views
    @property
    def n_users(self) -> int:
        """Number of users (rows)."""
        return int(self.mask.shape[0])

    def requirement_of(self, user: int) -> tuple[str, ...]:
        """The attributes user ``user`` asked for, in column order."""
        return tuple(a for a, m in zip(self.attributes, self.mask[user], strict=True) if m)

    def labels(self) -> np.ndarray:
        """Per user, the requirement as text (``gender+age``; ``""`` for none)."""
        return np.array([SEPARATOR.join(self.requirement_of(u)) for u in range(self.n_users)])

    def groups(self) -> list[tuple[tuple[str, ...], np.ndarray]]:
        """The distinct requirements (empty first, then by size and column order) with the
        rows of the users who asked for each."""
        rows, inverse = np.unique(self.mask, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        out = []
        for k, row in enumerate(rows):
            names = tuple(a for a, m in zip(self.attributes, row, strict=True) if m)
            out.append((names, np.flatnonzero(inverse == k)))
        order = {c: i for i, c in enumerate(combinations(self.attributes, include_empty=True))}
        return sorted(out, key=lambda item: order[item[0]])

    def asking(self, attribute: str) -> np.ndarray:
        """Boolean mask of the users who asked for ``attribute`` to be removed."""
        if attribute not in self.attributes:
            raise ConfigError(f"unknown attribute '{attribute}'; known: {list(self.attributes)}")
        return self.mask[:, self.attributes.index(attribute)].copy()

    def select(self, attributes: Sequence[str]) -> PersonalRequirement:
        """The same requirement with columns reordered / restricted to ``attributes``; a
        column that is not present reads as nobody asking, and a dropped column must be
        empty.

        Raises:
            ConfigError: a dropped column that some user asked for.
        """
        dropped = [a for a in self.attributes if a not in attributes and self.asking(a).any()]
        if dropped:
            raise ConfigError(
                f"unknown attribute(s) {dropped} asked for; known here: {list(attributes)}"
            )
        columns = [
            self.mask[:, self.attributes.index(a)]
            if a in self.attributes
            else np.zeros(self.n_users, bool)
            for a in attributes
        ]
        mask = np.stack(columns, axis=1) if columns else np.zeros((self.n_users, 0), bool)
        return PersonalRequirement(tuple(attributes), mask)


def _id_text(value: object) -> str:
    """A raw id as text, integer-valued floats without their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip()
