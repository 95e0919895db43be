"""bm25s with a vectorized index build: the same scores, no per-document loop.

bm25s builds its score matrix with a Python loop over documents, which costs
seconds for the ~60,000 chunks of a large repo on every refresh. Its documented
extension point is `build_index_from_ids`; this override computes the same
term frequencies, document frequencies and lengths with numpy and then uses
bm25s's own idf and tf scorers and CSC builder, so scores and saved files are
bm25s's (tests/test_index_bm25.py checks them against the stock build).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def build_bm25(doc_token_ids: Sequence[Any], vocab: dict[str, int]) -> Any:
    """Index documents given as arrays of token ids (dense ids 0..len(vocab)-1)."""
    retriever = _fast_class()()
    retriever.index(
        (list(doc_token_ids), dict(vocab)),
        create_empty_token=False,
        show_progress=False,
    )
    return retriever


def _fast_class() -> type:
    import bm25s
    import numpy as np
    from bm25s.scoring import _build_idf_array, _select_idf_scorer, _select_tfc_scorer

    class FastBM25(bm25s.BM25):  # type: ignore[misc]
        def build_index_from_ids(
            self,
            unique_token_ids: list[int],
            corpus_token_ids: Sequence[Any],
            show_progress: bool = True,
            leave_progress: bool = False,
        ) -> dict[str, Any]:
            if self.method in self.methods_requiring_nonoccurrence:
                return super().build_index_from_ids(  # type: ignore[no-any-return]
                    unique_token_ids,
                    [list(d) for d in corpus_token_ids],
                    show_progress,
                    leave_progress,
                )
            self.nonoccurrence_array = None
            n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
            lengths = np.fromiter(map(len, corpus_token_ids), np.int64, n_docs)
            tokens = np.concatenate([np.asarray(d, np.int64) for d in corpus_token_ids])
            docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
            pairs, tf = _counted(docs * n_vocab + tokens)
            doc_idx, voc_idx = pairs // n_vocab, pairs % n_vocab
            doc_freqs = np.bincount(voc_idx, minlength=n_vocab)
            idf = _build_idf_array(
                dict(enumerate(doc_freqs.tolist())),
                n_docs,
                _select_idf_scorer(self.idf_method),
                self.dtype,
            )
            tfc = _select_tfc_scorer(self.method)(
                tf_array=tf.astype(self.dtype),
                l_d=lengths[doc_idx],
                l_avg=lengths.mean(),
                k1=self.k1,
                b=self.b,
                delta=self.delta,
            )
            scores = (idf[voc_idx] * tfc).astype(self.dtype)
            data, indices, indptr = self._np_csc(
                scores,
                doc_idx.astype(self.int_dtype),
                voc_idx.astype(self.int_dtype),
                (n_docs, n_vocab),
            )
            return {
                "data": data.astype(self.dtype),
                "indices": indices,
                "indptr": indptr,
                "num_docs": n_docs,
            }

        @staticmethod
        def _np_csc(data: Any, rows: Any, cols: Any, shape: Any) -> Any:
            # bm25s's own builder, with numpy's radix sort for the integer keys:
            # the keys are unique, so the order is the same, several times faster.
            indptr = np.zeros(shape[1] + 1, dtype=np.int64)
            np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
            packed = (cols.astype(np.int64) << 32) | rows.astype(np.int64)
            sorter = np.argsort(packed, kind="stable")
            return data[sorter], rows[sorter], indptr

    return FastBM25


def _counted(keys: Any) -> tuple[Any, Any]:
    """Unique keys and how often each occurs (np.unique, with a radix sort)."""
    import numpy as np

    keys = np.sort(keys, kind="stable")
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, len(keys)))
    return keys[starts], counts
