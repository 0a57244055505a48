"""Developer tools: protobuf generation, shared-memory inspection, worker profiling."""
