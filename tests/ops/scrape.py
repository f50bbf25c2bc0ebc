"""Reading an exposition back as a user of Prometheus would: sample values by name and labels."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PROMTOOL = shutil.which("promtool")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by sample name and label set."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """The value of one sample (KeyError if absent)."""
    return samples(text)[(name, frozenset(labels.items()))]


def exported_names(text: str) -> set[str]:
    """Every series name a query may use: samples seen plus the names empty families would
    produce (``_total`` for counters; ``_bucket``, ``_sum``, ``_count`` for histograms)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def promtool_check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    """Run ``promtool check metrics`` on an exposition."""
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30, check=False)


def http_get(url: str, token: str | None = None) -> tuple[int, bytes]:
    """GET ``url`` (with a bearer ``token``); status 0 when nothing listens (yet)."""
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def poll(
    url: str, token: str | None, deadline: float, ready: Callable[[bytes], bool] = bool
) -> tuple[int, bytes]:
    """GET ``url`` until it answers 200 with a ``ready`` body (or the deadline passes)."""
    status, body = 0, b""
    while time.monotonic() < deadline:
        status, body = http_get(url, token)
        if status == 200 and ready(body):
            break
        time.sleep(0.2)
    return status, body


def scrape_run(
    metrics_port: int, dashboard_port: int, token: str, deadline: float,
    ready: Callable[[bytes], bool], stderr: Path,
) -> tuple[bytes, bytes]:
    """Observe a running ``pengine`` as its user would: its metrics once ``ready``, then the
    dashboard's snapshot with ``token``, which it must refuse without the token or with a
    wrong one. Return the exposition and the snapshot (``stderr``: the run's, for failures)."""
    metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    status, exposition = poll(metrics, None, deadline, ready)
    assert status == 200, stderr.read_text()[-3000:]
    dashboard = f"http://127.0.0.1:{dashboard_port}/api/snapshot"
    status, snapshot = poll(dashboard, token, deadline)
    assert status == 200, snapshot
    assert http_get(dashboard)[0] == 401
    assert http_get(dashboard, "wrong")[0] == 401
    return exposition, snapshot
