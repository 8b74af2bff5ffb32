"""Call AMP through a running `amp agent`, from Python's standard library.

No credentials and no token code: the agent logs in, keeps the token fresh,
retries, and replays a call whose token was revoked. Where the agent is comes
from the variables it prints when ready:

    AMP_AGENT_SOCKET    its Unix socket (used when set), or
    AMP_AGENT_URL       its loopback TCP address, with
    AMP_AGENT_KEY_FILE  the file holding the key TCP callers must send.

As a module:  from amp_agent import call; status, body = call("GET", "/api/assets/")
As a program: python3 amp_agent.py GET /api/assets/ ['{"json": "body"}']
              prints the answer's JSON; exits 1 on a status of 400 or more.
"""

import http.client
import json
import os
import socket
import sys
import urllib.parse


class _UnixConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: the host name only fills the Host header."""

    def __init__(self, path, timeout):
        super().__init__("amp-agent", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def call(method, path, body=None, timeout=120):
    """(status, parsed JSON body or None) of `method path` through the agent."""
    headers = {}
    socket_path = os.environ.get("AMP_AGENT_SOCKET")
    if socket_path:
        conn = _UnixConnection(socket_path, timeout)
    else:
        # hostname drops an IPv6 address's brackets (`http://[::1]:8700`).
        url = urllib.parse.urlsplit(os.environ["AMP_AGENT_URL"])
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        with open(os.environ["AMP_AGENT_KEY_FILE"]) as f:
            headers["X-AMP-Agent-Key"] = f.read().strip()
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        raw = answer.read()
        return answer.status, (json.loads(raw) if raw else None)
    finally:
        conn.close()


if __name__ == "__main__":
    method, path = sys.argv[1], sys.argv[2]
    body = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    status, answer = call(method, path, body)
    print(json.dumps(answer, indent=2))
    sys.exit(1 if status >= 400 else 0)
