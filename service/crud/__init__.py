"""One module of queries per resource; routes call these, never SQL directly."""
