"""Reports of benchmark folders: the papers' tables with our numbers beside theirs.

``build_report(DIR)`` writes a self-contained HTML page and a markdown file from the records
of ``recunlearn bench`` (:mod:`recunlearn.bench`):

* :mod:`recunlearn.report.reference` -- the papers' reported numbers (package data);
* :mod:`recunlearn.report.frames` -- records as tidy frames;
* :mod:`recunlearn.report.tables` -- LEGO Table 1 / AdvX Table 2 layouts and others;
* :mod:`recunlearn.report.stats` -- Wilcoxon signed-rank tests on per-user NDCG;
* :mod:`recunlearn.report.figures` -- trade-off, timing and lambda-grid figures;
* :mod:`recunlearn.report.render` -- markdown and HTML;
* :mod:`recunlearn.report.build` -- putting it together.
"""

from recunlearn.report.build import ReportFiles, build_document, build_report
from recunlearn.report.reference import load_reference

__all__ = ["ReportFiles", "build_document", "build_report", "load_reference"]
