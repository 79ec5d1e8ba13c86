"""Read-only looks at the lake with delta-rs (`deltalake`): no JVM and no Spark session, so
`nightfeed live-feed`, `nightfeed feed` and `rollback --dry-run` answer in about a second.
Writes stay with Spark (`tables.py`); these functions never change a table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from nightfeed.core.errors import NightfeedError
from nightfeed.core.vocabulary import DECISIONS


def _table(root: Path, name: str, version: int | None = None):
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    path = Path(root) / name
    try:
        return DeltaTable(str(path), version=version)
    except TableNotFoundError:
        raise NightfeedError(f"no {name} table under {root}: nothing was published yet") from None
    except Exception as exc:  # noqa: BLE001 - delta-rs raises plain errors for unknown/vacuumed versions
        latest = table_version(path) if version is not None else None
        if latest is not None and not 0 <= version <= latest:
            raise NightfeedError(f"{name} has no version {version}: its versions are 0 .. {latest}") from None
        raise NightfeedError(
            f"cannot read {name} at version {version}: {str(exc).splitlines()[0][:200]}"
        ) from None


def table_version(path: Path) -> int | None:
    """The table's latest version, or None when there is no readable Delta table at path."""
    from deltalake import DeltaTable

    try:
        return DeltaTable(str(path)).version()
    except Exception:  # noqa: BLE001 - used to word errors and to count commits; never raises
        return None


def table_property(path: Path, key: str) -> str | None:
    """A table property (`delta.logRetentionDuration`, ...) as the latest metadata holds it."""
    return _table(path.parent, path.name).metadata().configuration.get(key)


def version_files(path: Path, version: int) -> list[str] | None:
    """The data files of the table at `version`; None when the log no longer holds that version."""
    try:
        return _table(path.parent, path.name, version).file_uris()
    except NightfeedError:
        return None


def _slice(
    root: Path, name: str, region: str, ds: str | None = None, version: int | None = None, columns=None
):
    """The rows of one region (and ds) as an Arrow table, without its partition columns. The files
    are read with pyarrow.parquet rather than delta-rs' dataset scanner, whose threads can abort the
    interpreter at exit (delta-io/delta-rs#2184); our writes replace whole files (no deletion
    vectors), so the log's file list is exactly the data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = _table(root, name, version)
    features = set(table.protocol().writer_features or [])
    if features & {"deletionVectors", "columnMapping"}:
        raise NightfeedError(f"{name} uses {sorted(features)}: read it with Spark")
    schema = pa.schema([f for f in pa.schema(table.schema().to_arrow()) if f.name not in ("region", "ds")])
    wanted = [c for c in (columns or schema.names) if c in schema.names]
    files = table.file_uris(file_pruning_predicate=_where(region, ds))
    if not files:
        return schema.empty_table().select(wanted)
    return pq.read_table(files, schema=schema, columns=wanted)


def _where(region: str, ds: str | None) -> list[tuple[str, str, str]]:
    return [("region", "=", region)] + ([("ds", "=", ds)] if ds else [])


def _days(root: Path, name: str, region: str, version: int | None = None) -> list[str]:
    """The ds partitions of a region, sorted."""
    table = _table(root, name, version)
    return sorted({p["ds"] for p in table.partitions(file_pruning_predicate=_where(region, None))})


def slice_rows(table_path: str | Path, region: str, ds: str) -> int:
    """Rows of one (region, ds) slice from the Delta log's file statistics (no data file is read;
    a file without statistics is counted from its Parquet footer). 0 when there is no such slice."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = _table(Path(table_path).parent, Path(table_path).name)
    actions = pa.table(table.get_add_actions(flatten=True))
    if not actions.num_rows:
        return 0
    mine = actions.filter(
        pc.and_(pc.equal(actions["partition.region"], region), pc.equal(actions["partition.ds"], ds))
    )
    return sum(
        n if n is not None else pq.ParquetFile(str(Path(table_path) / path)).metadata.num_rows
        for path, n in zip(mine["path"].to_pylist(), mine["num_records"].to_pylist(), strict=True)
    )


def region_history(root: Path, name: str, region: str, first_ds: str, last_ds: str, columns=None):
    """The rows of `name` for one region and every ds in [first_ds, last_ds] as pandas, with a ds
    column; an empty frame when the table does not exist yet."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not (Path(root) / name / "_delta_log").exists():
        return pd.DataFrame(columns=["ds", *(columns or [])])
    table = _table(root, name)
    actions = pa.table(table.get_add_actions(flatten=True)).to_pandas()
    if actions.empty:
        return pd.DataFrame(columns=["ds", *(columns or [])])
    mine = actions[
        (actions["partition.region"] == region)
        & (actions["partition.ds"] >= first_ds)
        & (actions["partition.ds"] <= last_ds)
    ]
    schema = pa.schema([f for f in pa.schema(table.schema().to_arrow()) if f.name not in ("region", "ds")])
    wanted = [c for c in (columns or schema.names) if c in schema.names]
    parts = [
        pq.read_table(str(Path(root) / name / path), schema=schema, columns=wanted).to_pandas().assign(ds=ds)
        for path, ds in zip(mine["path"], mine["partition.ds"], strict=True)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["ds", *wanted])


def rows_per_day(root: Path, name: str, region: str, first_ds: str, last_ds: str) -> dict[str, int]:
    """Rows per ds of one region in [first_ds, last_ds], from the Delta log's file statistics
    (no data file is read); {} when the table does not exist yet."""
    import pyarrow as pa

    if not (Path(root) / name / "_delta_log").exists():
        return {}
    actions = pa.table(_table(root, name).get_add_actions(flatten=True)).to_pandas()
    if actions.empty:
        return {}
    mine = actions[
        (actions["partition.region"] == region)
        & (actions["partition.ds"] >= first_ds)
        & (actions["partition.ds"] <= last_ds)
    ]
    return {str(k): int(v) for k, v in mine.groupby("partition.ds")["num_records"].sum().items()}


def live_pointer(root: Path, region: str) -> dict:
    """The region's pointer row (live_ds, model_version, feeds_table_version)."""
    rows = _slice(root, "gold/feed_pointer", region).to_pylist()
    if not rows:
        raise NightfeedError(f"no live feed for region {region}: nothing was published yet")
    return {"region": region, **rows[0]}


