"""Path parameter converters shared by the blueprints."""
from __future__ import annotations

# Row ids are 32-bit integers on PostgreSQL (and must fit SQLite's 64): an id outside 1 … 2³¹−1
# can name no row, so its path matches no route and answers 404 without reaching the database
# (a huge one used to overflow the driver: a 500). The bounds are documented in OpenAPI.
ROW_ID = "int(min=1, max=2147483647)"
