"""The multiprocess engine: the supervisor, the workers and the agents they host, the client that
reaches them over the rings, admission and the shared tables. Nothing in it is NAS-specific."""
