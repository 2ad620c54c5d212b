"""Runs the published Python Pyroscope client (pyroscope-io, see requirements.txt) against a server
for Emberscope's real-client conformance tests (test/e2e/clients.test.ts).

Environment: SERVER_ADDRESS (required), APP_NAME (default "python-conformance"), RUN_SECONDS
(default 7), UPLOAD_INTERVAL (seconds, default 2), HOSTNAME_TAG (default "e2e-host").
On exit it prints one JSON line to stdout describing what it did.
"""

import hashlib
import json
import os
import sys
import time
from importlib.metadata import version

import pyroscope


def burn_hash(seconds):
    deadline = time.monotonic() + seconds
    h = b"emberscope"
    while time.monotonic() < deadline:
        for _ in range(200):
            h = hashlib.sha256(h).digest()
    return h


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def burn_fib(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fib(18)


def main():
    server_address = os.environ.get("SERVER_ADDRESS")
    if not server_address:
        print("SERVER_ADDRESS is required", file=sys.stderr)
        sys.exit(2)
    app_name = os.environ.get("APP_NAME", "python-conformance")
    run_seconds = float(os.environ.get("RUN_SECONDS", "7"))
    upload_interval = int(os.environ.get("UPLOAD_INTERVAL", "2"))
    hostname = os.environ.get("HOSTNAME_TAG", "e2e-host")

    pyroscope.configure(
        application_name=app_name,
        server_address=server_address,
        tags={"hostname": hostname, "env": "e2e"},
        upload_interval=upload_interval,
        enable_logging=os.environ.get("PYROSCOPE_LOG") == "1",
        basic_auth_username=os.environ.get("BASIC_AUTH_USER", ""),
        basic_auth_password=os.environ.get("BASIC_AUTH_PASSWORD", ""),
        tenant_id=os.environ.get("TENANT_ID", ""),
    )
    deadline = time.monotonic() + run_seconds
    while time.monotonic() < deadline:
        with pyroscope.tag_wrapper({"handler": "fib"}):
            burn_fib(0.05)
        with pyroscope.tag_wrapper({"handler": "hash"}):
            burn_hash(0.05)
        burn_hash(0.02)  # untagged work
    ok = pyroscope.shutdown()  # stops the agent and uploads the last window
    print(json.dumps({"ok": bool(ok), "appName": app_name, "hostname": hostname,
                      "pyroscopeIo": version("pyroscope-io"), "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
