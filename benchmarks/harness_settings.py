"""Django settings of the harnesses' processes: the product's, with VIES at the harness's simulator.

``koppeling.settings`` reads no VIES address from the environment, and worker processes cannot
have a simulator mounted in-process, so the harness and its workers use this module
(``DJANGO_SETTINGS_MODULE=benchmarks.harness_settings``).
"""

import os

from koppeling.settings import *  # noqa: F403
from koppeling.settings import KOPPELING

KOPPELING = {**KOPPELING, "VIES_URL": os.environ.get("HARNESS_VIES_URL", "")}
