"""Test support: tiny offline models (`emoreason.testing.fixtures`) built in seconds, no download.

Tests and benchmarks may import this package; the library never does, so none of it is on the
path of a real run. It ships with the package so that tests run from any checkout or install.
"""
