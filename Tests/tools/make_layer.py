#!/usr/bin/env python3
"""Writes a layer tarball for the tests from a JSON list of entries, including hostile ones
a normal tar tool would not make (names with "..", absolute names, links out of the layer).

usage: make_layer.py OUTPUT COMPRESSION ENTRIES-JSON
COMPRESSION: none, gzip or zstd (zstd through the zstd command).
Each entry: {"name": ..., "type": "file"|"dir"|"symlink"|"hardlink"|"char"|"block"|"fifo",
             "content": "...", "target": "...", "mode": 420, "uid": 0, "gid": 0,
             "major": 1, "minor": 3, "xattrs": {"user.x": "y"}, "mtime": 1700000000}
"""
import io
import json
import subprocess
import sys
import tarfile

output, compression, entries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
         "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}
buffer = io.BytesIO()
with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
    for entry in entries:
        info = tarfile.TarInfo(entry["name"])
        info.type = kinds[entry.get("type", "file")]
        info.mode = entry.get("mode", 0o755 if info.type == tarfile.DIRTYPE else 0o644)
        info.uid = entry.get("uid", 0)
        info.gid = entry.get("gid", 0)
        info.mtime = entry.get("mtime", 1700000000)
        info.linkname = entry.get("target", "")
        info.devmajor = entry.get("major", 0)
        info.devminor = entry.get("minor", 0)
        if "xattrs" in entry:
            info.pax_headers = {"SCHILY.xattr." + key: value for key, value in entry["xattrs"].items()}
        data = entry.get("content", "").encode()
        info.size = len(data) if info.type == tarfile.REGTYPE else 0
        archive.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
raw = buffer.getvalue()
if compression == "gzip":
    import gzip
    raw = gzip.compress(raw)
elif compression == "zstd":
    raw = subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout
with open(output, "wb") as handle:
    handle.write(raw)
