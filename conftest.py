"""Pytest set-up shared by every run from the project root (the notebooks' nbval run included).

nbval starts one Jupyter kernel per chapter, and `make nbval` runs the chapters side by side
(pytest-xdist). Each kernel's five TCP ports are chosen by its parent process, which frees them
before the kernel binds them; with several workers starting kernels at the same moment, another
process can take a port in between, and the kernel dies before it answers ("Kernel died before
replying to kernel_info", jupyter_client; reported under xdist in nbmake issue 129). That is no
verdict on the chapter, so the start is tried again with new ports. A kernel that dies on every
try still fails the run, with nbval's own error.
"""

import pytest

KERNEL_START_ATTEMPTS = 3


def _retrying_kernel(running_kernel):
    class RetryingKernel(running_kernel):
        def __init__(self, *args, **kwargs):
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                try:
                    super().__init__(*args, **kwargs)
                    return
                except RuntimeError:
                    # A kernel that never answered is already shut down by nbval; one that
                    # answered but whose output channel never came up is still running.
                    if getattr(self, "km", None) is not None:
                        self.stop()
                    if attempt == KERNEL_START_ATTEMPTS:
                        raise

    return RetryingKernel


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if not config.pluginmanager.hasplugin("nbval"):
        return
    import nbval.plugin

    nbval.plugin.RunningKernel = _retrying_kernel(nbval.plugin.RunningKernel)
