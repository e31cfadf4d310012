"""Judging what a model renders (no Qt): the pix2pix paper's FCN-score and a checkerboard index.

* `core.eval.classes`: the 11 classes the segmenter knows, in Cityscapes label ids.
* `core.eval.segnet` / `core.eval.segmenter`: the segmentation networks (RoadSegNet, ContextSegNet),
  their .safetensors file, and label ids out of uint8 photos.
* `core.eval.scores`: confusion-matrix metrics (pixel accuracy, mean class accuracy, mean IoU).
* `core.eval.checkerboard`: spectral peaks at the periods transposed convolutions leave.
* `core.eval.realism`: the FCN-score of a generated batch, for training-time validation.
* `core.eval.evaluate`: a whole split (generated vs real vs flat colours), used by `roadstudio-cli eval`.
* `core.eval.critic`: the critic map, a run's discriminator's per-patch P(real) over one image (the
  compare view's Critic mode); not the realism score.

Submodules are imported where they are used; this package import stays light.
"""
