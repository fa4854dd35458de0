"""Chapter 6's studies: counting a distribution's parameters, and sample-quality rows.

Nothing here defines a model: the models are in ``keras_dlbasic.models.autoregressive``
and ``keras_dlbasic.models.vae``; the scores in ``keras_dlbasic.metrics.generative``.
"""
from keras_dlbasic.accounting import distribution_params

# What each count follows from, as the lecture states it.
DERIVATIONS = {
    "joint": "chain rule: p(x1, ..., xn) = p(x1) p(x2 | x1) ... p(xn | x1, ..., xn-1), exact: "
             "(k-1)(1 + k + ... + k^(n-1)) = k^n - 1",
    "independent": "independence: p(x1, ..., xn) = p(x1) p(x2) ... p(xn): n (k - 1)",
    "markov": "Markov assumption, conditional independence of x(i+1) and x1..x(i-1) given xi: "
              "p(x) = p(x1) p(x2 | x1) p(x3 | x2) ... : (k - 1) + (n - 1) k (k - 1)",
}
BAYES = "Bayes' rule: p(x | y) = p(y | x) p(x) / p(y), what the structures are built from"


def counting_rows():
    """Rows ``[distribution, structure, parameters]`` of the lecture's examples: one RGB
    pixel, 784 binary pixels (a 28x28 binary image) under each structure."""
    rows = [["one RGB pixel (3 variables, 256 values)", "joint", f"{distribution_params(3, 256):,}"]]
    for structure in DERIVATIONS:
        count = distribution_params(784, 2, structure)
        text = f"{count:,}" if count < 10 ** 12 else f"2^784 - 1 ≈ 10^{len(str(count)) - 1}"
        rows.append(["28x28 binary image (784 variables, 2 values)", structure, text])
    return rows
