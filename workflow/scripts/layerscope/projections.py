"""Two-dimensional projections of activations: PCA, t-SNE and UMAP, and Procrustes alignment.

:func:`project` takes an ``(n, d)`` array and returns an ``(n, 2)`` float32 embedding and an info
dict (library and version, the effective parameters, seconds per stage, the PCA pre-reduction
used) meant for the projection table's metadata. Each method's parameters are a frozen
dataclass whose defaults are the ones a newcomer should get; :func:`params_for` builds one from
a config dict and rejects unknown keys.

openTSNE and umap-learn are imported on first use only (umap alone takes seconds), and nothing
here imports torch: jobs after capture must start fast.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields, replace
from importlib.metadata import version
from typing import Any

import numpy as np
import scipy.linalg
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from layerscope.config import METHODS

# -- parameters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PCAParams:
    """PCA has nothing to tune: the first two components, signs fixed by :func:`pca_2d`."""


@dataclass(frozen=True)
class TSNEParams:
    """t-SNE settings; the defaults run 5-9x faster than scikit-learn's default t-SNE.

    Attributes
    ----------
    backend : str
        ``"opentsne"`` (default) or ``"sklearn"`` (Barnes-Hut; ignores ``neighbors``, the FFT
        settings and ``dof``, and fixes the exaggeration phase at 250 iterations).
    perplexity : float
        Effective number of neighbours; ``3 * perplexity`` nearest neighbours are used, so at
        most ``(n - 1) / 3``. 40 as in the seed project.
    pre_pca : int or None
        Reduce to this many principal components first (skipped when the data has no more
        columns); None for none. 50 keeps or improves quality and cuts the neighbour search.
    neighbors : str
        ``"exact"`` (scikit-learn brute force on the reduced data) or ``"annoy"`` (openTSNE's
        approximate index, for much larger n).
    early_exaggeration_iter, early_exaggeration : int, float
        Length and factor of the early exaggeration phase.
    n_iter : int
        Iterations of the normal phase, after early exaggeration.
    learning_rate : float or "auto"
        ``"auto"``: n / exaggeration with openTSNE (n/12 during early exaggeration, n after),
        scikit-learn's own rule with the sklearn backend.
    negative_gradient_method : str
        ``"auto"`` (default: Barnes-Hut below :data:`AUTO_FFT_FROM` points, FFT from there),
        ``"fft"`` (interpolation) or ``"bh"`` (Barnes-Hut).
    theta : float
        Barnes-Hut accuracy (larger is faster and coarser).
    n_interpolation_points, ints_in_interval, min_num_intervals : int, float, int
        FFT grid: interpolation points per interval, the widest interval (embedding units)
        and the fewest intervals. 2 units and 20 intervals (openTSNE: 1 and 50) make the grid
        about 4x smaller at 10,000 points, and far smaller for small data, at no measured loss.
    dof : float
        Degrees of freedom of the t-distribution (1 is standard t-SNE, lower gives tighter
        clusters).
    initialization : str
        ``"pca"`` (first two principal components, std 1e-4) or ``"random"``; ignored when an
        ``init`` array is passed to :func:`tsne_2d`.
    """

    backend: str = "opentsne"
    perplexity: float = 40.0
    pre_pca: int | None = 50
    neighbors: str = "exact"
    early_exaggeration_iter: int = 250
    early_exaggeration: float = 12.0
    n_iter: int = 250
    learning_rate: float | str = "auto"
    negative_gradient_method: str = "auto"
    theta: float = 0.5
    n_interpolation_points: int = 3
    ints_in_interval: float = 2.0
    min_num_intervals: int = 20
    dof: float = 1.0
    initialization: str = "pca"


@dataclass(frozen=True)
class UMAPParams:
    """UMAP settings (umap-learn's defaults, plus a PCA pre-reduction and our kNN search).

    Attributes
    ----------
    n_neighbors : int
        Size of the local neighbourhood, at most ``n - 1``.
    min_dist : float
        Minimum distance between embedded points (smaller gives tighter clusters).
    metric : str
        Distance in the input space; any metric both scikit-learn and umap know.
    pre_pca : int or None
        As for :class:`TSNEParams`; 50 by default.
    neighbors : str
        ``"exact"``: scikit-learn brute force on the reduced data, handed to umap as
        ``precomputed_knn`` so pynndescent's numba code is never compiled (a fresh process saves
        tens of seconds); ``"nndescent"``: umap's own approximate search.
    n_epochs : int or None
        Optimisation epochs; None lets umap choose (500 up to 10,000 points, else 200).
    init : str
        ``"spectral"`` or ``"pca"``; ignored when an ``init`` array is passed.
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    pre_pca: int | None = 50
    neighbors: str = "exact"
    n_epochs: int | None = None
    init: str = "spectral"


