"""``econsult bench``: speed figures of the model, the detector and the whole pipeline."""
