"""KF2P: conditional flow matching from sparse keyframes to dense signing motion."""
