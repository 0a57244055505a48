"""SigmaVault engine: supervisor, workers, agents and the asyncio client that reaches them."""
