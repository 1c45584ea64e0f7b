"""Package sources: one module per kind of input, all producing :class:`depgraph.model.Package`."""
