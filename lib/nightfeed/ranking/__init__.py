"""Two-stage feeds: retrievers nominate candidates, xgboost heads predict what a viewer will do
with each (watch, finish, like, share, follow, skip), a value orders them and a diversity
re-rank keeps the feed varied. Domain code: arrays and frames in, arrays and frames out."""
