"""Sample quality without an Inception network (chapter 6), in NumPy.

FID (Heusel et al. 2017, https://arxiv.org/abs/1706.08500) compares Inception
features of generated and real images; no Inception network can be downloaded
here, so the features are the penultimate layer (``fc1``) of chapter 1's CNN
trained on the same digits, a "digit FID". With that classifier's
probabilities come two simpler scores:

* the share of samples classified with confidence ≥ 0.9 (a digit, not a blur);
* the number of digit classes among the samples (all 10, not one mode).

``frechet_distance`` is 0 for identical feature sets; two sets of real digits
(train against test) give the floor any model can hope for.
"""
import numpy as np

CONFIDENCE = 0.9


def frechet_distance(features_a, features_b):
    """‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^½ Σ_b Σ_a^½)^½) of two (N, F) feature sets.

    The trace of the matrix square root is taken through the symmetric
    Σ_a^½ Σ_b Σ_a^½ (``eigh``), whose eigenvalues are those of Σ_a Σ_b.

    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(frechet_distance(x, x), 6)
    0.0
    >>> round(frechet_distance(x, x + 1.0), 6)   # the means 1 apart in each of 3 dims
    3.0
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrt_psd(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross
    return max(0.0, float(distance))  # a distance; rounding can leave -1e-13 for equal sets


def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def sample_quality(probabilities, features, reference_features, confidence=CONFIDENCE):
    """The three scores of samples, from the scoring classifier's outputs.

    Args:
        probabilities: (N, classes) class probabilities of the samples.
        features: (N, F) their penultimate-layer features.
        reference_features: (M, F) features of real held-out images.

    Returns:
        ``{"confident_share", "class_count", "frechet_distance"}``: the share of
        samples whose top probability is at least ``confidence``, how many classes
        are some sample's top class, and the Fréchet distance to the reference.
    """
    probabilities = np.asarray(probabilities)
    return {
        "confident_share": float(np.mean(probabilities.max(axis=1) >= confidence)),
        "class_count": int(len(np.unique(probabilities.argmax(axis=1)))),
        "frechet_distance": frechet_distance(features, reference_features),
    }
