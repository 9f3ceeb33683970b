"""Each lesson's own code, one module per lesson (l00 ... l07): its exercise checkers and worked
solutions, lesson 04's experiment pipeline, lesson 05's cached student; `warm` fills the caches ahead of class.

Importing this package registers every lesson's solutions, so `solution(name)` knows them all.
"""

from . import l00, l01, l02, l03, l04, l05, l06, l07  # noqa: F401 (each registers its solutions)
from .exercises import SOLUTIONS, solution

__all__ = ["solution", "SOLUTIONS", "l00", "l01", "l02", "l03", "l04", "l05", "l06", "l07"]
