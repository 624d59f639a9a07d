"""The figures bench/chat_probe writes (one `probe-<pid>.json` per web process), summed."""

from __future__ import annotations

import json
from pathlib import Path


def merged(folder: Path) -> dict[str, list[float]]:
    """Per function run on the sync threads, over every web process: [calls, seconds waited
    for a thread, seconds run, longest wait]."""
    rows: dict[str, list[float]] = {}
    for path in folder.glob("probe-*.json"):
        for name, (calls, waited, ran, most) in json.loads(path.read_text()).items():
            row = rows.setdefault(name, [0, 0.0, 0.0, 0.0])
            row[0] += calls
            row[1] += waited
            row[2] += ran
            row[3] = max(row[3], most)
    return rows
