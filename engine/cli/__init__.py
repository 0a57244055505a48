"""The ``engined`` subcommands beyond serve: named tokens and the operators' tools."""
