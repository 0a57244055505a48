"""``--html PATH``: one self-contained file (inline SVG plots drawn by matplotlib, inline CSS, no script,
no URL to fetch), so the report opens offline and can be mailed or attached as it is."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .8em; border-bottom: 1px solid #ddd; }
th { text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.warn { color: #a00; font-weight: bold; } figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
"""


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE (it names a DTD by URL)
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # the RDF block names URLs too


def _plots(result: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, and searchable
    # the drain after the run (answers still arriving, no new requests) and slivers of an interval would
    # only draw noise: not drawn, though the JSON keeps them
    width, duration = result["config"]["interval_s"], result["config"]["duration_s"]
    rows = [r for r in result["timeline"] if r["width_s"] >= width / 4 and (not duration or r["t_s"] < duration)]
    t = [r["t_s"] + r["width_s"] / 2 for r in rows]  # drawn at the middle of their interval
    unit = "event delay" if result["counts"] == "events" else "latency"
    out = []

    matplotlib.rcParams["svg.hashsalt"] = "latency"  # distinct clip-path ids per inline SVG
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for key, label in (("max_ms", "max"), ("p99_ms", "p99"), ("p50_ms", "p50")):
        ax.plot(t, [r[key] for r in rows], marker=".", label=label)
    if any(r["max_ms"] for r in rows):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="time (s)", ylabel=f"{unit} (ms)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    out.append((f"{unit.capitalize()} over time (per {result['config']['interval_s']:g} s interval)", _svg(fig)))
    plt.close(fig)

    matplotlib.rcParams["svg.hashsalt"] = "percentiles"
    fig, ax = plt.subplots(figsize=(9, 3.2))
    curve = [(p, v) for p, v in result["percentile_curve_ms"] if p < 100]
    if curve:
        ax.plot([1 / (1 - p / 100) for p, _ in curve], [v for _, v in curve], marker=".")
        ticks = [t for t in (1, 2, 10, 100, 1000, 10000, 100000) if t <= 1 / (1 - curve[-1][0] / 100) * 10]
        ax.set_xscale("log")
        ax.set_xticks(ticks, [f"{100 - 100 / t:g}%" for t in ticks])
    ax.set(xlabel="percentile", ylabel=f"{unit} (ms)")
    ax.grid(True, alpha=0.3)
    out.append((f"{unit.capitalize()} by percentile (whole run, HdrHistogram)", _svg(fig)))
    plt.close(fig)

    matplotlib.rcParams["svg.hashsalt"] = "throughput"
    fig, ax = plt.subplots(figsize=(9, 3.2))
    per_s = f"{result['counts']}/s"
    (rate,) = ax.plot(t, [r["requests_per_s"] for r in rows], marker=".", color="tab:blue", label=per_s)
    ax.set(xlabel="time (s)", ylabel=per_s, ylim=(0, None))
    ax.grid(True, alpha=0.3)
    twin = ax.twinx()
    (mbs,) = twin.plot(t, [r["mb_per_s"] for r in rows], marker="x", color="tab:green", label="MB/s")
    twin.set(ylabel="MB/s", ylim=(0, None))
    ax.legend(handles=[rate, mbs], loc="lower right")
    out.append(("Throughput over time", _svg(fig)))
    plt.close(fig)
    return out


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = []
    for key, value in rows:
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        cells.append(f"<tr><th>{html.escape(key)}</th><td class=n>{html.escape(shown)}</td></tr>")
    return "<table>" + "".join(cells) + "</table>"


def render(result: dict[str, Any]) -> str:
    cfg = result["config"]
    e = html.escape
    lat = result["latency_ms"]
    parts = [
        "<!doctype html><html><head><meta charset=utf-8>",
        f"<title>perf load {e(cfg['scenario'])}</title><style>{CSS}</style></head><body>",
        f"<h1>perf load: {e(cfg['scenario'])} against {e(cfg['target'])}</h1>",
        f"<p>{e(result['machine']['date'])} · {e(result['machine']['cpu'])} · "
        f"{result['machine']['usable_cpus']} usable CPUs · stopped by {e(result['stopped_by'])}</p>",
    ]
    parts += [
        f"<p class=warn>Generator saturated: {e(r)}. These figures measure the generator.</p>"
        for r in result["generator"]["reasons"]
    ]
    parts.append("<h2>Summary</h2>")
    parts.append(
        _table(
            [
                (result["counts"], result["requests"]),
                ("ok", result["ok"]),
                ("errors", result["errors"]),
                (f"{result['counts']}/s", result["requests_per_s"]),
                ("MB/s", result["mb_per_s"]),
                ("elapsed s", result["elapsed_s"]),
                *((f"{k} ms", lat[k]) for k in ("p50", "p90", "p99", "p99_9", "max")),
            ]
        )
    )
    if "service_ms" in result:
        p99 = result["service_ms"]["p99"]
        parts.append(
            "<p>Open loop: latency counts from each request's intended send time. From the actual send "
            f"(what coordinated omission would report): p99 {p99:.3f} ms.</p>"
        )
    if result["errors_by_code"]:
        parts.append("<h2>Errors by code</h2>" + _table(list(result["errors_by_code"].items())))
    parts.append(
        "<h2>Operations</h2><table><tr><th>op</th><th>kind</th><th>per s</th><th>MB/s</th><th>p50 ms</th>"
        "<th>p99 ms</th><th>max ms</th><th>errors</th></tr>"
    )
    for name, op in result["ops"].items():
        ol = op["latency_ms"]
        parts.append(
            f"<tr><td>{e(name)}</td><td>{e(op['kind'])}</td><td class=n>{op['requests_per_s']:.1f}</td>"
            f"<td class=n>{op['mb_per_s']:.2f}</td><td class=n>{ol['p50']:.3f}</td>"
            f"<td class=n>{ol['p99']:.3f}</td><td class=n>{ol['max']:.3f}</td>"
            f"<td class=n>{op['errors']}</td></tr>"
        )
    parts.append("</table>")
    for title, svg in _plots(result):
        parts.append(f"<h2>{e(title)}</h2><figure>{svg}</figure>")
    gen = result["generator"]
    parts.append(
        "<h2>Generator</h2>"
        + _table(
            [
                ("processes", gen["procs"]),
                ("CPU % per process", ", ".join(f"{c:.0f}" for c in gen["cpu_percent"])),
                *((("schedule lag p99 ms", gen["schedule_lag_ms"]["p99"]),) if "schedule_lag_ms" in gen else ()),
            ]
        )
    )
    parts.append("<h2>Configuration</h2>" + _table([(k, v) for k, v in cfg.items()]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write(result: dict[str, Any], path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(result))
    return out
