import pytest
import torch


@pytest.fixture(autouse=True)
def _no_onednn():
    # oneDNN compiles a kernel per new conv shape (~1 s each on a busy 2-core box); the tiny
    # contract-test models run faster on the plain ATen kernels. Restored after each test.
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    yield
    torch.backends.mkldnn.enabled = previous
