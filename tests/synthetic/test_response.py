"""The response model's expectations are the means of what the generator draws from it."""

import numpy as np
from scipy.special import expit

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.synthetic import response

CFG = SyntheticSettings()


def draw(a: response.Answer, n: int, rng) -> dict:
    """What the event generator draws for one impression, n times."""
    played = rng.random(n) < a.p_play
    share = a.scale * rng.beta(a.alpha, response.COMPLETION_BETA, size=n)
    counted = played & (share >= response.PLAYED_SHARE)
    return {
        "watch_share": np.where(played, share, 0.0).mean(),
        "completions": (counted & (share >= response.FINISHED_SHARE)).mean(),
        "likes": (counted & (rng.random(n) < a.like_probability(share))).mean(),
        "shares": (counted & (rng.random(n) < expit(a.share_logit))).mean(),
        "skips": (~counted).mean(),
    }


def test_expectations_match_the_draws():
    rng = np.random.default_rng(0)
    for aff, quality, fan, violating, duration in [
        (2.0, 1.0, True, False, 15_000),
        (0.5, -1.0, False, True, 60_000),
    ]:
        a = response.answer(
            CFG,
            np.array(aff),
            np.array(quality),
            np.array(fan),
            np.array(violating),
            np.array(duration),
            20_000.0,
            same_topic_before=1,
        )
        want = response.per_play(a).at(CFG, a.p_play)
        got = draw(a, 400_000, rng)
        for k in ("watch_share", "completions", "shares", "skips"):
            assert abs(got[k] - float(want[k])) < 0.005, k
        assert abs(got["likes"] - float(want["likes"])) < 0.02 * max(float(want["likes"]), 0.05)


def test_strength_zero_turns_an_effect_off_and_fatigue_lowers_play():
    off = SyntheticSettings(
        quality_strength=0.0, fan_strength=0.0, duration_strength=0.0, fatigue_strength=0.0
    )
    one = np.array(1.0)
    base = response.answer(
        off, one, np.array(0.0), np.array(False), np.array(False), np.array(90_000), 10_000.0
    )
    changed = response.answer(
        off, one, np.array(3.0), np.array(True), np.array(False), np.array(90_000), 10_000.0, 5, 5
    )
    assert changed.play_logit == base.play_logit and changed.alpha == base.alpha
    tired = response.answer(
        CFG, one, np.array(0.0), np.array(False), np.array(False), np.array(9_000), 10_000.0, 2, 1
    )
    fresh = response.answer(
        CFG, one, np.array(0.0), np.array(False), np.array(False), np.array(9_000), 10_000.0
    )
    assert tired.play_logit == fresh.play_logit - 3 * CFG.fatigue_strength
