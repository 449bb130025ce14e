"""The SPC engine stays pure: importing it pulls in no web, IO or CLI machinery."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_imports_only_numpy_and_scipy() -> None:
    code = (
        "import sys, spreadscale.analytics.spc\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'pyarrow', 'click', "
        "'pandas') or m.startswith(('spreadscale.web', 'spreadscale.io', 'spreadscale.cli'))]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
