"""Separation scores, checked against scikit-learn and brute-force references on small data."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from layerscope import metrics


def embedding_pair(n=300, d=40, seed=0, offset=0.0, spread=1.0):
    """High-dimensional points and a noisy 2-D view of them (imperfect on purpose)."""
    rng = np.random.default_rng(seed)
    X = offset + spread * rng.normal(size=(n, d))
    Y = (X[:, :2] - offset) / spread + 0.5 * rng.normal(size=(n, 2))
    return X, Y


def brute_neighbors(X, k):
    """Float64 distances by explicit differences, self excluded by index, stable order."""
    X = np.asarray(X, dtype=np.float64)
    D = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    return np.argsort(D, axis=1, kind="stable")[:, :k]


def loo_knn_reference(X, labels, k):
    """Leave-one-out accuracy with scikit-learn's classifier refitted without each point."""
    hits = 0
    for i in range(len(X)):
        rest = np.arange(len(X)) != i
        clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X[rest], labels[rest])
        hits += clf.predict(X[i : i + 1])[0] == labels[i]
    return hits / len(X)


def vote_reference(X, labels, k):
    """Majority label of the brute-force neighbours, ties to the smallest label."""
    votes = [np.bincount(labels[row], minlength=labels.max() + 1) for row in brute_neighbors(X, k)]
    return np.mean(np.argmax(votes, axis=1) == labels)


# -- trustworthiness -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 5, 10])
def test_trustworthiness_equals_sklearn(dtype, k):
    X, Y = embedding_pair()
    X = X.astype(dtype)
    expected = sk_trustworthiness(X, Y, n_neighbors=k)
    assert metrics.trustworthiness(X, Y, k) == pytest.approx(expected, abs=1e-12)


def test_trustworthiness_exact_where_float32_rounding_is_coarse():
    # a large common offset makes float32 products useless for ranking: the float64 re-check
    # must decide every close call
    X, Y = embedding_pair(n=250, d=30, seed=3, offset=100.0, spread=0.01)
    expected = sk_trustworthiness(X, Y, n_neighbors=7)
    assert metrics.trustworthiness(X, Y, 7) == pytest.approx(expected, abs=1e-12)


def test_trustworthiness_of_perfect_and_of_scrambled_embeddings():
    X, _ = embedding_pair(n=200, d=2)
    assert metrics.trustworthiness(X, X, 5) == pytest.approx(1.0)
    scrambled = np.random.default_rng(1).permutation(X)
    assert metrics.trustworthiness(X, scrambled, 5) < 0.7


def test_trustworthiness_many_equals_one_at_a_time():
    X, Y = embedding_pair()
    Y2 = Y + np.random.default_rng(5).normal(size=Y.shape)
    many = metrics.trustworthiness_many(X, [Y, Y2], 10)
    assert many == [metrics.trustworthiness(X, Y, 10), metrics.trustworthiness(X, Y2, 10)]


def test_trustworthiness_rejects_bad_input():
    X, Y = embedding_pair(n=20)
    with pytest.raises(ValueError, match=r"k=10, but 20 points need 1 <= k < 10"):
        metrics.trustworthiness(X, Y, 10)
    with pytest.raises(ValueError, match="X_low has 19 rows but X_high has 20"):
        metrics.trustworthiness(X, Y[:19], 3)


# -- neighbours and kNN accuracy -----------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 40])  # k-d tree path and matrix-product path
def test_nearest_neighbors_equal_brute_force(d):
    X, _ = embedding_pair(n=150, d=d, seed=2)
    np.testing.assert_array_equal(metrics.nearest_neighbors(X, 6), brute_neighbors(X, 6))


def test_nearest_neighbors_exact_where_float32_rounding_is_coarse():
    X, _ = embedding_pair(n=200, d=50, seed=4, offset=100.0, spread=0.01)
    np.testing.assert_array_equal(metrics.nearest_neighbors(X, 8), brute_neighbors(X, 8))


@pytest.mark.parametrize("d", [2, 30])
def test_knn_accuracy_equals_brute_force_and_sklearn_leave_one_out(d):
    X, _ = embedding_pair(n=100, d=d, seed=6)
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)  # three overlapping classes
    for k in (1, 4, 10):
        assert metrics.knn_accuracy(X, labels, k) == pytest.approx(vote_reference(X, labels, k))
    # k=4 has tied votes: broken towards the smallest label, as scikit-learn does
    assert metrics.knn_accuracy(X, labels, 4) == pytest.approx(loo_knn_reference(X, labels, 4))


