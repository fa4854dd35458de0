"""Sequence to sequence: next-token prediction with teacher forcing, scored by generation.

Inputs are ``{"encoder_tokens", "decoder_tokens"}``, targets the next token
at every decoder position, with the token convention of
``keras_dlbasic.data.synthetic`` (PAD = 0, BOS, EOS). The loss and the token
accuracy skip padding through a sample weight of 0. Teacher forcing makes
token accuracy easy: evaluation also decodes greedily, one token at a time
from BOS as at inference, and ``test_sequence_accuracy`` is the share of
whole outputs (up to EOS) that are exactly right.
"""
import keras
import numpy as np

from keras_dlbasic.data.synthetic import BOS, EOS, PAD
from keras_dlbasic.tasks.base import Task, sparse_crossentropy


class SequenceToSequence(Task):
    monitor = ("val_token_accuracy", "max")

    def prepare(self, data, spec):
        return data

    def builder_kwargs(self, data):
        return {"vocab_size": data.num_classes}

    def compile_kwargs(self, model):
        return {
            "loss": sparse_crossentropy(model),
            "weighted_metrics": [keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
        }

    def sample_weight(self, y):
        return (y != PAD).astype("float32")

    def evaluate(self, model, data, batch_size=256):
        from keras_dlbasic.chapters.ch05 import greedy_decode

        metrics = super().evaluate(model, data, batch_size)
        x_test, y_test = data.arrays("test")
        decoded = greedy_decode(model, x_test["encoder_tokens"], max_length=y_test.shape[1],
                                bos_id=BOS, eos_id=EOS, pad_id=PAD)
        metrics["test_sequence_accuracy"] = float(np.mean(
            [until_eos(a) == until_eos(b) for a, b in zip(decoded, y_test)]))
        return metrics


def until_eos(tokens):
    """The tokens of one row before its first EOS (or all of them), padding dropped."""
    tokens = list(np.asarray(tokens))
    end = tokens.index(EOS) if EOS in tokens else len(tokens)
    return [t for t in tokens[:end] if t != PAD]
