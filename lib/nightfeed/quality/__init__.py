"""Data quality: the check suites and the frames they check."""
