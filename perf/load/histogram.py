"""HdrHistogram in microseconds: one shape everywhere, merged across processes via the encoded form.

Values are recorded in whole microseconds from 1 µs to one hour with 3 significant digits (0.1 %
resolution), so any latency a run can see fits and a merge never loses precision.
"""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
DIGITS = 3
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record_s(histogram: HdrHistogram, seconds: float) -> None:
    """Record a duration given in seconds, clamped into the histogram's range."""
    histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(seconds * 1e6))))


def encode(histogram: HdrHistogram) -> bytes:
    return bytes(histogram.encode())


def merge(encoded: list[bytes]) -> HdrHistogram:
    """One histogram holding every count of the encoded ones (from any process)."""
    total = new()
    for blob in encoded:
        if blob:
            total.add(HdrHistogram.decode(blob))
    return total


def summary_ms(histogram: HdrHistogram) -> dict[str, float]:
    """count, min, mean, p50, p90, p99, p99_9 and max in milliseconds (zeros when nothing was recorded)."""
    count = histogram.get_total_count()
    out: dict[str, float] = {"count": count}
    if not count:
        return {**out, "min": 0.0, "mean": 0.0, **{_key(p): 0.0 for p in PERCENTILES}, "max": 0.0}
    out["min"] = histogram.get_min_value() / 1000
    out["mean"] = histogram.get_mean_value() / 1000
    for p in PERCENTILES:
        out[_key(p)] = histogram.get_value_at_percentile(p) / 1000
    out["max"] = histogram.get_max_value() / 1000
    return out


def _key(p: float) -> str:
    return "p" + f"{p:g}".replace(".", "_")


def percentile_curve_ms(histogram: HdrHistogram, ticks_per_half: int = 5) -> list[list[float]]:
    """[percentile, value ms] pairs, denser towards the tail (HdrHistogram's percentile iterator)."""
    if not histogram.get_total_count():
        return []
    points: list[list[float]] = []
    for item in histogram.get_percentile_iterator(ticks_per_half):
        point = [round(float(item.percentile), 6), item.value_iterated_to / 1000]
        if not points or points[-1] != point:
            points.append(point)
    return points


def as_json(histogram: HdrHistogram) -> dict[str, Any]:
    return {"summary_ms": summary_ms(histogram), "encoded": encode(histogram).decode("ascii")}
