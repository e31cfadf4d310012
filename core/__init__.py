"""Road Studio core: pix2pix models, data, training and inference. Never imports Qt."""

__version__ = "0.3.0"
