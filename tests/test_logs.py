"""Plates never reach the logs in full, not even through the access log of a real server."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from parkshare.logs import PlateFilter, redact


def test_redact_masks_plain_and_percent_encoded_plates() -> None:
    assert "鲁B12345" not in redact("looking up 鲁B12345 now")
    assert "鲁B1***5" in redact("looking up 鲁B12345 now")
    encoded = "/api/v1/blacklist/%E9%B2%81B12345/lift"
    assert "12345" not in redact(encoded)
    assert redact("nothing to hide here") == "nothing to hide here"


def test_filter_masks_message_arguments() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "plate %s at %s", ("粤BD12345", "L"), None
    )
    PlateFilter().filter(record)
    assert "粤BD12345" not in record.getMessage()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_served_request_with_a_plate_leaves_no_plate_in_the_logs(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PARKSHARE_DATABASE_URL": f"sqlite:///{tmp_path}/logs.db"}
    command = [sys.executable, "-m", "parkshare", "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/lots", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.post(f"http://127.0.0.1:{port}/api/v1/blacklist/鲁B12345/lift", json={}, timeout=5)
        httpx.get(
            f"http://127.0.0.1:{port}/api/v1/violations", params={"plate": "苏E54321"}, timeout=5
        )
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "/api/v1/violations" in output  # the access log ran
    for plate in ("鲁B12345", "%E9%B2%81B12345", "苏E54321", "B12345", "E54321"):
        assert plate not in output, f"{plate} leaked into the server log"
