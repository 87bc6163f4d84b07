"""The notebooks' kernels are started again when a start fails (root conftest.py).

A kernel that dies at start-up under parallel workers is a port race, not a verdict on a chapter;
these tests hold the retry to its limits with a stand-in for nbval's RunningKernel.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _root_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kernel_failing(times, *, after_start=False):
    """A stand-in kernel whose first `times` starts fail; `after_start`: after a kernel runs."""
    log = {"starts": 0, "stopped": 0}

    class StandInKernel:
        def __init__(self, kernel_name, cwd=None, startup_timeout=60):
            log["starts"] += 1
            if after_start:
                self.km = object()
            if log["starts"] <= times:
                raise RuntimeError("Kernel died before replying to kernel_info")
            self.kernel_name = kernel_name

        def stop(self):
            log["stopped"] += 1
            del self.km

    return StandInKernel, log


@pytest.mark.parametrize("failures", [0, 1, 2])
def test_a_kernel_that_starts_within_the_attempts_is_used(failures):
    conftest = _root_conftest()
    assert conftest.KERNEL_START_ATTEMPTS == 3
    stand_in, log = _kernel_failing(failures)
    kernel = conftest._retrying_kernel(stand_in)("python3", startup_timeout=5)
    assert kernel.kernel_name == "python3"
    assert log["starts"] == failures + 1


def test_a_kernel_that_dies_on_every_attempt_fails_the_chapter():
    conftest = _root_conftest()
    stand_in, log = _kernel_failing(conftest.KERNEL_START_ATTEMPTS)
    with pytest.raises(RuntimeError, match="Kernel died"):
        conftest._retrying_kernel(stand_in)("python3")
    assert log["starts"] == conftest.KERNEL_START_ATTEMPTS


def test_a_kernel_left_running_by_a_failed_start_is_stopped_before_the_next():
    conftest = _root_conftest()
    stand_in, log = _kernel_failing(2, after_start=True)
    conftest._retrying_kernel(stand_in)("python3")
    assert log == {"starts": 3, "stopped": 2}


def test_the_nbval_run_uses_the_retrying_kernel(pytestconfig):
    import nbval.plugin

    if not pytestconfig.pluginmanager.hasplugin("nbval"):
        pytest.fail("nbval is not installed as a pytest plugin")
    assert nbval.plugin.RunningKernel.__name__ == "RetryingKernel"
