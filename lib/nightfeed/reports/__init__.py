"""What a person reads: the quality pages, the morning report and plain-text tables."""
