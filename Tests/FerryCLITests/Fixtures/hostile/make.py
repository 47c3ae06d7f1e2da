#!/usr/bin/env python3
"""Regenerates the hostile-input fixtures in this folder (python3 standard library only).

    python3 Tests/FerryCLITests/Fixtures/hostile/make.py

Writes archives/, jobs/, safetensors/, transfers/, cases.json and README.md next to this script.
Every output is deterministic (fixed times, owners and gzip headers), so regenerating gives the same
bytes. cases.json is the table HostileFixtureTests.swift runs: for each fixture, the ferry command
that must refuse it (exit 1) and a fragment its error message must contain.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import struct
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
EXAMPLE_JOB = os.path.join(REPO, "jobs", "hello-fedavg")

CASES = []  # filled by case()


def case(fixture, command, fragment, attack):
    """Records one refusal: `command` is the ferry argument list, with FIXTURE standing for the
    copied fixture and OUT for an output path that must not exist afterwards."""
    CASES.append({"fixture": fixture, "command": command, "fragment": fragment, "attack": attack})


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# Job archives (docs/archives.md)

def manifest(files, directories=()):
    """The canonical .ferry-manifest.json for `files` = [(path, bytes)]."""
    doc = {
        "directories": sorted(directories),
        "files": [{"executable": False, "path": p, "sha256": sha256(d), "size": len(d)}
                  for p, d in sorted(files)],
        "format": "ferry-job-archive",
        "version": 1,
    }
    return (json.dumps(doc, indent=2, sort_keys=True, separators=(",", " : "), ensure_ascii=False)
            + "\n").encode("utf-8")


def tar_info(name, kind=tarfile.REGTYPE, size=0, mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def tar_gz(rel, entries, level=6):
    """entries: [(TarInfo, bytes or None)], in order. gzip header without name and with mtime 0."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=level) as gz:
        gz.write(raw.getvalue())
    write(rel, out.getvalue())


def file_entry(path, data):
    return (tar_info(path, size=len(data)), data)


def archive_cases(rel, fragment, attack):
    case(rel, ["job", "unpack", "FIXTURE", "OUT"], fragment, attack)
    case(rel, ["job", "validate", "FIXTURE"], fragment, attack)


