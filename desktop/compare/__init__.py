"""A/B compare: the same painting rendered by two generators (each in its own worker thread),
shown side by side, with a swipe divider or as a difference heat map; a step scrubber over a
run's checkpoints; and the discriminator's critic overlay."""
