"""Kept public path: ``jaxsim.jobs`` is :mod:`jaxsim.methods.jobs`, the module itself, not a copy
(``import jaxsim.jobs``, ``from jaxsim.jobs import PAIR, local_steps``). New code imports these
from :mod:`jaxsim.methods`."""

import sys

from .methods import jobs

sys.modules[__name__] = jobs
