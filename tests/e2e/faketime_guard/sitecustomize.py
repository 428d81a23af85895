"""Loaded by a Home Assistant that runs under libfaketime (PYTHONPATH): reports every write
to the process environment. libfaketime calls getenv() from any thread on every timed wait,
so a write from another thread can crash the process; the e2e fails on any report instead of
crashing once in a while."""

import sys
import threading

MARK = "E2E-ENVIRONMENT-WRITTEN"


def _report(event: str, args: tuple[object, ...]) -> None:
    if event in ("os.putenv", "os.unsetenv"):
        thread = threading.current_thread().name
        sys.stderr.write(f"{MARK} {event} {args[0]!r} in {thread}\n")


sys.addaudithook(_report)
