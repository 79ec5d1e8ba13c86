"""The synthetic producer's text: a day's event columns as the strings and JSON Lines it sends.

Built with Arrow compute over whole blocks (ids, times and lines are taken from per-day lookups
and joined in C), so writing a line costs about a microsecond. Every string is made of a region
code (letters, digits, `_`, `-`: `config.REGION_RE`), digits and fixed words, so nothing needs
JSON escaping.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EVENT_KINDS = ("impression", "play", "finish", "like", "share", "comment", "follow", "skip", "report")
TZ_OFFSETS = ("+00:00", "Z", "+02:00", "-03:00", "+05:30")
_OFFSET_SECONDS = np.array([0, 0, 7200, -10800, 19800])
_MARGIN_S = 7 * 3600  # events logged late (≤ 3 h) in a zone ≤ 3 h behind, or ahead, of the UTC day
_KINDS = pa.array(EVENT_KINDS)
_SUFFIXES = pa.array(TZ_OFFSETS)


class DayText:
    """Strings of one region-day: event ids numbered in the order blocks are formatted."""

    def __init__(self, region: str, ds: str, start: int, user_ids: np.ndarray, item_ids: np.ndarray):
        self.region, self.prefix = pa.array([region]), f"{region}-{ds}-"
        self.users, self.items = pa.array(user_ids), pa.array(item_ids)
        self.first_s = start - _MARGIN_S
        seconds = np.arange(self.first_s, start + 86400 + _MARGIN_S).astype("datetime64[s]")
        self.times = pa.array(np.datetime_as_string(seconds))
        self.count = 0

    def table(self, block) -> pa.Table:
        """An `world.EventBlock` as the landing columns, all strings but watch_ms."""
        n = len(block.kind)
        number = pa.array(np.arange(self.count + 1, self.count + n + 1))
        self.count += n
        local = block.ts + _OFFSET_SECONDS[block.offset] - self.first_s
        return pa.table(
            {
                "event_id": pc.binary_join_element_wise(
                    self.prefix, pc.utf8_lpad(pc.cast(number, pa.string()), 9, "0"), ""
                ),
                "event_type": _KINDS.take(block.kind),
                "event_ts": pc.binary_join_element_wise(
                    self.times.take(local), _SUFFIXES.take(block.offset), ""
                ),
                "watch_ms": pa.array(block.watch_ms, pa.int64(), mask=block.watch_ms < 0),
                "user_id": self.users.take(block.user),
                "item_id": self.items.take(block.item),
                "region": self.region.take(np.zeros(n, np.int64)),
            }
        )


def json_lines(table: pa.Table) -> pa.StringArray:
    """Each event as one compact JSON object ending in a newline (the producer's line)."""
    col = {name: table.column(name).combine_chunks() for name in table.column_names}
    return pc.binary_join_element_wise(
        '{"event_id":"',
        col["event_id"],
        '","event_type":"',
        col["event_type"],
        '","event_ts":"',
        col["event_ts"],
        '","watch_ms":',
        pc.fill_null(pc.cast(col["watch_ms"], pa.string()), "null"),
        ',"user_id":"',
        col["user_id"],
        '","item_id":"',
        col["item_id"],
        '","region":"',
        col["region"],
        '"}\n',
        "",
    )


def text_bytes(lines: pa.StringArray) -> memoryview:
    """The lines' characters back to back (what a file of them holds), without copying."""
    offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]] if len(lines) else memoryview(b"")
