"""The managers' dashboard (Plotly Dash): sessions, reports and what the numbers mean."""
