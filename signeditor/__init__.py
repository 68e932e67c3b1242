"""SignEditor: edit signing-avatar animations with sparse keyframes and learned in-betweening."""

__version__ = "0.1.0"
