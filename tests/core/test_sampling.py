import numpy as np
import pytest

from gdviz.core.sampling import batches_after, epoch_batches, epoch_order


@pytest.mark.parametrize(("n", "b"), [(10, 1), (10, 3), (10, 10), (7, 2)])
def test_shuffle_and_sequential_cover_every_sample_once_per_epoch(n, b):
    rng = np.random.default_rng(0)
    for order in ("shuffle", "sequential"):
        batches = list(epoch_batches(n, b, order, rng))
        assert len(batches) == -(-n // b)
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
        assert all(len(x) == b for x in batches[:-1])


def test_sequential_is_in_order():
    batches = list(epoch_batches(5, 2, "sequential", np.random.default_rng(0)))
    assert [x.tolist() for x in batches] == [[0, 1], [2, 3], [4]]


def test_shuffle_reshuffles_every_epoch():
    rng = np.random.default_rng(1)
    first = np.concatenate(list(epoch_batches(50, 5, "shuffle", rng)))
    second = np.concatenate(list(epoch_batches(50, 5, "shuffle", rng)))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_replacement_draws_full_batches_with_repeats():
    rng = np.random.default_rng(2)
    batches = list(epoch_batches(10, 4, "replacement", rng))
    assert len(batches) == 3
    assert all(len(x) == 4 for x in batches)
    drawn = np.concatenate([np.concatenate(list(epoch_batches(10, 4, "replacement", rng)))
                            for _ in range(20)])
    assert drawn.min() >= 0
    assert drawn.max() <= 9
    assert len(np.unique(drawn)) < len(drawn)  # repeats happen


@pytest.mark.parametrize("order", ["shuffle", "sequential", "replacement"])
@pytest.mark.parametrize(("n", "b", "start"), [(10, 3, 0), (10, 3, 2), (10, 3, 4), (7, 7, 1)])
def test_an_epoch_resumed_after_its_first_batches_goes_on_as_epoch_batches(order, n, b, start):
    whole = list(epoch_batches(n, b, order, np.random.default_rng(5)))
    rng = np.random.default_rng(5)
    samples = epoch_order(n, order, rng)
    head = list(batches_after(n, b, order, rng, samples, 0))[:start]
    rng_state = rng.bit_generator.state
    if order == "replacement":   # its batches are drawn as they are taken: draw them again
        rng = np.random.default_rng(5)
        head = [rng.integers(0, n, size=b) for _ in range(start)]
        rng_state = rng.bit_generator.state
    rng.bit_generator.state = rng_state
    rest = list(batches_after(n, b, order, rng, samples, start))
    assert [x.tolist() for x in head + rest] == [x.tolist() for x in whole]
    assert all(x.dtype == y.dtype for x, y in zip(head + rest, whole))
