"""Label map in, photo out: the Predictor, its fast CPU paths, rendering many maps in one
job, and the provenance every rendered PNG carries."""
