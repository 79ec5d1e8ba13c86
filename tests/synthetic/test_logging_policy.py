"""The streamed logging policy draws the same order as Gumbel top-k over the whole catalog."""

import numpy as np

from nightfeed.synthetic.logging_policy import Policy, shown

N_VIEWERS, N_VIDEOS, N_TOPICS = 40, 120, 4


def _world(seed: int = 1):
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, N_VIDEOS) + 0.05
    weight[:15] = 0.0  # removed videos: never shown
    topic = rng.integers(0, N_TOPICS, N_VIDEOS)
    fans = rng.random((N_VIEWERS, N_VIDEOS)) < 0.1
    taste_weight = np.exp(1.5 * np.log1p(rng.dirichlet(np.full(N_TOPICS, 0.25), N_VIEWERS) * N_TOPICS))
    return Policy(weight, topic, lambda r, i: fans[r, i], 1.0), taste_weight, fans


def _gumbel_top_k(rng, policy, taste_weight, fans, k):
    with np.errstate(divide="ignore"):
        logits = np.log(policy.weight)[None, :] + np.log(taste_weight[:, policy.topic]) + fans
    return np.argsort(-(logits + rng.gumbel(size=logits.shape)), axis=1)[:, :k]


def test_each_viewer_gets_distinct_live_videos_in_order():
    policy, taste_weight, _ = _world()
    need = np.arange(N_VIEWERS) % 7 + 1
    need[0] = N_VIDEOS - 15  # every live video: the stream runs dry and Gumbel top-k finishes it
    out = shown(np.random.default_rng(0), policy, taste_weight, need)
    assert np.array_equal(np.bincount(out.row, minlength=N_VIEWERS), need)
    for r in range(N_VIEWERS):
        mine = out.item[out.row == r]
        assert len(set(mine)) == len(mine) and (policy.weight[mine] > 0).all()
        assert list(out.pos[out.row == r]) == list(range(need[r]))


def test_inclusion_and_first_slot_frequencies_match_gumbel_top_k():
    policy, taste_weight, fans = _world()
    k, runs = 10, 300
    rng = np.random.default_rng(2)
    streamed, gumbel = np.zeros((N_VIEWERS, N_VIDEOS)), np.zeros((N_VIEWERS, N_VIDEOS))
    first_s, first_g = np.zeros((N_VIEWERS, N_VIDEOS)), np.zeros((N_VIEWERS, N_VIDEOS))
    for _ in range(runs):
        out = shown(rng, policy, taste_weight, np.full(N_VIEWERS, k))
        np.add.at(streamed, (out.row, out.item), 1)
        np.add.at(first_s, (out.row[out.pos == 0], out.item[out.pos == 0]), 1)
        top = _gumbel_top_k(rng, policy, taste_weight, fans, k)
        np.add.at(gumbel, (np.repeat(np.arange(N_VIEWERS), k), top.ravel()), 1)
        np.add.at(first_g, (np.arange(N_VIEWERS), top[:, 0]), 1)
    assert np.abs(streamed - gumbel).max() / runs < 0.15
    assert np.corrcoef(streamed.ravel(), gumbel.ravel())[0, 1] > 0.98
    assert np.corrcoef(first_s.ravel(), first_g.ravel())[0, 1] > 0.95
    fan_share = (streamed * fans).sum() / streamed.sum()
    assert abs(fan_share - (gumbel * fans).sum() / gumbel.sum()) < 0.01
