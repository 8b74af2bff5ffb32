// Call AMP through a running `amp agent`, from Node's standard library.
//
// No credentials and no token code: the agent logs in, keeps the token fresh,
// retries, and replays a call whose token was revoked. Where the agent is
// comes from the variables it prints when ready:
//
//   AMP_AGENT_SOCKET    its Unix socket (used when set), or
//   AMP_AGENT_URL       its loopback TCP address, with
//   AMP_AGENT_KEY_FILE  the file holding the key TCP callers must send.
//
// As a module:  import { call } from "./amp_agent.mjs";
//               const { status, body } = await call("GET", "/api/assets/");
// As a program: node amp_agent.mjs GET /api/assets/ ['{"json": "body"}']
//               prints the answer's JSON; exits 1 on a status of 400 or more.

import { readFileSync, realpathSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";

/** `{ status, body }` (the body parsed, or null) of `method path` through the agent. */
export function call(method, path, body = null) {
  const options = { method, path, headers: {} };
  const socketPath = process.env.AMP_AGENT_SOCKET;
  if (socketPath) {
    options.socketPath = socketPath;
  } else {
    const url = new URL(process.env.AMP_AGENT_URL);
    // An IPv6 address comes bracketed (`http://[::1]:8700`); a host has none.
    options.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    options.port = url.port;
    options.headers["X-AMP-Agent-Key"] = readFileSync(process.env.AMP_AGENT_KEY_FILE, "utf8").trim();
  }
  const payload = body === null ? null : JSON.stringify(body);
  if (payload !== null) {
    options.headers["Content-Type"] = "application/json";
    options.headers["Content-Length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(options, (answer) => {
      const chunks = [];
      answer.on("data", (chunk) => chunks.push(chunk));
      answer.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: answer.statusCode, body: text ? JSON.parse(text) : null });
        } catch (e) {
          reject(e);
        }
      });
    });
    request.on("error", reject);
    if (payload !== null) request.write(payload);
    request.end();
  });
}

// Run as a program, not imported: the script Node was given is this file
// (Node names the module by its real path, the script as it was typed).
const script = process.argv[1];
if (script && realpathSync(script) === fileURLToPath(import.meta.url)) {
  const [method, path, body] = process.argv.slice(2);
  const { status, body: answer } = await call(method, path, body ? JSON.parse(body) : null);
  console.log(JSON.stringify(answer, null, 2));
  process.exitCode = status >= 400 ? 1 : 0;
}
