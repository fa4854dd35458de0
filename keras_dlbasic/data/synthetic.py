"""Synthetic sequence tasks for chapters 4–5 (numpy only, deterministic per seed).

* ``adding_problem`` — Hochreiter & Schmidhuber, "Long Short-Term Memory",
  1997 (experiment 4), in the form of Le, Jaitly & Hinton 2015: a value
  channel U(0, 1) and a marker channel with two 1s, one in each half; the
  target is the sum of the two marked values. Predicting 1.0 always gives
  MSE = Var(u1 + u2) = 2/12 ≈ 0.167 (``ADDING_BASELINE_MSE``): a model must beat
  it, which needs memory over ~length/2 steps.
* ``digit_reversal`` / ``digit_sort`` — seq2seq pairs of digit strings for the
  small Transformer: source "3 1 4", target "4 1 3" (or "1 3 4"), with PAD,
  BOS and EOS tokens.
* ``trimmed`` / ``omitted`` / ``permuted`` (``hard_sequence_variants``) — the
  lecture's reasons sequences are hard: the length is not fixed, parts can be
  missing, and the order carries the meaning.

Nothing here imports keras.
"""
import numpy as np

PAD, BOS, EOS = 0, 1, 2
DIGIT_OFFSET = 3  # digit d is token d + 3
VOCAB_SIZE = DIGIT_OFFSET + 10
ADDING_BASELINE_MSE = 1.0 / 6.0


def adding_problem(num_examples, length=100, seed=0):
    """The adding problem.

    Args:
        num_examples: number of sequences.
        length: time steps per sequence (at least 2).
        seed: random seed.

    Returns:
        ``x`` float32 (num_examples, length, 2): channel 0 values U(0, 1),
        channel 1 markers (two 1s, one in each half); ``y`` float32
        (num_examples,), the sum of the two marked values.
    """
    if length < 2:
        raise ValueError(f"length must be at least 2; got length={length}")
    rng = np.random.default_rng(seed)
    values = rng.random((num_examples, length), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, size=num_examples)
    second = rng.integers(half, length, size=num_examples)
    markers = np.zeros((num_examples, length), dtype=np.float32)
    rows = np.arange(num_examples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)  # (N, T, 2)
    y = values[rows, first] + values[rows, second]  # (N,)
    return x, y.astype(np.float32)


def digit_pairs(num_examples, min_length=3, max_length=10, task="reverse", seed=0):
    """Source/target digit strings as token arrays for teacher forcing.

    Args:
        num_examples: number of pairs.
        min_length, max_length: digit-string lengths, drawn uniformly.
        task: ``"reverse"`` or ``"sort"``.
        seed: random seed.

    Returns:
        dict of int32 arrays:
        ``encoder_tokens`` (N, max_length): the digits, PAD after;
        ``decoder_tokens`` (N, max_length + 1): BOS + target, PAD after;
        ``targets`` (N, max_length + 1): target + EOS, PAD after (the
        decoder input shifted left by one: the next token at each step).
    """
    if task not in ("reverse", "sort"):
        raise ValueError(f"task must be 'reverse' or 'sort'; got task={task!r}")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length; got {min_length}, {max_length}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=num_examples)
    source = np.full((num_examples, max_length), PAD, dtype=np.int32)
    decoder = np.full((num_examples, max_length + 1), PAD, dtype=np.int32)
    targets = np.full((num_examples, max_length + 1), PAD, dtype=np.int32)
    for row, n in enumerate(lengths):
        digits = rng.integers(0, 10, size=n) + DIGIT_OFFSET
        answer = digits[::-1] if task == "reverse" else np.sort(digits)
        source[row, :n] = digits
        decoder[row, 0] = BOS
        decoder[row, 1 : n + 1] = answer
        targets[row, :n] = answer
        targets[row, n] = EOS
    return {"encoder_tokens": source, "decoder_tokens": decoder, "targets": targets}


def digit_reversal(num_examples, min_length=3, max_length=10, seed=0):
    """``digit_pairs`` with target = the source reversed."""
    return digit_pairs(num_examples, min_length, max_length, task="reverse", seed=seed)


def digit_sort(num_examples, min_length=3, max_length=10, seed=0):
    """``digit_pairs`` with target = the source sorted."""
    return digit_pairs(num_examples, min_length, max_length, task="sort", seed=seed)


def seq2seq_fit_arrays(pairs):
    """``(inputs, targets, sample_weight)`` for ``model.fit`` from ``digit_pairs``.

    ``inputs`` is a dict keyed by the Transformer's input names; the weight is
    0 at padded target positions, so loss and (weighted) metrics skip them.
    """
    inputs = {"encoder_tokens": pairs["encoder_tokens"], "decoder_tokens": pairs["decoder_tokens"]}
    targets = pairs["targets"]
    return inputs, targets, (targets != PAD).astype(np.float32)


def tokens_to_digits(tokens):
    """Readable strings from token rows: digits up to the first EOS, PAD/BOS skipped."""
    strings = []
    for row in np.asarray(tokens):
        out = []
        for token in row:
            if token == EOS:
                break
            if token >= DIGIT_OFFSET:
                out.append(str(token - DIGIT_OFFSET))
        strings.append("".join(out))
    return strings


# --- Why sequences are hard: trimmed, omitted, permuted ----------------------------


def trimmed(sequences, length):
    """Only the first ``length`` steps (the rest was never observed). Time is axis 1."""
    return sequences[:, :length]


def omitted(sequences, start, stop):
    """The steps ``start:stop`` missing from the middle. Time is axis 1."""
    return np.concatenate([sequences[:, :start], sequences[:, stop:]], axis=1)


def permuted(sequences, seed=0):
    """The same steps in a random order (one permutation for the batch). Time is axis 1."""
    order = np.random.default_rng(seed).permutation(sequences.shape[1])
    return sequences[:, order]


def hard_sequence_variants(sequences, seed=0):
    """The lecture's three variants of a batch (N, T, ...): first 2/3 kept,
    middle third omitted, time steps permuted; plus the original."""
    steps = sequences.shape[1]
    third = steps // 3
    return {
        "original": sequences,
        "trimmed": trimmed(sequences, steps - third),
        "omitted": omitted(sequences, third, steps - third),
        "permuted": permuted(sequences, seed),
    }


# --- The registered datasets (``--dataset adding_problem`` etc.) ---------------------
_SIZES = (10_000, 1_000, 1_000)  # adding problem: train / validation / test
_SEQ2SEQ_SIZES = (20_000, 1_000, 1_000)


def load(name, data_dir=None):
    """The registered synthetic dataset ``name`` as ``Splits`` (seeds 0/1/2 per split).

    ``data_dir`` is accepted for symmetry with the other loaders and ignored.
    """
    from keras_dlbasic.data import Splits

    if name == "adding_problem":
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
            adding_problem(n, length=100, seed=seed) for seed, n in enumerate(_SIZES)
        )
        return Splits(name, x_train, y_train, x_val, y_val, x_test, y_test,
                      num_classes=0, kind="regression")
    task = {"digit_reversal": "reverse", "digit_sort": "sort"}[name]
    splits = []
    for seed, n in enumerate(_SEQ2SEQ_SIZES):
        inputs, targets, _ = seq2seq_fit_arrays(digit_pairs(n, task=task, seed=seed))
        splits += [inputs, targets]
    return Splits(name, *splits, num_classes=VOCAB_SIZE, kind="seq2seq")
