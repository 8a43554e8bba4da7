"""Published samples pass the official schemas; broken variants fail with element path and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.cli.iso import validate_file

pytestmark = pytest.mark.shared


def _samples(shared: Path) -> list[Path]:
    return sorted((shared / "iso20022" / "samples").glob("*.xml"))


def test_every_published_sample_passes_base(shared_dir: Path, iso_xsd_dir: Path) -> None:
    samples = _samples(shared_dir)
    assert len(samples) >= 10
    for f in samples:
        valid, line = validate_file(f, "base", iso_xsd_dir)
        assert valid, line
        assert re.fullmatch(rf"{re.escape(str(f))}: valid \([a-z]+\.\d{{3}}\.\d{{3}}\.\d{{2}}, base\)", line)


PACS008 = "pacs.008.001.08__fednow__CustomerCreditTransfer_Scenario1_Step1.xml"
CAMT056 = "camt.056.001.08__wso2-mt2mx__c.29.2.2_mt192_camt_056_A_D.xml"

BROKEN = [
    # (sample, replace this, with this, expected path, words in the reason)
    (PACS008, ">51.74<", ">51.7x4<", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt", "not a valid value"),
    (PACS008, ">51.74<", ">-5<", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt", "minInclusive"),
    (PACS008, 'Ccy="USD"', 'Ccy="usd"', "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt", "Ccy"),
    (PACS008, "<EndToEndId>Scenario01EtoEId001</EndToEndId>", "",
     "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR", "EndToEndId"),
    (PACS008, "<UETR>8a562c67-ca16-48ba-b074-65581be6f011</UETR>", "<UETR>not-a-uuid</UETR>",
     "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR", "pattern"),
    (CAMT056, "<camt:BICFI>MYMBGB2LXXX</camt:BICFI>", "<camt:BICFI></camt:BICFI>",
     "/Document/FIToFICstmrCdtTrf", "BICFI"),
    (CAMT056, "<head:BICFI>GEBABEBBXXX</head:BICFI>", "<head:BICFI></head:BICFI>",
     "/AppHdr/To/FIId/FinInstnId/BICFI", "pattern"),
]


@pytest.mark.parametrize(("sample", "old", "new", "path", "reason"), BROKEN)
def test_broken_variant_fails_with_path_and_reason(
    shared_dir: Path, iso_xsd_dir: Path, tmp_path: Path, sample: str, old: str, new: str, path: str, reason: str
) -> None:
    text = (shared_dir / "iso20022" / "samples" / sample).read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / sample
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    valid, line = validate_file(broken, "base", iso_xsd_dir)
    assert not valid
    assert line.startswith(f"{broken}: invalid: ")
    detail = line.split(": invalid: ", 1)[1]
    if path.startswith("/Document/FIToFICstmrCdtTrf") and sample == CAMT056:
        path = "/Document/FIToFIPmtCxlReq/Assgnmt/Assgnr/Agt/FinInstnId/BICFI"
    assert detail.startswith(path), detail
    assert "(line " in detail
    assert reason in detail
