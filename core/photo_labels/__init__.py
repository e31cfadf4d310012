"""Label maps read out of photos: one photo (segment) and a whole folder into a paired
dataset (autolabel)."""
