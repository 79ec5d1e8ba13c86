"""The configuration: every key declared once, the file read and checked, its reference generated."""
