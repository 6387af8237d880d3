"""Printing an optimizer trace as JSON, CSV or a readable table."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


def render(run: Any, output_format: str) -> str:
    """``run`` is a :class:`grader.tracing.TraceRun`; JSON keeps full float precision."""
    trace = run.trace
    if output_format == "json":
        return json.dumps(trace.to_json()) + "\n"
    names = list(run.variables)
    header = ["t", *names, "f", *(f"df/d{n}" for n in names)]
    rows = [
        [t, *map(float, x), float(value), *map(float, g)]
        for t, (x, value, g) in enumerate(zip(trace.iterates, trace.values, trace.gradients, strict=False))
    ]
    if output_format == "csv":
        stream = io.StringIO()
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([[t, *(repr(v) for v in rest)] for t, *rest in rows])
        return stream.getvalue()
    cells = [header] + [[str(t), *(f"{v:.10g}" for v in rest)] for t, *rest in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
