"""Trains and evaluates the emotion model the worker serves. Reads FER2013 from ../shared."""
