"""From interactions to feeds: features, scoring, the feed rules and feed health."""
