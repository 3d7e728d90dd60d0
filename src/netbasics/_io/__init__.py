"""Private I/O plumbing shared by the transports: sockets, batching, connecting, the message loop."""
