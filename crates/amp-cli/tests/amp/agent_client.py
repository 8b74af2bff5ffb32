"""A Python program calling AMP through `amp agent`, standard library only,
as the tests of crates/amp-cli/tests/amp/agent.rs run it.

Over the Unix socket: http.client with a connection whose socket is
AF_UNIX. Over loopback TCP: plain http.client, with the agent's key in the
X-AMP-Agent-Key header. No credentials, no token code.

Each scenario prints one JSON object on stdout for the test to check.
"""

import argparse
import http.client
import json
import socket
import threading
import time
import urllib.request


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: the host name is only for the Host header."""

    def __init__(self, path, timeout=60):
        super().__init__("amp-agent", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


class Agent:
    """Where the agent is: its socket, or its URL and key."""

    def __init__(self, socket_path=None, url=None, key_file=None):
        self.socket_path = socket_path
        self.url = url
        self.key = None
        if key_file:
            with open(key_file) as f:
                self.key = f.read().strip()

    def connection(self):
        if self.socket_path:
            return UnixHTTPConnection(self.socket_path)
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return http.client.HTTPConnection(host, int(port), timeout=60)

    def call(self, method, path, body=None, headers=None, key=True):
        """(status, parsed JSON or None) of one call."""
        headers = dict(headers or {})
        if self.key and key:
            headers["X-AMP-Agent-Key"] = self.key
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn = self.connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return answer.status, parsed


# What a caller might carry out of habit: they must never reach AMP.
CALLER_HEADERS = {
    "Authorization": "token caller-own-token-0123456789abcdef",
    "Cookie": "sessionid=caller-cookie-fedcba9876543210",
}


def concurrently(n, work):
    """Runs work(i) in n threads started together; their results in order."""
    results = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        try:
            results[i] = work(i)
        except Exception as e:  # reported, not raised: the test shows it
            results[i] = ("error", repr(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def scenario_calls(agents, n, path):
    """n callers at once, alternating between the agents given (socket, TCP)."""

    def work(i):
        status, body = agents[i % len(agents)].call("GET", path, headers=CALLER_HEADERS)
        return [status, isinstance(body, list)]

    return {"results": concurrently(n, work)}


def scenario_refused(tcp):
    """TCP without the key, and with a wrong one."""
    none = tcp.call("GET", "/api/assets/", key=False)
    wrong = tcp.call(
        "GET", "/api/assets/", headers={"X-AMP-Agent-Key": "0" * 64}, key=False
    )
    status = tcp.call("GET", "/agent/status", key=False)
    return {"no_key": none[0], "wrong_key": wrong[0], "status_no_key": status[0]}


def wait_until(agent, test, what):
    """Polls the agent's status until test(status) holds (an agent is another
    process: its status is how a program sees what it does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, status = agent.call("GET", "/agent/status")
        if test(status):
            return status
        time.sleep(0.01)
    raise TimeoutError(what)


def scenario_pause(agent, n, sandbox_stats):
    """One call is answered 429 (Retry-After); while the client waits it
    out, n more callers arrive: none of them reaches AMP before the pause
    ends, and each gets its answer after it."""
    first = {}

    def lead():
        first["answer"] = agent.call("GET", "/api/categories/")

    leader = threading.Thread(target=lead)
    leader.start()
    wait_until(agent, lambda s: s["client"]["rate_limited"] >= 1, "the 429")
    results = [None] * n

    def follower(i):
        status, body = agent.call("GET", "/api/assets/", headers=CALLER_HEADERS)
        results[i] = [status, isinstance(body, list)]

    threads = [threading.Thread(target=follower, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    # Every caller has reached the agent and waits in it …
    wait_until(agent, lambda s: s["agent"]["in_flight"] >= n + 1, "the callers")
    # … and AMP has seen none of them yet.
    with urllib.request.urlopen(sandbox_stats) as r:
        stats = json.load(r)
    seen_during_pause = stats["by_route"].get("GET /assets", 0)
    leader.join()
    for t in threads:
        t.join()
    return {
        "first": first["answer"][0],
        "results": results,
        "assets_seen_during_pause": seen_during_pause,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario")
    p.add_argument("--socket")
    p.add_argument("--url")
    p.add_argument("--key-file")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--path", default="/api/assets/")
    p.add_argument("--sandbox-stats")
    a = p.parse_args()
    agents = []
    if a.socket:
        agents.append(Agent(socket_path=a.socket))
    if a.url:
        agents.append(Agent(url=a.url, key_file=a.key_file))
    if a.scenario == "calls":
        out = scenario_calls(agents, a.n, a.path)
    elif a.scenario == "refused":
        out = scenario_refused(Agent(url=a.url, key_file=a.key_file))
    elif a.scenario == "pause":
        out = scenario_pause(agents[0], a.n, a.sandbox_stats)
    else:
        raise SystemExit(f"unknown scenario {a.scenario}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
