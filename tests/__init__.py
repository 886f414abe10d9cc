"""The coach's tests: a package, so each test module and helper has one import name
(`tests.…`) whichever directory pytest or a benchmark starts from."""
