"""Queries at the edges: unicode keys, offsets without a limit, whole-float tags."""

from __future__ import annotations

import pytest

import nbtrack


def test_unicode_keys_can_be_filtered_and_sorted_without_backquotes(store_uri):
    with nbtrack.track("uni", params={"größe": 3}) as first:
        nbtrack.log_metric("précision", 0.9)
    with nbtrack.track("uni", params={"größe": 5}):
        nbtrack.log_metric("précision", 0.5)
    found = nbtrack.runs("uni", filter="metrics.précision > 0.8 and params.größe = 3")
    assert list(found["run_id"]) == [first.run_id]
    assert list(nbtrack.runs("uni", order_by="metrics.précision DESC")["run_id"])[0] == first.run_id


def test_an_offset_without_max_results_over_many_runs(store_uri):
    """More than 500 runs with an offset and no limit sent LIMIT -1: PostgreSQL refused it."""
    import time
    import uuid

    from nbtrack.store.batch import Batch

    now = time.time()
    ids = [uuid.uuid4().hex for _ in range(520)]
    nbtrack.get_store().write_batch(Batch(
        creates=[(run_id, "many", f"r{i}", now + i, None) for i, run_id in enumerate(ids)],
        tags=[(ids[0], "first", "yes")]))
    found = nbtrack.runs("many", offset=5)
    assert len(found) == len(ids) - 5
    assert found["run_id"].iloc[-1] == ids[0] and found["tags.first"].iloc[-1] == "yes"
    with pytest.raises(ValueError, match="max_results"):
        nbtrack.runs("many", max_results=-1)


def test_tags_set_from_whole_floats_match_the_same_number_in_a_filter(store_uri):
    """set_tag("v", 2.0) stores "2.0" but `tags.v = 2.0` compared with "2": nothing matched."""
    with nbtrack.track("tagnum", tags={"v": 2.0}) as floats:
        pass
    with nbtrack.track("tagnum", tags={"v": 2}) as ints:
        pass
    with nbtrack.track("tagnum", tags={"v": "3"}) as other:
        pass

    def found(text):
        return set(nbtrack.runs("tagnum", filter=text)["run_id"])

    assert found("tags.v = 2.0") == {floats.run_id, ints.run_id}
    assert found("tags.v = 2") == {ints.run_id}
    assert found("tags.v != 2.0") == {other.run_id}
    assert found("tags.v IN (2.0, 3)") == {floats.run_id, ints.run_id, other.run_id}
    assert found("tags.v NOT IN (2.0)") == {other.run_id}


def test_pages_ordered_by_a_metric_match_the_full_ordering(store_uri):
    """Pages ordered by a metric are read in index order in two parts (runs with a value, then runs
    without one): every page must be the same slice of the full ordering, across the boundary."""
    import random
    import time
    import uuid

    from nbtrack.store.batch import Batch

    rng = random.Random(7)
    now = time.time()
    batch = Batch()
    for i in range(40):
        run_id = uuid.uuid4().hex
        batch.creates.append((run_id, "pages", f"r{i:02d}", now + rng.choice([0, 1, 2, i]), None))
        if i % 5:  # some runs lack the metric, some hold NaN, many tie
            value = float("nan") if i % 7 == 0 else rng.choice([0.1, 0.2, 0.3, rng.random()])
            batch.latest[(run_id, "acc")] = (0, value, now)
        batch.params.append((run_id, "g", "i", str(i % 3), float(i % 3)))
    nbtrack.get_store().write_batch(batch)
    for order in (["metrics.acc DESC"], ["metrics.acc"], ["metrics.acc DESC", "params.g ASC"],
                  ["metrics.acc ASC", "name DESC"]):
        full = list(nbtrack.runs("pages", order_by=order)["run_id"])
        assert len(full) == 40
        for limit, offset in [(5, 0), (10, 25), (7, 28), (3, 31), (40, 0), (10, 35), (5, 45), (0, 3)]:
            page = list(nbtrack.runs("pages", order_by=order, max_results=limit, offset=offset)["run_id"])
            assert page == full[offset:offset + limit], (order, limit, offset)
        filtered = list(nbtrack.runs("pages", filter="params.g = 1", order_by=order)["run_id"])
        assert list(nbtrack.runs("pages", filter="params.g = 1", order_by=order, max_results=4,
                                 offset=9)["run_id"]) == filtered[9:13]
