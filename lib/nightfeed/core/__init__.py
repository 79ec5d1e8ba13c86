"""Errors, days and the closed vocabularies every layer shares."""
