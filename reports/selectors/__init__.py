"""Reads for dashboards, township pages and their exports — always over the roll-up's result
tables, always inside a jurisdiction. Each function issues a fixed number of queries, whatever
the size of the area: the page's query count does not grow with the data.

- `filters`: what a page is asked for (area checked once), and the filters' labels;
- `areas`: the dashboards of a province, city or county;
- `townships`: a county's 乡镇 and a township's own page.
"""
from .areas import AreaRow, approval_counts, area_dashboard, rankings, scorecard, trend
from .filters import APPROVED, CHILD_WIDTH, STAGES, TARGET_NUMBERS, Filters, parse_filters, population_labels, root_area_code, stage_labels, target_names
from .townships import TownshipRow, county_townships, missing_uploads, summarise, township_in, township_page

__all__ = [
    "APPROVED", "CHILD_WIDTH", "STAGES", "TARGET_NUMBERS", "AreaRow", "Filters", "TownshipRow", "approval_counts", "area_dashboard",
    "county_townships", "missing_uploads", "parse_filters", "population_labels", "rankings", "root_area_code", "scorecard",
    "stage_labels", "summarise", "target_names", "township_in", "township_page", "trend",
]
