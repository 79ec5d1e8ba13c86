"""How a viewer answers a video they are shown: the synthetic world's response model.

One definition for the event generator, which draws each impression's outcome from it, and for
the feed-value benchmark, which takes its expectations over a whole feed (`cascade`). The
effects (topic taste, video quality, duration preference, creator fans, session fatigue, policy
violations) are described with the published observations they imitate in docs/synthetic-world.md.
All functions work element-wise on broadcast arrays: one impression or a users × videos matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import betainc, expit

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.synthetic.items import hash_uniform

PLAYED_SHARE = 0.15  # a play shorter than this share of the video is a skip
FINISHED_SHARE = 0.95
OVERWATCH = 1.15  # watched share = OVERWATCH * Beta(alpha, COMPLETION_BETA): replays reach 115%
COMPLETION_BETA = 1.5
# How violating videos are watched: skipped more, abandoned earlier, shared and argued about more.
VIOLATING_PLAY_PENALTY = 1.5  # logit
VIOLATING_COMPLETION = 0.85  # factor on the watched share
VIOLATING_SHARE_BOOST = 1.0  # logit
VIOLATING_COMMENT_BOOST = 1.5  # logit
FAN_FOLLOW_LOGIT = -3.0  # a fan who watches follows with ~5% chance; anyone else rarely
MAX_FAN_PROBABILITY = 0.9


def affinity(taste_at_topic: np.ndarray, n_topics: int) -> np.ndarray:
    """log(1 + taste × topics): 0 for a topic the viewer ignores, ~2.5 for their only topic."""
    return np.log1p(taste_at_topic * n_topics)


@dataclass(frozen=True)
class Answer:
    """The distribution of a viewer's answer to one shown video (arrays of one shape)."""

    play_logit: np.ndarray  # starts watching: expit(play_logit)
    alpha: np.ndarray  # watched share = scale × Beta(alpha, COMPLETION_BETA)
    scale: np.ndarray
    like_logit: np.ndarray  # plus 1.5 × the watched share
    share_logit: np.ndarray
    comment_logit: np.ndarray
    p_follow: np.ndarray  # per counted play

    @property
    def p_play(self) -> np.ndarray:
        return expit(self.play_logit)

    def like_probability(self, watched_share):
        return expit(self.like_logit + 1.5 * watched_share)


def fatigue(cfg: SyntheticSettings, same_topic_before, same_creator_before) -> np.ndarray:
    """What earlier videos of the session take off the play logit: one step per video of the same
    topic, one more per video of the same creator."""
    return cfg.fatigue_strength * (np.asarray(same_topic_before) + np.asarray(same_creator_before))


def answer(
    cfg: SyntheticSettings,
    affinity: np.ndarray,
    quality: np.ndarray,
    fan: np.ndarray,
    violating: np.ndarray,
    duration_ms: np.ndarray,
    preferred_ms: np.ndarray,
    same_topic_before: np.ndarray | int = 0,
    same_creator_before: np.ndarray | int = 0,
) -> Answer:
    """The answer's distribution given the viewer's affinity to the topic, the video's quality,
    whether the viewer is a fan of its creator, whether it violates a policy, its length against
    the viewer's preferred length, and how many earlier videos of the session had its topic and
    its creator (fatigue)."""
    q, f, v = cfg.quality_strength * quality, cfg.fan_strength * fan, violating.astype(np.float64)
    too_long = np.maximum(0.0, np.log(duration_ms / preferred_ms))
    return Answer(
        play_logit=-0.5
        + 1.2 * affinity
        + q
        + f
        - VIOLATING_PLAY_PENALTY * v
        - fatigue(cfg, same_topic_before, same_creator_before),
        alpha=(0.5 + 1.5 * affinity) * np.exp(0.5 * q + 0.5 * f - cfg.duration_strength * too_long),
        scale=OVERWATCH * np.where(violating, VIOLATING_COMPLETION, 1.0),
        like_logit=-5.0 + 1.2 * affinity + 0.7 * q + 0.8 * f,
        share_logit=-6.5 + 1.2 * affinity + 0.5 * q + VIOLATING_SHARE_BOOST * v,
        comment_logit=-6.5 + 1.2 * affinity + VIOLATING_COMMENT_BOOST * v,
        p_follow=np.where(fan, expit(FAN_FOLLOW_LOGIT), 0.004 * affinity),
    )


def fan_of(
    cfg: SyntheticSettings,
    key: int,
    user: np.ndarray,
    taste_at_creator_topic: np.ndarray,
    fan_norm: np.ndarray,
    account: np.ndarray,
    creator_share: np.ndarray,
) -> np.ndarray:
    """Whether each viewer is a fan of each video's creator account: a fixed property of the pair,
    more likely for popular creators of the viewer's topics (`creators_followed` on average)."""
    p = np.minimum(
        MAX_FAN_PROBABILITY, cfg.creators_followed * taste_at_creator_topic * creator_share / fan_norm
    )
    return hash_uniform(key, user, account) < p


@dataclass(frozen=True)
class PerPlay:
    """Expected outcomes of one shown video for each unit of play probability: every outcome is
    linear in p_play, so fatigue (which moves only p_play) needs no new Beta integrals."""

    watch_share: np.ndarray  # expected watched share of the video
    counted: np.ndarray  # chance the play lasts PLAYED_SHARE or more (else it is a skip)
    completion: np.ndarray
    like: np.ndarray
    share: np.ndarray

    def take(self, index) -> PerPlay:
        """The expectations at `index` (any numpy index of the arrays)."""
        return PerPlay(*(getattr(self, f.name)[index] for f in fields(self)))

    def at(self, cfg: SyntheticSettings, p_play: np.ndarray) -> dict[str, np.ndarray]:
        """Expected watched share, completions, likes, shares and skips, and the chance the viewer
        scrolls on to the next slot, for a play probability."""
        played = p_play * self.counted
        return {
            "watch_share": p_play * self.watch_share,
            "completions": p_play * self.completion,
            "likes": p_play * self.like,
            "shares": p_play * self.share,
            "skips": 1.0 - played,
            "scroll_on": played * cfg.scroll_on_after_play + (1.0 - played) * cfg.scroll_on_after_skip,
        }


def per_play(a: Answer) -> PerPlay:
    """The Beta distribution of the watched share in closed form; likes at the mean share of a
    counted play."""
    b = COMPLETION_BETA
    t_played = np.clip(PLAYED_SHARE / a.scale, 0.0, 1.0)
    t_finished = np.clip(FINISHED_SHARE / a.scale, 0.0, 1.0)
    counted = betainc(b, a.alpha, 1.0 - t_played)  # P(Beta >= t)
    mean = a.alpha / (a.alpha + b)
    tail_mean = mean * betainc(b, a.alpha + 1.0, 1.0 - t_played)  # E[Beta; Beta >= t]
    share_if_counted = a.scale * tail_mean / np.maximum(counted, 1e-12)
    return PerPlay(
        watch_share=a.scale * mean,
        counted=counted,
        completion=betainc(b, a.alpha, 1.0 - t_finished),
        like=counted * a.like_probability(share_if_counted),
        share=counted * expit(a.share_logit),
    )
