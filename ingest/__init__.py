"""Producers of the frames stream: the consult room's web server, which takes each consenting
participant's video from the SFU, and the reading of recorded videos for ``econsult analyze``."""
