"""2-D projections and Procrustes alignment, on small seeded data with cut-down iterations."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA

from layerscope import projections
from layerscope.metrics import knn_accuracy
from layerscope.projections import params_for, procrustes_align, project

FAST_TSNE = {"early_exaggeration_iter": 50, "n_iter": 100, "perplexity": 10}
FAST_UMAP = {"n_epochs": 60}


@pytest.fixture(scope="module")
def blobs():
    X, labels = make_blobs(300, 60, centers=4, cluster_std=2.0, random_state=0)
    return X.astype(np.float32), labels


# -- PCA ----------------------------------------------------------------------------------------


def test_pca_equals_sklearn_up_to_sign_per_axis(blobs):
    X, _ = blobs
    Y, info = project(X, "pca", seed=0)
    ref = PCA(n_components=2).fit(X)
    expected = ref.transform(X)
    for axis in range(2):
        sign = np.sign(Y[:, axis] @ expected[:, axis])
        np.testing.assert_allclose(Y[:, axis], sign * expected[:, axis], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(info["explained_variance"], ref.explained_variance_ratio_)
    assert Y.dtype == np.float32 and Y.shape == (300, 2)


def test_pca_axes_do_not_mirror_between_runs_or_under_tiny_perturbation(blobs):
    X, _ = blobs
    Y = project(X, "pca", seed=0)[0]
    np.testing.assert_array_equal(Y, project(X, "pca", seed=0)[0])
    nudged = X + 1e-4 * np.random.default_rng(1).normal(size=X.shape).astype(np.float32)
    np.testing.assert_allclose(project(nudged, "pca", seed=0)[0], Y, atol=1e-2)
    assert (np.mean(Y.astype(np.float64) ** 3, axis=0) > 0).all()  # the documented rule


# -- t-SNE --------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [FAST_TSNE, {**FAST_TSNE, "negative_gradient_method": "bh"}])
def test_tsne_is_seeded_and_separates_blobs(blobs, params):
    X, labels = blobs
    Y, info = project(X, "tsne", params, seed=3)
    np.testing.assert_array_equal(Y, project(X, "tsne", params, seed=3)[0])
    assert knn_accuracy(Y, labels, 10) > 0.98
    assert info["library"] == "openTSNE" and info["init"] == "pca"
    assert info["pre_pca"] == {"n_components": 50, "explained_variance": pytest.approx(1, abs=0.2)}
    assert info["params"]["perplexity"] == 10 and info["params"]["min_num_intervals"] == 20
    json.dumps(info)  # goes into Parquet metadata as JSON


def test_tsne_sklearn_backend_and_seed_faithful_preset(blobs):
    X, labels = blobs[0][:150], blobs[1][:150]  # perplexity 40 needs 121 points at least
    p = params_for("tsne", {"preset": "seed_faithful"})
    assert (p.backend, p.perplexity, p.early_exaggeration_iter + p.n_iter) == ("sklearn", 40, 300)
    Y, info = project(X, "tsne", {"preset": "seed_faithful"}, seed=0)
    np.testing.assert_array_equal(Y, project(X, "tsne", {"preset": "seed_faithful"}, seed=0)[0])
    assert info["library"] == "scikit-learn" and info["pre_pca"] == {"n_components": None}
    assert info["n_iter_done"] <= 300 and info["learning_rate_used"] == 200
    json.dumps(info)
    assert knn_accuracy(Y, labels, 10) > 0.98


def test_tsne_init_is_rescaled_to_std_1e4_keeping_its_layout(blobs):
    X, _ = blobs
    init = np.random.default_rng(0).normal(size=(300, 2)) * 50 + 7
    frozen = {"early_exaggeration_iter": 0, "n_iter": 0, "perplexity": 10}
    Y, info = project(X, "tsne", frozen, seed=0, init=init)
    assert info["init"] == "given"
    assert np.std(Y[:, 0]) == pytest.approx(1e-4, rel=1e-3)
    np.testing.assert_allclose(Y, init / (np.std(init[:, 0]) / 1e-4), rtol=1e-5)


def test_tsne_rejects_a_perplexity_too_large_naming_the_maximum():
    X = np.random.default_rng(0).normal(size=(31, 5))
    with pytest.raises(ValueError, match=r"perplexity 40.0 does not fit 31 points.*<= 10\.0"):
        project(X, "tsne", {}, seed=0)


def test_tsne_sklearn_backend_rejects_what_it_cannot_do(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="scikit-learn fixes it at 250"):
        project(X, "tsne", {"backend": "sklearn", "early_exaggeration_iter": 100}, seed=0)
    with pytest.raises(ValueError, match="supports only negative_gradient_method='bh'"):
        project(X, "tsne", {"backend": "sklearn", "negative_gradient_method": "fft"}, seed=0)


# -- UMAP ---------------------------------------------------------------------------------------


def test_umap_is_seeded_single_threaded_and_separates_blobs(blobs):
    X, labels = blobs
    Y, info = project(X, "umap", FAST_UMAP, seed=1, n_jobs=2)
    np.testing.assert_array_equal(Y, project(X, "umap", FAST_UMAP, seed=1, n_jobs=2)[0])
    assert knn_accuracy(Y, labels, 10) > 0.98
    assert info["library"] == "umap-learn" and info["params"]["neighbors"] == "exact"
    assert info["pre_pca"]["n_components"] == 50
    json.dumps(info)


def test_umap_given_init_and_its_own_neighbour_search(blobs):
    X, labels = blobs
    start = project(X, "pca", seed=0)[0]
    Y, info = project(X, "umap", {**FAST_UMAP, "neighbors": "nndescent"}, seed=0, init=start)
    assert info["init"] == "given" and knn_accuracy(Y, labels, 10) > 0.98


def test_pre_pca_is_skipped_when_it_would_not_reduce():
    X, _ = make_blobs(120, 8, centers=3, random_state=0)
    info = project(X, "umap", FAST_UMAP, seed=0)[1]
    assert info["pre_pca"] == {"n_components": None}


# -- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("mds", {}, r"unknown projection method 'mds'; choose one of \('pca', 'tsne', 'umap'\)"),
        ("tsne", {"n_iters": 5}, r"unknown tsne parameter\(s\) \['n_iters'\]; allowed: \["),
        ("pca", {"whiten": True}, r"unknown pca parameter\(s\) \['whiten'\]; allowed: none"),
        ("tsne", {"preset": "fast"}, r"unknown tsne preset 'fast'; choose one of \['seed_"),
        ("umap", {"neighbors": "annoy"}, r"umap neighbors='annoy' is not one of \('exact', "),
        ("tsne", {"pre_pca": 1}, r"tsne pre_pca=1: use an integer >= 2, or null for none"),
    ],
)
def test_bad_parameters_are_named(method, params, message):
    with pytest.raises(ValueError, match=message):
        params_for(method, params)


def test_init_of_the_wrong_shape_is_rejected(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"init must be a finite \(300, 2\) array"):
        project(X, "tsne", FAST_TSNE, seed=0, init=np.zeros((299, 2)))
    with pytest.raises(ValueError, match="PCA takes no init"):
        project(X, "pca", seed=0, init=np.zeros((300, 2)))


# -- Procrustes ---------------------------------------------------------------------------------


def rotation(degrees, reflect=False):
    a = np.deg2rad(degrees)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return R @ np.diag([1, -1]) if reflect else R


@pytest.mark.parametrize("reflect", [False, True])
def test_procrustes_recovers_rotation_reflection_scale_and_shift(reflect):
    ref = np.random.default_rng(0).normal(size=(200, 2))
    R = rotation(73, reflect)
    moved = 0.25 * ref @ R + [40.0, -3.0]
    aligned, info = procrustes_align(moved, ref)
    np.testing.assert_allclose(aligned, ref, atol=1e-5)
    assert info["reflection"] is reflect
    assert info["scale"] == pytest.approx(4.0)
    np.testing.assert_allclose(info["rotation"], R.T, atol=1e-9)
    assert info["disparity"] == pytest.approx(0, abs=1e-12) and info["n_shared"] == 200


def test_procrustes_matches_rows_by_sample_id_on_the_shared_ones():
    rng = np.random.default_rng(1)
    ref, ids = rng.normal(size=(100, 2)), np.arange(100)
    order = rng.permutation(90) + 10  # ids 10..99 in another order, plus 5 ids not in ref
    moved = np.vstack([3 * ref[order] @ rotation(-30) + 1, rng.normal(size=(5, 2))])
    aligned, info = procrustes_align(moved, ref, np.r_[order, 200 + np.arange(5)], ids)
    np.testing.assert_allclose(aligned[:90], ref[order], atol=1e-5)
    assert info["n_shared"] == 90 and aligned.shape == (95, 2)
    with pytest.raises(ValueError, match="pass samples and samples_ref to match rows"):
        procrustes_align(moved, ref)


# -- start-up -----------------------------------------------------------------------------------


def test_projections_and_metrics_never_import_torch():
    code = f"""
import sys, numpy as np
import umap  # imported on first use inside umap_2d; fitting it would only slow this test
from layerscope import metrics, projections
X = np.random.default_rng(0).normal(size=(80, 12))
for method, params in [("pca", {{}}), ("tsne", {FAST_TSNE!r})]:
    Y = projections.project(X, method, params, seed=0)[0]
    metrics.projection_metrics(X, Y, np.arange(80) % 2, k=5)
print(sorted(name for name in sys.modules if name.split(".")[0] == "torch"))
"""
    env = {**os.environ, "PYTHONPATH": str(Path(projections.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_methods_and_parameter_classes_agree():
    assert set(projections.PARAMS) == set(projections.METHODS)
