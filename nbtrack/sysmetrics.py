"""System metrics: CPU, memory and (where NVIDIA's tools exist) GPU use, sampled by one
background thread while runs are active and logged as ``system/...`` metrics.

What is measured, every ``interval`` seconds (10 by default):

- ``system/cpu_percent``: the whole machine's CPU use since the last sample (0-100);
- ``system/memory_percent``: the machine's memory in use (total minus available);
- ``system/process_cpu_percent``: this process' CPU time over wall time, in percent of one
  core (a process busy on 4 cores shows 400);
- ``system/process_memory_mb``: this process' resident memory;
- ``system/gpu<i>_utilization_percent``, ``system/gpu<i>_memory_percent``,
  ``system/gpu<i>_memory_mb`` for each GPU, through NVML (the ``nvidia-ml-py`` package) when
  it is importable, else ``nvidia-smi`` when it is on the PATH.

On Linux the CPU and memory figures are read from ``/proc`` (a few small file reads, no
dependency). On other systems they come from ``psutil`` when it is installed; without it
only the GPU figures are recorded. The first sample is taken one interval after the run
starts and the last when it ends (a run shorter than one interval records none).

Turn it off or change the interval with ``NBTRACK_SYSTEM_METRICS`` (``off``/``0``, or
seconds such as ``30``) or per run with ``track(..., system_metrics=False | seconds)``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, Callable

DEFAULT_INTERVAL = 10.0
MIN_INTERVAL = 0.1
PREFIX = "system/"
_OFF = {"0", "off", "false", "no", "none", "disabled"}


def interval_for(option: Any = None, environ: dict[str, str] | None = None) -> float | None:
    """Seconds between samples for a run (None: off), from the ``system_metrics`` option
    (None: the environment), then ``NBTRACK_SYSTEM_METRICS``, then the default."""
    if option is False:
        return None
    if option is None or option is True:
        raw = (os.environ if environ is None else environ).get("NBTRACK_SYSTEM_METRICS", "").strip().lower()
        if not raw:
            return DEFAULT_INTERVAL
        if raw in _OFF:
            return None if option is None else DEFAULT_INTERVAL
        if raw in ("1", "on", "true", "yes"):
            return DEFAULT_INTERVAL
        try:
            option = float(raw)
        except ValueError:
            raise ValueError(f"NBTRACK_SYSTEM_METRICS={raw!r}: use 'off' or a number of seconds such as 10") from None
    if isinstance(option, bool) or not isinstance(option, (int, float)) or option != option:
        raise ValueError(f"system_metrics must be True, False or seconds between samples, not {option!r}")
    if option <= 0:
        return None
    return max(MIN_INTERVAL, float(option))


# -- readers -------------------------------------------------------------------------------------

class _CpuCounter:
    """CPU use between two calls: of the machine (/proc/stat) and of this process (/proc/self/stat)."""

    def __init__(self) -> None:
        self.last = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float]:
        with open("/proc/stat", "rb") as stat:
            fields = [float(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        times = os.times()
        return sum(fields[:8]), idle, times.user + times.system

    def sample(self, elapsed: float) -> dict[str, float]:
        total, idle, process = self._read()
        last_total, last_idle, last_process = self.last
        self.last = (total, idle, process)
        out: dict[str, float] = {}
        if total > last_total:
            out["cpu_percent"] = round(100.0 * (1.0 - (idle - last_idle) / (total - last_total)), 2)
        if elapsed > 0:
            out["process_cpu_percent"] = round(100.0 * (process - last_process) / elapsed, 2)
        return out


def _linux_memory() -> dict[str, float]:
    values: dict[str, float] = {}
    with open("/proc/meminfo", "rb") as meminfo:
        for line in meminfo:
            key, _, rest = line.partition(b":")
            if key in (b"MemTotal", b"MemAvailable"):
                values[key.decode()] = float(rest.split()[0])  # kB
    out = {}
    if values.get("MemTotal"):
        out["memory_percent"] = round(100.0 * (1 - values.get("MemAvailable", 0.0) / values["MemTotal"]), 2)
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmRSS:"):
                out["process_memory_mb"] = round(float(line.split()[1]) / 1024.0, 2)
    return out


class _PsutilReader:
    """The same figures through psutil (macOS, Windows)."""

    def __init__(self, psutil: Any) -> None:
        self.psutil = psutil
        self.process = psutil.Process()
        psutil.cpu_percent(None)
        self.process.cpu_percent(None)

    def sample(self, elapsed: float) -> dict[str, float]:
        return {"cpu_percent": float(self.psutil.cpu_percent(None)),
                "process_cpu_percent": float(self.process.cpu_percent(None)),
                "memory_percent": float(self.psutil.virtual_memory().percent),
                "process_memory_mb": round(self.process.memory_info().rss / 2**20, 2)}


def _host_reader() -> Callable[[float], dict[str, float]] | None:
    if sys.platform.startswith("linux") and os.path.exists("/proc/stat"):
        cpu = _CpuCounter()
        return lambda elapsed: {**cpu.sample(elapsed), **_linux_memory()}
    try:
        import psutil
    except ImportError:
        return None
    return _PsutilReader(psutil).sample


def _nvml_reader() -> Callable[[], dict[str, float]] | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:
        return None

    def read() -> dict[str, float]:
        out = {}
        for i, handle in enumerate(handles):
            utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            out.update(_gpu_figures(i, utilization.gpu, memory.used / 2**20, memory.total / 2**20))
        return out

    return read if handles else None


def _gpu_figures(index: int, utilization: float, used_mb: float, total_mb: float) -> dict[str, float]:
    out = {f"gpu{index}_utilization_percent": float(utilization), f"gpu{index}_memory_mb": round(float(used_mb), 1)}
    if total_mb:
        out[f"gpu{index}_memory_percent"] = round(100.0 * float(used_mb) / float(total_mb), 2)
    return out


def parse_nvidia_smi(text: str) -> dict[str, float]:
    """The figures of ``nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total
    --format=csv,noheader,nounits`` output (one line per GPU)."""
    out: dict[str, float] = {}
    for index, line in enumerate(row for row in text.splitlines() if row.strip()):
        parts = [p.strip() for p in line.split(",")]
        try:
            out.update(_gpu_figures(index, float(parts[0]), float(parts[1]), float(parts[2])))
        except (IndexError, ValueError):  # "[N/A]" on some boards
            continue
    return out


def _smi_reader() -> Callable[[], dict[str, float]] | None:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None

    def read() -> dict[str, float]:
        result = subprocess.run([smi, "--query-gpu=utilization.gpu,memory.used,memory.total",
                                 "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=5)
        return parse_nvidia_smi(result.stdout) if result.returncode == 0 else {}

    return read


class Sampler:
    """All figures of this machine; each reader that fails once is dropped for good."""

    def __init__(self) -> None:
        self.host = _host_reader()
        self.gpu = _nvml_reader() or _smi_reader()
        self.last = time.monotonic()

    def sample(self) -> dict[str, float]:
        now = time.monotonic()
        elapsed, self.last = now - self.last, now
        out: dict[str, float] = {}
        for name in ("host", "gpu"):
            reader = getattr(self, name)
            if reader is None:
                continue
            try:
                out.update(reader(elapsed) if name == "host" else reader())
            except Exception:
                setattr(self, name, None)
        return {PREFIX + key: value for key, value in out.items()}


# -- the thread ----------------------------------------------------------------------------------

class _Watch:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.started = time.monotonic()
        self.due = self.started + interval
        self.step = 0


class SystemMetrics:
    """The background thread and the runs it samples for."""

    def __init__(self) -> None:
        self._runs: dict[Any, _Watch] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._sampler: Sampler | None = None

    def watch(self, run: Any, interval: float) -> None:
        with self._lock:
            self._runs[run] = _Watch(interval)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="nbtrack-system-metrics", daemon=True)
                self._thread.start()
        self._wake.set()

    def watching(self, run: Any) -> bool:
        with self._lock:
            return run in self._runs

    def finish(self, run: Any) -> None:
        """The run ends: its last sample now (if it lasted an interval), then no more."""
        with self._lock:
            watch = self._runs.pop(run, None)
        if watch is not None and time.monotonic() - watch.started >= watch.interval:
            self._log(run, watch, self._sample())

    def _sample(self) -> dict[str, float]:
        if self._sampler is None:
            self._sampler = Sampler()
        return self._sampler.sample()

    @staticmethod
    def _log(run: Any, watch: _Watch, figures: dict[str, float]) -> None:
        moment = time.time()
        for key, value in figures.items():
            try:
                run.log_metric(key, value, step=watch.step, timestamp=moment)
            except Exception:  # the run ended meanwhile: nothing to add
                return
        watch.step += 1

    def _loop(self) -> None:
        if self._sampler is None:
            self._sampler = Sampler()  # the CPU counters' baseline
        while True:
            with self._lock:
                for run in [r for r in self._runs if getattr(r, "status", "RUNNING") != "RUNNING"]:
                    del self._runs[run]
                if not self._runs:
                    self._thread = None
                    return
                now = time.monotonic()
                due = [(run, watch) for run, watch in self._runs.items() if watch.due <= now]
                wait = min(watch.due for watch in self._runs.values()) - now
            if due:
                figures = self._sample()
                for run, watch in due:
                    self._log(run, watch, figures)
                    watch.due = max(watch.due + watch.interval, time.monotonic())
                continue
            self._wake.wait(max(0.01, wait))
            self._wake.clear()


SYSTEM_METRICS = SystemMetrics()


def start(run: Any, option: Any = None) -> None:
    """Sample for ``run`` per ``option`` (see :func:`interval_for`); never raises for a
    broken reader, only for a bad option."""
    interval = interval_for(option)
    if interval is not None:
        SYSTEM_METRICS.watch(run, interval)


def finish(run: Any) -> None:
    """Take the run's last sample and stop sampling for it."""
    from .guard import guarded

    with guarded("recording the last system metrics"):
        SYSTEM_METRICS.finish(run)


def _after_fork_in_child() -> None:  # the parent's thread does not exist in a child
    SYSTEM_METRICS._lock = threading.Lock()
    SYSTEM_METRICS._runs.clear()
    SYSTEM_METRICS._thread = None


os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = ["start", "finish", "interval_for", "parse_nvidia_smi", "Sampler", "PREFIX", "DEFAULT_INTERVAL"]
