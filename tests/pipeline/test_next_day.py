"""Which feed the viewers of a day saw: the newest published on or before the night before."""

from nightfeed.lake.tables import LakeTables
from nightfeed.pipeline.next_day import served_night


def test_a_refused_night_leaves_the_feed_before_it_live(spark, tmp_path):
    t = LakeTables(spark, tmp_path)
    assert served_night(t, "AA", "2026-11-23") is None, "no gold/feeds yet"
    for ds in ("2026-11-22", "2026-11-24"):  # 11-23 was refused by the gate: nothing published
        row = spark.createDataFrame(
            [("AA", ds, "u1", 1, "v1", 1.0, "cf", f"{ds}.als.x")],
            "region string, ds string, user_id string, rank int, item_id string, score double, "
            "source string, model_version string",
        )
        t.write_slice("gold/feeds", row, "AA", ds)
    assert served_night(t, "AA", "2026-11-21") is None
    assert served_night(t, "AA", "2026-11-23") == "2026-11-22"
    assert served_night(t, "AA", "2026-11-24") == "2026-11-24"
    assert served_night(t, "BB", "2026-11-24") is None, "another region's feeds do not count"
