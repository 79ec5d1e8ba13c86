"""The nightfeed command line: argument parsing and one function per command."""
