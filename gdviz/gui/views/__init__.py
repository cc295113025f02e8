"""The lesson views: one dock each, all following the ``LessonView`` contract (base.py)."""

from gdviz.gui.views.contour import ContourView
from gdviz.gui.views.curvature import CurvatureView
from gdviz.gui.views.data import DataView
from gdviz.gui.views.histogram import HistogramView
from gdviz.gui.views.learning_curve import LearningCurveView
from gdviz.gui.views.network import NetworkView
from gdviz.gui.views.param_trace import ParamTraceView
from gdviz.gui.views.sample_curves import SampleCurvesView
from gdviz.gui.views.surface3d import Surface3DView  # imports pyqtgraph.opengl only when shown

VIEW_CLASSES = (SampleCurvesView, HistogramView, LearningCurveView, ParamTraceView, DataView,
                CurvatureView, NetworkView, ContourView, Surface3DView)

__all__ = ["VIEW_CLASSES", "ContourView", "CurvatureView", "DataView", "HistogramView",
           "LearningCurveView", "NetworkView", "ParamTraceView", "SampleCurvesView",
           "Surface3DView"]
