#!/usr/bin/env python
"""Fill empty msgstr entries of a .po file from a Python dict file, then compile the .mo.

    .venv/bin/python scripts/fill_translations.py DICT.py path/to/django.po [...]

The dict file defines ZH = {msgid: msgstr}. Entries already translated are kept.
"""

from __future__ import annotations

import runpy
import sys

import polib


def main() -> int:
    table = runpy.run_path(sys.argv[1])["ZH"]
    for path in sys.argv[2:]:
        po = polib.pofile(path)
        missing = []
        for entry in po:
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
                entry.msgstr = ""
            if not entry.msgstr and entry.msgid in table:
                entry.msgstr = table[entry.msgid]
            if not entry.msgstr:
                missing.append(entry.msgid)
        po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
        po.metadata["Language"] = "zh_Hans"
        po.save(path)
        po.save_as_mofile(path[:-3] + ".mo")
        print(f"{path}: {len(missing)} untranslated", *missing[:20], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
