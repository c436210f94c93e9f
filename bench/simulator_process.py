"""The HaloPSA simulator as a separate process for the benchmark, as the real HaloPSA is another machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


class SimulatorProcess:
    """`python -m halosim` serving a tenant from a state file; the bench keeps a copy of the tenant for its floors.

    Running it in its own process keeps its CPU time (building and encoding pages) off the portal process's
    interpreter, as a remote HaloPSA would: the sync's read-ahead thread can then overlap HaloPSA's work with the
    database writes, and neither the sync nor the download floor shares a GIL with the server.
    """

    def __init__(
        self,
        tenant: Any,
        *,
        client_id: str,
        client_secret: str,
        tenant_name: str,
        state_path: Path,
        port: int = 0,
        nice: int = 0,
    ) -> None:
        self.tenant = tenant
        self._port = port
        self._nice = nice
        self._env = {**os.environ, "HALOSIM_CLIENT_ID": client_id, "HALOSIM_CLIENT_SECRET": client_secret}
        self._tenant_name = tenant_name
        self._state_path = state_path
        self._http = requests.Session()
        self._start()

    def _start(self) -> None:
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        self.tenant.save(self._state_path)
        command = [sys.executable, "-m", "halosim", "--host", "127.0.0.1", "--port", str(self._port)]
        if self._nice:  # below the processes being measured: the real HaloPSA's CPU is not on this machine at all
            command = ["nice", "-n", str(self._nice), *command]
        command += ["--state", str(self._state_path), "--tenant-name", self._tenant_name]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self._env, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "HaloPSA simulator on http://127.0.0.1:PORT (tenant …)"
        found = re.search(r"on (http://\S+)", line)
        if not found:
            self.stop()
            raise RuntimeError(f"The simulator did not start: {line!r}")
        self.base_url = found.group(1)
        self.auth_url = self.base_url + "/auth"

    def stats(self) -> dict[str, int]:
        return self._http.get(self.base_url + "/_sim/stats", timeout=30).json()

    def reset_stats(self) -> None:
        self._http.post(self.base_url + "/_sim/stats/reset", timeout=30).raise_for_status()

    def update_client(self, client_id: int, **changes: Any) -> None:
        """Change a client in the serving process (and in the bench's copy)."""
        self.tenant.update_client(client_id, **changes)
        self._http.post(f"{self.base_url}/_sim/clients/{client_id}", json=changes, timeout=30).raise_for_status()

    def replace_tenant(self, tenant: Any) -> None:
        self.stop()
        self.tenant = tenant
        self._start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
