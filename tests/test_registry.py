"""The registry: names, metadata, overrides and errors."""
import subprocess
import sys

import keras
import pytest

from keras_dlbasic import get_model, list_models, model_info
from keras_dlbasic.data import DATASETS, dataset_info
from keras_dlbasic.errors import ModelArgumentError, UnknownNameError
from keras_dlbasic.registry import shapes_only


def test_every_spec_is_complete():
    for name in list_models():
        spec = model_info(name)
        assert spec.paper.title and spec.paper.year > 1900 and spec.paper.url.startswith("http")
        assert spec.reference_params > 0 and spec.params_source
        assert (spec.reference_macs is None) == (spec.macs_source is None)
        assert spec.dataset in DATASETS and DATASETS[spec.dataset].source != "tfds"
        if spec.full_dataset is not None:
            assert dataset_info(spec.full_dataset).source == "tfds"


def test_list_models_filters():
    assert "cnn" in list_models("c*")
    assert list_models("zzz*") == []
    assert list_models(chapter=1) == ["cnn"]


def test_unknown_model_lists_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean cnn"):
        model_info("cnnn")


def test_overrides_none_keep_defaults():
    model = get_model("cnn", classes=None, input_shape=None)
    assert model.output_shape == (None, 10)
    assert get_model("cnn", classes=3).output_shape == (None, 3)


def test_bad_arguments_raise_model_argument_error():
    with pytest.raises(ModelArgumentError, match="at least 10x10"):
        get_model("cnn", input_shape=(8, 8, 1))
    with pytest.raises(ModelArgumentError, match="cnn: unknown argument 'depth'.*; valid arguments: "
                                                 "input_shape, classes, filters"):
        get_model("cnn", depth=3)


@pytest.mark.parametrize("name", list_models())
def test_builder_arguments_are_known_and_recipes_use_them(name):
    """Every builder lists the arguments it takes (through ``variant_of`` where it passes
    ``**kwargs`` on), so a misspelt --model-arg or recipe key is refused by name; and
    every recipe of the catalog sets only arguments its builder takes."""
    from keras_dlbasic.registry import builder_parameters, check_builder_kwargs

    spec = model_info(name)
    assert builder_parameters(spec.load_builder()) is not None
    for recipe in (spec.recipe, *spec.dataset_recipes.values()):
        check_builder_kwargs(spec, {**spec.kwargs, **recipe.model_kwargs})


def test_every_model_has_a_small_test_instance():
    from conftest import SMALL

    assert sorted(SMALL) == sorted(list_models())


def test_listing_does_not_import_keras():
    code = ("import sys; import keras_dlbasic as k; k.list_models(); k.model_info('cnn'); "
            "assert 'keras' not in sys.modules, 'keras imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shapes_only_builds_without_weights_and_leaves_no_trace():
    with shapes_only():
        shaped = get_model("cnn")
    assert shaped.count_params() == 225_034
    assert all(v._value is None for v in shaped.weights)  # nothing was drawn
    # The deferred initializers are forgotten: a later stateless scope runs none of them.
    with keras.StatelessScope():
        pass
    assert all(v._value is None for v in shaped.weights)
    model = get_model("cnn")  # normal builds are unaffected
    assert keras.ops.convert_to_numpy(model(keras.ops.zeros((1, 28, 28, 1)))).shape == (1, 10)
