"""Writes assets/countries/<locale>.tsv: the CLDR name of every country code of
assets/countries.tsv in each locale latchkey ships email texts for. Needs PyPI babel (CLDR data,
Unicode License v3): `pip install babel==2.19.0 && python3 scripts/gen-country-names.py`."""

import os

from babel import Locale

LOCALES = {"es": "es", "fr": "fr", "de": "de", "pt-br": "pt_BR", "it": "it", "nl": "nl",
           "ja": "ja", "zh-cn": "zh_Hans_CN", "hi": "hi", "ar": "ar"}
root = os.path.join(os.path.dirname(__file__), "..", "assets")
codes = [line.split("\t")[0] for line in open(os.path.join(root, "countries.tsv"), encoding="utf-8") if line.strip()]
for ours, cldr in LOCALES.items():
    names = Locale.parse(cldr).territories
    with open(os.path.join(root, "countries", f"{ours}.tsv"), "w", encoding="utf-8") as f:
        for code in codes:
            name = names.get(code.upper())
            if name:
                f.write(f"{code}\t{name}\n")
