"""moto's standalone S3 server on a free loopback port, for the object-storage tests.

The server keeps everything in memory: ``restart()`` brings it back empty on the same port (a test
makes the bucket again, as a real S3 would still have it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

ACCESS_KEY = "AKIAMOTOTESTING00001"
SECRET_KEY = "moto-test-secret-" + "k3y" * 8  # built at run time: long enough to be a known secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def moto_command() -> list[str] | None:
    found = shutil.which("moto_server")
    if found:
        return [found]
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "moto.server"]


class MotoServer:
    def __init__(self, command: list[str], log_path: str) -> None:
        self.command, self.log_path = command, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command + ["-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError as error:
                if self.process.poll() is not None:
                    raise RuntimeError(f"moto_server exited: see {self.log_path}") from error
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")

    def environment(self) -> dict[str, str]:
        """What a client needs: the endpoint and credentials the usual way (environment variables)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (Linux)."""
    values = {}
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]
