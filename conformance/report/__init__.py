"""The HTML divergence report, rendered from results.json alone (see render.py)."""
from conformance.report.render import main_report, render, render_file

__all__ = ["main_report", "render", "render_file"]
