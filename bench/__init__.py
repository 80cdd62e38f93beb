"""``econsult bench``: speed figures of the model, the face detector, the whole pipeline, a room,
a class through the SFU and the dashboard, and how well real faces' expressions are read."""
