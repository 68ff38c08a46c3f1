"""Library calls that tests/conftest.py may run in its background process ("python:_background_jobs:<name>").

Each returns a picklable value the test fixture takes back.  Only the tests' own computations: no user file
is ever unpickled."""


def backtest_default():
    """The default backtest (2010…2013 → 2018) and the trend fits it made: the fixture puts the fits in
    the tests' process's cache (keyed by the series' content), so that the other backtest tests reuse
    them as they would after an in-process run."""
    from pmq.estimation import trends
    from pmq.estimation.backtest import backtest
    return backtest(), dict(trends._FIT_CACHE)
