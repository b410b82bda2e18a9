"""The UI's own widgets: the mode bar, the cycle chart, the expression playground, the
exchange view."""
