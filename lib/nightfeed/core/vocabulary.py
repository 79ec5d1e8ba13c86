"""The landing contracts' closed vocabularies: one place for ingest, features and configuration."""

EVENT_TYPES = ("impression", "play", "finish", "like", "share", "comment", "follow", "skip", "report")
MODERATION_STATUSES = ("approved", "pending", "restricted", "removed")
DECISIONS = ("approved", "restricted", "removed")  # mildest first; at the same instant the stricter wins
AUDIT_MODELS = ("xgboost", "gbt")  # the audit classifiers (`audit_boost`); named here, free of Spark
RANKER_TYPES = ("xgboost", "none")  # [ranker] type: the two-stage feed, or today's CF-only feed
OBJECTIVES = ("watch", "finish", "like", "share", "follow", "skip")  # the ranker's heads
RETRIEVERS = ("cf", "covis", "creator", "new_creator", "fresh", "trending")  # nominating order
