"""The vectorized bm25s build gives the stock bm25s scores."""

from __future__ import annotations

import random

import numpy as np
import pytest

from hybridcode.context.bm25 import build_bm25


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_fast_build_scores_like_stock_bm25s(seed):
    import bm25s

    rng = random.Random(seed)
    vocab = {f"w{n}": n for n in range(300)}
    docs = [
        [rng.randrange(300) for _ in range(rng.randrange(1, 80))] for _ in range(500)
    ]
    stock = bm25s.BM25()
    stock.index((docs, dict(vocab)), create_empty_token=False, show_progress=False)

    fast = build_bm25([np.array(d, dtype=np.int32) for d in docs], vocab)

    for _ in range(20):
        query = [f"w{rng.randrange(300)}" for _ in range(rng.randrange(1, 6))]
        assert np.allclose(fast.get_scores(query), stock.get_scores(query), atol=1e-5)
    assert fast.scores["num_docs"] == 500
    assert np.array_equal(fast.scores["indptr"], stock.scores["indptr"])
