"""Imported once by the load test's forkserver (never by pytest itself): everything a worker's
first request would load is loaded here, before the workers are forked."""

from tests.store_pg.load_worker import warm_up

warm_up()
