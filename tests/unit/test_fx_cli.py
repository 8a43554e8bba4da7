"""``router fx convert``: JSON output contract and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from router.cli import main

RATES = [
    {"pair": "USD/CNY", "bid": "7.1012", "ask": "7.1188", "ts": "2026-11-29T10:00:00Z", "provider": "FXP1"},
    {"pair": "USD/CNY", "bid": "7.1000", "ask": "7.1500", "ts": "2026-11-29T10:00:00Z", "provider": "FXP2"},
    {"pair": "USD/JPY", "bid": "150.10", "ask": "150.30", "ts": "2026-11-29T10:00:00Z", "provider": "FXP2"},
    {"pair": "USD/KWD", "bid": "0.3070", "ask": "0.3080", "ts": "2026-11-29T09:00:00Z", "provider": "FXP3"},
]
AT = "2026-11-29T10:01:00Z"
KEYS = ["amount_in", "currency_in", "amount_out", "currency_out", "rate", "route", "provider", "quote_id",
        "expires_at"]


@pytest.fixture
def rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in ("ROUTER_FX__SPREAD_BPS", "ROUTER_FX__MAX_QUOTE_AGE_S", "ROUTER_FX__CORRIDOR_SPREAD_BPS"):
        monkeypatch.delenv(k, raising=False)
    from router.config import get_settings

    get_settings.cache_clear()
    p = tmp_path / "rates.json"
    p.write_text(json.dumps(RATES))
    return p


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_json_last_line(rates: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "fx", "convert", "1000.00", "CNY", "USD", "--rates", str(rates), "--at", AT,
                         "--json")
    assert code == 0 and err == ""
    d = json.loads(out.strip().splitlines()[-1])
    assert list(d) == KEYS
    assert d["amount_in"] == "1000.00" and d["currency_in"] == "CNY" and d["currency_out"] == "USD"
    assert d["amount_out"] == "140.47"  # best ask is FXP1's 7.1188: 1000 / 7.1188 = 140.473
    assert Decimal(d["rate"]) * Decimal("7.1188") - 1 < Decimal("1e-26")
    assert d["route"] == ["CNY", "USD"] and d["provider"] == "FXP1"
    assert d["quote_id"].startswith("FXQ-") and d["expires_at"] == "2026-11-29T10:11:00Z"
    assert all(isinstance(d[k], str) for k in KEYS if k != "route")


def test_convert_cross_and_spread(rates: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fx", "convert", "1000", "CNY", "JPY", "--rates", str(rates), "--at", AT, "--json",
                       "--spread-bps", "100")
    d = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and d["route"] == ["CNY", "USD", "JPY"] and d["provider"] == "FXP1+FXP2"
    expected = (Decimal(1000) / Decimal("7.1188") * Decimal("150.10") * Decimal("0.99")).quantize(Decimal(1))
    assert d["amount_out"] == str(expected) == "20874"


def test_convert_human_output(rates: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fx", "convert", "100.00", "USD", "CNY", "--rates", str(rates), "--at", AT)
    assert code == 0 and out.startswith("100.00 USD -> 710.12 CNY at 7.1012 CNY per USD")


@pytest.mark.parametrize(("argv", "needle"), [
    (["1000", "CNY", "KWD"], "stale rate"),
    (["1000", "CNY", "GBP"], "no rate"),
    (["1000", "CNY", "XXX"], "unknown currency"),
    (["1000", "QQQ", "USD"], "unknown currency"),
    (["-5", "CNY", "USD"], "must be positive"),
    (["10.5", "JPY", "USD"], "more decimals than JPY"),
    (["1.0001", "KWD", "USD"], "more decimals than KWD"),
    (["abc", "CNY", "USD"], "not a number"),
    (["1000", "CNY", "USD", "--at", "yesterday"], "ISO 8601"),
])
def test_convert_errors_are_one_line(rates: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                     needle: str) -> None:
    extra = [] if "--at" in argv else ["--at", AT]
    code, out, err = run(capsys, "fx", "convert", *argv, "--rates", str(rates), *extra, "--json")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("router: ") and needle in err, err


def test_missing_or_bad_rates_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fx", "convert", "1", "CNY", "USD", "--rates", str(tmp_path / "none.json"))
    assert code != 0 and "cannot read rates file" in err
    bad = tmp_path / "bad.json"
    bad.write_text('[{"pair": "USD/CNY", "bid": 7.1, "ask": "7.2", "ts": "2026-11-29T10:00:00Z", "provider": "P"}]')
    code, _, err = run(capsys, "fx", "convert", "1", "CNY", "USD", "--rates", str(bad))
    assert code != 0 and "quote #0" in err and err.count("\n") == 1


def test_quotes_lists_best_sides(rates: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "fx", "quotes", "--rates", str(rates), "--at", AT)
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("USD/CNY") and "bid 7.1012 (FXP1)" in lines[0]
    assert "ask 7.1188 (FXP1)" in lines[0] and "2 provider(s)" in lines[0]
    assert lines[2].startswith("USD/KWD") and "STALE" in lines[2]


def test_console_script_exit_code_and_no_traceback(rates: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "router", "fx", "convert", "1000", "CNY", "USD", "--rates",
                        str(rates)], capture_output=True, text=True, timeout=60)
    # Without --at the 2026-11-29T10:00 quotes are priced "now": stale (or not valid yet) either way.
    assert p.returncode == 3 and "Traceback" not in p.stderr and p.stderr.startswith("router: AB03")
