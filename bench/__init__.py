"""The bench: figures of the portal's speed, each beside a baseline measured in the same run.

Dev-only, like tests/: no product module imports it and the production image leaves it out
(.dockerignore). Run it with `python -m bench` (or `make bench`); the groups are listed in
bench/framework.py. The live server and the load driver it shares with the tests are in
tests/support/, so that tests never import the bench.
"""
