"""Reusable layers written from their equations with ``keras.ops`` only.

* ``recurrent``: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` (chapter 4);
* ``attention``: ``scaled_dot_product_attention``, ``MultiHeadAttention``,
  ``SinusoidalPositionalEncoding`` (chapter 5);
* ``masked``: ``MaskedConv2D`` (PixelCNN), ``NADEConditionals`` (chapter 6);
* ``pooling``: ``SpatialPyramidPooling``, ``RoIPooling`` (chapter 3);
* ``regions``: ``WindowProposals``, ``RegionProposals``, ``WarpRegions``,
  ``SplitRegions`` (chapter 3, two-stage detectors);
* ``transformer``: ``SharedEmbedding``, ``PaddingMask``,
  ``TransformerEncoderLayer``, ``TransformerDecoderLayer`` (chapter 5).

Importing this package imports keras.
"""
from keras_dlbasic.layers.attention import (
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from keras_dlbasic.layers.masked import MaskedConv2D, NADEConditionals
from keras_dlbasic.layers.pooling import RoIPooling, SpatialPyramidPooling
from keras_dlbasic.layers.recurrent import GRUCell, LSTMCell, SimpleRNNCell
from keras_dlbasic.layers.regions import RegionProposals, SplitRegions, WarpRegions, WindowProposals
from keras_dlbasic.layers.transformer import (
    PaddingMask,
    SharedEmbedding,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)

__all__ = [
    "GRUCell",
    "LSTMCell",
    "MaskedConv2D",
    "MultiHeadAttention",
    "NADEConditionals",
    "PaddingMask",
    "RegionProposals",
    "RoIPooling",
    "SharedEmbedding",
    "SimpleRNNCell",
    "SinusoidalPositionalEncoding",
    "SpatialPyramidPooling",
    "SplitRegions",
    "TransformerDecoderLayer",
    "TransformerEncoderLayer",
    "WarpRegions",
    "WindowProposals",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
]
