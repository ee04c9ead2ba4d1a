"""``make up`` restarts what dies, with capped exponential backoff, as Kubernetes would."""

from dataclasses import dataclass, field

from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.up import RESTART_BACKOFF_MAX, RestartPolicy, Supervisor


@dataclass
class FakeProcess:
    running: bool = True
    starts: int = 0
    fail_next_starts: int = 0

    def is_running(self) -> bool:
        return self.running

    def start(self) -> None:
        self.starts += 1
        if self.fail_next_starts:
            self.fail_next_starts -= 1
            raise InfrastructureError("port in use")
        self.running = True


@dataclass
class FakeStack:
    postgres: FakeProcess = field(default_factory=FakeProcess)
    kafka: FakeProcess = field(default_factory=FakeProcess)
    services: dict[str, FakeProcess] = field(default_factory=lambda: {"ingest-consumer": FakeProcess()})


def test_a_dead_service_is_restarted_after_its_backoff() -> None:
    stack = FakeStack()
    supervisor = Supervisor(stack)  # type: ignore[arg-type]
    consumer = stack.services["ingest-consumer"]
    supervisor.check()

    consumer.running = False
    supervisor.check()  # notices the crash, schedules the restart
    supervisor.check()  # too early: still backing off
    assert consumer.starts == 0

    supervisor.policies["ingest-consumer"].next_attempt = 0.0
    supervisor.check()
    assert consumer.starts == 1
    assert consumer.is_running()


def test_infrastructure_is_watched_too_and_failed_restarts_back_off_further() -> None:
    stack = FakeStack()
    stack.kafka.fail_next_starts = 1
    supervisor = Supervisor(stack)  # type: ignore[arg-type]
    stack.kafka.running = False
    supervisor.check()
    supervisor.policies["kafka"].next_attempt = 0.0

    supervisor.check()  # the restart fails: another, longer wait
    assert stack.kafka.starts == 1
    assert not stack.kafka.is_running()
    assert supervisor.policies["kafka"].failures == 2

    supervisor.policies["kafka"].next_attempt = 0.0
    supervisor.check()
    assert stack.kafka.is_running()


def test_backoff_doubles_and_is_capped() -> None:
    policy = RestartPolicy(started_at=0.0)
    delays = [policy.record_crash(now=1.0) for _ in range(10)]
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(delays) == RESTART_BACKOFF_MAX


def test_a_process_stable_for_a_while_starts_its_backoff_afresh() -> None:
    policy = RestartPolicy(started_at=0.0)
    for _ in range(5):
        policy.record_crash(now=1.0)
    policy.started_at = 100.0
    assert policy.record_crash(now=1000.0) == 1.0
