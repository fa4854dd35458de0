"""Text tables for ``dlbasic summary`` and the chapter scripts."""
from keras_dlbasic.accounting import layer_table, model_stats
from keras_dlbasic.registry import get_model, model_info, shapes_only


def format_table(headers, rows, align=None):
    """Plain-text table; ``align`` is a string of 'l'/'r' per column (default: left, then right)."""
    rows = [[str(cell) for cell in row] for row in rows]
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([line([str(h) for h in headers]), rule, *map(line, rows)])


def format_markdown(headers, rows):
    """GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def count(n):
    return f"{n:,}"


def macs(n):
    """Human-readable MACs: 4.09 G, 12.3 M, 950 K."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return str(n)


def shape(s):
    return "(" + ", ".join("None" if d is None else str(d) for d in s) + ")"


def model_summary(model, name=None):
    """Per-layer table (output shape, parameters, MACs) and totals.

    If ``name`` is a registered model, its reference count is printed beside
    the computed one.
    """
    rows = layer_table(model)
    stats = model_stats(model, rows)
    table = format_table(
        ["Layer (type)", "Output shape", "Params", "MACs"],
        [[f"{r.name} ({r.kind})", shape(r.output_shape) if not isinstance(r.output_shape[0], tuple)
          else ", ".join(map(shape, r.output_shape)), count(r.params), count(r.macs)]
         for r in rows],
    )
    lines = [
        f'Model: "{model.name}"  input {shape(model.input_shape)}',
        table,
        f"Total params:         {count(stats.params)}",
        f"Trainable params:     {count(stats.trainable)}",
        f"Non-trainable params: {count(stats.non_trainable)}",
        f"Multiply-accumulates: {count(stats.macs)} ({macs(stats.macs)}) per example",
        f"Weight layers: {stats.depth}; fully connected share of params: {stats.fc_share:.1%}",
    ]
    if name is not None:
        spec = model_info(name)
        verdict = "matches" if stats.params == spec.reference_params else "DIFFERS"
        lines.append(f"Reference params:     {count(spec.reference_params)} "
                     f"({spec.params_source}) - {verdict}")
    return "\n".join(lines)


def compare_models(names, **overrides):
    """One row per model: depth, parameters, reference, MACs, FC share."""
    rows = []
    for name in names:
        spec = model_info(name)
        with shapes_only():
            model = get_model(name, **overrides)
        stats = model_stats(model)
        rows.append([spec.name, shape(model.input_shape[1:]), stats.depth, count(stats.params),
                     count(spec.reference_params), macs(stats.macs), f"{stats.fc_share:.1%}"])
    return format_table(
        ["Model", "Input", "Weight layers", "Params", "Reference", "MACs", "FC share"], rows
    )
