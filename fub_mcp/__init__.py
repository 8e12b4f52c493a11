"""fub-mcp: an MCP server for the Follow Up Boss CRM."""

__version__ = "0.1.0"