# openTSNE's own rule: Barnes-Hut below 10,000 points, FFT from there (measured here: at 10,000
# points the FFT with our coarser grid is 12-33 ms per iteration, Barnes-Hut 27 ms).
AUTO_FFT_FROM = 10_000

PARAMS = {"pca": PCAParams, "tsne": TSNEParams, "umap": UMAPParams}

# The seed project's call, TSNE(n_components=2, perplexity=40, n_iter=300), with the defaults of
# the scikit-learn of its time (< 1.2: random init, learning rate 200) on the raw features.
# Its 300 iterations include scikit-learn's fixed 250 of early exaggeration.
PRESETS = {
    "tsne": {
        "seed_faithful": TSNEParams(
            backend="sklearn",
            perplexity=40.0,
            pre_pca=None,
            early_exaggeration_iter=250,
            n_iter=50,
            learning_rate=200.0,
            negative_gradient_method="bh",
            initialization="random",
        )
    }
}

_CHOICES = {
    "backend": ("opentsne", "sklearn"),
    "negative_gradient_method": ("auto", "fft", "bh"),
    "initialization": ("pca", "random"),
    "init": ("spectral", "pca"),
}
_NEIGHBORS = {"tsne": ("exact", "annoy"), "umap": ("exact", "nndescent")}


def params_for(method: str, params: dict[str, Any] | None = None):
    """Build the parameter dataclass of ``method`` from a config dict.

    ``params`` may name a preset (``{"preset": "seed_faithful"}``); its other keys override the
    preset's (or the defaults') values.

    Raises
    ------
    ValueError
        For an unknown method, preset, key or choice, naming the allowed ones.
    """
    if method not in PARAMS:
        raise ValueError(f"unknown projection method {method!r}; choose one of {METHODS}")
    params = dict(params or {})
    base = PARAMS[method]()
    preset = params.pop("preset", None)
    if preset is not None:
        known = PRESETS.get(method, {})
        if preset not in known:
            raise ValueError(
                f"unknown {method} preset {preset!r}; choose one of {sorted(known) or 'none'}"
            )
        base = known[preset]
    allowed = {f.name for f in fields(base)}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(
            f"unknown {method} parameter(s) {unknown}; allowed: {sorted(allowed) or 'none'}"
        )
    out = replace(base, **params)
    _check_choices(method, out)
    return out


def _check_choices(method: str, p) -> None:
    for name, value in asdict(p).items():
        choices = _NEIGHBORS[method] if name == "neighbors" else _CHOICES.get(name)
        if choices is not None and value not in choices:
            raise ValueError(f"{method} {name}={value!r} is not one of {choices}")
    pre = getattr(p, "pre_pca", None)
    if pre is not None and (isinstance(pre, bool) or not isinstance(pre, int) or pre < 2):
        raise ValueError(f"{method} pre_pca={pre!r}: use an integer >= 2, or null for none")


# -- shared steps ------------------------------------------------------------------------------