def live_feed_size(root: Path, region: str) -> dict:
    """The pointer plus the live feed's row and user counts, read at the pointer's table version."""
    ptr = live_pointer(root, region)
    users = _slice(
        root, "gold/feeds", region, ptr["live_ds"], int(ptr["feeds_table_version"]), ["user_id"]
    ).column("user_id")
    return {**ptr, "rows": len(users), "users": len(users.unique())}


def user_feed(root: Path, region: str, user_id: str, ds: str | None = None) -> dict:
    """One user's feed, by rank: the live one, or the feed published for `ds` as stored now."""
    if ds is None:
        ptr = live_pointer(root, region)
        ds, version = ptr["live_ds"], int(ptr["feeds_table_version"])
    else:
        version = None
    import pyarrow.compute as pc

    feed = _slice(root, "gold/feeds", region, ds, version)
    rows = [
        {"region": region, "ds": ds, **r}
        for r in sorted(feed.filter(pc.equal(feed["user_id"], user_id)).to_pylist(), key=lambda r: r["rank"])
    ]
    if not rows:
        known = len(feed)
        raise NightfeedError(
            f"user {user_id} has no feed in region {region} ds {ds}"
            + ("" if known else f" (nothing published for {ds})")
        )
    return {"region": region, "ds": ds, "user_id": user_id, "feeds_table_version": version, "items": rows}


def taken_down_since(root: Path, region: str, ds: str, version: int | None, eligible) -> dict:
    """The videos of the region's feed of ds (at gold/feeds `version`, None: as stored now) whose
    newest review decision ingested after ds makes them ineligible (`eligible`: the statuses a feed
    may hold): what serving that feed again would show although reviewers took it down since."""
    import pandas as pd

    feed = _slice(root, "gold/feeds", region, ds, version, ["item_id"]).column("item_id").to_pandas()
    after = (dt.date.fromisoformat(ds) + dt.timedelta(days=1)).isoformat()
    decided = region_history(
        root,
        "bronze/moderation_decisions",
        region,
        after,
        "9999-12-31",
        ["item_id", "decided_ts", "decision"],
    )
    decided = decided[decided["item_id"].isin(set(feed))]
    latest = (
        decided.assign(severity=decided["decision"].map(DECISIONS.index))
        .sort_values(["decided_ts", "severity"])
        .drop_duplicates("item_id", keep="last")
    )
    taken = sorted(latest.loc[~latest["decision"].isin(list(eligible)), "item_id"])
    return {
        "videos": len(taken),
        "feed_slots": int(pd.Series(feed).isin(taken).sum()),
        "item_ids": taken[:20],
    }


def rollback_target(root: Path, region: str, to_ds: str | None, to_version: int | None, eligible) -> dict:
    """What a rollback would make live: (ds, gold/feeds version, model_version, rows, the videos
    taken down since); clear errors for a version or ds that holds no feed of the region."""
    if to_version is not None:
        days = _days(root, "gold/feeds", region, int(to_version))
        if not days:
            raise NightfeedError(f"gold/feeds version {to_version} holds no feed for region {region}")
        ds, version = days[-1], int(to_version)
    elif to_ds is not None:
        ds, version = to_ds, _table(root, "gold/feeds").version()
    else:
        raise NightfeedError("rollback needs --to-ds or --to-version")
    rows = _slice(root, "gold/feeds", region, ds, version, ["model_version"])
    if not len(rows):
        published = _days(root, "gold/feeds", region)
        raise NightfeedError(f"no published feed for region {region} ds {ds}; published: {published}")
    return {
        "region": region,
        "live_ds": ds,
        "feeds_table_version": version,
        "model_version": rows.column("model_version")[0].as_py(),
        "rows": len(rows),
        "taken_down_since": taken_down_since(root, region, ds, version, eligible),
    }


def audit_queue(root: Path, region: str, ds: str | None = None, top: int = 20) -> dict:
    """The top of a region's review queue for ds (default: the newest night with a queue)."""
    days = _days(root, "gold/audit_queue", region)
    if not days:
        raise NightfeedError(f"no audit queue for region {region}: run score_audit_queue first")
    ds = ds or days[-1]
    if ds not in days:
        raise NightfeedError(
            f"no audit queue for region {region} ds {ds}; queues exist for {days[0]} .. {days[-1]}"
        )
    queue = sorted(_slice(root, "gold/audit_queue", region, ds).to_pylist(), key=lambda r: r["rank"])
    return {"region": region, "ds": ds, "queued": len(queue), "items": queue[:top]}
