"""The consultants' and managers' dashboard (Plotly Dash): live readings, sessions, reports,
history, rooms and what the numbers mean."""
