"""The adviser: hotspots, per-loop predictions by simulation, loop selection, and the report.

    hotspots   cycles per loop and line of the sequential run
    predict    a plan's parallel form simulated per core count, held to the sequential results
    scale      Advice.predict_for: the chosen loops' savings scaled to another input's sequential run
    select     best(L) = max(saved(L), sum of best(children)) on the loop forest
    report     Advice: the plan, the report as text and as JSON-ready data
    advise     the entry point, helixrc.advise
"""

from helixrc.advise.advise import DEFAULT_CORES, advise
from helixrc.advise.report import SCHEMA_VERSION, Advice
from helixrc.advise.select import Thresholds, select_loops

__all__ = ["Advice", "DEFAULT_CORES", "SCHEMA_VERSION", "Thresholds", "advise", "select_loops"]
