"""Headless Chromium through the Chrome DevTools protocol: open Home Assistant logged in as
the owner, show the Energy dashboard, read what it shows and take a screenshot.

The owner's tokens go where the frontend keeps them after a login (`hassTokens` in
localStorage), which is what logging in through the form leaves behind.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,1500",
    "--remote-debugging-port=0",
)
NO_DATA = ("There is no data to show", "There is no data for this period")
# The text of every element, shadow roots included (Home Assistant's frontend is made of
# web components).
DEEP_TEXT = """
(() => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.documentElement);
  return parts.join(' ').replace(/\\s+/g, ' ');
})()
"""
DEEP_COUNT = """
((tag) => {
  let count = 0;
  const walk = (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE)
      return;
    if (node.localName === tag) count += 1;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children || []) walk(child);
  };
  walk(document.documentElement);
  return count;
})
"""

DEEP_CLICK = """
((label) => {
  const walk = (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE)
      return null;
    if (node.label === label) return node;
    if (node.shadowRoot) { const found = walk(node.shadowRoot); if (found) return found; }
    for (const child of node.children || []) { const found = walk(child); if (found) return found; }
    return null;
  };
  const target = walk(document.documentElement);
  if (target) target.click();
  return target !== null;
})
"""


def chromium() -> str | None:
    """The Chromium executable, if installed."""
    for name in CHROMIUM:
        if path := shutil.which(name):
            return path
    return None


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Nothing runs yet."""
        self.session = session
        self._profile = tempfile.mkdtemp(prefix="e2e-chromium-")
        self._process: asyncio.subprocess.Process | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    async def start(self) -> None:
        """Start Chromium on about:blank and attach to its page."""
        executable = chromium()
        if executable is None:
            raise RuntimeError("Chromium is not installed (Debian packages chromium)")
        self._process = await asyncio.create_subprocess_exec(
            executable,
            *FLAGS,
            f"--user-data-dir={self._profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            await asyncio.sleep(0.2)
        port = port_file.read_text().splitlines()[0]
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
            pages = [t for t in await response.json() if t.get("type") == "page"]
        self._ws = await self.session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        await self.send("Page.enable")
        await self.send("Runtime.enable")

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command and its result."""
        assert self._ws is not None
        self._id += 1
        await self._ws.send_json({"id": self._id, "method": method, "params": params})
        while True:
            message = json.loads((await self._ws.receive()).data)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    async def open_logged_in(self, url: str, path: str, tokens: dict[str, Any]) -> None:
        """Store the owner's tokens for Home Assistant's origin, then open `path`."""
        await self.send("Page.navigate", url=f"{url}/robots.txt")
        await self._wait_loaded()
        stored = json.dumps(json.dumps(tokens))
        await self.evaluate(f"localStorage.setItem('hassTokens', {stored})")
        # The Energy dashboard opens on yesterday: the providers publish a day late.
        await self.evaluate(
            "localStorage.setItem('energy-default-period-_energy_energy', 'yesterday')"
        )
        await self.send("Page.navigate", url=f"{url}{path}")
        await self._wait_loaded()

    async def _wait_loaded(self) -> None:
        deadline = time.monotonic() + 30
        while await self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise TimeoutError("the page did not load")
            await asyncio.sleep(0.2)

    async def click_labelled(self, label: str) -> bool:
        """Click the first element (shadow roots included) whose `label` is `label`."""
        return bool(await self.evaluate(f"{DEEP_CLICK}({json.dumps(label)})"))

    async def text(self) -> str:
        """What the page shows, as text."""
        return str(await self.evaluate(DEEP_TEXT) or "")

    async def count(self, tag: str) -> int:
        """How many elements of a tag are rendered, shadow roots included."""
        return int(await self.evaluate(f"{DEEP_COUNT}({json.dumps(tag)})") or 0)

    async def screenshot(self, path: Path) -> None:
        """A PNG of the page."""
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        png = base64.b64decode(shot["data"])
        await asyncio.to_thread(_write, path, png)

    async def close(self) -> None:
        """Stop Chromium and forget its profile."""
        if self._ws is not None:
            await self._ws.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), 10)
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
