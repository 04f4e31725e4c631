"""python-threatexchange's vPDQ signal type, with the stand-in `vpdq` module when needed.

`VPDQSignal()` returns pytx's own class (`threatexchange.extensions.vpdq.vpdq.VPDQSignal`);
`PYTHONPATH` is the directory to add to a `threatexchange` command's path so the
CLI loads the extension too (see `vpdq.py` here for why a stand-in).
"""

import importlib.util
import sys
from pathlib import Path
from typing import Any

PYTHONPATH = str(Path(__file__).parent)


def vpdq_signal() -> Any:
    """pytx's `VPDQSignal` class."""
    if importlib.util.find_spec("vpdq") is None and "vpdq" not in sys.modules:
        spec = importlib.util.spec_from_file_location("vpdq", Path(PYTHONPATH) / "vpdq.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["vpdq"] = module
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal

    return VPDQSignal
