"""The test suite, laid out like the package (``tests/sim`` tests ``jaxsim/sim``, and so on).

Every folder is a package, so test modules are imported by their dotted path
(``tests.sim.test_clock_time``): two folders may hold files of the same name, and helpers
import as ``tests.problem_choice`` or ``tests.controlled_model``. ``tests/user_methods``
is not a package: ``tests/conftest.py`` loads its files the way a user's own method file is
loaded."""
