"""Files on disk: reading and writing images, atomic writes, and finding the bundled resources."""
