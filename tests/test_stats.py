"""coach.practice.stats against numbers computed independently: a printed t table, Python's
`statistics`, and a least-squares fit solved by plain Gaussian elimination."""
from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest

from coach.practice.stats import (
    GroupSums,
    adjusted_means,
    mean_ci,
    mean_ci_from_sums,
    normal_quantile,
    t_cdf,
    t_quantile,
)

# Student's t critical values as printed in textbook tables (three decimals):
# {df: (t_0.95, t_0.975, t_0.995)}.
T_TABLE = {
    1: (6.314, 12.706, 63.657),
    2: (2.920, 4.303, 9.925),
    3: (2.353, 3.182, 5.841),
    4: (2.132, 2.776, 4.604),
    5: (2.015, 2.571, 4.032),
    6: (1.943, 2.447, 3.707),
    7: (1.895, 2.365, 3.499),
    8: (1.860, 2.306, 3.355),
    9: (1.833, 2.262, 3.250),
    10: (1.812, 2.228, 3.169),
    11: (1.796, 2.201, 3.106),
    12: (1.782, 2.179, 3.055),
    13: (1.771, 2.160, 3.012),
    14: (1.761, 2.145, 2.977),
    15: (1.753, 2.131, 2.947),
    16: (1.746, 2.120, 2.921),
    17: (1.740, 2.110, 2.898),
    18: (1.734, 2.101, 2.878),
    19: (1.729, 2.093, 2.861),
    20: (1.725, 2.086, 2.845),
    21: (1.721, 2.080, 2.831),
    22: (1.717, 2.074, 2.819),
    23: (1.714, 2.069, 2.807),
    24: (1.711, 2.064, 2.797),
    25: (1.708, 2.060, 2.787),
    26: (1.706, 2.056, 2.779),
    27: (1.703, 2.052, 2.771),
    28: (1.701, 2.048, 2.763),
    29: (1.699, 2.045, 2.756),
    30: (1.697, 2.042, 2.750),
    40: (1.684, 2.021, 2.704),
    60: (1.671, 2.000, 2.660),
    80: (1.664, 1.990, 2.639),
    100: (1.660, 1.984, 2.626),
    120: (1.658, 1.980, 2.617),
    1000: (1.646, 1.962, 2.581),
}
Z_TABLE = {0.95: 1.645, 0.975: 1.960, 0.995: 2.576}


@pytest.mark.parametrize("df", sorted(T_TABLE))
def test_t_quantile_matches_the_printed_table(df):
    for p, expected in zip((0.95, 0.975, 0.995), T_TABLE[df]):
        assert t_quantile(p, df) == pytest.approx(expected, abs=0.0006), (df, p)
        assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=0.0006)


def test_t_quantile_tends_to_the_normal_and_the_normal_matches_its_table():
    for p, z in Z_TABLE.items():
        assert normal_quantile(p) == pytest.approx(z, abs=0.0006)
        assert t_quantile(p, 10**6) == pytest.approx(z, abs=0.0006)
        assert t_quantile(p, math.inf) == pytest.approx(z, abs=0.0006)
    assert t_quantile(0.5, 7) == 0.0


def test_t_quantile_inverts_the_distribution_function():
    # The Cauchy (df = 1) distribution function in closed form is an independent check of t_cdf.
    for t in (-30.0, -1.0, 0.3, 2.0, 12.706):
        assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-12)
    for df in (1, 2, 3, 4, 7, 29, 250):
        for p in (0.001, 0.2, 0.6, 0.9, 0.975, 0.9999):
            assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10), (df, p)


def test_t_quantile_refuses_nonsense():
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        t_quantile(0.975, 0)


def _reference_ci(values):
    """An interval from `statistics` and the printed table (df must be in it)."""
    n = len(values)
    mean = statistics.fmean(values)
    half = T_TABLE[n - 1][1] * statistics.stdev(values) / math.sqrt(n)
    return mean, (mean - half, mean + half)


