"""Landing files to typed rows: events, catalog, review decisions; each bad line quarantined with a reason."""
