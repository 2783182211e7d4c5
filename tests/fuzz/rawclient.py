"""A raw JSON-RPC client for ``guildls serve``: it can send what pytest-lsp's typed
client cannot (negative positions, missing fields, wrong types) and records every
message the server sends, so that unanswered requests and popups can be counted."""

import json
import os
import queue
import subprocess
import sys
import threading
import time


class RawClient:
    def __init__(self, cmd=None, cwd=None, env=None):
        cmd = cmd or [sys.executable, "-m", "guildls", "serve"]
        e = dict(os.environ)
        e["GUILDLS_TEST_COMMANDS"] = "1"
        e.update(env or {})
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=cwd, env=e)
        self.next_id = 0
        self.responses = {}
        self.notifications = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # -- wire -------------------------------------------------------------------------
    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = out.read(length)
            msg = json.loads(body)
            with self.cond:
                if "id" in msg and "method" not in msg:
                    self.responses[msg["id"]] = msg
                elif "method" in msg:
                    if "id" in msg:  # a request from the server: answer null
                        self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                    self.notifications.append(msg)
                self.cond.notify_all()

    def _write(self, msg):
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    # -- API ----------------------------------------------------------------------------
    def notify(self, method, params):
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def send(self, method, params):
        self.next_id += 1
        self._write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, rid, timeout=60.0):
        """The response to request ``rid``, or None when none came within ``timeout``
        (a generous bound for a busy machine: an answer normally takes milliseconds)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while rid not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return self.responses.get(rid)
                self.cond.wait(min(left, 1.0))
            return self.responses[rid]

    def request(self, method, params, timeout=60.0):
        return self.wait(self.send(method, params), timeout)

    def popups(self):
        return [n for n in self.notifications if n["method"] == "window/showMessage"]

    def initialize(self, root_uri=None):
        r = self.request("initialize", {"processId": None, "rootUri": root_uri, "capabilities": {},
                                        "initializationOptions": {"debounce": 0}})
        self.notify("initialized", {})
        return r

    def close(self):
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=20)
                self.notify("exit", None)
                self.proc.wait(timeout=20)
        except Exception:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