@pytest.mark.parametrize(
    "values",
    [
        [2, 3],
        [1, -1, 0, 2],
        [3, 1, 2, 2, 4, 0, 1, 3, 2, 1, 5],
        [-2, -3, -1, -4, -2, -2, -3, -1, 0, -2, -3, -1, -2, -4, -1, -2, -3, -2, 0, -1, -2],
    ],
)
def test_mean_ci_matches_statistics_and_the_table(values):
    mean, (lo, hi) = _reference_ci(values)
    got = mean_ci(values)
    assert got.n == len(values)
    assert got.mean == pytest.approx(mean, abs=1e-12)
    # The table has three decimals, so allow that much on the multiplier.
    slack = 0.0006 * statistics.stdev(values) / math.sqrt(len(values)) + 1e-12
    assert got.ci95[0] == pytest.approx(lo, abs=slack)
    assert got.ci95[1] == pytest.approx(hi, abs=slack)


def test_interval_from_sums_equals_interval_from_values():
    values = [4, -1, 3, 3, 0, 2, 7]
    a = mean_ci(values)
    b = mean_ci_from_sums(len(values), sum(values), sum(v * v for v in values))
    assert a == b
    floats = mean_ci([0.5, 1.5, 2.25])
    assert floats.mean == pytest.approx(statistics.fmean([0.5, 1.5, 2.25]))


def test_one_or_no_value_has_no_interval_and_no_spread_gives_a_point():
    assert mean_ci([]).mean is None and mean_ci([]).ci95 is None
    one = mean_ci([3])
    assert (one.n, one.mean, one.ci95) == (1, 3.0, None)
    same = mean_ci([2, 2, 2])
    assert same.ci95 == (2.0, 2.0)
    assert one.as_dict() == {"n": 1, "mean": 3.0, "ci95": None}


def test_large_integer_sums_lose_nothing_to_cancellation():
    # A huge offset and a tiny spread: the naive float formula n·Σx² − (Σx)² would cancel.
    values = [10**9 + d for d in (0, 1, 2)]
    got = mean_ci(values)
    assert got.mean == pytest.approx(10**9 + 1)
    half = t_quantile(0.975, 2) * 1 / math.sqrt(3)
    assert got.ci95[1] - got.mean == pytest.approx(half, abs=1e-6)  # floats at 1e9 resolve ~1e-7


def _solve(matrix, rhs):
    """Gaussian elimination with exact fractions."""
    n = len(rhs)
    a = [[Fraction(v) for v in row] + [Fraction(r)] for row, r in zip(matrix, rhs)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] for i in range(n)]


def test_adjusted_means_equal_a_least_squares_fit_with_a_common_slope():
    # (starting rating x, change y) per routine; "low-start" was mostly used on bad days.
    data = {
        "low-start": [(1, 4), (2, 3), (2, 4), (3, 2), (1, 5)],
        "high-start": [(6, 1), (7, 0), (5, 2), (8, 0)],
        "middle": [(4, 2), (5, 1), (3, 3)],
    }
    groups = list(data)
    pairs = [(g, x, y) for g in groups for x, y in data[g]]
    grand_x = Fraction(sum(x for _, x, _ in pairs), len(pairs))
    # Model y = a_g + b·(x − x̄); the normal equations X'X β = X'y.
    rows = [[1 if g == h else 0 for h in groups] + [x - grand_x] for g, x, _ in pairs]
    ys = [y for _, _, y in pairs]
    k = len(groups) + 1
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    xty = [sum(r[i] * y for r, y in zip(rows, ys)) for i in range(k)]
    beta = _solve(xtx, xty)
    expected = dict(zip(groups, beta[:-1]))

    sums = {
        g: GroupSums(
            n=len(v),
            sx=sum(x for x, _ in v),
            sy=sum(y for _, y in v),
            sxx=sum(x * x for x, _ in v),
            sxy=sum(x * y for x, y in v),
        )
        for g, v in data.items()
    }
    got = adjusted_means({**sums, "unrated": GroupSums(0, 0, 0, 0, 0)})
    for g in groups:
        assert got[g] == pytest.approx(float(expected[g]), abs=1e-9)
    assert got["unrated"] is None
    # The raw means rank "low-start" first; allowing for the start changes the picture.
    raw = {g: statistics.fmean(y for _, y in v) for g, v in data.items()}
    assert max(raw, key=raw.get) == "low-start"
    assert got["low-start"] < raw["low-start"]
