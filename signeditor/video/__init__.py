"""Video: decoding, MediaPipe Holistic and video import (the optional ``[video]`` extra)."""
