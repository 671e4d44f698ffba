"""The config drive: an ISO 9660 image labelled ``config-2`` with the instance's metadata files.

Made with pycdlib (Joliet and Rock Ridge names, as cloud-init and Windows guests
read them). It holds the OpenStack tree (``openstack/<version>/meta_data.json``,
``network_data.json``, ``vendor_data.json``, ``user_data``) and the EC2 one
(``ec2/latest/meta-data.json``, ``ec2/latest/user-data``), from the same functions
the metadata service answers with.
"""

import io
import json
import os
import re

import pycdlib

from . import instance_metadata

VOLUME_LABEL = "config-2"
VERSIONS = ("2012-08-10", "latest")


def files(meta, state):
    tree = {}
    for version in VERSIONS:
        for name, data in instance_metadata.openstack_files(meta, state).items():
            tree[f"openstack/{version}/{name}"] = data
    ec2 = instance_metadata.ec2_meta_data(meta, state)
    tree["ec2/latest/meta-data.json"] = json.dumps(ec2, sort_keys=True).encode()
    user_data = meta.user_data()
    if user_data is not None:
        tree["ec2/latest/user-data"] = user_data
    return tree


def _iso9660(path):
    """The plain ISO 9660 name under the Joliet and Rock Ridge ones (interchange level 4)."""
    return "/" + re.sub(r"[^A-Z0-9_./]", "_", path.upper())


def write(path, meta, state):
    """Write the ISO to ``path`` (atomically, mode 0600)."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident=VOLUME_LABEL)
    directories = set()
    for name, data in sorted(files(meta, state).items()):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in directories:
                directories.add(directory)
                iso.add_directory(_iso9660(directory), rr_name=parts[depth - 1], joliet_path="/" + directory)
        iso.add_fp(
            io.BytesIO(data), len(data), _iso9660(name) + ";1", rr_name=parts[-1], joliet_path="/" + name
        )
    temp = path.with_name(f".{path.name}.tmp")
    iso.write(str(temp))
    iso.close()
    temp.chmod(0o600)
    os.replace(temp, path)