@pytest.mark.parametrize("d", [2, 20])
def test_knn_accuracy_of_two_far_apart_clusters_is_one(d):
    X, labels = make_blobs(200, d, centers=[[0] * d, [100] * d], random_state=0)
    assert metrics.knn_accuracy(X, labels, 10) == 1.0


@pytest.mark.parametrize("d", [2, 20])
def test_a_duplicate_is_a_neighbour_the_point_itself_is_not(d):
    X = np.zeros((4, d))
    X[2:, 0] = 10.0  # points 0,1 coincide, points 2,3 coincide
    labels = np.array([0, 1, 2, 2])
    # with k=1 point 0 must be classified by its duplicate 1 (label 1), never by itself
    assert metrics.knn_accuracy(X, labels, 1) == 0.5
    np.testing.assert_array_equal(metrics.nearest_neighbors(X, 1).ravel(), [1, 0, 3, 2])


def test_neighborhood_hit_hand_case():
    X = np.array([[0.0, 0], [1, 0], [10, 0], [11, 0], [30, 0]])
    labels = np.array([0, 0, 0, 1, 1])
    # k=1: 0->1 hit, 1->0 hit, 2->3 miss, 3->2 miss, 4->3 hit: 3/5
    assert metrics.neighborhood_hit(X, labels, 1) == pytest.approx(3 / 5)
    # k=2: 0:{1,2} 2/2, 1:{0,2} 2/2, 2:{3,1} 1/2, 3:{2,1} 0/2, 4:{3,2} 1/2: 3/5
    assert metrics.neighborhood_hit(X, labels, 2) == pytest.approx(3 / 5)


# -- silhouette and bundles ----------------------------------------------------------------------


def test_silhouette_equals_sklearn():
    X, labels = make_blobs(400, 2, centers=4, cluster_std=2.0, random_state=1)
    assert metrics.silhouette(X, labels) == pytest.approx(silhouette_score(X, labels), abs=1e-12)


def test_silhouette_singleton_class_and_string_labels_as_sklearn():
    X, labels = make_blobs(60, 2, centers=3, random_state=2)
    labels = np.array(["a", "b", "c"])[labels]
    labels[0] = "z"  # a class of one point scores 0, as in scikit-learn
    assert metrics.silhouette(X, labels) == pytest.approx(silhouette_score(X, labels), abs=1e-12)
    with pytest.raises(ValueError, match="needs 2 to 59 distinct labels, got 1"):
        metrics.silhouette(X, np.zeros(60))


def test_projection_metrics_bundle_the_single_scores():
    X, Y = embedding_pair(n=200)
    labels = (X[:, 0] > 0).astype(int)
    got = metrics.projection_metrics(X, Y, labels, k=5)
    assert got == {
        "trustworthiness": metrics.trustworthiness(X, Y, 5),
        "knn_accuracy": metrics.knn_accuracy(Y, labels, 5),
        "neighborhood_hit": metrics.neighborhood_hit(Y, labels, 5),
        "silhouette": metrics.silhouette(Y, labels),
        "k": 5,
    }


def test_representation_metrics_separate_blobs_and_not_noise():
    X, labels = make_blobs(400, 30, centers=4, random_state=0)
    assert metrics.representation_metrics(X, labels, seed=0) == {
        "linear_probe_accuracy": 1.0,
        "knn_accuracy": 1.0,
        "k": 10,
    }
    noise = np.random.default_rng(0).normal(size=(400, 30))
    scores = metrics.representation_metrics(noise, labels, seed=0)
    assert scores["linear_probe_accuracy"] < 0.45 and scores["knn_accuracy"] < 0.45


def test_linear_probe_is_seeded_and_holds_out_a_stratified_fifth():
    X, labels = make_blobs(500, 10, centers=5, cluster_std=6.0, random_state=3)
    a = metrics.linear_probe_accuracy(X, labels, seed=1)
    assert a == metrics.linear_probe_accuracy(X, labels, seed=1)
    assert a * 100 == pytest.approx(round(a * 100))  # 100 held-out points: whole percents
    with pytest.raises(ValueError, match="every class needs at least 2 points"):
        metrics.linear_probe_accuracy(X, np.r_[labels[:-1], 9], seed=0)
