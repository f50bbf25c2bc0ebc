"""The ops/ deployment files: valid for their tools, wired to each other, and naming only
metrics the engine exports (a renamed metric must not leave a blank panel or a dead alert)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from prediction_engine.config import Config
from prediction_engine.core.events import BookDelta, ReferencePrice, Side
from prediction_engine.core.ids import ConditionId, TokenId, Venue
from prediction_engine.core.orders import OrderStatus, TimeInForce
from prediction_engine.core.portfolio import Fill
from prediction_engine.engine.clock import ManualClock
from prediction_engine.engine.telemetry import (
    FillRecord,
    LatencyRecord,
    OrderRecord,
    SignalRecord,
)
from prediction_engine.ops.metrics import Metrics
from prediction_engine.trading.runtime import TradingRuntime
from prediction_engine.venues.binance.session import BinanceTradeSession
from tests.ops.scrape import PROMTOOL, exported_names, samples

OPS = Path(__file__).resolve().parents[2] / "ops"
PROMETHEUS_BUILTIN = {"up"}
METRIC = re.compile(r"\bpengine_[a-z0-9_]+")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed")


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((OPS / relative).read_text(encoding="utf-8"))


@pytest.fixture
async def exposition() -> str:
    """The exposition once each kind of record has been seen and every live object has
    something to report (a feed, events of each venue, a position), so series carry labels."""
    market, token = ConditionId("0xm"), TokenId("1")
    metrics = Metrics(journal_lag=lambda: 0.0)
    metrics.signal(SignalRecord(1, "s", market, token, Side.BUY, 0.1, 1.0, 0.5, "sized"))
    metrics.order(OrderRecord(1, "s", "s-1", market, token, Side.BUY, 500_000, 1_000_000,
                              TimeInForce.GTC, OrderStatus.SUBMITTED, 0))
    metrics.order(OrderRecord(1, "s", "", market, token, Side.BUY, 500_000, 1_000_000,
                              TimeInForce.GTC, OrderStatus.REJECTED, 0, "risk COOLDOWN: 1 s"))
    metrics.fill(FillRecord(2, "s", "s-1", market, token, Side.BUY, 500_000, 1_000_000, 0,
                            "t", "taker"))
    metrics.latency(LatencyRecord(1, market, token, 1, 1, 1))
    async with aiohttp.ClientSession() as http:
        runtime = TradingRuntime(Config(), [], http=http, clock=ManualClock(),
                                 reference_feeds=())
        binance = BinanceTradeSession(runtime.config, ["btcusdt"], http, runtime.clock,
                                      runtime.inbox)
        binance.events_by_type[ReferencePrice] = 1
        runtime.reference_sessions.append(binance)
        runtime.session.events_by_type[BookDelta] = 1
        state = runtime.engine.state
        state.feed_seen_ns[Venue.POLYMARKET] = 0
        state.portfolio.apply_fill(Fill(market=market, token=token, side=Side.BUY,
                                        price=500_000, size=1_000_000, fee=0))
        metrics.bind(runtime)
        body, _ = metrics.exposition()
    return body.decode()


@pytest.fixture
def exported(exposition: str) -> set[str]:
    """Every series name the registry exports."""
    return {name for name in exported_names(exposition) if not name.endswith("_created")}


def dashboard_targets() -> Iterator[tuple[str, dict[str, Any]]]:
    dashboard = json.loads((OPS / "grafana/dashboards/pengine.json").read_text("utf-8"))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target


def dashboard_exprs() -> Iterator[tuple[str, str]]:
    for title, target in dashboard_targets():
        yield title, target["expr"]


def alert_rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for group in load_yaml("prometheus/alerts.yml")["groups"]:
        rules.extend(group["rules"])
    return rules


def test_every_dashboard_query_names_exported_metrics(exported: set[str]) -> None:
    unknown = {
        (title, name)
        for title, expr in dashboard_exprs()
        for name in METRIC.findall(expr)
        if name not in exported
    }
    assert not unknown


def test_the_dashboard_shows_every_exported_metric(exported: set[str]) -> None:
    shown = {name for _, expr in dashboard_exprs() for name in METRIC.findall(expr)}
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in exported}
    shown_families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in shown}
    assert families - shown_families == set()


def _series_labels(exposition: str) -> dict[str, set[str]]:
    labels: dict[str, set[str]] = {}
    for name, label_set in samples(exposition):
        labels.setdefault(name, set()).update(label for label, _ in label_set)
    return labels


BY = re.compile(r"\bby \(([^)]*)\)")
LEGEND = re.compile(r"{{\s*(\w+)\s*}}")


def test_dashboard_groups_and_legends_use_labels_the_metrics_carry(exposition: str) -> None:
    # A `by (type)` on a metric without that label sums everything into one unlabelled line.
    carried = _series_labels(exposition)
    for title, target in dashboard_targets():
        expr, legend = target["expr"], target.get("legendFormat") or ""
        names = METRIC.findall(expr)
        assert all(name in carried for name in names), (expr, "no sample to check")
        available = set().union(*(carried[name] for name in names))
        used = {label.strip() for group in BY.findall(expr) for label in group.split(",")}
        used |= set(LEGEND.findall(legend))
        assert used <= available, (title, expr, used - available)


def test_the_events_panel_splits_each_venue_by_event_type() -> None:
    (expr, legend), = [
        (target["expr"], target["legendFormat"])
        for _, target in dashboard_targets() if "pengine_events_total" in target["expr"]
    ]
    assert set(BY.findall(expr)[0].replace(" ", "").split(",")) == {"venue", "type"}
    assert legend == "{{venue}} {{type}}"


def test_dashboard_panels_use_the_provisioned_datasource() -> None:
    datasource = load_yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    dashboard = json.loads((OPS / "grafana/dashboards/pengine.json").read_text("utf-8"))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert {p["datasource"]["uid"] for p in panels} == {datasource["uid"]}
    assert datasource["url"] == "http://127.0.0.1:9090"


def test_every_alert_names_exported_metrics(exported: set[str]) -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    for wanted in ("PengineFeedStale", "PengineReconnectStorm", "PengineResyncRate",
                   "PengineKillSwitchEngaged", "PengineDailyLossLimit"):
        assert wanted in names
    for rule in rules:
        used = set(METRIC.findall(rule["expr"]))
        assert used or "up{" in rule["expr"], rule["alert"]
        assert used <= exported, rule["alert"]


def test_compose_mounts_the_files_the_services_read() -> None:
    compose = load_yaml("docker-compose.yml")
    prometheus, grafana = compose["services"]["prometheus"], compose["services"]["grafana"]
    assert prometheus["network_mode"] == grafana["network_mode"] == "host"
    mounts = {
        target: source
        for service in (prometheus, grafana)
        for source, target, *_ in (volume.split(":") for volume in service["volumes"])
    }
    for target, source in mounts.items():
        if source.startswith("./"):
            assert (OPS / source).is_dir(), f"{source} mounted at {target} is missing"
    assert mounts["/etc/prometheus"] == "./prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    provider = load_yaml("grafana/provisioning/dashboards/dashboards.yml")["providers"][0]
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./grafana/provisioning"


def test_prometheus_scrapes_the_default_metrics_port() -> None:
    config = load_yaml("prometheus/prometheus.yml")
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9000"]
    for rule_file in config["rule_files"]:
        assert (OPS / "prometheus" / rule_file).is_file()


@needs_promtool
def test_promtool_accepts_the_config_and_the_rules() -> None:
    assert PROMTOOL is not None
    for command in (["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"]):
        result = subprocess.run([PROMTOOL, *command], cwd=OPS / "prometheus",
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


ALERT_TESTS = """
rule_files: [{rules}]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: pengine_kill_switch_engaged{{job="pengine"}}
        values: "0 0 1 1"
      - series: pengine_daily_pnl_dollars{{job="pengine"}}
        values: "0 -20 -45 -50"
      - series: pengine_daily_loss_limit_dollars{{job="pengine"}}
        values: "50 50 50 50"
      - series: pengine_feed_staleness_seconds{{job="pengine",venue="polymarket",feed="s0"}}
        values: "0 15 30 45 60 75"
    alert_rule_test:
      - eval_time: 15s
        alertname: PengineKillSwitchEngaged
        exp_alerts: []
      - eval_time: 30s
        alertname: PengineKillSwitchEngaged
        exp_alerts:
          - exp_labels: {{severity: critical, job: pengine}}
            exp_annotations:
              summary: "kill switch engaged: no new orders"
              description: "Every open order was cancelled; an operator must release the switch."
      - eval_time: 45s
        alertname: PengineDailyLossLimit
        exp_alerts:
          - exp_labels: {{severity: critical, job: pengine}}
            exp_annotations:
              summary: "daily loss limit reached: -50 USD"
              description: "Risk refuses new orders for the rest of the UTC day."
      - eval_time: 30s
        alertname: PengineFeedStale
        exp_alerts: []
      - eval_time: 75s
        alertname: PengineFeedStale
        exp_alerts:
          - exp_labels: {{severity: warning, job: pengine, venue: polymarket, feed: s0}}
            exp_annotations:
              summary: "feed s0 silent for 1m 15s"
              description: "No frame, not even a PONG, on s0: its books are stale."
"""


@needs_promtool
def test_alerts_fire_when_the_kill_switch_engages_and_a_feed_falls_silent(
    tmp_path: Path,
) -> None:
    assert PROMTOOL is not None
    tests = tmp_path / "alerts_test.yml"
    tests.write_text(ALERT_TESTS.format(rules=OPS / "prometheus/alerts.yml"), encoding="utf-8")
    result = subprocess.run([PROMTOOL, "test", "rules", str(tests)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
