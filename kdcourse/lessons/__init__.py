"""Each lesson's own code, one module per lesson (l00 ... l07): its exercise checkers, lesson 04's
experiment pipeline, lesson 05's cached student; `warm` fills the caches ahead of class.

`solution(name)` prints a worked solution from the separate `kdcourse-solutions` package (see its
docstring: a classroom copy installs `kdcourse` without it).
"""

from . import l00, l01, l02, l03, l04, l05, l06, l07  # noqa: F401 (the lessons' modules, one import)
from .exercises import solution, solutions

__all__ = ["solution", "solutions", "l00", "l01", "l02", "l03", "l04", "l05", "l06", "l07"]
