"""The live preview: an inference worker thread, the controller that throttles requests to it,
and the views that show the generated image (side by side, overlay, swipe)."""
