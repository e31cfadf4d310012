"""Generator files: loading every kind (checkpoints), importing reference pix2pix weights,
averaging checkpoints, ONNX export, and what a model card says about its training classes."""
