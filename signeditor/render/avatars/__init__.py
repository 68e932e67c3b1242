"""Human avatars from glTF/GLB/VRM files (retargeted, textured, with face morphs) and the avatar catalogue."""
