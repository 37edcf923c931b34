"""A Keras-style text table of a network: one row per layer, then the totals, dtype and backend.

Shapes follow the library's layout, examples as columns: a layer of ``n_l`` units
outputs ``(n_l, m)``.
"""

from __future__ import annotations

HEADER = ("Layer", "Output shape", "Activation", "Params")


def layer_rows(layer_dims, hidden: str, output: str) -> list[tuple[str, str, str, int]]:
    """``(name, output shape, activation, parameter count)`` for the input and each layer.

    Layer ``l`` holds ``W_l: (n_l, n_{l-1})`` and ``b_l: (n_l, 1)``, so ``n_l * (n_{l-1} + 1)``
    parameters.
    """
    rows = [("input", f"({layer_dims[0]}, m)", "-", 0)]
    last = len(layer_dims) - 1
    for l in range(1, last + 1):
        n_prev, n = layer_dims[l - 1], layer_dims[l]
        kind = "output" if l == last else "hidden"
        rows.append((f"{kind} {l}", f"({n}, m)", output if l == last else hidden, n * (n_prev + 1)))
    return rows


def format_summary(layer_dims, hidden: str, output: str, dtype: str, backend: str, device: str) -> str:
    """The table as text (lines joined by newlines, no trailing newline)."""
    rows = layer_rows(layer_dims, hidden, output)
    total = sum(row[3] for row in rows)
    cells = [HEADER] + [(name, shape, act, f"{count:,}") for name, shape, act, count in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]

    def line(row):
        *text, count = row
        return "  ".join(f"{cell:<{w}}" for cell, w in zip(text, widths)) + f"  {count:>{widths[-1]}}"

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    itemsize = {"float32": 4, "float64": 8}[dtype]
    return "\n".join([
        f"Network {layer_dims}",
        line(cells[0]),
        "=" * rule_width,
        *(line(row) for row in cells[1:]),
        "=" * rule_width,
        f"Total params: {total:,} ({_size(total * itemsize)})",
        f"dtype: {dtype}",
        f"backend: {backend} on {device}",
    ])


def _size(nbytes: int) -> str:
    """``136 B``, ``1.25 KB``, ``3.01 MB``: the parameters' memory in the model's dtype."""
    if nbytes < 1024:
        return f"{nbytes} B"
    if nbytes < 1024 ** 2:
        return f"{nbytes / 1024:.2f} KB"
    return f"{nbytes / 1024 ** 2:.2f} MB"
