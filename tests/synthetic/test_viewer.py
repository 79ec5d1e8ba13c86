"""The viewer model on a hand-built world: a feed's value is its cascade, and the oracle is the
best feed the rules allow."""

import itertools

import numpy as np
from scipy.special import expit

from nightfeed.configuration.settings import SyntheticSettings
from nightfeed.synthetic import response, viewer
from nightfeed.synthetic.items import Users

CFG = SyntheticSettings(n_topics=2)
# Seven videos: topic, quality, creator; video 6 violates a policy.
TOPIC = np.array([0, 0, 0, 1, 1, 0, 1])
QUALITY = np.array([1.5, 1.2, 0.2, 0.8, -0.5, 0.9, 2.0])
ACCOUNT = np.array([0, 0, 1, 2, 3, 4, 5])


def night() -> viewer.Night:
    one = Users(
        ids=np.array(["u-0", "u-1"]),
        taste=np.array([[0.8, 0.2], [0.3, 0.7]]),
        activity=np.ones(2),
        preferred_ms=np.array([15_000.0, 40_000.0]),
        fan_norm=np.ones(2),
    )
    return viewer.Night(
        cfg=CFG,
        fan_key=1,
        viewers=one,
        topic=TOPIC,
        quality=QUALITY,
        violating=np.arange(7) == 6,
        duration_ms=np.array([10_000.0, 30_000.0, 12_000.0, 20_000.0, 8_000.0, 60_000.0, 15_000.0]),
        account=ACCOUNT,
        creator_topic=TOPIC,
        creator_share=np.zeros(7),  # nobody is a fan
    )


def test_a_feeds_value_is_the_cascade_of_its_slots():
    n = night()
    value = viewer.feed_value(n, np.array([0, 1]), np.array([[0, 1], [3, -1]]))
    logit, per = n.answers(np.array([0]), np.array([[0, 1]]))
    first = per.take((0, 0)).at(CFG, expit(logit[0, 0]))
    second = per.take((0, 1)).at(CFG, expit(logit[0, 1] - response.fatigue(CFG, 1, 1)))
    want = first["watch_share"] * 10 + first["scroll_on"] * second["watch_share"] * 30
    assert np.isclose(value["watch_s"][0], want)
    alone = viewer.feed_value(n, np.array([1]), np.array([[3]]))
    assert np.isclose(value["skips"][1], alone["skips"][0]), "an ended feed adds nothing"
    assert viewer.feed_value(n, np.array([0]), np.full((1, 3), -1))["watch_s"][0] == 0


def feasible(allowed, rules: viewer.Rules):
    """Every ordered feed of n allowed videos within the cap and with the reserved fresh slots."""
    for feed in itertools.permutations(np.flatnonzero(allowed), rules.n):
        creators = np.bincount(rules.creator[list(feed)])
        if creators.max() <= rules.max_per_creator and rules.fresh[list(feed)].sum() >= rules.n_fresh_slots:
            yield feed


def test_the_oracle_is_the_best_feed_the_rules_allow():
    n = night()
    rules = viewer.Rules(
        n=3,
        max_per_creator=1,
        creator=ACCOUNT,
        fresh=np.isin(np.arange(7), [2, 4]),
        new_creator=np.zeros(7, bool),
        n_fresh_slots=1,
        n_new_creator_slots=0,
    )
    allowed = np.ones((2, 7), bool)
    allowed[:, 5] = False  # seen: excluded
    got = viewer.oracle(n, np.array([0, 1]), allowed, rules, shortlist=7)
    for row in (0, 1):
        feed = got[row]
        assert allowed[row, feed].all() and rules.fresh[feed].sum() >= 1
        assert np.bincount(ACCOUNT[feed]).max() <= 1
        values = [
            viewer.feed_value(n, np.array([row]), np.array([f]))["watch_s"][0]
            for f in feasible(allowed[row], rules)
        ]
        best = viewer.feed_value(n, np.array([row]), got[row : row + 1])["watch_s"][0]
        assert best >= max(values) - 1e-9, (best, max(values))