def _check_data(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or len(X) < 3:
        raise ValueError(f"projection input must be an (n, d) array with n >= 3, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("projection input holds NaN or inf; fix the activation table first")
    return np.ascontiguousarray(X, dtype=np.float32)


def _fix_signs(scores: np.ndarray, components: np.ndarray) -> None:
    """Flip each component, in place, so its scores are right-skewed (fallback: sklearn's rule).

    Skewness changes continuously with the data, so re-running or slightly perturbing the input
    does not mirror the picture, unlike rules keyed to one largest loading.
    """
    for c in range(scores.shape[1]):
        third = float(np.mean(scores[:, c].astype(np.float64) ** 3))
        spread = float(np.mean(scores[:, c].astype(np.float64) ** 2)) ** 1.5
        sign = np.sign(third) if abs(third) > 1e-6 * spread else 1.0
        if sign < 0:
            scores[:, c] *= -1
            components[c] *= -1


def _pca(X: np.ndarray, n_components: int, seed: int) -> tuple[np.ndarray, PCA]:
    model = PCA(n_components=n_components, random_state=seed)
    scores = model.fit_transform(X)
    _fix_signs(scores, model.components_)
    return scores.astype(np.float32), model


def _reduce(X: np.ndarray, n_components: int | None, seed: int) -> tuple[np.ndarray, dict]:
    """PCA pre-reduction to ``n_components`` when it reduces anything."""
    if n_components is None or n_components >= min(X.shape):
        return X, {"n_components": None}
    Z, model = _pca(X, n_components, seed)
    kept = float(model.explained_variance_ratio_.sum())
    return Z, {"n_components": n_components, "explained_variance": kept}


def _knn(Z: np.ndarray, k: int, metric: str, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of every row (itself excluded) and their distances."""
    search = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric, n_jobs=n_jobs)
    dist, ind = search.fit(Z).kneighbors()
    return ind, dist.astype(np.float32)


def _check_init(init, n: int) -> np.ndarray | None:
    if init is None:
        return None
    init = np.asarray(init, dtype=np.float64)
    if init.shape != (n, 2) or not np.isfinite(init).all():
        raise ValueError(
            f"init must be a finite ({n}, 2) array (one row per point, e.g. the previous "
            f"epoch's embedding in the same row order), got shape {init.shape}"
        )
    if np.std(init[:, 0]) == 0:
        raise ValueError("init has a constant first column; it cannot be rescaled")
    return init


@contextlib.contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the ``with`` body to ``seconds[stage]``."""
    start = time.perf_counter()
    yield
    seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start


def _info(method, library, params, seed, n_jobs, X, seconds, **extra) -> dict[str, Any]:
    return {
        "method": method,
        "library": library,
        "library_version": version(library),
        "params": asdict(params),
        "seed": int(seed),
        "n_jobs": int(n_jobs),
        "n_points": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "fit_seconds": float(sum(seconds.values())),
        "stage_seconds": {k: round(v, 4) for k, v in seconds.items()},
        **extra,
    }


# -- PCA ---------------------------------------------------------------------------------------


def pca_2d(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """First two principal components of ``X`` (scikit-learn), with a stable sign per axis.

    Each axis is oriented so that its scores are right-skewed (positive third moment), so
    repeated runs and tiny perturbations of ``X`` give the same picture, not a mirrored one.

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points, ``d >= 2``.
    seed : int
        ``random_state`` of scikit-learn's PCA (used by its randomized solver only).

    Returns
    -------
    embedding : np.ndarray
        ``(n, 2)`` float32 scores, in the units of ``X``.
    info : dict
        Library, seconds, and ``explained_variance`` (fraction per axis).
    """
    X = _check_data(X)
    if X.shape[1] < 2:
        raise ValueError(f"PCA to 2-D needs at least 2 columns, got {X.shape[1]}")
    seconds: dict[str, float] = {}
    with _timed(seconds, "fit"):
        Y, model = _pca(X, 2, seed)
    ratio = [float(r) for r in model.explained_variance_ratio_]
    info = _info("pca", "scikit-learn", PCAParams(), seed, 1, X, seconds, explained_variance=ratio)
    return Y, info


# -- t-SNE -------------------------------------------------------------------------------------


def _check_perplexity(perplexity: float, n: int) -> None:
    top = (n - 1) / 3
    if not 0 < perplexity <= top:
        raise ValueError(
            f"t-SNE perplexity {perplexity} does not fit {n} points: it needs 3 x perplexity "
            f"neighbours per point, so use 0 < perplexity <= {top:.1f}"
        )


def _tsne_start(init, Z, reduced: bool, p: TSNEParams, seed: int) -> tuple[np.ndarray, str]:
    """Starting positions with std 1e-4 in the first axis, as openTSNE recommends.

    A small start lets early exaggeration gather the clusters before they repel each other; a
    given ``init`` (e.g. the previous epoch's embedding) keeps its layout under this scaling.
    """
    from openTSNE import initialization

    if init is not None:
        return initialization.rescale(init, target_std=1e-4), "given"
    if p.initialization == "random":
        return initialization.random(len(Z), random_state=seed), "random"
    # the first two principal components of Z: PCA of a PCA reduction is its first two columns
    start = (Z[:, :2] if reduced else _pca(Z, 2, seed)[0]).astype(np.float64)
    start = initialization.rescale(start, target_std=1e-4)
    return initialization.jitter(start, random_state=seed), "pca"


def _tsne_opentsne(Z, reduced, p: TSNEParams, seed, init, n_jobs, seconds) -> tuple:
    from openTSNE import TSNEEmbedding, affinity
    from openTSNE.nearest_neighbors import Annoy, PrecomputedNeighbors

    k = min(len(Z) - 1, int(3 * p.perplexity))
    with _timed(seconds, "neighbors"):
        if p.neighbors == "exact":
            index = PrecomputedNeighbors(*_knn(Z, k, "euclidean", n_jobs))
        else:
            index = PrecomputedNeighbors(*Annoy(Z, k, random_state=seed, n_jobs=n_jobs).build())
    with _timed(seconds, "affinities"):
        P = affinity.PerplexityBasedNN(knn_index=index, perplexity=p.perplexity, n_jobs=n_jobs)
    start, how = _tsne_start(init, Z, reduced, p, seed)
    gradient = p.negative_gradient_method
    if gradient == "auto":
        # FFT's cost is mostly its grid, fixed per iteration: Barnes-Hut wins on fewer points.
        gradient = "bh" if len(Z) < AUTO_FFT_FROM else "fft"
    embedding = TSNEEmbedding(
        start,
        P,
        n_jobs=n_jobs,
        random_state=seed,
        dof=p.dof,
        negative_gradient_method=gradient,
        theta=p.theta,
        n_interpolation_points=p.n_interpolation_points,
        min_num_intervals=p.min_num_intervals,
        ints_in_interval=p.ints_in_interval,
    )
    with _timed(seconds, "optimize"):
        if p.early_exaggeration_iter > 0:
            embedding = embedding.optimize(
                n_iter=p.early_exaggeration_iter,
                exaggeration=p.early_exaggeration,
                momentum=0.5,
                learning_rate=p.learning_rate,
            )
        embedding = embedding.optimize(
            n_iter=p.n_iter, exaggeration=1, momentum=0.8, learning_rate=p.learning_rate
        )
    extra = {
        "init": how,
        "n_neighbors": k,
        "negative_gradient_method": gradient,
        "kl_divergence": float(embedding.kl_divergence),
    }
    return np.asarray(embedding), extra


def _tsne_sklearn(Z, reduced, p: TSNEParams, seed, init, n_jobs, seconds) -> tuple:
    from sklearn.manifold import TSNE

    if p.early_exaggeration_iter != 250:
        raise ValueError(
            f"t-SNE early_exaggeration_iter={p.early_exaggeration_iter}: scikit-learn fixes it "
            "at 250; set 250 or use backend 'opentsne'"
        )
    if p.negative_gradient_method == "fft" or p.dof != 1.0 or p.neighbors != "exact":
        raise ValueError(
            "t-SNE backend 'sklearn' supports only negative_gradient_method='bh' (or 'auto'), "
            f"dof=1 and neighbors='exact', got {p.negative_gradient_method!r}, {p.dof}, "
            f"{p.neighbors!r}; set those, or use backend 'opentsne'"
        )
    if init is not None:
        start, how = init / (np.std(init[:, 0]) / 1e-4), "given"
    else:
        start, how = p.initialization, p.initialization
    model = TSNE(
        n_components=2,
        perplexity=p.perplexity,
        early_exaggeration=p.early_exaggeration,
        learning_rate=p.learning_rate,
        max_iter=250 + p.n_iter,
        init=start,
        angle=p.theta,
        random_state=seed,
        n_jobs=n_jobs,
    )
    # scikit-learn's gradient runs on every core (OpenMP) whatever n_jobs says; hold it to
    # n_jobs so parallel workflow jobs do not oversubscribe the machine
    with _timed(seconds, "fit"), threadpool_limits(n_jobs, user_api="openmp"):
        Y = model.fit_transform(Z)
    extra = {
        "init": how,
        "n_iter_done": int(model.n_iter_),
        "kl_divergence": float(model.kl_divergence_),
    }
    return Y, extra | {"learning_rate_used": float(model.learning_rate_)}


def tsne_2d(
    X: np.ndarray,
    params: TSNEParams | None = None,
    seed: int = 0,
    init: np.ndarray | None = None,
    n_jobs: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """t-SNE embedding of ``X`` (openTSNE by default, or scikit-learn's Barnes-Hut).

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points.
    params : TSNEParams, optional
        Settings; the defaults when None.
    seed : int
        ``random_state`` of every random step (PCA, neighbours, initialization, optimizer).
    init : np.ndarray, optional
        ``(n, 2)`` starting positions, e.g. the previous epoch's embedding (same row order).
        It is rescaled to standard deviation 1e-4 in its first axis, as openTSNE recommends
        for any initialization, so only its layout matters.
    n_jobs : int
        Threads, for every stage and both backends.

    Returns
    -------
    embedding : np.ndarray
        ``(n, 2)`` float32, arbitrary units.
    info : dict
        Library, effective parameters, seconds per stage, the pre-reduction used, the
        initialization (``pca``, ``random`` or ``given``) and the final KL divergence.
    """
    p = params or TSNEParams()
    X = _check_data(X)
    init = _check_init(init, len(X))
    _check_perplexity(p.perplexity, len(X))
    seconds: dict[str, float] = {}
    with _timed(seconds, "pre_pca"):
        Z, reduced = _reduce(X, p.pre_pca, seed)
    run = _tsne_opentsne if p.backend == "opentsne" else _tsne_sklearn
    Y, extra = run(Z, reduced["n_components"] is not None, p, seed, init, n_jobs, seconds)
    library = "openTSNE" if p.backend == "opentsne" else "scikit-learn"
    info = _info("tsne", library, p, seed, n_jobs, X, seconds, pre_pca=reduced, **extra)
    return Y.astype(np.float32), info | {"backend": p.backend}


# -- UMAP --------------------------------------------------------------------------------------


def _enable_numba_cache() -> bool:
    """Let umap's jitted functions use numba's on-disk cache (only ``rdist`` does by default).

    A fresh process otherwise recompiles umap's fuzzy-set code and layout optimizer, several
    seconds per job. Caching applies only when ``NUMBA_CACHE_DIR`` is set (the workflow points
    it at a persistent folder), so a read-only install never gets cache files. Where umap
    builds a serial and a parallel dispatcher from one Python function, only the serial one
    (what a seeded fit runs) is cached: the two would share one cache entry.
    """
    if not os.environ.get("NUMBA_CACHE_DIR"):
        return False
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher
    from umap import layouts, spectral, umap_, utils

    found = {
        id(value): value
        for module in (umap_, layouts, utils, spectral)
        for value in vars(module).values()
        if isinstance(value, CPUDispatcher) and isinstance(value._cache, NullCache)
    }.values()
    makers = Counter(dispatcher.py_func for dispatcher in found)
    for dispatcher in found:
        if makers[dispatcher.py_func] == 1 or not dispatcher.targetoptions.get("parallel"):
            dispatcher.enable_caching()
    return True


def _umap_start(init, p: UMAPParams) -> np.ndarray | str:
    """A given ``init`` centred and scaled to umap's own box (largest coordinate 10)."""
    if init is None:
        return p.init
    centred = init - init.mean(axis=0)
    return (10.0 * centred / np.abs(centred).max()).astype(np.float32)


def umap_2d(
    X: np.ndarray,
    params: UMAPParams | None = None,
    seed: int = 0,
    init: np.ndarray | None = None,
    n_jobs: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """UMAP embedding of ``X`` (umap-learn), seeded.

    With a seed umap-learn runs its optimizer on one thread (it overrides ``n_jobs`` to 1);
    that is what makes the result reproducible. ``n_jobs`` still parallelises our neighbour
    search.

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points.
    params : UMAPParams, optional
        Settings; the defaults when None.
    seed : int
        ``random_state`` of PCA and UMAP.
    init : np.ndarray, optional
        ``(n, 2)`` starting positions (e.g. the previous epoch's embedding), centred and scaled
        so the largest coordinate is 10, as umap scales its spectral start.
    n_jobs : int
        Threads for the neighbour search.

    Returns
    -------
    embedding : np.ndarray
        ``(n, 2)`` float32, arbitrary units.
    info : dict
        Library, effective parameters, seconds per stage, the pre-reduction used, the
        neighbour search and whether numba's disk cache was enabled for umap.
    """
    p = params or UMAPParams()
    X = _check_data(X)
    init = _check_init(init, len(X))
    if not 2 <= p.n_neighbors <= len(X) - 1:
        raise ValueError(
            f"UMAP n_neighbors={p.n_neighbors} does not fit {len(X)} points; use 2 to {len(X) - 1}"
        )
    started = time.perf_counter()
    import umap

    cached = _enable_numba_cache()
    import_seconds = time.perf_counter() - started
    seconds: dict[str, float] = {}
    with _timed(seconds, "pre_pca"):
        Z, reduced = _reduce(X, p.pre_pca, seed)
    knn = None
    if p.neighbors == "exact":
        with _timed(seconds, "neighbors"):
            ind, dist = _knn(Z, p.n_neighbors - 1, p.metric, n_jobs)
            # umap expects each point as its own first neighbour, at distance 0
            ind = np.hstack([np.arange(len(Z))[:, None], ind])
            knn = (ind, np.hstack([np.zeros((len(Z), 1), np.float32), dist]))
    model = umap.UMAP(
        n_neighbors=p.n_neighbors,
        min_dist=p.min_dist,
        metric=p.metric,
        n_epochs=p.n_epochs,
        init=_umap_start(init, p),
        random_state=seed,
        n_jobs=1,
        precomputed_knn=knn if knn is not None else (None, None, None),
    )
    with _timed(seconds, "fit"), warnings.catch_warnings():
        # a precomputed kNN without pynndescent's index only loses .transform(), unused here
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        Y = model.fit_transform(Z)
    info = _info(
        "umap",
        "umap-learn",
        p,
        seed,
        n_jobs,
        X,
        seconds,
        pre_pca=reduced,
        numba_cache=cached,
        import_seconds=round(import_seconds, 4),
        init="given" if init is not None else p.init,
    )
    return Y.astype(np.float32), info


# -- dispatch and alignment --------------------------------------------------------------------


def project(
    X: np.ndarray,
    method: str,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    init: np.ndarray | None = None,
    n_jobs: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Project ``X`` to 2-D with ``method`` (``pca``, ``tsne`` or ``umap``).

    Parameters
    ----------
    X : np.ndarray
        ``(n, d)`` points, e.g. one layer's activations.
    method : str
        One of :data:`METHODS`.
    params : dict, optional
        The method's settings from the config (see :func:`params_for`); defaults when None.
    seed : int
        Seed of every random step.
    init : np.ndarray, optional
        ``(n, 2)`` starting positions for t-SNE and UMAP (rejected for PCA, which has none).
    n_jobs : int
        Threads.

    Returns
    -------
    embedding : np.ndarray
        ``(n, 2)`` float32.
    info : dict
        JSON-serialisable metadata: ``method``, ``library``, ``library_version``, ``params``
        (effective), ``seed``, ``fit_seconds`` (the computation alone, no imports or I/O),
        ``stage_seconds`` and method-specific entries.
    """
    p = params_for(method, params)
    if method == "pca":
        if init is not None:
            raise ValueError("PCA takes no init; pass init only for tsne or umap")
        return pca_2d(X, seed)
    if method == "tsne":
        return tsne_2d(X, p, seed, init, n_jobs)
    return umap_2d(X, p, seed, init, n_jobs)


def procrustes_align(
    Y: np.ndarray,
    Y_ref: np.ndarray,
    samples: np.ndarray | None = None,
    samples_ref: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Rotate (or reflect), scale and shift ``Y`` onto ``Y_ref`` as closely as possible.

    Finds the orthogonal ``R``, scale ``s`` and shift ``t`` minimising
    ``||s (Y - mean) R + t - Y_ref||`` over the rows both share, then applies them to every
    row of ``Y``, so consecutive panels (epochs, layers) are drawn in comparable orientation
    and size. Distances within ``Y`` are only scaled uniformly.

    Parameters
    ----------
    Y, Y_ref : np.ndarray
        ``(n, 2)`` and ``(m, 2)`` embeddings.
    samples, samples_ref : np.ndarray, optional
        Sample ids of their rows; the fit uses the ids in both. Without them the rows must
        correspond one to one (``n == m``).

    Returns
    -------
    aligned : np.ndarray
        ``(n, 2)`` float32, ``Y`` in ``Y_ref``'s frame.
    info : dict
        ``rotation`` (2x2 list), ``reflection`` (bool), ``scale``, ``translation``,
        ``n_shared`` and ``disparity`` (residual sum of squares over that of ``Y_ref``
        about its mean: 0 is a perfect match).
    """
    Y = np.asarray(Y, dtype=np.float64)
    Y_ref = np.asarray(Y_ref, dtype=np.float64)
    rows, rows_ref = _shared_rows(Y, Y_ref, samples, samples_ref)
    A, B = Y[rows], Y_ref[rows_ref]
    mu_a, mu_b = A.mean(axis=0), B.mean(axis=0)
    A, B = A - mu_a, B - mu_b
    if not (A.any() and B.any()):
        raise ValueError("procrustes_align: an embedding's shared rows are all one point")
    R, singular_sum = scipy.linalg.orthogonal_procrustes(A, B)
    scale = singular_sum / float(np.sum(A * A))
    aligned = scale * (Y - mu_a) @ R + mu_b
    residual = float(np.sum((scale * A @ R - B) ** 2) / np.sum(B * B))
    info = {
        "rotation": R.tolist(),
        "reflection": bool(np.linalg.det(R) < 0),
        "scale": float(scale),
        "translation": (mu_b - scale * mu_a @ R).tolist(),
        "n_shared": int(len(rows)),
        "disparity": residual,
    }
    return aligned.astype(np.float32), info


def _shared_rows(Y, Y_ref, samples, samples_ref) -> tuple[np.ndarray, np.ndarray]:
    for name, Z in (("Y", Y), ("Y_ref", Y_ref)):
        if Z.ndim != 2 or Z.shape[1] != 2 or not np.isfinite(Z).all():
            raise ValueError(f"procrustes_align: {name} must be a finite (n, 2) array")
    if (samples is None) != (samples_ref is None):
        raise ValueError("procrustes_align: pass both samples and samples_ref, or neither")
    if samples is None:
        if len(Y) != len(Y_ref):
            raise ValueError(
                f"procrustes_align: {len(Y)} rows vs {len(Y_ref)} in the reference; pass "
                "samples and samples_ref to match rows by sample id"
            )
        return np.arange(len(Y)), np.arange(len(Y_ref))
    _, rows, rows_ref = np.intersect1d(samples, samples_ref, return_indices=True)
    if len(rows) < 3:
        raise ValueError(
            f"procrustes_align: only {len(rows)} sample ids are shared; need at least 3"
        )
    return rows, rows_ref
