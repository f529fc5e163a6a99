"""Drive Debian's headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe).

Nothing is injected into the page: console messages, script exceptions, dialogs (an ``alert``
that ran) and every network request arrive as protocol events, and the DOM is read with
``Runtime.evaluate`` after the page has loaded.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)
# Waiting on the browser has a ceiling so a broken install fails the test instead of hanging it;
# nothing is asserted about how fast anything was.
WAIT_SECONDS = 90.0
POLL_SECONDS = 0.1


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageRun:
    """What happened while a page loaded."""

    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requested_urls: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.exceptions + self.console_errors + self.log_errors


class Chromium:
    """One headless browser process and one page in it."""

    def __init__(self, executable: str, profile_dir: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_pipe() -> None:  # runs in the child: Chromium reads fd 3, writes fd 4
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipe,
            pass_fds=(3, 4),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.run = PageRun()
        self.session = ""
        self._seen: set[str] = set()

    # -- protocol ------------------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_child, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    self._events.put({"method": "__closed__"})
                    return
                buffer += chunk
                while b"\0" in buffer:
                    raw, buffer = buffer.split(b"\0", 1)
                    message = json.loads(raw)
                    if "id" in message:
                        with self._lock:
                            box = self._replies.get(message["id"])
                        if box is not None:
                            box.put(message)
                    else:
                        self._events.put(message)

    def _post(self, method: str, params: dict[str, Any] | None, session: bool) -> int:
        """Write one command; its reply will arrive in ``self._replies[id]``."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            self._replies[ident] = queue.Queue()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return ident

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> Any:
        """Run one command and return its result, handling events while waiting."""
        box = self._replies[self._post(method, params, session)]
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            try:
                reply = box.get(timeout=POLL_SECONDS)
            except queue.Empty:
                self._drain()
                if self.process.poll() is not None:
                    raise RuntimeError(f"chromium exited during {method}") from None
                continue
            if "error" in reply:
                raise RuntimeError(f"{method} failed: {reply['error']}")
            return reply.get("result", {})
        raise RuntimeError(f"chromium did not answer {method}")

    def _drain(self) -> None:
        """Handle the events that arrived so far."""
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            self._handle(event)

    def _handle(self, event: dict[str, Any]) -> str:
        method = str(event.get("method", ""))
        params = event.get("params", {})
        self._seen.add(method)
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.run.exceptions.append(str(text))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.run.console_errors.append(" ".join(args))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.run.log_errors.append(str(params["entry"].get("text", "")))
        elif method == "Page.javascriptDialogOpening":
            self.run.dialogs.append(str(params.get("message", "")))
            self._post("Page.handleJavaScriptDialog", {"accept": True}, session=True)
        elif method == "Network.requestWillBeSent":
            self.run.requested_urls.append(str(params.get("request", {}).get("url", "")))
        return method

    # -- page ----------------------------------------------------------------------------
    def open(self, path: Path, width: int = 1280, height: int = 2000) -> PageRun:
        """Load ``path`` in a fresh page and wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self.session = attached["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self._seen.discard("Page.loadEventFired")
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            if "Page.loadEventFired" in self._seen:
                break
            try:
                self._handle(self._events.get(timeout=POLL_SECONDS))
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError("chromium exited while loading the page") from None
        else:
            raise RuntimeError(f"{path} did not finish loading")
        self.evaluate("1")  # a round trip, so late console events have arrived
        self._drain()
        return self.run

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating {expression!r} failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.send("Browser.close", session=False)
        except (RuntimeError, OSError):
            pass
        finally:
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            os.close(self._to_child)
