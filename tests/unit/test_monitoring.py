"""Alerts and the dashboard query only metrics the router declares (router/metrics.py), cover the
operator's questions, and point at runbook sections that exist. With promtool installed
(`make tools`), the rules also pass `promtool check rules` and their unit tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from router.metrics import METRICS, RouterMetrics, exported_series

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "deploy" / "monitoring"
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
            "group_right", "inf", "nan", "time"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (a small lexer, not a parser)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[m.end():].lstrip()
        if rest.startswith("(") or m.group() in KEYWORDS:
            continue  # a function call or an operator
        if m.start() > 0 and (expr[m.start() - 1].isdigit() or expr[m.start() - 1] == "."):
            continue  # the unit or exponent of a number (5m, 1e3)
        names.add(m.group())
    return names


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]


def test_the_lexer_finds_metric_names() -> None:
    assert metric_names('histogram_quantile(0.99, sum by (le, x) (rate(a_bucket{y="b c"}[5m]))) > 1e3') == {"a_bucket"}
    assert metric_names("time() - max(b) > 3600 and on(g) c offset 5m") == {"b", "c"}


def test_every_alert_reads_declared_metrics_and_says_what_to_do() -> None:
    declared = exported_series()
    readme_anchors = _anchors((REPO / "README.md").read_text())
    for r in rules():
        used = metric_names(r["expr"])
        assert used, f"{r['alert']}: no metric in {r['expr']!r}"
        assert used <= declared, f"{r['alert']} reads undeclared {used - declared} (declare in router/metrics.py)"
        assert r["labels"]["severity"] in {"warning", "critical"}, r["alert"]
        assert r["annotations"]["summary"], r["alert"]
        page, _, anchor = r["annotations"]["runbook"].partition("#")
        assert page == "README.md" and anchor in readme_anchors, f"{r['alert']}: no README section #{anchor}"


def test_the_alerts_cover_the_operators_questions() -> None:
    reads = {r["alert"]: metric_names(r["expr"]) for r in rules()}
    wanted = {
        "lag growing": "router_consumer_lag",
        "DLQ rate": "router_dlq_records_total",
        "stale FX feed": "router_fx_quote_age_seconds",
        "p99 over SLO": "router_payment_e2e_seconds_bucket",
        "settlement undecided past its deadline": "router_settlements_overdue",
        "ledger check failing": "router_ledger_check_ok",
    }
    for concern, metric in wanted.items():
        assert any(metric in used for used in reads.values()), f"no alert for {concern} ({metric})"


def test_the_dashboard_reads_declared_metrics_and_shows_every_one() -> None:
    declared = exported_series()
    shown: set[str] = set()
    for expr in dashboard_exprs():
        used = metric_names(expr)
        assert used and used <= declared, f"dashboard query {expr!r} reads undeclared {used - declared}"
        shown |= used
    for spec in METRICS:
        assert set(spec.series()) & shown, f"{spec.name} is declared but on no dashboard panel"


def test_the_registry_exports_what_is_declared() -> None:
    m = RouterMetrics()
    m.payments.labels("settled", "").inc()
    m.payment_e2e_seconds.labels("cips_to_corr").observe(0.2)
    m.consumer_lag.labels("corridor-router.ingest", "cips.in", "0").set(5)
    text = generate_latest(m.registry).decode()
    samples = {s.name for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert {"router_payments_total", "router_payment_e2e_seconds_bucket", "router_consumer_lag"} <= samples
    assert samples <= exported_series()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    for spec in METRICS:
        assert families[spec.name.removesuffix("_total")] == spec.kind, spec.name
    assert len({s.name for s in METRICS}) == len(METRICS)


def _promtool() -> str | None:
    local = REPO / ".tools" / "bin" / "promtool"
    return str(local) if local.exists() else shutil.which("promtool")


@pytest.mark.parametrize("args", [["check", "rules", "alerts.yaml"], ["test", "rules", "alerts.test.yaml"]])
def test_promtool_accepts_the_rules_and_their_unit_tests(args: list[str]) -> None:
    tool = _promtool()
    if tool is None:
        pytest.skip("promtool not installed: `make tools` builds it from the Go module proxy")
    out = subprocess.run([tool, *args], cwd=MONITORING, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading slugs: lower case, punctuation dropped, spaces to hyphens."""
    slugs = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", title)))
    return slugs


def test_the_ledger_check_pushes_its_verdict_alone() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from router.cli.ledger import _push

    got: list[tuple[str, bytes]] = []

    class Gateway(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            got.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        _push(f"http://127.0.0.1:{server.server_port}", ok=False, violations=3)
    finally:
        server.server_close()
    [(path, body)] = got
    assert path == "/metrics/job/corridor-router-ledger-check"
    samples = {s.name: s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples}
    assert samples.keys() == {"router_ledger_check_ok", "router_ledger_check_violations",
                              "router_ledger_check_timestamp_seconds"}
    assert samples["router_ledger_check_ok"] == 0 and samples["router_ledger_check_violations"] == 3


def test_stage_totals_feed_counters_that_only_go_up() -> None:
    from router.metrics import StageStatsSync

    m = RouterMetrics()
    sync = StageStatsSync(m)

    def value(name: str) -> float | None:
        return m.registry.get_sample_value(name, {"stage": "settlement"})

    sync("settlement", {"records": 10, "transactions": 2}, tasks=4)
    sync("settlement", {"records": 25, "transactions": 5}, tasks=3)
    assert (value("router_stage_records_total"), value("router_stage_transactions_total")) == (25, 5)
    assert value("router_stage_tasks") == 3
    sync("settlement", {"records": 4, "transactions": 1}, tasks=4)  # the processor restarted
    assert (value("router_stage_records_total"), value("router_stage_transactions_total")) == (29, 6)
