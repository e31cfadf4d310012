"""Road Studio's bundled data: models/ (default model, its discriminator, the segmenter, their
cards) and samples/ (painted scenes). A wheel installs this folder as the package
``roadstudio_resources`` (see setup.py); code finds it through ``core.io.resources``, never by path.
"""
