"""Pure statistics for the insights: Student's t quantiles and mean confidence intervals.

No SciPy at run time. The t quantile starts from Hill's approximation (Hill 1970, CACM 13:617,
Algorithm 396) and is polished by Newton steps on the exact t distribution function (a
regularized incomplete beta by continued fraction), so it is good to ~1e-12 for every df.

Intervals are computed from sufficient statistics (n, Σx, Σx²) so that the database can do
the summing in one GROUP BY; with integer ratings those sums are exact integers and the
variance below is computed without cancellation error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "MeanCI",
    "normal_quantile",
    "t_cdf",
    "t_quantile",
    "mean_ci",
    "mean_ci_from_sums",
    "GroupSums",
    "adjusted_means",
]


# --- the normal quantile (Acklam's rational approximation, relative error < 1.2e-9) -----

_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def normal_quantile(p: float) -> float:
    """z with P(Z ≤ z) = p for the standard normal."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1
        )
    if p > 1 - 0.02425:
        return -normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    return (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q / (
        ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1
    )


# --- the t distribution ------------------------------------------------------------------

def _beta_cf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta (modified Lentz, Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_cf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_cf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be positive")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def _t_pdf(t: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))


def _hill_upper(p2: float, n: float) -> float:
    """Hill (1970) Algorithm 396: t with two-tailed probability p2, for n > 2 degrees of freedom."""
    a = 1.0 / (n - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * n
    x = d * p2
    y = x ** (2.0 / n)
    if y > 0.05 + a:
        # Asymptotic inverse expansion about the normal.
        x = -normal_quantile(0.5 * p2)
        y = x * x
        if n < 5:
            c += 0.3 * (n - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
        y = math.expm1(a * y * y)
    else:
        y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) + 0.5 / (n + 4.0)) * y - 1.0) * (
            n + 1.0
        ) / (n + 2.0) + 1.0 / y
    return math.sqrt(n * y)


@lru_cache(maxsize=4096)  # the insights ask for the same few (0.975, n − 1) again and again
def t_quantile(p: float, df: float) -> float:
    """t with P(T ≤ t) = p for Student's t with `df` degrees of freedom (df > 0).

    For a two-sided 95 % interval use p = 0.975.
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if df <= 0:
        raise ValueError("df must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    p2 = 2.0 * (1.0 - p)  # two-tailed probability
    if df == 1:
        return math.tan(math.pi * (p - 0.5))  # Cauchy: exact
    if df == 2:
        return math.sqrt(2.0 / (p2 * (2.0 - p2)) - 2.0)  # exact
    if math.isinf(df) or df > 1e7:
        return normal_quantile(p)
    t = _hill_upper(p2, df)
    # Newton on the exact distribution function; Hill is already within ~1e-3, so a few
    # steps reach double precision.
    for _ in range(6):
        step = (t_cdf(t, df) - p) / _t_pdf(t, df)
        t -= step
        if abs(step) < 1e-13 * max(1.0, abs(t)):
            break
    return t


# --- means with intervals ----------------------------------------------------------------

@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None
    ci95: tuple[float, float] | None  # None when n < 2: one value has no spread to speak of

    def as_dict(self, digits: int = 2) -> dict:
        return {
            "n": self.n,
            "mean": None if self.mean is None else round(self.mean, digits),
            "ci95": None if self.ci95 is None else [round(self.ci95[0], digits), round(self.ci95[1], digits)],
        }


def mean_ci_from_sums(n: int, total: float, total_sq: float, level: float = 0.95) -> MeanCI:
    """Mean and t interval from n, Σx and Σx² (what SQL's COUNT/SUM give).

    Exact rational arithmetic when the sums are integers (ratings are), so the sample
    variance n·Σx² − (Σx)² suffers no cancellation.
    """
    n = int(n or 0)
    if n <= 0:
        return MeanCI(0, None, None)
    exact = isinstance(total, int) and isinstance(total_sq, int)
    s, ss = (Fraction(total), Fraction(total_sq)) if exact else (float(total), float(total_sq))
    mean = s / n
    if n < 2:
        return MeanCI(n, float(mean), None)
    variance = max((n * ss - s * s) / (n * (n - 1)), 0)
    half = t_quantile(0.5 + level / 2.0, n - 1) * math.sqrt(float(variance) / n)
    return MeanCI(n, float(mean), (float(mean) - half, float(mean) + half))


def mean_ci(values, level: float = 0.95) -> MeanCI:
    """The same from a list of numbers (for small in-memory samples and the tests)."""
    values = list(values)
    if all(isinstance(v, int) for v in values):
        return mean_ci_from_sums(len(values), sum(values), sum(v * v for v in values), level)
    return mean_ci_from_sums(len(values), math.fsum(values), math.fsum(v * v for v in values), level)


# --- comparing groups fairly: allowing for the starting rating ---------------------------

@dataclass(frozen=True)
class GroupSums:
    """Sufficient statistics of (x = starting rating, y = change) pairs in one group."""

    n: int
    sx: float
    sy: float
    sxx: float
    sxy: float


def adjusted_means(groups: dict[str, GroupSums]) -> dict[str, float | None]:
    """Each group's mean change adjusted to the common mean starting rating (ANCOVA with a
    pooled within-group slope).

    Low starting ratings tend to rise on the next rating anyway (regression to the mean), so
    a routine used mostly on bad days would look better than it is; this compares routines
    as if each had started from the same rating. Groups with n = 0 get None; with no spread
    in starting ratings the raw means are returned.
    """
    pooled_sxx = 0.0
    pooled_sxy = 0.0
    grand_n = 0
    grand_sx = 0.0
    for g in groups.values():
        if g.n <= 0:
            continue
        pooled_sxx += g.sxx - g.sx * g.sx / g.n
        pooled_sxy += g.sxy - g.sx * g.sy / g.n
        grand_n += g.n
        grand_sx += g.sx
    slope = pooled_sxy / pooled_sxx if pooled_sxx > 1e-12 else 0.0
    grand_mean_x = grand_sx / grand_n if grand_n else 0.0
    out: dict[str, float | None] = {}
    for key, g in groups.items():
        if g.n <= 0:
            out[key] = None
        else:
            out[key] = g.sy / g.n - slope * (g.sx / g.n - grand_mean_x)
    return out
