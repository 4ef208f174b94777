"""torch implementations of the search spaces' networks (imported only by ``build``)."""
