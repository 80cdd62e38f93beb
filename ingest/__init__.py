"""Producers of the frames stream: recorded videos now, the live WebRTC room later."""