def make_archives():
    job = b"name: hostile\nmin_clients: 1\n"
    good = [("job.yaml", job)]

    # Zip slip: an entry whose path climbs out with '..' (zip and tar).
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in ((".ferry-manifest.json", manifest(good)), ("job.yaml", job),
                           ("../evil.txt", b"escaped\n")):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    write("archives/zip-slip.zip", zbuf.getvalue())
    archive_cases("archives/zip-slip.zip", "'..' components are not allowed",
                  "zip slip: entry `../evil.txt` in a zip")

    tar_gz("archives/tar-slip.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                        file_entry("job.yaml", job),
                                        file_entry("../evil.txt", b"escaped\n")])
    archive_cases("archives/tar-slip.tar.gz", "'..' components are not allowed",
                  "zip slip in a tar: entry `../evil.txt`")

    # The same escape announced by the manifest itself.
    tar_gz("archives/manifest-slip.tar.gz",
           [file_entry(".ferry-manifest.json", manifest(good + [("../evil.txt", b"x")])),
            file_entry("job.yaml", job)])
    archive_cases("archives/manifest-slip.tar.gz", "'..' components are not allowed",
                  "the manifest lists `../evil.txt`")

    tar_gz("archives/absolute-path.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                             file_entry("job.yaml", job),
                                             file_entry("/tmp/ferry-hostile-evil.txt", b"x\n")])
    archive_cases("archives/absolute-path.tar.gz", "absolute paths are not allowed",
                  "entry with an absolute path `/tmp/ferry-hostile-evil.txt`")

    link = tar_info("etc", tarfile.SYMTYPE)
    link.linkname = "../../../../etc"
    tar_gz("archives/symlink-escape.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                              file_entry("job.yaml", job), (link, None)])
    archive_cases("archives/symlink-escape.tar.gz", "it is a symbolic link to '../../../../etc'",
                  "symbolic link `etc -> ../../../../etc`")

    hard = tar_info("passwd", tarfile.LNKTYPE)
    hard.linkname = "/etc/passwd"
    tar_gz("archives/hardlink-escape.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                               file_entry("job.yaml", job), (hard, None)])
    archive_cases("archives/hardlink-escape.tar.gz", "it is a hardlink to '/etc/passwd'",
                  "hard link `passwd => /etc/passwd`")

    fifo = tar_info("pipe", tarfile.FIFOTYPE)
    tar_gz("archives/fifo.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                    file_entry("job.yaml", job), (fifo, None)])
    archive_cases("archives/fifo.tar.gz", "it is a FIFO", "FIFO entry `pipe`")

    dev = tar_info("null", tarfile.CHRTYPE)
    dev.devmajor, dev.devminor = 1, 3
    tar_gz("archives/device.tar.gz", [file_entry(".ferry-manifest.json", manifest(good)),
                                      file_entry("job.yaml", job), (dev, None)])
    archive_cases("archives/device.tar.gz", "it is a character device", "character device entry `null` (1, 3)")

    # Compression bomb: 40 MiB of zeros in ~40 KB; the manifest is honest, so only the ratio
    # limit (200 once 32 MiB are expanded) stops it.
    zeros = bytes(40 * 1024 * 1024)
    tar_gz("archives/ratio-bomb.tar.gz",
           [file_entry(".ferry-manifest.json", manifest(good + [("zeros.bin", zeros)])),
            file_entry("job.yaml", job), file_entry("zeros.bin", zeros)], level=9)
    archive_cases("archives/ratio-bomb.tar.gz", "compression ratio limit exceeded",
                  "compression bomb: 40 MiB of zeros gzip'ed to ~40 KB (ratio ~1000 > 200)")

    # A manifest that announces a 9 GiB file (over the 8 GiB per-file limit): refused before
    # anything is extracted.
    big = manifest(good).replace(b'"files" : [', b'"files" : [\n    {\n      "executable" : false,\n'
                                 b'      "path" : "huge.bin",\n      "sha256" : "' + b"0" * 64 +
                                 b'",\n      "size" : 9663676416\n    },')
    tar_gz("archives/declared-bomb.tar.gz", [file_entry(".ferry-manifest.json", big),
                                             file_entry("job.yaml", job)])
    archive_cases("archives/declared-bomb.tar.gz", "entry size limit exceeded",
                  "the manifest announces a 9 GiB file (per-file limit 8 GiB)")

    # The example job, packed as `ferry job pack` would, then one byte of job.yaml altered.
    files, dirs = [], []
    for root, dnames, fnames in os.walk(EXAMPLE_JOB):
        dnames.sort()
        for d in dnames:
            dirs.append(os.path.relpath(os.path.join(root, d), EXAMPLE_JOB))
        for f in sorted(fnames):
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                files.append((os.path.relpath(p, EXAMPLE_JOB), fh.read()))
    files.sort()
    dirs.sort()

    def packed(contents):
        entries = [file_entry(".ferry-manifest.json", manifest(files, dirs))]
        for path in sorted(dirs + [p for p, _ in contents]):
            if path in dirs:
                entries.append((tar_info(path + "/", tarfile.DIRTYPE, mode=0o755), None))
            else:
                entries.append(file_entry(path, dict(contents)[path]))
        return entries

    tampered = [(p, d if p != "job.yaml" else d.replace(b"min_clients: 2", b"min_clients: 1"))
                for p, d in files]
    tar_gz("archives/tampered.tar.gz", packed(tampered))
    archive_cases("archives/tampered.tar.gz", "differs from the manifest's",
                  "hello-fedavg packed, then one byte of `job.yaml` changed (`min_clients: 2` → 1)")

    tar_gz("archives/not-in-manifest.tar.gz",
           packed(files + [("zz-extra.sh", b"#!/bin/sh\necho not in the manifest\n")]))
    archive_cases("archives/not-in-manifest.tar.gz", "not listed in the archive manifest",
                  "hello-fedavg plus an entry `zz-extra.sh` that the manifest does not list")


# ---------------------------------------------------------------------------------------------
# Job folders and YAML (docs/job-format.md)

def job_case(name, files, fragment, attack):
    for rel, text in files.items():
        write(os.path.join("jobs", name, rel), text)
    case("jobs/" + name, ["job", "validate", "FIXTURE"], fragment, attack)


def make_jobs():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        refs = ", ".join(["*a%d" % (i - 1)] * 10)
        lines.append("a%d: &a%d [%s]" % (i, i, refs))
    job_case("alias-bomb", {"job.yaml": "name: bomb\nmin_clients: 1\n" + "\n".join(lines) + "\n"},
             "alias expansion bomb", "billion laughs: 9 levels of 10 aliases each (10^9 nodes once expanded)")

    depth = 200
    job_case("nesting-bomb", {"job.yaml": "name: deep\nmin_clients: 1\nx: " + "[" * depth +
                              "]" * depth + "\n"},
             "nesting deeper than 64 levels", "200 nested sequences (limit 64 levels)")

    job_case("wrong-types", {"job.yaml": "name: [not, a, string]\nmin_clients: lots\n"
                             "deploy: just-a-string\n"},
             "'min_clients' must be a whole number", "every field of the wrong type (`name` a list, `min_clients` a word, …)")

    job_case("huge-scalar", {"job.yaml": "name: huge\nmin_clients: 1\ndescription: \"" +
                             "A" * 70000 + "\"\n"},
             "exceeds the limit of 65536 bytes", "a 70 000-byte `description` scalar (limit 64 KiB), file well under 1 MiB")

    job_case("unknown-keys", {"job.yaml": "nmae: typo\nmin_clients: 1\nrun_as_root: true\n"},
             "unknown key 'nmae'", "misspelt and unknown keys (`nmae`, `run_as_root`)")

    server = ("workflow: fedavg\nrounds: 1\nmin_clients: 1\ninitial_model: ../../etc/passwd\n")
    job_case("initial-model-escape", {
        "job.yaml": "name: escape\nmin_clients: 1\ndeploy:\n  server: [server]\n",
        "apps/server/app.yaml": server,
    }, "must stay inside the job folder", "`initial_model: ../../etc/passwd`: a path out of the job folder")

    job_case("initial-model-absolute", {
        "job.yaml": "name: escape\nmin_clients: 1\ndeploy:\n  server: [server]\n",
        "apps/server/app.yaml": server.replace("../../etc/passwd", "/etc/passwd"),
    }, "must be relative to the job folder", "`initial_model: /etc/passwd`: an absolute path")


# ---------------------------------------------------------------------------------------------
# safetensors (docs/reliability.md: the safetensors project's attack notes)

def st_file(rel, header, data=b"", length=None):
    body = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    n = len(body) if length is None else length
    write("safetensors/" + rel, struct.pack("<Q", n) + body + data)


def st_case(rel, fragment, attack):
    case("safetensors/" + rel, ["model", "inspect", "FIXTURE"], fragment, attack)


def make_safetensors():
    f32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    data = bytes(8)

    st_file("header-past-end.safetensors", {"w": f32}, data, length=10_000)
    st_case("header-past-end.safetensors", "runs past the end", "header length 10 000, file ~60 bytes (proposal 1)")

    st_file("header-too-large.safetensors", {"w": f32}, data, length=200_000_000)
    st_case("header-too-large.safetensors", "above the 100 MB limit", "header length claims 200 MB (> 100 MB, proposal 2)")

    st_file("invalid-json.safetensors", b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]', data)
    st_case("invalid-json.safetensors", "not a valid JSON object", "truncated JSON header")

    st_file("offsets-outside-data.safetensors",
            {"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}}, data)
    st_case("offsets-outside-data.safetensors", "past the 8-byte data section",
            "data_offsets [0, 64] with 8 bytes of data (proposal 3)")

    st_file("overlapping-offsets.safetensors", {"a": f32, "b": f32}, data)
    st_case("overlapping-offsets.safetensors", "'a' and 'b' overlap",
            "two tensors on the same bytes [0, 8] (proposal 4)")

    st_file("size-mismatch.safetensors", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
            data)
    st_case("size-mismatch.safetensors", "its shape and dtype need 12", "shape [3] × F32 = 12 bytes but offsets span 8 (proposal 5)")

    st_file("duplicate-names.safetensors",
            b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, '
            b'"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}', bytes(16))
    st_case("duplicate-names.safetensors", "names 'w' more than once", "tensor name `w` twice")

    st_file("negative-shape.safetensors", {"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}},
            data)
    st_case("negative-shape.safetensors", "negative dimension", "shape [-2]")

    st_file("overflowing-shape.safetensors",
            {"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296],
                   "data_offsets": [0, 8]}}, data)
    st_case("overflowing-shape.safetensors", "overflows 64 bits", "shape [2^32, 2^32, 2^32]: element count overflows 64 bits")


# ---------------------------------------------------------------------------------------------
# Transfer folders (docs/transfer-protocol.md): each fixture is an inbox holding one transfer.

TID = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def transfer_manifest(tid=TID, payload=b"hello, ferry\n", **changes):
    doc = {"protocolVersion": 1, "transferId": tid, "sender": "hostile", "created":
           "2026-11-30T00:00:00.000Z", "mode": "file", "chunkSize": 65536, "window": 4, "filters": [],
           "source": {"name": "hello.txt", "size": len(payload), "sha256": sha256(payload)},
           "streamSize": len(payload), "chunkCount": 1, "metadata": {}}
    doc.update(changes)
    return json.dumps(doc, sort_keys=True).encode("utf-8")


def chunk(payload, tid=TID, index=1, offset=0, digest=None):
    d = hashlib.sha256(payload).digest() if digest is None else digest
    return (b"FRYCHNK1" + bytes.fromhex(tid) + struct.pack("<QQQII", index, offset, len(payload), 0, 0)
            + d + payload)


def transfer_case(name, files, fragment, attack, folder=TID):
    for rel, data in files.items():
        write(os.path.join("transfers", name, folder, rel), data)
    case("transfers/" + name, ["transfer", "receive", "FIXTURE", "OUT", "--once", "--encryption", "none"], fragment, attack)


def make_transfers():
    payload = b"hello, ferry\n"
    transfer_case("bad-json-manifest", {"manifest.json": b'{"protocolVersion": 1, "transferId": ',
                                        "chunk-000001": chunk(payload)},
                  "not a valid transfer manifest", "manifest.json is not JSON")
    transfer_case("wrong-fields-manifest", {"manifest.json": json.dumps(
        {"protocolVersion": 1, "transferId": TID, "sender": 7, "files": ["hello.txt"]}).encode(),
        "chunk-000001": chunk(payload)}, "not a valid transfer manifest", "manifest.json with wrong and missing fields")
    transfer_case("escaping-name", {"manifest.json": transfer_manifest(
        source={"name": "../../evil.txt", "size": len(payload), "sha256": sha256(payload)}),
        "chunk-000001": chunk(payload)}, "unsafe output name '../../evil.txt'", "`source.name` is `../../evil.txt`")
    transfer_case("wrong-digest", {"manifest.json": transfer_manifest(),
                                   "chunk-000001": chunk(payload, digest=bytes(32))},
                  "its SHA-256 does not match", "chunk 1 whose header digest does not match its payload")
    transfer_case("foreign-chunk", {"manifest.json": transfer_manifest(),
                                    "chunk-000001": chunk(payload, tid=OTHER)},
                  "(foreign chunk)", "chunk 1 of another transfer id")

    # A sender that lies about its source or its chunk plan, every digest consistent (unsigned).
    def final_for(manifest_bytes, chunks):
        chain = bytes(32)
        for info, data in chunks:
            chain = hashlib.sha256(chain + hashlib.sha256(info + data).digest()).digest()
        return json.dumps({"chunkCount": len(chunks), "totalBytes": sum(len(d) for _, d in chunks),
                           "streamDigest": chain.hex(), "manifestSHA256": sha256(manifest_bytes)},
                          sort_keys=True).encode()
    lying = transfer_manifest(source={"name": "hello.txt", "size": len(payload), "sha256": sha256(b"another file\n")})
    transfer_case("wrong-source-sha256", {"manifest.json": lying, "chunk-000001": chunk(payload),
                                          "final": final_for(lying, [(b"", payload)])},
                  "but the manifest's source.sha256 is",
                  "every digest consistent, but `source.sha256` is not the SHA-256 of the file sent")
    cut = transfer_manifest(chunkCount=2)
    transfer_case("made-up-chunk-plan", {"manifest.json": cut, "chunk-000001": chunk(payload[:6]),
                                         "chunk-000002": chunk(payload[6:], index=2, offset=6),
                                         "final": final_for(cut, [(b"", payload[:6]), (b"", payload[6:])])},
                  "chunkCount is 2 but the file-mode plan of a 13-byte stream in 65536-byte chunks has 1",
                  "a 13-byte file announced and sent as 2 chunks (the plan of 64 KiB chunks has 1), every digest consistent")

    # Signatures: the receiver trusts `trusted.pub` (kept inside the inbox copy, where the receiver ignores
    # it: only 32-hex-digit folders are transfers). RFC 8032's first test public key stands in for the
    # server's; no private key is needed to build a refused transfer.
    trusted = base64.b64encode(bytes.fromhex(
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")).decode()
    other = base64.b64encode(bytes.fromhex(
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")).decode()
    trust = ["--trust", "FIXTURE/trusted.pub"]
    signed_manifest = transfer_manifest(signerPublicKey=trusted)
    digest = hashlib.sha256(payload).digest()
    chain = hashlib.sha256(bytes(32) + digest).hexdigest()
    final = json.dumps({"chunkCount": 1, "totalBytes": len(payload), "streamDigest": chain,
                        "manifestSHA256": sha256(signed_manifest),
                        "signature": base64.b64encode(bytes(64)).decode()}, sort_keys=True).encode()
    for name, files, fragment, attack in [
        ("unsigned-when-trusting", {"manifest.json": transfer_manifest(), "chunk-000001": chunk(payload)},
         "is not signed and this receiver only accepts signed transfers", "an unsigned transfer to a receiver that requires a trusted signer"),
        ("untrusted-signer", {"manifest.json": transfer_manifest(signerPublicKey=other), "chunk-000001": chunk(payload)},
         "signed by a key this receiver does not trust", "a transfer signed by a key the receiver does not trust"),
        ("forged-signature", {"manifest.json": signed_manifest, "chunk-000001": chunk(payload), "final": final},
         "the signature of the final record is missing or invalid", "a final record naming the trusted signer with a forged (all-zero) signature"),
    ]:
        for rel, data in files.items():
            write(os.path.join("transfers", name, TID, rel), data)
        write(os.path.join("transfers", name, "trusted.pub"), (trusted + "\n").encode())
        case("transfers/" + name, ["transfer", "receive", "FIXTURE", "OUT", "--once", "--encryption", "none"] + trust, fragment, attack)


# ---------------------------------------------------------------------------------------------

README_HEAD = """# Hostile fixtures

Committed hostile inputs that ferry must refuse through its CLI with exit status 1 (a crash would
give a signal number), a clear error (the fragment below appears in standard error) and nothing
written outside the folder it was given. `Tests/FerryCLITests/HostileFixtureTests.swift` runs every
row of `cases.json`: it copies the fixture into `ROOT/sandbox/work/` of a fresh temporary folder ROOT
(`FIXTURE` is that copy; `OUT` is `ROOT/sandbox/work/OUT`), runs the command there with
`TMPDIR=ROOT/tmp`, and checks that no path appeared anywhere under ROOT — except, for `transfer
receive`, inside the inbox copy (the receiver's `failed` record). `OUT` must not exist after a refused
`job unpack`; for `transfer receive` it exists beforehand and must stay empty. Two levels of folders
sit between OUT and ROOT so that a `../../x` escape would still land under ROOT and be seen.

Regenerate everything (deterministic, python3 standard library only):

    python3 Tests/FerryCLITests/Fixtures/hostile/make.py

This README and `cases.json` are written by `make.py`; edit the script, not them. Transfer fixtures
are inboxes holding one transfer (`0123456789abcdef0123456789abcdef`); the signature cases also hold
the receiver's `trusted.pub` (`FIXTURE/...` in a command names a file inside the fixture's copy).
Replays need a receiver's ledger in OUT and stay in `HostileReplayTests`; signed transfers made with a
real private key are in `TamperingTests` and `ClientSecurityTests`.

| fixture | attack | command | stderr contains |
|---|---|---|---|
"""


def main():
    for sub in ("archives", "jobs", "safetensors", "transfers"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    make_archives()
    make_jobs()
    make_safetensors()
    make_transfers()
    write("cases.json", json.dumps(CASES, indent=2, ensure_ascii=False) + "\n")
    rows = ["| `%s` | %s | `ferry %s` | `%s` |" % (c["fixture"], c["attack"], " ".join(c["command"]),
                                                   c["fragment"]) for c in CASES]
    write("README.md", README_HEAD + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
