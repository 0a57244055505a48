"""Agent handlers (one module per kind of work) and the registry that names the agents."""
