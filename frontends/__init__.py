"""The frontend process: gRPC and HTTP/WebSocket servers over one shared service layer."""
