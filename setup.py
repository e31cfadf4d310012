"""Package layout that pyproject.toml cannot express: the repository's top-level resources/ folder
ships inside the wheel as the package ``roadstudio_resources``.

Everything else (metadata, dependencies, entry points) is in pyproject.toml. The folder keeps its
place and name in the repository (the product's layout); it installs under a name of its own because
a top-level package called ``resources`` would collide with any other distribution's. Its subfolders
and every file in them are found at build time, so a model added to resources/models/ ships without
an edit here. core/io/resources.py finds the files in a checkout, a wheel and a PyInstaller bundle.
"""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCES_PACKAGE = "roadstudio_resources"  # core.io.resources.RESOURCES_PACKAGE
RESOURCE_FOLDERS = [
    f"{RESOURCES_PACKAGE}.{name}"
    for name in find_namespace_packages(where="resources", exclude=["__pycache__", "*.__pycache__"])
]

setup(
    packages=[*find_packages(include=["core", "core.*", "desktop", "desktop.*"]), RESOURCES_PACKAGE,
              *RESOURCE_FOLDERS],
    package_dir={RESOURCES_PACKAGE: "resources"},
    package_data={folder: ["*"] for folder in RESOURCE_FOLDERS},
)
