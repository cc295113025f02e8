"""The lesson views: one dock each, all following the ``LessonView`` contract (base.py)."""

from gdviz.gui.views.data import DataView
from gdviz.gui.views.histogram import HistogramView
from gdviz.gui.views.learning_curve import LearningCurveView
from gdviz.gui.views.param_trace import ParamTraceView
from gdviz.gui.views.sample_curves import SampleCurvesView

VIEW_CLASSES = (SampleCurvesView, HistogramView, LearningCurveView, ParamTraceView, DataView)

__all__ = ["VIEW_CLASSES", "DataView", "HistogramView", "LearningCurveView", "ParamTraceView",
           "SampleCurvesView"]
