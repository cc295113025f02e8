"""The lesson views: one dock each, all following the ``LessonView`` contract (base.py)."""

from gdviz.gui.views.contour import ContourView
from gdviz.gui.views.curvature import CurvatureView
from gdviz.gui.views.data import DataView
from gdviz.gui.views.histogram import HistogramView
from gdviz.gui.views.landscape import LandscapeView
from gdviz.gui.views.learning_curve import LearningCurveView
from gdviz.gui.views.network import NetworkView
from gdviz.gui.views.noise import NoiseView
from gdviz.gui.views.param_trace import ParamTraceView
from gdviz.gui.views.phase import PhaseDiagramView
from gdviz.gui.views.sample_curves import SampleCurvesView
from gdviz.gui.views.surface3d import Surface3DView  # imports pyqtgraph.opengl only when shown
from gdviz.gui.views.theory import QuadraticTheoryView

VIEW_CLASSES = (SampleCurvesView, HistogramView, LearningCurveView, ParamTraceView, DataView,
                CurvatureView, NoiseView, QuadraticTheoryView, PhaseDiagramView, LandscapeView,
                NetworkView, ContourView, Surface3DView)

__all__ = ["VIEW_CLASSES", "ContourView", "CurvatureView", "DataView", "HistogramView",
           "LandscapeView", "LearningCurveView", "NetworkView", "NoiseView", "ParamTraceView",
           "PhaseDiagramView", "QuadraticTheoryView", "SampleCurvesView", "Surface3DView"]
