"""Each effect of the richer world is visible in the generated logs, and strength 0 turns it off."""

import dataclasses
import functools

import numpy as np
import pandas as pd

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.synthetic import world
from nightfeed.synthetic.items import users

WORLD = SyntheticSettings(n_users=3000, items_per_day=60, catalog_days=8, n_creators=120, malformed_share=0.0)
DAYS = ("2026-11-23", "2026-11-24", "2026-11-25")


@functools.lru_cache(maxsize=8)
def impressions(cfg: SyntheticSettings) -> pd.DataFrame:
    """One row per impression of DAYS with whether it was played (counted) and finished, the
    video's hidden quality, length and creator, and the viewer's preferred length."""
    frames = []
    for ds in DAYS:
        ev = pd.DataFrame(world.events(cfg, 3, "US", ds))
        ev = ev[ev["event_type"] != "report"]
        ev["ts"] = pd.to_datetime(ev["event_ts"], format="ISO8601", utc=True)
        flags = pd.crosstab([ev["user_id"], ev["item_id"]], ev["event_type"]).clip(upper=1)
        imp = ev[ev["event_type"] == "impression"][["user_id", "item_id", "ts"]].assign(ds=ds)
        imp = imp.join(flags[["play", "finish"]], on=["user_id", "item_id"])
        cat = world.catalog(cfg, 3, "US", ds)
        truth = pd.DataFrame(
            {
                "item_id": cat.ids,
                "quality": cat.quality,
                "duration_ms": cat.duration_ms,
                "creator": cat.creator,
            }
        )
        frames.append(imp.merge(truth, on="item_id"))
    out = pd.concat(frames, ignore_index=True)
    us = users(cfg, 3, "US")
    return out.merge(pd.DataFrame({"user_id": us.ids, "preferred_ms": us.preferred_ms}), on="user_id")


def quality_gap(cfg) -> float:
    imp = impressions(cfg)
    third = imp["quality"].quantile([1 / 3, 2 / 3]).to_numpy()
    return (
        imp.loc[imp["quality"] > third[1], "finish"].mean()
        - imp.loc[imp["quality"] < third[0], "finish"].mean()
    )


def test_higher_quality_videos_are_completed_more():
    assert quality_gap(WORLD) > 0.08
    assert abs(quality_gap(dataclasses.replace(WORLD, quality_strength=0.0))) < 0.02


def duration_gap(cfg) -> float:
    """How many times more often short-preferring viewers finish short videos than long ones,
    against the same for long-preferring viewers (log ratio)."""
    imp = impressions(cfg)
    short_video = imp["duration_ms"] < imp["duration_ms"].quantile(1 / 3)
    long_video = imp["duration_ms"] > imp["duration_ms"].quantile(2 / 3)
    gaps = []
    for viewers in (
        imp["preferred_ms"] < imp["preferred_ms"].quantile(1 / 3),
        imp["preferred_ms"] > imp["preferred_ms"].quantile(2 / 3),
    ):
        gaps.append(
            imp.loc[viewers & short_video, "finish"].mean() / imp.loc[viewers & long_video, "finish"].mean()
        )
    return float(np.log(gaps[0] / gaps[1]))


def test_viewers_who_prefer_short_videos_finish_short_videos_more():
    assert duration_gap(WORLD) > 0.4
    assert abs(duration_gap(dataclasses.replace(WORLD, duration_strength=0.0))) < 0.2


def repeat_play_rates(cfg) -> tuple[float, float]:
    """Play rate of impressions whose creator the viewer was shown minutes before (same session),
    and of the others."""
    imp = impressions(cfg).sort_values(["user_id", "ts"])
    gap = imp.groupby(["user_id", "creator"])["ts"].diff()
    repeat = gap.notna() & (gap < pd.Timedelta(minutes=10))
    return imp.loc[repeat, "play"].mean(), imp.loc[~repeat, "play"].mean()


def test_a_creator_repeated_in_a_session_is_played_less():
    repeated, others = repeat_play_rates(WORLD)
    repeated_off, others_off = repeat_play_rates(dataclasses.replace(WORLD, fatigue_strength=0.0))
    assert repeated < repeated_off - 0.05, "fatigue lowers the play of a repeated creator"
    assert (repeated_off - repeated) > 2 * (others_off - others), "and much more than of the others"


def fan_gap(cfg) -> float:
    """Play rate on creators the viewer follows (a follow event in the logs) minus on the others."""
    evs = pd.concat(pd.DataFrame(world.events(cfg, 3, "US", ds)) for ds in DAYS)
    creator = {
        i: c
        for ds in DAYS
        for i, c in zip(
            *[world.catalog(cfg, 3, "US", ds).ids, world.catalog(cfg, 3, "US", ds).creator], strict=True
        )
    }
    follows = evs[evs["event_type"] == "follow"]
    followed = set(zip(follows["user_id"], follows["item_id"].map(creator), strict=True))
    imp = impressions(cfg)
    fan = np.array([(u, c) in followed for u, c in zip(imp["user_id"], imp["creator"], strict=True)])
    return imp.loc[fan, "play"].mean() - imp.loc[~fan, "play"].mean()


def test_creators_a_viewer_follows_are_played_more():
    assert fan_gap(WORLD) > 0.1
    assert fan_gap(WORLD) > fan_gap(dataclasses.replace(WORLD, fan_strength=0.0)) + 0.03
