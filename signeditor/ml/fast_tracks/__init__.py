"""fast_tracks: the sign segmenter that reads 2D wrist and head tracks (numpy inference)."""
