"""Readers on synthetic files (Coat with CRLF, Yahoo! R3, KuaiRec), bad input, the split."""

from __future__ import annotations

import numpy as np
import pytest

from recunlearn.core.errors import DataError
from recunlearn.data.feedback import make_mnar, read_coat, read_kuairec, read_yahoo, split_unbiased
from recunlearn.data.feedback.readers import YAHOO_FILES, load_debias_data


def write_matrix(path, matrix, newline="\r\n"):
    path.write_bytes(
        newline.join(" ".join(str(v) for v in row) for row in matrix).encode() + newline.encode()
    )


@pytest.fixture
def coat_dir(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 6, (6, 8)) * (rng.random((6, 8)) < 0.5)
    test = rng.integers(1, 6, (6, 8)) * (rng.random((6, 8)) < 0.4)
    train[0, :2] = [5, 1]
    test[0, 2:4] = [4, 2]
    write_matrix(tmp_path / "train.ascii", train)
    write_matrix(tmp_path / "test.ascii", test)
    return tmp_path, train, test


def test_coat_crlf_reads_nonzeros(coat_dir):
    folder, train, test = coat_dir
    data = read_coat(folder, shape=(6, 8))
    assert len(data.biased) == np.count_nonzero(train)
    assert len(data.unbiased) == np.count_nonzero(test)
    u, i = data.biased.user, data.biased.item
    assert np.array_equal(data.biased.rating, train[u, i])
    assert np.array_equal(data.biased.label, (train[u, i] >= 3).astype(np.float32))
    assert (data.n_users, data.n_items) == (6, 8)
    with pytest.raises(ValueError):
        data.biased.user[0] = 3  # immutable


def test_coat_threshold_is_a_parameter(coat_dir):
    folder, train, _ = coat_dir
    data = read_coat(folder, shape=(6, 8), threshold=5)
    assert data.biased.label.sum() == (train == 5).sum()


def test_coat_wrong_shape_names_file_and_field(coat_dir):
    folder, train, _ = coat_dir
    write_matrix(folder / "train.ascii", train[:, :7])
    with pytest.raises(DataError, match=r"train\.ascii.*field 'matrix'.*6 x 8"):
        read_coat(folder, shape=(6, 8))


def test_coat_rating_outside_scale(coat_dir):
    folder, train, _ = coat_dir
    train[1, 1] = 7
    write_matrix(folder / "train.ascii", train, newline="\n")
    with pytest.raises(DataError, match=r"train\.ascii.*field 'rating'"):
        read_coat(folder, shape=(6, 8))


def test_threshold_leaving_a_class_empty(coat_dir):
    folder, *_ = coat_dir
    with pytest.raises(DataError, match=r"field 'rating'.*positive class empty"):
        read_coat(folder, shape=(6, 8), threshold=6)


def write_yahoo(folder, train_rows, test_rows):
    for name, rows in zip(YAHOO_FILES, (train_rows, test_rows), strict=True):
        (folder / name).write_text("".join(f"{u}\t{i}\t{r}\n" for u, i, r in rows))


def test_yahoo_one_indexed(tmp_path):
    write_yahoo(tmp_path, [(1, 1, 5), (1, 2, 1), (2, 3, 4)], [(1, 3, 2), (2, 1, 3)])
    data = read_yahoo(tmp_path)
    assert (data.n_users, data.n_items) == (2, 3)
    assert data.biased.user.tolist() == [0, 0, 1]
    assert data.biased.item.tolist() == [0, 1, 2]
    assert data.unbiased.label.tolist() == [0.0, 1.0]


def test_yahoo_no_user_overlap(tmp_path):
    write_yahoo(tmp_path, [(1, 1, 5), (1, 2, 1)], [(2, 3, 2), (2, 1, 4)])
    with pytest.raises(DataError, match=r"test\.txt.*field 'user'.*share no user"):
        read_yahoo(tmp_path)


def test_yahoo_rating_out_of_scale(tmp_path):
    write_yahoo(tmp_path, [(1, 1, 5), (1, 2, 9)], [(1, 3, 2), (1, 1, 4)])
    with pytest.raises(DataError, match=r"train\.txt.*field 'rating'.*outside the scale"):
        read_yahoo(tmp_path)


def test_kuairec_reader_reindexes_jointly(tmp_path):
    (tmp_path / "user.txt").write_text("user,item,watch_ratio\n10,7,2.5\n10,9,0.3\n42,7,1.0\n")
    (tmp_path / "random.txt").write_text("10,8,3.0\n42,9,0.1\n")
    data = read_kuairec(tmp_path)
    assert (data.n_users, data.n_items) == (2, 3)
    assert data.biased.label.tolist() == [1.0, 0.0, 0.0]  # watch ratio >= 2
    assert data.unbiased.item.tolist() == [1, 2]


def test_kuairec_missing_file(tmp_path):
    (tmp_path / "random.txt").write_text("1,2,3.0\n")
    with pytest.raises(DataError, match="user.txt"):
        read_kuairec(tmp_path)


def test_split_fractions_disjoint_and_seeded():
    data = make_mnar(seed=0)
    a = split_unbiased(data, 3)
    b = split_unbiased(data, 3)
    c = split_unbiased(data, 4)
    n = len(data.unbiased)
    assert len(a.uniform) == round(0.05 * n) and len(a.valid) == round(0.05 * n)
    assert len(a.uniform) + len(a.valid) + len(a.test) == n
    key = lambda t: set(zip(t.user.tolist(), t.item.tolist(), strict=True))  # noqa: E731
    assert not key(a.uniform) & key(a.test) and not key(a.valid) & key(a.test)
    assert key(a.test) == key(b.test) and key(a.test) != key(c.test)


def test_synthetic_is_mnar():
    data = make_mnar(seed=0)
    assert data.biased.positive_rate > data.unbiased.positive_rate + 0.1
    assert np.array_equal(make_mnar(seed=0).biased.item, data.biased.item)


def test_load_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset"):
        load_debias_data("netflix", "/nowhere")
