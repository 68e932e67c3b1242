"""Text-to-sign drafts: typed text -> lexicon signs and fingerspelling -> an editable project.

``plan`` (pure: tokens and lexicon look-up), ``clips`` (lexicon clips as motion
plus FAST sign spans, cached) and ``pipeline`` (layout on the timeline and
KF2P transitions) are separate so the CLI, the GUI and the benchmark share them.
"""
