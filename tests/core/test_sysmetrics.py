"""System metrics: sampled by the background thread while a real run is active, stored as
``system/...`` metrics; configurable and off-switchable."""

from __future__ import annotations

import sys
import time

import pytest

import nbtrack
from nbtrack import sysmetrics

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc figures are Linux's")


def test_interval_from_option_and_environment():
    assert sysmetrics.interval_for(None, {}) == sysmetrics.DEFAULT_INTERVAL
    assert sysmetrics.interval_for(None, {"NBTRACK_SYSTEM_METRICS": "off"}) is None
    assert sysmetrics.interval_for(None, {"NBTRACK_SYSTEM_METRICS": "30"}) == 30.0
    assert sysmetrics.interval_for(False, {}) is None
    assert sysmetrics.interval_for(2, {}) == 2.0
    assert sysmetrics.interval_for(0, {}) is None
    assert sysmetrics.interval_for(True, {"NBTRACK_SYSTEM_METRICS": "off"}) == sysmetrics.DEFAULT_INTERVAL
    with pytest.raises(ValueError, match="NBTRACK_SYSTEM_METRICS='soon'"):
        sysmetrics.interval_for(None, {"NBTRACK_SYSTEM_METRICS": "soon"})
    with pytest.raises(ValueError, match="system_metrics must be"):
        nbtrack.track("x", system_metrics="often")
    assert nbtrack.active_run() is None  # a bad option starts no run


def test_nvidia_smi_output_is_parsed():
    text = "37, 1024, 16384\n[N/A], 10, 100\n"
    assert sysmetrics.parse_nvidia_smi(text) == {
        "gpu0_utilization_percent": 37.0, "gpu0_memory_mb": 1024.0, "gpu0_memory_percent": 6.25}


def _run(seconds: float, busy: bool) -> str:
    with nbtrack.track("sys", system_metrics=0.2) as run:
        deadline = time.monotonic() + seconds
        total = 0
        while time.monotonic() < deadline:
            if busy:
                total += sum(range(1000))
            else:
                time.sleep(0.05)
        nbtrack.log_metric("done", total)
    return run.run_id


@linux
def test_a_run_records_cpu_and_memory_every_interval():
    nbtrack.track("warm", system_metrics=False).end()  # the environment capture of a first run
    busy, idle = _run(1.2, busy=True), _run(1.2, busy=False)
    record = nbtrack.get_run(busy)
    keys = {k for k in record.metrics if k.startswith("system/")}
    assert {"system/cpu_percent", "system/memory_percent", "system/process_cpu_percent",
            "system/process_memory_mb"} <= keys
    history = record.metric_history("system/process_cpu_percent")
    assert len(history) >= 4 and history.step.tolist() == list(range(len(history)))
    idle_history = nbtrack.get_run(idle).metric_history("system/process_cpu_percent")
    assert history.value.mean() > idle_history.value.mean() + 5  # the busy loop shows
    memory = record.metric_history("system/process_memory_mb").value
    assert (memory > 10).all() and (record.metric_history("system/memory_percent").value.between(0, 100)).all()


def test_off_by_option_environment_and_for_short_runs(monkeypatch):
    with nbtrack.track("sys", system_metrics=False) as quiet:
        time.sleep(0.3)
    with nbtrack.track("sys", system_metrics=5) as short:  # ends before its first sample
        pass
    monkeypatch.setenv("NBTRACK_SYSTEM_METRICS", "off")
    with nbtrack.track("sys") as by_env:
        time.sleep(0.3)
    for run in (quiet, short, by_env):
        assert not [k for k in nbtrack.get_run(run.run_id).metrics if k.startswith("system/")]


def test_system_metrics_are_not_default_columns_nor_the_headline():
    from types import SimpleNamespace

    from nbtrack.dashboards.columns import default_columns
    from nbtrack.headline import headline_key

    summary = SimpleNamespace(params={}, metrics={"acc": (0, 1), "system/cpu_percent": (0, 100)}, tags={})
    assert default_columns(summary) == ["metrics.acc"]
    assert headline_key(["system/cpu_percent", "zeta"]) == "zeta"
    assert headline_key(["system/cpu_percent"]) == "system/cpu_percent"
