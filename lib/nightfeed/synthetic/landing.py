"""Landing the synthetic platform's days as files, the way real deliveries arrive: JSON Lines
split over several files, with a share of malformed lines (each kind of fault the ingest
must quarantine)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nightfeed.configuration.config import Lake
from nightfeed.configuration.settings import REVIEW_CAPACITY, SyntheticSettings
from nightfeed.core.errors import NightfeedError
from nightfeed.synthetic.items import iso_time, keyed_rng
from nightfeed.synthetic.review import moderation
from nightfeed.synthetic.text import json_lines, text_bytes
from nightfeed.synthetic.world import MALFORMED_KINDS, catalog, event_tables

# The file that marks a lake as the synthetic platform's: the generator writes it into a new lake
# and refuses to replace deliveries in a lake without it.
SYNTHETIC_MARKER = "SYNTHETIC_LAKE.txt"
LANDED_KINDS = ("events", "items", "moderation")


def is_synthetic(lake_root: Path) -> bool:
    """The lake was made by the synthetic platform (it holds the marker)."""
    return (lake_root / SYNTHETIC_MARKER).is_file()


def claim_landing(lake_root: Path, region: str, ds: str) -> None:
    """Allow writing the synthetic day (region, ds) into `lake_root`, or refuse with the reason.

    Synthetic files go only into a synthetic lake, or into landing folders that hold nothing yet:
    a real delivery is never replaced. A new (absent or empty) lake is marked synthetic."""
    if not lake_root.exists() or not any(lake_root.iterdir()):
        lake_root.mkdir(parents=True, exist_ok=True)
        (lake_root / SYNTHETIC_MARKER).write_text(
            "This lake holds the synthetic platform's data (nightfeed generate_events / run --generate).\n"
        )
    if is_synthetic(lake_root):
        return
    folders = (Lake(lake_root).landing(kind, region, ds) for kind in LANDED_KINDS)
    delivered = [str(f.relative_to(lake_root)) for f in folders if f.is_dir() and any(f.iterdir())]
    if delivered:
        raise NightfeedError(
            f"refusing to generate synthetic data into {lake_root}: {', '.join(delivered)} already "
            f"hold deliveries and the lake has no {SYNTHETIC_MARKER}; set NIGHTFEED_LAKE to another "
            f"folder (a new one is marked synthetic), or create {SYNTHETIC_MARKER} in this lake if it "
            "is synthetic (made before the marker existed)"
        )


def corrupt(lines: pa.StringArray, share: float, rng: np.random.Generator) -> pa.StringArray:
    """Replace a share of lines (each ending in a newline) with each kind of malformed input a
    producer may send; a duplicated line is appended at the end."""
    n_bad = min(int(rng.binomial(len(lines), share)) if share else 0, len(lines))
    if not n_bad:
        return lines
    idx = np.sort(rng.choice(len(lines), size=n_bad, replace=False))
    bad, extra = [], []
    for j, line in enumerate(lines.take(idx).to_pylist()):
        kind = MALFORMED_KINDS[j % len(MALFORMED_KINDS)]
        ev = json.loads(line)
        if kind == "bad_json":
            line = line[: len(line) // 2] + "\n"
        elif kind == "missing_id":
            ev.pop("user_id")
        elif kind == "negative_watch":
            ev["event_type"], ev["watch_ms"] = "play", -int(rng.integers(1, 5000))
        elif kind == "unknown_type":
            ev["event_type"] = "hover"
        elif kind == "duplicate":
            extra.append(line)
        elif kind == "wrong_region":
            ev["region"] += "X"
        if kind in ("missing_id", "negative_watch", "unknown_type", "wrong_region"):
            line = json.dumps(ev, separators=(",", ":")) + "\n"
        bad.append(line)
    mask = np.zeros(len(lines), bool)
    mask[idx] = True
    return pa.concat_arrays(
        [
            pc.replace_with_mask(lines, pa.array(mask), pa.array(bad, pa.string())),
            pa.array(extra, pa.string()),
        ]
    )


def write_day(
    lake_root: Path,
    cfg: SyntheticSettings,
    seed: int,
    region: str,
    ds: str,
    n_files: int = 2,
    capacity: int = REVIEW_CAPACITY,
) -> dict:
    """Land one day of events (JSON Lines, several files, streamed block by block), the item
    catalog snapshot, the day's moderation decisions, and the hidden truth of the catalog's videos
    (`claim_landing` first)."""
    claim_landing(lake_root, region, ds)
    ev_dir = lake_root / "landing" / "events" / f"region={region}" / f"ds={ds}"
    ev_dir.mkdir(parents=True, exist_ok=True)
    for old in ev_dir.glob("*.jsonl"):
        old.unlink()
    rng = keyed_rng(seed, region, "malformed", ds)
    n_lines = 0
    with ExitStack() as stack:
        files = [stack.enter_context((ev_dir / f"part-{f:05d}.jsonl").open("wb")) for f in range(n_files)]
        for table in event_tables(cfg, seed, region, ds, capacity):
            lines = corrupt(json_lines(table), cfg.malformed_share, rng)
            n_lines += len(lines)
            bounds = np.linspace(0, len(lines), n_files + 1).astype(int)
            for fh, lo, hi in zip(files, bounds[:-1], bounds[1:], strict=True):
                fh.write(text_bytes(lines.slice(lo, hi - lo)))
    cat = catalog(cfg, seed, region, ds, capacity)
    it_dir = lake_root / "landing" / "items" / f"region={region}" / f"ds={ds}"
    it_dir.mkdir(parents=True, exist_ok=True)
    with (it_dir / "items.jsonl").open("w") as fh:
        for i in range(len(cat.ids)):
            fh.write(
                json.dumps(
                    dict(
                        item_id=str(cat.ids[i]),
                        creator_id=str(cat.creator[i]),
                        region=region,
                        duration_ms=int(cat.duration_ms[i]),
                        created_ts=iso_time(int(cat.created_ts[i]), "Z"),
                        moderation_status=str(cat.status[i]),
                    ),
                    separators=(",", ":"),
                )
                + "\n"
            )
    decisions = moderation(cfg, seed, region, ds, capacity).decision_rows(region, cat.ids)
    _write_lines(
        lake_root / "landing" / "moderation" / f"region={region}" / f"ds={ds}" / "decisions.jsonl", decisions
    )
    merge_truth(lake_root / "landing" / "audit_truth" / f"region={region}" / "truth.jsonl", cat)
    _write_lines(
        world_file(lake_root, region), [{"seed": seed, "capacity": capacity, "synthetic": asdict(cfg)}]
    )
    return {
        "region": region,
        "ds": ds,
        "event_lines": n_lines,
        "items": len(cat.ids),
        "decisions": len(decisions),
    }


def world_file(lake_root: Path, region: str) -> Path:
    """Where the settings of the world a region's days were generated from are kept."""
    return lake_root / "landing" / "world" / f"region={region}" / "world.json"


def world_of(lake_root: Path, region: str) -> tuple[SyntheticSettings, int, int]:
    """(settings, seed, review capacity) of the world that generated the region's days."""
    path = world_file(lake_root, region)
    if not is_synthetic(lake_root) or not path.is_file():
        raise NightfeedError(
            f"{lake_root}: region {region} was not generated by the synthetic platform (no "
            f"{SYNTHETIC_MARKER} or no {path.relative_to(lake_root)}, which generation writes since "
            "the feed-value suite exists: regenerate the lake); its feeds can only be judged on logged data"
        )
    saved = json.loads(path.read_text())
    return SyntheticSettings(**saved["synthetic"]), int(saved["seed"]), int(saved["capacity"])


def _write_lines(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    tmp.replace(path)


def merge_truth(path: Path, cat) -> None:
    """Add the catalog's videos to the region's truth file (one line per video, ever)."""
    truth = {}
    if path.exists():
        truth = {r["item_id"]: r["policy"] for r in map(json.loads, path.read_text().splitlines())}
    truth.update(zip(map(str, cat.ids), map(str, cat.policy), strict=True))
    _write_lines(path, [{"item_id": k, "policy": v} for k, v in sorted(truth.items())])
