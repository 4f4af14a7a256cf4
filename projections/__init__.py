"""The read side: one module per view, each a fold over the domain's event classes kept
in tables with its tracking position, and the runner that keeps them current."""
