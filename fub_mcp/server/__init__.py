"""MCPServer assembly, tool filtering, and the stdio / SSE / streamable HTTP transports."""
