"""The lake: the table registry, Delta reads and writes (Spark and delta-rs), and the table schemas."""
