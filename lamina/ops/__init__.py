"""Every differentiable op, forward and backward side by side, grouped by kind."""
