"""List loaders: the shipped fictional list, the real published formats, format detection."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from router.screening.loaders import ListFormatError, detect_format, files_signature, list_files_in, load_list
from router.screening.settings import DEMO_LIST

OFAC_XML = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML">
  <publshInformation><Publish_Date>03/15/2026</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry><uid>1</uid><firstName>Jia</firstName><lastName>QIAN</lastName><sdnType>Individual</sdnType>
    <programList><program>DEMO</program></programList>
    <akaList><aka><uid>5</uid><type>a.k.a.</type><category>strong</category><lastName>CHIEN</lastName>
      <firstName>Chia</firstName></aka></akaList>
    <addressList><address><uid>7</uid><country>China</country></address></addressList></sdnEntry>
  <sdnEntry><uid>2</uid><lastName>FICTIONAL BANK OJSC</lastName><sdnType>Entity</sdnType>
    <idList><id><uid>9</uid><idType>SWIFT/BIC</idType><idNumber>FCTBRU2X</idNumber></id></idList></sdnEntry>
</sdnList>"""

UN_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">
 <INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>TIESAN</FIRST_NAME><SECOND_NAME>JIN</SECOND_NAME>
  <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.999</REFERENCE_NUMBER>
  <NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
  <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Jin Tiesan (金铁三)</ALIAS_NAME></INDIVIDUAL_ALIAS>
 </INDIVIDUAL></INDIVIDUALS>
 <ENTITIES><ENTITY><DATAID>2</DATAID><FIRST_NAME>FICTIVE TRADING CORPORATION</FIRST_NAME>
  <REFERENCE_NUMBER>KPe.999</REFERENCE_NUMBER><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
  <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>朝鲜虚构贸易会社</ALIAS_NAME></ENTITY_ALIAS>
  <ENTITY_ADDRESS><COUNTRY>Democratic People's Republic of Korea</COUNTRY></ENTITY_ADDRESS>
 </ENTITY></ENTITIES>
</CONSOLIDATED_LIST>"""


def test_shipped_fictional_list_loads_with_aliases_bics_and_countries() -> None:
    lst = load_list(DEMO_LIST)
    v = lst.version
    assert v.source == "DEMO" and v.entries == len(lst.entries) == 14
    by_uid = {e.uid: e for e in lst.entries}
    assert "赵伟明" in by_uid["900001"].aliases
    assert by_uid["900004"].bics == ("HRWGGB2L",)
    assert by_uid["900011"].countries == ("KP",)
    digest = hashlib.sha256()
    for name in ("sdn.csv", "add.csv", "alt.csv"):
        digest.update((DEMO_LIST.parent / name).read_bytes())
    assert v.sha256 == digest.hexdigest()
    # The CSV carries no date: the version says where its date came from.
    assert v.published_from in ("path", "file-mtime")


def test_ofac_xml_records_its_own_publication_date(tmp_path: Path) -> None:
    p = tmp_path / "consolidated.xml"
    p.write_text(OFAC_XML, encoding="utf-8")
    lst = load_list(p)
    assert lst.version.published == date(2026, 3, 15) and lst.version.published_from == "list"
    assert lst.version.source == "OFAC-CONSOLIDATED" and lst.version.entries == 2
    jia, bank = lst.entries
    assert jia.name == "QIAN, Jia" and jia.aliases == ("CHIEN, Chia",) and jia.countries == ("CN",)
    assert bank.bics == ("FCTBRU2X",)


def test_un_xml_keeps_original_script_aliases(tmp_path: Path) -> None:
    p = tmp_path / "un.xml"
    p.write_text(UN_XML, encoding="utf-8")
    lst = load_list(p)
    assert lst.version.source == "UN-SC" and lst.version.published == date(2026, 2, 27)
    person, entity = lst.entries
    assert person.uid == "KPi.999" and person.name == "TIESAN JIN" and person.countries == ("KP",)
    assert entity.kind == "entity" and "朝鲜虚构贸易会社" in entity.aliases


def test_hostile_xml_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "evil.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                 "<CONSOLIDATED_LIST>&e;</CONSOLIDATED_LIST>", encoding="utf-8")
    with pytest.raises(ListFormatError, match="DOCTYPE"):
        load_list(p)


def test_format_detection_by_content(tmp_path: Path) -> None:
    assert detect_format(Path("x.bin"), b'36,"AEROCARIBBEAN AIRLINES",-0- ') == "ofac-csv"
    assert detect_format(Path("x.txt"), OFAC_XML.encode()[:400]) == "ofac-xml"
    assert detect_format(Path("x"), UN_XML.encode()[:300]) == "un-xml"
    with pytest.raises(ListFormatError, match=r"pass the sdn\.csv"):
        detect_format(Path("alt.csv"), b'36,12,"aka","AERO-CARIBBEAN",-0- ')
    junk = tmp_path / "junk.csv"
    junk.write_text("name,country\nfoo,bar\n")
    with pytest.raises(ListFormatError):
        load_list(junk)


def test_watched_directory_lists_and_signature(tmp_path: Path) -> None:
    (tmp_path / "ofac").mkdir()
    for name in ("sdn.csv", "alt.csv", "add.csv"):
        (tmp_path / "ofac" / name).write_bytes((DEMO_LIST.parent / name).read_bytes())
    (tmp_path / "un.xml").write_text(UN_XML, encoding="utf-8")
    found = list_files_in(tmp_path)
    assert [p.name for p in found] == ["sdn.csv", "un.xml"]
    sig = files_signature(found)
    assert len(sig) == 4  # sdn + its two siblings + the UN file
    (tmp_path / "ofac" / "alt.csv").write_bytes(b'900001,99,"aka","NEW ALIAS",-0- \r\n\x1a')
    assert files_signature(found) != sig


@pytest.mark.shared
def test_real_lists_counts_and_dates(shared_dir: Path) -> None:
    s = shared_dir / "sanctions"
    sdn21 = load_list(s / "ofac" / "sdn_2021-07-07" / "sdn.csv")
    assert sdn21.version.entries == 8976 and sdn21.version.published == date(2021, 7, 7)
    assert sum(len(e.aliases) for e in sdn21.entries) == 11910
    sdn24 = load_list(s / "ofac" / "sdn_2024-05-03" / "sdn.csv")
    assert sdn24.version.entries == 14965
    cons = load_list(s / "ofac" / "consolidated_non_sdn_2026-01-08" / "consolidated.xml")
    assert cons.version.entries == 442 and cons.version.published == date(2026, 1, 8)
    un = load_list(s / "un" / "un_consolidated_2026-02-27.xml")
    assert un.version.entries == 1003 and un.version.published == date(2026, 2, 27)
    assert any("金铁三" in a for e in un.entries for a in e.aliases)
