"""Downsampling a long metric history for plotting: min/max per step bucket, in one
vectorised pass.

A curve of a million points cannot be drawn usefully on a plot a thousand pixels wide.
Keeping, for each of ``buckets`` equal step ranges, the point with the smallest and the
point with the largest value draws the same envelope as every point would (a spike is
never lost), with at most ``2 * buckets`` points. Each kept point is an exact logged
point (its own step, value and time). Pure numpy, no store: the database does the same
bucketing in :mod:`nbtrack.dashboards.histories` when the points are too many to fetch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def bucket_width(low: int, high: int, buckets: int) -> int:
    """The step width of ``buckets`` equal buckets covering steps ``low..high`` (at least 1)."""
    span = int(high) - int(low) + 1
    return max(1, -(-span // max(1, int(buckets))))


def minmax_indices(steps: Any, values: Any, buckets: int) -> np.ndarray:
    """Indices (sorted by position) of the min and max value in each step bucket.

    ``steps`` must be sorted ascending. NaN values are kept only in buckets holding
    nothing else, so a gap in a curve stays a gap. With ``len(steps) <= 2 * buckets``
    every index is returned.
    """
    steps = np.asarray(steps, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    n = len(steps)
    if n <= 2 * buckets:
        return np.arange(n)
    width = bucket_width(steps[0], steps[-1], buckets)
    bucket = (steps - steps[0]) // width
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    finite = np.isfinite(values)
    low = np.where(finite, values, np.inf)
    high = np.where(finite, values, -np.inf)
    # argmin/argmax per bucket: sort by (bucket, value) once with lexsort is O(n log n);
    # reduceat finds each bucket's extreme values, then a comparison finds their positions.
    bucket_min = np.minimum.reduceat(low, starts)
    bucket_max = np.maximum.reduceat(high, starts)
    sizes = np.diff(np.r_[starts, n])
    is_min = low == np.repeat(bucket_min, sizes)
    is_max = high == np.repeat(bucket_max, sizes)
    first_min = _first_true_per_bucket(is_min, starts, n)
    first_max = _first_true_per_bucket(is_max, starts, n)
    empty = ~np.isfinite(bucket_min)  # only NaN (or inf) in the bucket: keep its first point
    first_min[empty] = starts[empty]
    first_max[empty] = starts[empty]
    return np.unique(np.r_[first_min, first_max])


def _first_true_per_bucket(flags: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """For each bucket starting at ``starts``, the index of its first True flag (the start when none)."""
    positions = np.where(flags, np.arange(n), n)
    first = np.minimum.reduceat(positions, starts)
    return np.where(first < n, first, starts)


def minmax_downsample(frame: Any, buckets: int) -> Any:
    """A ``metric_histories`` DataFrame with each run's points reduced to min/max per bucket."""
    import pandas as pd

    if frame is None or len(frame) <= 2 * buckets:
        return frame
    parts = []
    for _run_id, part in frame.groupby("run_id", sort=False):
        part = part.sort_values("step", kind="stable")
        keep = minmax_indices(part["step"].to_numpy(), part["value"].to_numpy(), buckets)
        parts.append(part.iloc[keep])
    return pd.concat(parts, ignore_index=True) if parts else frame


__all__ = ["bucket_width", "minmax_indices", "minmax_downsample"]
