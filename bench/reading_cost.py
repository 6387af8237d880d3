"""What reading an answer costs: the corpus's answers beside the worst shapes an attacker can type.

    python bench/reading_cost.py

Reads every answer of tests/data/answers.yaml with its part's reader, and 4,000-character answers
built to stress each step (nested brackets, thousands of commas, equals signs, fractions that grow
under normalisation, bold markers, notes in parentheses, lines), each with every reader. Prints
the median and the worst time per answer of both, and their ratio to reading a plain list of six
numbers in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.checking.reading import (  # noqa: E402
    ReadError,
    read_choice,
    read_expression,
    read_interval,
    read_labels,
    read_matrix,
    read_number,
    read_sequence,
    read_vector,
)

READERS = {
    "number": read_number,
    "vector": lambda t: read_vector(t, 2),
    "sequence": read_sequence,
    "matrix": lambda t: read_matrix(t, (2, 2)),
    "interval": read_interval,
    "labels": lambda t: read_labels(t, 5),
    "choice": read_choice,
    "expression": lambda t: read_expression(t, ("x", "y")),
}
HOSTILE = {
    "nested brackets": "(" * 1999 + "1" + ")" * 1999,
    "commas": "1," * 1999 + "1",
    "decimal commas": "1,2 " * 1000,
    "equals signs": "1=" * 1999 + "1",
    "arrows": "1 → " * 1000,
    "fractions that grow": "3⅓" * 1999,
    "superscripts": "2⁻¹" * 1333,
    "bold markers": "**a " * 1000,
    "notes": "1 (a " * 800,
    "words": "ab " * 1333,
    "lines": "1\n" * 1999,
    "LaTeX": "\\frac{" * 666,
    "rounding": "ceil(" * 800,
    "labels": "a:" * 1999,
}


def seconds(reader, answer) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        reader(answer)
    except ReadError:
        pass
    return time.perf_counter() - start


def main() -> int:
    corpus = yaml.safe_load((ROOT / "tests" / "data" / "answers.yaml").read_text(encoding="utf-8"))
    plain = statistics.median(seconds(read_sequence, "4, 2, 1, 0.5, 0.25, 0.125") for _ in range(200))
    typed = []
    for answers in corpus.values():
        for entry in answers:
            for reader in (read_number, read_sequence, lambda t: read_vector(t, 2)):
                typed.append(seconds(reader, entry["answer"]))
    hostile = {
        (name, kind): seconds(reader, text) for name, text in HOSTILE.items() for kind, reader in READERS.items()
    }
    worst = max(hostile, key=hostile.get)
    print(f"a plain list of six numbers          {plain * 1e3:7.3f} ms (the unit below)")
    print(
        f"corpus answers ({len(typed)} reads)          median {statistics.median(typed) * 1e3:7.3f} ms"
        f" ({statistics.median(typed) / plain:5.1f}x), worst {max(typed) * 1e3:7.2f} ms ({max(typed) / plain:5.1f}x)"
    )
    print(
        f"hostile 4,000-character answers       median {statistics.median(hostile.values()) * 1e3:7.3f} ms,"
        f" worst {hostile[worst] * 1e3:7.2f} ms ({hostile[worst] / plain:5.0f}x: {worst[0]} as {worst[1]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
