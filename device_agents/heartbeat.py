"""A background thread that keeps a job's lease alive while it is measured."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from device_agents.client import AgentClient, ApiError, LeaseLostError, ServerUnavailableError

logger = logging.getLogger(__name__)


class Heartbeat:
    """Context manager: heartbeats ``job_id`` every ``interval_s`` seconds until the block ends.

    Attributes:
        lease_lost: Set when the server answered 409 (the result then goes up as a plain
            measurement instead of completing the job).
        beats: Heartbeats the server acknowledged.
    """

    def __init__(self, client: AgentClient, job_id: int, interval_s: float) -> None:
        self.client = client
        self.job_id = job_id
        self.interval_s = interval_s
        self.lease_lost = threading.Event()
        self.beats = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                self.client.heartbeat(self.job_id)
                self.beats += 1
            except LeaseLostError:
                logger.warning("job %s: lease lost", self.job_id)
                self.lease_lost.set()
                return
            except (ApiError, ServerUnavailableError) as exc:
                logger.warning("job %s: heartbeat failed: %s", self.job_id, exc)
