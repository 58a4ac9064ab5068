"""`--report FILE` for `assistant eval` and `assistant bench`: one self-contained HTML file, its pictures
drawn with matplotlib (the optional `report` extra) and embedded as base64 PNGs.

    accuracy_figure   per-intent accuracy bars, one colour per system (this model, hassil)
    latency_figure    latency histograms, one panel per measured path
    write_report      the HTML page: title, tables of figures, the pictures

matplotlib is imported only here and only when a report is asked for (``require`` fails fast, before the
evaluation runs, with the install command). Figures are made with ``matplotlib.figure.Figure`` and never
pyplot, so no GUI backend and no global state are involved.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssistantError
from ..paths import install_hint


@dataclass(frozen=True)
class Section:
    title: str
    table: Sequence[Sequence[str]] = ()
    """Rows of cells; the first row is the header. Empty: no table."""
    png: bytes | None = None
    """A picture, PNG bytes (from ``accuracy_figure`` or ``latency_figure``)."""
    note: str = ""


def require() -> None:
    """Raise AssistantError naming the extra when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise AssistantError(f"--report needs matplotlib: {install_hint('report')}") from None


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def accuracy_figure(accuracy: Mapping[str, Mapping[str, tuple[int, int]]]) -> bytes:
    """Horizontal bars: for each intent (rows, as in the first system), each system's share right.

    ``accuracy[system][intent] = (right, examples)``; an intent a system was not scored on is drawn as 0.
    """
    from matplotlib.figure import Figure

    systems = list(accuracy)
    intents = list(next(iter(accuracy.values()))) if accuracy else []
    height = 0.8 / max(1, len(systems))
    figure = Figure(figsize=(8, 1.2 + 0.32 * len(intents) * max(1, len(systems)) ** 0.5), layout="constrained")
    axes = figure.subplots()
    for i, system in enumerate(systems):
        shares = []
        for intent in intents:
            right, n = accuracy[system].get(intent, (0, 0))
            shares.append(100 * right / n if n else 0.0)
        positions = [row + (i - (len(systems) - 1) / 2) * height for row in range(len(intents))]
        axes.barh(positions, shares, height=height, label=system)
    labels = [f"{intent} (n={next(iter(accuracy.values()))[intent][1]})" for intent in intents]
    axes.set_yticks(range(len(intents)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("right, %")
    axes.grid(axis="x", alpha=0.3)
    if len(systems) > 1:
        axes.legend(loc="lower right", fontsize=8)
    return _png(figure)


def latency_figure(samples_ms: Mapping[str, Sequence[float]]) -> bytes:
    """One histogram per path (``samples_ms[name]``, milliseconds), p50 and p95 marked."""
    import statistics

    from matplotlib.figure import Figure

    names = [name for name, samples in samples_ms.items() if samples]
    figure = Figure(figsize=(8, 2.2 * max(1, len(names))), layout="constrained")
    panels = figure.subplots(max(1, len(names)), 1, squeeze=False)[:, 0]
    for axes, name in zip(panels, names):
        samples = list(samples_ms[name])
        marks = [("p50", statistics.median(samples))]
        # the axis stops at p99: a few slow outliers (the first call, a GC pause) would squash the rest
        top = max(samples)
        if len(samples) > 1:
            cuts = statistics.quantiles(samples, n=100, method="inclusive")
            marks.append(("p95", cuts[94]))
            top = min(top, cuts[98] * 1.1)
        axes.hist(samples, bins=40, range=(min(samples), max(top, min(samples) + 1e-3)), color="tab:blue", alpha=0.8)
        for row, (label, value) in enumerate(marks):
            axes.axvline(value, color="tab:red" if label == "p95" else "black", linestyle="--", linewidth=1)
            axes.annotate(f"{label} {value:.2f}", (value, 1), xycoords=("data", "axes fraction"), fontsize=8,
                          xytext=(3, -12 - 11 * row), textcoords="offset points")  # fmt: skip
        beyond = sum(v > top for v in samples)
        cut = f", {beyond} beyond the axis (max {max(samples):.2f})" if beyond else ""
        axes.set_title(f"{name} (n={len(samples)}{cut})", fontsize=9, loc="left")
        axes.set_xlabel("ms")
        axes.set_ylabel("count")
    return _png(figure)


def write_report(path: Path, title: str, sections: Sequence[Section]) -> Path:
    """The page, written to ``path`` (its folder must exist); returns the path."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
        "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}</style>",
        f"</head><body><h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{html.escape(section.note)}</p>")
        if section.table:
            header, *rows = section.table
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>")
            parts.extend("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
            parts.append("</table>")
        if section.png is not None:
            data = base64.b64encode(section.png).decode("ascii")
            parts.append(f'<img alt="{html.escape(section.title)}" src="data:image/png;base64,{data}">')
    parts.append("</body></html>\n")
    try:
        path.write_text("\n".join(parts), encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"cannot write the report: {exc}") from None
    return path
