"""The item types the views draw with, and the ONLY code of the views that touches pyqtgraph's
internals (private attributes, ``opts`` written behind an item's back, pixmap fragments, GL
shader programs and buffers). Views create these items once and update them through the
functions and methods here; pyproject.toml pins the pyqtgraph versions this code was tested
with (0.14.x).

- ``updates``: ``set_curve``, ``set_wide_curve``, ``set_points``, ``set_antialias``: the cheap
  in-place updates of pyqtgraph's own curve and scatter items.
- ``wide_curve.WideCurve``: wide noisy lines stamped as 1-pixel copies.
- ``dots.Dots`` / ``dots.DotCloud``: markers painted by Qt, and many dots as pixmap fragments.
- ``arrows.ArrowPool``: arrows in data coordinates with pixel-sized heads.
- ``rule_lines.RuleLines``: lines across a plot that move while a run plays (not InfiniteLine).
- ``caching``: pixmap caches for axes and curves that change rarely.
- ``gl_view.make_gl_widget``: the 3-D view's GL widget (shader programs and vertex buffers
  per GL context).
"""
