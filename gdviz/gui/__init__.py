"""Everything Qt lives here; gdviz.core never imports it."""
