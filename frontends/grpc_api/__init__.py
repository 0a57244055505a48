"""The gRPC API (grpc.aio): one servicer module per service of proto/sigmavault/v1; each decodes the
request message, calls the engine's services and builds the answer; server.py assembles them."""
