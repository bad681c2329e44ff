import pytest

from tests.e2e.worker_process import WorkerProcess, purge_broker


@pytest.fixture
def start_worker(tmp_path):
    """Start real worker processes; all are stopped at the end of the test."""
    started: list[WorkerProcess] = []
    purge_broker()

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started)}.log", **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
