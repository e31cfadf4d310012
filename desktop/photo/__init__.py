"""Photos in the app (issue 19 §3): open a street photo, segment it off the GUI thread, and show
it under its label map as a tracing layer.

    photo_layer.PhotoSource   the opened photo and the labels the segmenter made (Qt-free)
    opener.PhotoOpener        segments a photo on a worker thread, with progress and cancel
    controls.PhotoLayerBar    the tool bar: show/hide the photo, its opacity, the labels' opacity
"""
