"""How well classes separate: in a 2-D projection and in the full-dimensional activations.

Projection scores (:func:`projection_metrics`) compare an embedding with the activations it was
made from; representation scores (:func:`representation_metrics`) need the activations alone.
Every score is a plain float in [0, 1] (silhouette: [-1, 1]), higher is better.

The exact neighbour searches in many dimensions use one float32 matrix product per block of
rows and recompute in float64 only the distances where float32 rounding could change the
answer, so the results equal a float64 brute-force search (and scikit-learn's) at about half
the cost. Trustworthiness counts ranks instead of sorting distance rows: 10,000 x 784 scores
in about 1 s where scikit-learn takes 6 to 7 s. No torch here: jobs after capture must start
fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numba
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# Up to this many dimensions a k-d tree beats a matrix product (scikit-learn's own cut-off).
_TREE_MAX_DIM = 15
# Rows per block so that one float32 block of distances stays near 64 MiB.
_BLOCK_BYTES = 64 * 2**20
_U32, _U64 = 2.0**-24, 2.0**-53


# -- neighbours --------------------------------------------------------------------------------


def _as_matrix(X, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"{name} must be an (n, d) array with n >= 2, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} holds NaN or inf values; fix the table it was read from")
    return X


def _check_k(k: int, n: int, what: str) -> None:
    if not 1 <= k < n:
        raise ValueError(f"{what}: k={k} neighbours, but {n} points allow 1 <= k <= {n - 1}")


def _gamma(terms: int, unit: float) -> float:
    """Bound on the relative rounding error of a sum of ``terms`` products (Higham's gamma)."""
    return terms * unit / (1.0 - terms * unit)


class _Blocks:
    """Approximate squared Euclidean distances of ``X``, a block of rows at a time.

    Iterating yields ``(rows, G, err)``: ``G = X[rows] @ X.T`` in float32 (half the cost of
    float64) and ``err[r]`` bounds, for row ``rows[r]`` and every ``j``, the gap between
    ``sq[i] + sq[j] - 2 G[r, j]`` and the float64 value :func:`_exact_sq` gives. Kernels decide
    with the float32 value wherever the bound allows and recompute the rest in float64, so
    results equal a float64 brute-force search.
    """

    def __init__(self, X: np.ndarray):
        self.x = np.ascontiguousarray(X, dtype=np.float64)
        self.x32 = np.ascontiguousarray(X, dtype=np.float32)
        self.sq = np.einsum("ij,ij->i", self.x, self.x)
        n, d = X.shape
        norm = np.sqrt(self.sq)
        # float32 products of rounded inputs, float64 rounding on both sides (Higham's bounds)
        rel = 2.0 * _gamma(d + 2, _U32) + 4.0 * _gamma(d + 2, _U64)
        self.err = 1.5 * (rel * norm * norm.max() + 8.0 * _U64 * (self.sq + self.sq.max()))
        self.rows = max(1, _BLOCK_BYTES // (4 * n))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        n = len(self.x32)
        for start in range(0, n, self.rows):
            rows = np.arange(start, min(start + self.rows, n))
            yield rows, self.x32[rows] @ self.x32.T, self.err[rows]


@numba.njit(inline="always")
def _exact_sq(x, sq, i, j):  # pragma: no cover - compiled
    # a plain loop: np.dot would call BLAS, whose thread pool fights numba's inside prange
    dot = 0.0
    for a in range(x.shape[1]):
        dot += x[i, a] * x[j, a]
    return sq[i] + sq[j] - 2.0 * dot


@numba.njit(inline="always")
def _insert(best_d, best_i, d, j):  # pragma: no cover - compiled
    """Insert ``(d, j)`` into the ascending ``best_d`` if it beats the last; ties stay behind."""
    k = len(best_d)
    if d < best_d[k - 1]:
        p = k - 1
        while p > 0 and best_d[p - 1] > d:
            best_d[p] = best_d[p - 1]
            best_i[p] = best_i[p - 1]
            p -= 1
        best_d[p] = d
        best_i[p] = j


@numba.njit(inline="always")
def _kth_smallest(dist, k):  # pragma: no cover - compiled
    best_d = np.full(k, np.inf)
    best_i = np.empty(k, np.int64)
    for j in range(len(dist)):
        _insert(best_d, best_i, dist[j], j)
    return best_d[k - 1]


@numba.njit(parallel=True, cache=True)
def _block_smallest(G, rows, sq, err, x, k):  # pragma: no cover - compiled
    """The ``k`` nearest points of each row, nearest first, self excluded, ties to lower index.

    A float32 pass finds the k-th distance; every point that could beat it within ``err`` is
    then ranked again by its float64 distance.
    """
    c, n = G.shape
    ind = np.empty((c, k), np.int64)
    for r in numba.prange(c):
        i = rows[r]
        dist = np.empty(n)
        for j in range(n):
            dist[j] = sq[i] + sq[j] - 2.0 * G[r, j]
        dist[i] = np.inf
        kth = _kth_smallest(dist, k)
        best_d = np.full(k, np.inf)
        best_i = np.full(k, -1, np.int64)
        for j in range(n):
            if dist[j] <= kth + 2.0 * err[r]:
                _insert(best_d, best_i, _exact_sq(x, sq, i, j), j)
        ind[r] = best_i
    return ind


@numba.njit(parallel=True, cache=True)
def _block_closer(G, rows, sq, err, x, nbr):  # pragma: no cover - compiled
    """How many points lie strictly closer (float64) to each row than each of ``nbr[row]``.

    Only points nearer than the farthest neighbour are kept. They are counted with
    branch-free (vectorised) float32 comparisons, which also flag the close calls: points
    within ``err`` of a neighbour's distance. Those alone are compared again in float64.
    """
    c, n = G.shape
    m = nbr.shape[1]
    closer = np.zeros((c, m), np.int64)
    for r in numba.prange(c):
        i = rows[r]
        e = err[r]
        t = np.empty(m)
        for q in range(m):
            t[q] = _exact_sq(x, sq, i, nbr[i, q])
        top = t.max() + e
        near_d = np.empty(n)
        near_j = np.empty(n, np.int64)
        count = 0
        for j in range(n):
            d = sq[i] + sq[j] - 2.0 * G[r, j]
            if d < top and j != i:
                near_d[count] = d
                near_j[count] = j
                count += 1
        close = np.zeros(count, np.uint8)
        for q in range(m):
            lo, hi = t[q] - e, t[q] + e
            sure = 0
            for p in range(count):
                sure += near_d[p] < lo
                close[p] |= (near_d[p] >= lo) & (near_d[p] < hi)
            closer[r, q] = sure
        for p in range(count):
            if close[p]:
                j = near_j[p]
                exact = _exact_sq(x, sq, i, j)
                for q in range(m):
                    if t[q] - e <= near_d[p] < t[q] + e and j != nbr[i, q]:
                        closer[r, q] += exact < t[q]
    return closer


def _scan(X: np.ndarray, kernel, width: int, *args) -> np.ndarray:
    """Stack ``kernel``'s ``(rows, width)`` answers over all blocks of rows of ``X``."""
    blocks = _Blocks(X)
    out = np.empty((len(X), width), np.int64)
    for rows, G, err in blocks:
        out[rows] = kernel(G, rows, blocks.sq, err, blocks.x, *args)
    return out


def nearest_neighbors(X: np.ndarray, k: int = 10) -> np.ndarray:
    """Indices of the ``k`` nearest points of every point, exact Euclidean, self excluded.

    A point is never its own neighbour, by index, even when duplicates of it lie at distance
    zero. Rows are sorted nearest first. Low dimensions (<= 15) use scikit-learn's k-d tree,
    higher ones a blocked matrix product re-checked in float64 where rounding could matter.

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points.
    k : int
        Neighbours per point, ``1 <= k < n``.

    Returns
    -------
    np.ndarray
        ``(n, k)`` int64 indices into ``X``.
    """
    X = _as_matrix(X, "X")
    _check_k(k, len(X), "nearest_neighbors")
    if X.shape[1] <= _TREE_MAX_DIM:
        # kneighbors() without a query drops each point itself by index, not by distance
        tree = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(X)
        return tree.kneighbors(return_distance=False).astype(np.int64)
    return _scan(X, _block_smallest, k, k)


# -- projection scores -------------------------------------------------------------------------


def _label_codes(labels, n: int) -> tuple[np.ndarray, int]:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels has shape {labels.shape}, expected ({n},): one per point")
    classes, codes = np.unique(labels, return_inverse=True)
    return codes.astype(np.int64), len(classes)


def _vote_accuracy(nbr: np.ndarray, codes: np.ndarray, n_classes: int) -> float:
    """Share of points whose neighbours' majority label is their own (ties: smallest label)."""
    n, k = nbr.shape
    flat = (np.arange(n)[:, None] * n_classes + codes[nbr]).ravel()
    votes = np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes)
    return float(np.mean(votes.argmax(axis=1) == codes))


def knn_accuracy(X: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-nearest-neighbour classification accuracy.

    Each point is classified by the majority label of its ``k`` nearest other points (exact
    Euclidean; a point is never its own neighbour, by index, even with duplicates; a tied vote
    goes to the smallest label, as in scikit-learn's ``KNeighborsClassifier``). Works for 2-D
    embeddings and for full-dimensional activations alike.

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points.
    labels : np.ndarray
        ``(n,)`` class labels.
    k : int
        Neighbours per vote.

    Returns
    -------
    float
        Fraction of points classified correctly, in [0, 1].
    """
    X = _as_matrix(X, "X")
    codes, n_classes = _label_codes(labels, len(X))
    return _vote_accuracy(nearest_neighbors(X, k), codes, n_classes)


def neighborhood_hit(X_low: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Mean fraction of each point's ``k`` nearest other points that share its label.

    Parameters
    ----------
    X_low : np.ndarray
        ``(n, 2)`` embedding (any dimension works).
    labels : np.ndarray
        ``(n,)`` class labels.
    k : int
        Neighbours per point, self excluded.

    Returns
    -------
    float
        In [0, 1].
    """
    X_low = _as_matrix(X_low, "X_low")
    codes, _ = _label_codes(labels, len(X_low))
    return _hit(nearest_neighbors(X_low, k), codes)


def _hit(nbr: np.ndarray, codes: np.ndarray) -> float:
    return float(np.mean(codes[nbr] == codes[:, None]))


def trustworthiness(X_high: np.ndarray, X_low: np.ndarray, k: int = 10) -> float:
    """Trustworthiness of an embedding: do its near neighbours come from near in ``X_high``?

    Same definition and value as ``sklearn.manifold.trustworthiness(X_high, X_low,
    n_neighbors=k)`` (Venna & Kaski): ``1 - 2 / (n k (2n - 3k - 1)) * sum(max(r(i, j) - k, 0))``
    over each point ``i`` and each of its ``k`` nearest embedded neighbours ``j``, where
    ``r(i, j)`` is the rank of ``j`` among ``i``'s neighbours in ``X_high``. Instead of sorting
    every row of the full distance matrix, each rank is counted from a block of distance rows
    against the few distances it is needed for, which is several times faster.

    Parameters
    ----------
    X_high : np.ndarray
        ``(n, d)`` original points (e.g. a layer's activations).
    X_low : np.ndarray
        ``(n, 2)`` embedding of them, same row order.
    k : int
        Neighbourhood size, ``k < n / 2``.

    Returns
    -------
    float
        In [0, 1]; 1 means every embedded neighbourhood is a true one.
    """
    return trustworthiness_many(X_high, [X_low], k)[0]


def trustworthiness_many(
    X_high: np.ndarray, embeddings: Sequence[np.ndarray], k: int = 10
) -> list[float]:
    """:func:`trustworthiness` of several embeddings of one ``X_high``, in one pass over it.

    The pass over the ``n x n`` high-dimensional distances dominates the cost, so scoring all
    methods' embeddings of a layer together costs little more than scoring one.
    """
    X_high = _as_matrix(X_high, "X_high")
    nbrs = [_embedded_neighbors(Y, len(X_high), k) for Y in embeddings]
    return _trust_from_neighbors(X_high, nbrs, k)


def _embedded_neighbors(X_low, n: int, k: int) -> np.ndarray:
    X_low = _as_matrix(X_low, "X_low")
    if len(X_low) != n:
        raise ValueError(f"X_low has {len(X_low)} rows but X_high has {n}; pass matching rows")
    return nearest_neighbors(X_low, k)


def _trust_from_neighbors(X_high: np.ndarray, nbrs: list[np.ndarray], k: int) -> list[float]:
    n = len(X_high)
    if not 1 <= k < n / 2:
        raise ValueError(f"trustworthiness: k={k}, but {n} points need 1 <= k < {n / 2:g}")
    closer = _scan(X_high, _block_closer, k * len(nbrs), np.hstack(nbrs))
    # rank = closer + 1; only neighbours ranked beyond k in X_high are penalised
    excess = np.maximum(closer + 1 - k, 0).reshape(n, len(nbrs), k).sum(axis=(0, 2))
    scale = 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0))
    return [float(1.0 - scale * e) for e in excess]


@numba.njit(parallel=True, cache=True)
def _silhouette_samples(X, bounds):  # pragma: no cover - compiled
    """Silhouette of each point of ``X`` whose rows are grouped by label at ``bounds``."""
    n, d = X.shape
    n_lab = len(bounds) - 1
    out = np.zeros(n)
    for i in numba.prange(n):
        own = np.searchsorted(bounds, i, side="right") - 1
        size = bounds[own + 1] - bounds[own]
        if size < 2:
            continue  # a singleton's silhouette is 0 by convention
        inner, outer = 0.0, np.inf
        for c in range(n_lab):
            total = 0.0
            for j in range(bounds[c], bounds[c + 1]):
                acc = 0.0
                for a in range(d):
                    diff = X[i, a] - X[j, a]
                    acc += diff * diff
                total += np.sqrt(acc)
            if c == own:
                inner = total / (size - 1)
            else:
                outer = min(outer, total / (bounds[c + 1] - bounds[c]))
        top = max(inner, outer)
        out[i] = (outer - inner) / top if top > 0 else 0.0
    return out


def silhouette(X_low: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient of the classes (``labels``) in ``X_low``, Euclidean.

    Same definition and value as ``sklearn.metrics.silhouette_score(X_low, labels)`` over all
    points (no sampling), computed about ten times faster for 2-D embeddings by summing
    distances cluster by cluster without a distance matrix.

    Parameters
    ----------
    X_low : np.ndarray
        ``(n, d)`` points, typically a 2-D embedding.
    labels : np.ndarray
        ``(n,)`` class labels; between 2 and ``n - 1`` distinct values.

    Returns
    -------
    float
        In [-1, 1]; higher means tighter, better separated classes.
    """
    X_low = _as_matrix(X_low, "X_low")
    codes, n_classes = _label_codes(labels, len(X_low))
    if not 2 <= n_classes <= len(X_low) - 1:
        raise ValueError(f"silhouette needs 2 to {len(X_low) - 1} distinct labels, got {n_classes}")
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_classes + 1))
    X_sorted = np.ascontiguousarray(X_low[order], dtype=np.float64)
    return float(np.mean(_silhouette_samples(X_sorted, bounds)))


def projection_metrics(
    X_high: np.ndarray, X_low: np.ndarray, labels: np.ndarray, k: int = 10
) -> dict[str, float]:
    """All scores of one embedding, sharing its neighbour search.

    Parameters
    ----------
    X_high : np.ndarray
        ``(n, d)`` points that were projected.
    X_low : np.ndarray
        ``(n, 2)`` embedding, same row order.
    labels : np.ndarray
        ``(n,)`` class labels.
    k : int
        Neighbourhood size of the neighbour-based scores.

    Returns
    -------
    dict
        ``trustworthiness``, ``knn_accuracy``, ``neighborhood_hit``, ``silhouette`` and ``k``.
    """
    X_high = _as_matrix(X_high, "X_high")
    nbr = _embedded_neighbors(X_low, len(X_high), k)
    codes, n_classes = _label_codes(labels, len(X_high))
    return {
        "trustworthiness": _trust_from_neighbors(X_high, [nbr], k)[0],
        "knn_accuracy": _vote_accuracy(nbr, codes, n_classes),
        "neighborhood_hit": _hit(nbr, codes),
        "silhouette": silhouette(X_low, labels),
        "k": k,
    }


# -- representation scores ---------------------------------------------------------------------


def linear_probe_accuracy(
    X: np.ndarray, labels: np.ndarray, seed: int, test_fraction: float = 0.2
) -> float:
    """Held-out accuracy of a logistic regression on standardized features.

    A stratified split (``test_fraction`` held out, seeded) trains a multinomial L2 logistic
    regression (``C=1``, lbfgs) on the training part; the score is its accuracy on the rest.

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` activations.
    labels : np.ndarray
        ``(n,)`` class labels, each class at least twice.
    seed : int
        Seed of the split.
    test_fraction : float
        Share of points held out, in (0, 1).

    Returns
    -------
    float
        Held-out accuracy in [0, 1].
    """
    X = _as_matrix(X, "X")
    codes, _ = _label_codes(labels, len(X))
    if np.bincount(codes).min() < 2:
        raise ValueError("linear_probe_accuracy: every class needs at least 2 points to split")
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, codes, test_size=test_fraction, stratify=codes, random_state=seed
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    return float(model.fit(X_tr, y_tr).score(X_te, y_te))


def representation_metrics(
    X: np.ndarray, labels: np.ndarray, seed: int, k: int = 10
) -> dict[str, float]:
    """Class separation of full-dimensional activations.

    Returns
    -------
    dict
        ``linear_probe_accuracy`` (:func:`linear_probe_accuracy`, 80/20 split seeded with
        ``seed``), ``knn_accuracy`` (:func:`knn_accuracy` with ``k``, exact) and ``k``.
    """
    return {
        "linear_probe_accuracy": linear_probe_accuracy(X, labels, seed),
        "knn_accuracy": knn_accuracy(X, labels, k),
        "k": k,
    }
