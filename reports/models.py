# Dashboards read the roll-up's result tables (evaluation/); reports/ owns no tables yet.
