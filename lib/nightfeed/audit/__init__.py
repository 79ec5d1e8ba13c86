"""The content audit: risk features, the classifier, the review queue and its evaluation."""
