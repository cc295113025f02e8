"""No numpy RuntimeWarning from any view of the window while a formula's loss is NaN or
infinite where the run goes (the command line's cases: tests/faults)."""

from __future__ import annotations

import warnings

from gdviz.core.records import RunConfig
from tests.faults.test_fault_numpy_warnings import NAN_FORMULAS


def test_no_runtime_warning_from_any_view_of_the_window(make_window, qtbot):
    window = make_window("wavy")
    for expr in NAN_FORMULAS:
        config = RunConfig(problem="custom", settings={"expr": expr}, max_steps=30)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            window.controller.set_config(config)
            window.controller.run_until(30)
            for view in window.views:
                window.controller.show_views(window.controller.last_index, [view])
            qtbot.wait(50)
        runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert not runtime, (expr, runtime)
