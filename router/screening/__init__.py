"""Compliance screening: sanctions lists, name/BIC/country matching, rules, case workflow.

Where things are:

- ``loaders``: OFAC CSV set, OFAC ``sdnList`` XML, UN consolidated XML -> ``SanctionsList``
  with its ``ListVersion`` (source, publication date, entries, sha256).
- ``normalise``: how a name compares (case, diacritics, punctuation, honorifics, legal forms,
  Chinese script -> "surname givenname" pinyin).
- ``index``: the blocking index and the scorer; ``screener``: names, BICs, countries with
  explained ``Match`` results; ``store``: the current list set, reloaded when files change.
- ``rules``: e-CNY wallet-tier limits, FATF R.16 completeness, structuring.
- ``decision`` / ``cases`` / ``service``: clear / hold / reject, case, analyst decision and
  audit records (JSON for ``screening.cases``, ``screening.decisions``, ``screening.audit``).
- ``velocity``: per-debtor history for the velocity rules, over the screening stage's store
  (the compacted ``screening.velocity`` changelog).
- ``variants``: the labelled set (list-name variants and clean names) for bench and tests.
"""

from router.screening import native

# Before any compiled module loads: a build from other sources must not shadow the .py files.
native.guard()
