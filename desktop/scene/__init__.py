"""The open scene and where scenes come from: the session (which document, which file, saved or
not), label-map files with recovery, the start-up default scene, the New-scene dialog, and a
training pair opened for inspection."""
