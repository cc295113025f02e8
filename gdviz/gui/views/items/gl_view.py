"""The 3-D view's GL widget: pyqtgraph's GLViewWidget with shader programs per GL share group
and vertex buffers renewed in every new GL context. This reaches into pyqtgraph.opengl's
internals (0.14: shader programs kept on item classes and ``shaders.ShaderProgram``, vertex
buffers in QOpenGLBuffer attributes). Nothing here imports pyqtgraph.opengl at import time."""

from __future__ import annotations

# pyqtgraph compiles its GL shader programs once and keeps them on classes (and on
# shaders.ShaderProgram), valid only in the context (share group) that compiled them. Two
# GL views in different top-level windows (the window and an export's view) do not share
# contexts unless the application set Qt.AA_ShareOpenGLContexts before it was created, and the
# second then fails with GLError "invalid value". So each paint swaps in the programs of the
# current share group (compiling them there the first time) and puts them back afterwards.
_PROGRAMS: dict[int, dict] = {}


def _program_holders():
    from pyqtgraph.opengl import shaders
    from pyqtgraph.opengl.items.GLImageItem import GLImageItem
    from pyqtgraph.opengl.items.GLLinePlotItem import GLLinePlotItem
    from pyqtgraph.opengl.items.GLScatterPlotItem import GLScatterPlotItem
    from pyqtgraph.opengl.items.GLVolumeItem import GLVolumeItem

    return ((GLImageItem, GLLinePlotItem, GLScatterPlotItem, GLVolumeItem),
            tuple(shaders.ShaderProgram.names.values()))


def renew_buffers(item) -> None:
    """Give a GL item new, not yet created vertex buffers and mark its data for upload: its
    old buffers belong to the share group of the context that created them. A QOpenGLWidget
    gets a new context when its top-level window changes (its dock floated or docked again),
    in another share group; the items' buffers (pyqtgraph 0.14 keeps their names in
    QOpenGLBuffer attributes and uploads only data marked dirty) were then names the new
    context never made: GLError 1282 "invalid operation" and a blank view (issue 13)."""
    from pyqtgraph.opengl.items.GLLinePlotItem import GLLinePlotItem
    from pyqtgraph.opengl.items.GLMeshItem import GLMeshItem
    from pyqtgraph.opengl.items.GLScatterPlotItem import GLScatterPlotItem
    from PySide6.QtOpenGL import QOpenGLBuffer

    for name, value in list(vars(item).items()):
        if isinstance(value, QOpenGLBuffer):
            setattr(item, name, QOpenGLBuffer(value.type()))
    if isinstance(item, GLMeshItem):
        item.meshDataChanged()            # parsed and uploaded again at the next paint
    elif isinstance(item, GLScatterPlotItem) and item.pos is not None:
        item.setData(pos=item.pos, color=item.color, size=item.size)
    elif isinstance(item, GLLinePlotItem) and item.pos is not None:
        item.setData(pos=item.pos, color=item.color)


def make_gl_widget():
    """A GLViewWidget whose paints use shader programs of their own GL share group, and whose
    items upload their data again into every new context it gets (``renew_buffers``)."""
    import pyqtgraph.opengl as gl
    from PySide6.QtGui import QOpenGLContext
    from shiboken6 import getCppPointer

    classes, programs = _program_holders()

    class GroupShadersView(gl.GLViewWidget):
        contexts = 0    # how many GL contexts this widget was initialized in

        def initializeGL(self) -> None:  # noqa: N802 (Qt name)
            super().initializeGL()
            self.contexts += 1
            if self.contexts > 1:     # a new context: the items' buffers are not its own
                for item in self.items:
                    renew_buffers(item)

        def paint(self, *, region, viewport, useItemNames=False) -> None:
            group = QOpenGLContext.currentContext().shareGroup()
            key = getCppPointer(group)[0]
            if key not in _PROGRAMS:
                _PROGRAMS[key] = {}
                group.destroyed.connect(lambda *_: _PROGRAMS.pop(key, None))
            mine = _PROGRAMS[key]
            for klass in classes:
                klass._shaderProgram = mine.get(klass)
            for program in programs:
                program.prog = mine.get(program)
            try:
                super().paint(region=region, viewport=viewport, useItemNames=useItemNames)
            finally:
                for klass in classes:
                    mine[klass] = klass._shaderProgram
                for program in programs:
                    mine[program] = program.prog

    return GroupShadersView()
