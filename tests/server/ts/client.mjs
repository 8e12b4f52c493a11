// Independent client: the official TypeScript MCP SDK drives fub-mcp, prints ONE JSON line.
//
//   node client.mjs stdio <command> [args...]     spawn the server and talk over stdin/stdout
//   node client.mjs sse   <base-url> [token]      legacy SSE: GET <base>/sse + POST /messages/
//   node client.mjs http  <base-url> [token]      streamable HTTP: <base>/mcp
//
// Output: {"transport","protocolVersion","server","tools":[names],"structured":{...},"isError":false,
//          "unknownToolIsError":true}. Exit code 1 with {"error": "..."} on failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, ...rest] = process.argv.slice(2);

function makeTransport() {
  if (mode === "stdio") {
    return new StdioClientTransport({ command: target, args: rest, env: getDefaultEnvironment(), stderr: "ignore" });
  }
  const token = rest[0];
  const requestInit = token ? { headers: { Authorization: `Bearer ${token}` } } : undefined;
  if (mode === "sse") {
    // The SSE GET goes through eventsource: its headers come from eventSourceInit.fetch.
    const eventSourceInit = token
      ? { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, Authorization: `Bearer ${token}` } }) }
      : undefined;
    return new SSEClientTransport(new URL(`${target}/sse`), { requestInit, eventSourceInit });
  }
  if (mode === "http") {
    return new StreamableHTTPClientTransport(new URL(`${target}/mcp`), { requestInit });
  }
  throw new Error(`unknown mode ${mode}: use stdio, sse or http`);
}

const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: "timed out after 20 s" }));
  process.exit(1);
}, 20_000);

const client = new Client({ name: "fub-mcp-ts-interop", version: "0.0.0" });
const transport = makeTransport();
try {
  await client.connect(transport);
  const tools = await client.listTools();
  const result = await client.callTool({ name: "search_people", arguments: { query: "smith", limit: 2 } });
  const unknown = await client.callTool({ name: "no_such_tool", arguments: {} });
  console.log(
    JSON.stringify({
      transport: mode,
      protocolVersion: transport.protocolVersion ?? null,
      server: client.getServerVersion()?.name ?? null,
      tools: tools.tools.map((t) => t.name),
      structured: result.structuredContent ?? null,
      isError: result.isError ?? false,
      unknownToolIsError: unknown.isError ?? false,
    }),
  );
  await client.close();
  clearTimeout(timer);
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.stack ?? err) }));
  clearTimeout(timer);
  process.exit(1);
}
