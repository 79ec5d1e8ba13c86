"""The landing contracts' closed vocabularies: one place for ingest, features and configuration."""

EVENT_TYPES = ("impression", "play", "finish", "like", "share", "comment", "follow", "skip", "report")
MODERATION_STATUSES = ("approved", "pending", "restricted", "removed")
DECISIONS = ("approved", "restricted", "removed")  # mildest first; at the same instant the stricter wins
AUDIT_MODELS = ("xgboost", "gbt")  # the audit classifiers (`audit_boost`); named here, free of Spark
