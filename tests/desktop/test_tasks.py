"""The one background task runner (desktop/tasks.py): outcomes arrive on the GUI thread, the
newest job of a key wins, cancel drops an outcome, errors arrive as exceptions with a one-line
message, progress reaches the GUI thread, a single-thread runner keeps submission order, and a
runner deleted while its job runs delivers nothing."""

from __future__ import annotations

import threading

import pytest

from core.errors import UserError
from desktop.tasks import TaskRunner, error_message


@pytest.fixture
def runner(qtbot):
    tasks = TaskRunner()
    yield tasks
    assert tasks.wait(20_000)


def _fail(exc: BaseException) -> None:
    raise AssertionError(f"unexpected failure: {exc!r}")


def test_outcome_arrives_on_the_gui_thread(runner, qtbot):
    ran_on: list[threading.Thread] = []

    def job() -> int:
        ran_on.append(threading.current_thread())
        return 42

    with qtbot.waitCallback() as done:
        runner.submit(job, lambda result: done((result, threading.current_thread())), _fail)
    assert done.args[0][0] == 42
    assert done.args[0][1] is threading.main_thread()
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert not runner.busy


def test_newest_job_of_a_key_wins_and_keyless_jobs_all_arrive(runner, qtbot):
    gate = threading.Event()
    delivered: list[str] = []

    def blocked() -> str:
        gate.wait(20)
        return "old"

    runner.submit(blocked, delivered.append, _fail, key="probe")
    runner.submit(lambda: "new", delivered.append, _fail, key="probe")
    runner.submit(lambda: "other key", delivered.append, _fail, key="list")
    assert runner.busy
    gate.set()
    # One thread: jobs run in submission order, so this keyless job reports last.
    with qtbot.waitCallback() as last:
        runner.submit(lambda: "keyless", last, _fail)
    assert delivered == ["new", "other key"]
    assert last.args == ["keyless"]
    assert not runner.busy


def test_cancel_drops_the_pending_outcome(runner, qtbot):
    gate = threading.Event()
    delivered: list[object] = []
    runner.submit(lambda: gate.wait(20), delivered.append, delivered.append, key="export")
    runner.cancel("export")
    gate.set()
    with qtbot.waitCallback() as last:
        runner.submit(lambda: None, last, _fail)
    assert delivered == []


def test_errors_arrive_as_exceptions_with_a_one_line_message(runner, qtbot):
    def user_error() -> None:
        raise UserError("runs/x: no config.toml")

    def bug() -> None:
        raise ValueError("boom")

    with qtbot.waitCallback() as first:
        runner.submit(user_error, lambda _r: None, first)
    with qtbot.waitCallback() as second:
        runner.submit(bug, lambda _r: None, second)
    assert isinstance(first.args[0], UserError)
    assert error_message(first.args[0]) == "runs/x: no config.toml"
    assert isinstance(second.args[0], ValueError)
    assert error_message(second.args[0]) == "ValueError: boom"
    assert not runner.busy


def test_progress_reaches_the_gui_thread_before_the_result(runner, qtbot):
    seen: list[tuple[int, int, bool]] = []

    def job(progress) -> str:
        for done in range(1, 4):
            progress(done, 3)
        return "checked"

    with qtbot.waitCallback() as finished:
        runner.submit(job, finished, _fail, key="probe",
                      on_progress=lambda done, total: seen.append(
                          (done, total, threading.current_thread() is threading.main_thread())))
    assert finished.args == ["checked"]
    assert seen == [(1, 3, True), (2, 3, True), (3, 3, True)]


def test_a_runner_deleted_while_its_job_runs_delivers_nothing_and_does_not_crash(qtbot):
    import shiboken6
    from PySide6.QtWidgets import QApplication

    runner = TaskRunner()
    release, ran = threading.Event(), threading.Event()
    delivered: list[object] = []

    def job() -> int:
        release.wait(20)
        ran.set()
        return 1

    runner.submit(job, delivered.append, delivered.append)
    threading.Thread(target=release.set).start()  # the job may end before or during the deletion
    shiboken6.delete(runner)  # the runner's pool waits for its job as it goes
    assert ran.is_set()
    for _ in range(5):
        QApplication.processEvents()
    assert delivered == []
