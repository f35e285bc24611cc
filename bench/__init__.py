"""The scale benchmark: a data generator (`bench.generate`) and the measurements (`bench.run`).
Run with `make bench` against PostgreSQL; kept out of `make test` and CI."""
