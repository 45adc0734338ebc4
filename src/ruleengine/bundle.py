"""Rule bundles: every rule file of a rules folder as one deterministic .tar.gz.

A bundle carries `rules/<ruleset>/<version>/*.yaml` and the suites, plus an
index (`.bundle.json`: each file's sha256 and each version's content hash), so
replicas can fetch one file over HTTP and load exactly what was checked.
`build_bundle` refuses broken rules; `extract_bundle` treats the bytes as
hostile (size and count limits, no links, no paths outside the target, every
file's hash checked) and writes nothing unless the whole bundle is valid.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .discover import display_path, find_versions
from .engine import load
from .errors import Code, Diagnostic, RuleFileError
from .lock import LOCK_NAME, draft_folders

INDEX_NAME = ".bundle.json"
SIGNATURE_NAME = ".bundle.sig"  # {"algorithm": "ed25519", "key_id", "signature"} over the index
# The most a bundle may unpack to: the whole uncompressed tar stream (files,
# headers, padding), so a gzip bomb is cut off however its headers lie.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_BUNDLE_FILES = 10_000
FORMAT = 1

# Folders never bundled: tooling, not rules (tests/ holds suites, so it is kept).
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
_SUFFIXES = (".yaml", ".yml")
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_VERSION_KEYS = ("ruleset", "version", "effective_from", "content_hash")
# Only plain files: sparse and continuation members can expand past their stored bytes.
_FILE_TYPES = frozenset({tarfile.REGTYPE, tarfile.AREGTYPE})
# Mismatches named in a refusal; past that, a count (a wrong index lists them all).
_SHOWN = 10
_HINT = "build the bundle again with `ruleengine bundle RULES -o FILE` and publish that file"


@dataclass(frozen=True, slots=True)
class BundleIndex:
    """What a bundle holds, from its `.bundle.json`, plus the digest of the bundle's bytes."""

    files: dict[str, str]  # relative posix path -> "sha256:<hex>" of the file's bytes
    # {"ruleset", "version", "effective_from" (ISO), "content_hash"}, by ruleset, effective_from
    versions: tuple[dict[str, str], ...]
    digest: str  # "sha256:<hex>" of the whole .tar.gz bytes (computed, not stored inside)


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- building --------------------------------------------------------------------


def _rule_files(rules: Path) -> dict[str, bytes]:
    """Every YAML file under rules, by posix path relative to it, and every versions.lock;
    drafts (versions of a locked rule set not in its lock) are left out.

    Folders are skipped as `load` skips them (hidden ones, tooling), except
    tests/, which holds the suites; hidden files are kept, as `load` reads them.
    """
    found: dict[str, bytes] = {}
    drafts = draft_folders(vdir for vdir, _ in find_versions(rules))
    for dirpath, dirnames, filenames in os.walk(rules):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIPPED_DIRS and not d.startswith(".") and Path(dirpath, d) not in drafts
        )
        here = Path(dirpath)
        for name in sorted(filenames):
            if name.endswith(_SUFFIXES) or name == LOCK_NAME:
                path = here / name
                found[path.relative_to(rules).as_posix()] = path.read_bytes()
    return found


def _member(name: str, size: int) -> tarfile.TarInfo:
    """A tar header with nothing of the build machine in it (time, owner, umask)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def build_bundle(rules: Path, signing_key: Any = None) -> tuple[bytes, BundleIndex]:
    """Check every version under `rules` and pack its YAML files as a deterministic .tar.gz.

    Raise `RuleFileError` when any version is broken: a broken rule set is never
    bundled. Identical rule files give identical bytes: sorted entries, mtime 0,
    owner 0 and unnamed, mode 0o644, gzip header without time or file name.
    INDEX_NAME is the first member; with `signing_key` (an Ed25519 private key, see
    `load_signing_key`), SIGNATURE_NAME, its signature, is the second (Ed25519 is
    deterministic: a signed build is reproducible too).
    """
    rules = Path(rules)
    if rules.is_file():  # as `load` does: a file stands for its folder
        rules = rules.parent
    # Read the files before loading and compare after: the bundle must hold the
    # very bytes that were checked, not an edit made in between.
    before = _rule_files(rules) if rules.exists() else {}
    engine = load(rules, drafts="none")  # raises RuleFileError listing every problem
    files = _rule_files(rules)
    if files != before:
        raise RuleFileError(
            [
                Diagnostic(
                    Code.BAD_BUNDLE,
                    "rule files changed while the bundle was being built",
                    display_path(rules),
                    hint="run the command again once the edits are done",
                )
            ]
        )
    versions = sorted(
        (
            {
                "ruleset": v.ruleset,
                "version": v.version,
                "effective_from": v.effective_from.isoformat(),
                "content_hash": v.content_hash,
            }
            for rs in engine.rulesets.values()
            for v in rs.versions
        ),
        key=lambda v: (v["ruleset"], v["effective_from"]),
    )
    hashes = {name: _sha256(files[name]) for name in sorted(files)}
    index_bytes = (
        json.dumps(
            {"format": FORMAT, "files": hashes, "versions": versions},
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    ).encode("utf-8")

    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_member(INDEX_NAME, len(index_bytes)), io.BytesIO(index_bytes))
        if signing_key is not None:
            signature = sign_index(index_bytes, signing_key)
            tar.addfile(_member(SIGNATURE_NAME, len(signature)), io.BytesIO(signature))
        for name in hashes:
            tar.addfile(_member(name, len(files[name])), io.BytesIO(files[name]))
    raw = tar_buffer.getvalue()
    if len(raw) > MAX_BUNDLE_BYTES or len(hashes) + 1 > MAX_BUNDLE_FILES:
        # A bundle no replica would accept is refused here rather than at every fetch.
        raise RuleFileError(
            [
                Diagnostic(
                    Code.BAD_BUNDLE,
                    f"the bundle would unpack to {len(raw)} bytes in {len(hashes) + 1} files; "
                    f"the limits are {MAX_BUNDLE_BYTES} bytes and {MAX_BUNDLE_FILES} files",
                    display_path(rules),
                )
            ]
        )
    gz_buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buffer, mtime=0) as gz:
        gz.write(raw)
    data = gz_buffer.getvalue()
    return data, BundleIndex(hashes, tuple(versions), _sha256(data))


# --- reading ---------------------------------------------------------------------


class _Refused(Exception):
    """One problem that stops reading the bundle."""


def _name_problem(name: str) -> str | None:
    """Why a member name could land outside the target folder, or None when it is safe."""
    if not name:
        return "an empty name"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "bytes that are not UTF-8"
    if "\0" in name:
        return "a NUL character"
    if "\\" in name:
        return "a backslash"
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' part"
    if any(part in ("", ".") for part in parts):
        return "an empty or '.' part"
    return None


def _read_members(data: bytes) -> dict[str, bytes]:
    """Every regular file of the bundle, by name; raise _Refused at the first unsafe member."""
    try:
        # Reading at most one byte past the limit: the limit holds whatever the headers say.
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as gz:
            raw = gz.read(MAX_BUNDLE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Refused(f"not a gzip file ({exc or type(exc).__name__})") from None
    if len(raw) > MAX_BUNDLE_BYTES:
        raise _Refused(f"it unpacks to more than {MAX_BUNDLE_BYTES} bytes")
    members: dict[str, bytes] = {}
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            while (info := tar.next()) is not None:
                count += 1
                if count > MAX_BUNDLE_FILES:
                    raise _Refused(f"more than {MAX_BUNDLE_FILES} members")
                problem = _name_problem(info.name)
                if problem is not None:
                    raise _Refused(f"member {info.name!r} has {problem} in its name")
                if info.isdir():
                    continue  # folders are made from the file paths
                if info.type not in _FILE_TYPES:
                    raise _Refused(f"member {info.name!r} is not a regular file ({_kind(info)})")
                if info.name in members:
                    raise _Refused(f"member {info.name!r} appears twice")
                handle = tar.extractfile(info)
                content = handle.read(info.size) if handle is not None else b""
                if len(content) != info.size:
                    raise _Refused(f"member {info.name!r} is truncated")
                members[info.name] = content
    except (tarfile.TarError, ValueError) as exc:
        raise _Refused(f"not a tar archive ({exc})") from None
    return members


def _kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return f"a symbolic link to {info.linkname!r}"
    if info.islnk():
        return f"a hard link to {info.linkname!r}"
    if info.ischr() or info.isblk():
        return "a device"
    if info.isfifo():
        return "a FIFO"
    return f"tar type {info.type!r}"


def _parse_index(text: bytes) -> tuple[dict[str, str], tuple[dict[str, str], ...]]:
    try:
        index: Any = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused(f"{INDEX_NAME} is not valid JSON ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise _Refused(f"{INDEX_NAME} is not a format {FORMAT} bundle index")
    files = index.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(name, str) and isinstance(digest, str) and _HASH.fullmatch(digest)
        for name, digest in files.items()
    ):
        raise _Refused(f'{INDEX_NAME}: "files" must map each path to "sha256:<hex>"')
    for name in files:
        problem = _name_problem(name)
        if problem is not None or name in (INDEX_NAME, SIGNATURE_NAME):
            why = f"a name with {problem}" if problem else "the index itself"
            raise _Refused(f"{INDEX_NAME} lists {name!r}, {why}")
    versions = index.get("versions")
    if not isinstance(versions, list) or not all(
        isinstance(v, dict)
        and all(isinstance(v.get(key), str) for key in _VERSION_KEYS)
        and all(isinstance(value, str) for value in v.values())
        for v in versions
    ):
        raise _Refused(
            f'{INDEX_NAME}: "versions" must be a list of objects with ' + ", ".join(_VERSION_KEYS)
        )
    return dict(files), tuple(dict(v) for v in versions)


def _verify(members: dict[str, bytes], files: dict[str, str]) -> list[str]:
    """Every mismatch between the archive and its index."""
    problems = []
    for name, expected in sorted(files.items()):
        if name not in members:
            problems.append(f"{name} is listed in {INDEX_NAME} but missing from the archive")
        elif _sha256(members[name]) != expected:
            problems.append(f"{name} does not match its sha256 in {INDEX_NAME}")
    for name in sorted(members.keys() - files.keys() - {INDEX_NAME, SIGNATURE_NAME}):
        problems.append(f"{name} is in the archive but not in {INDEX_NAME}")
    # A path used both as a file and as a folder cannot be written out.
    folders = {str(parent) for name in members for parent in PurePosixPath(name).parents}
    for name in sorted(folders & members.keys()):
        problems.append(f"{name} is both a file and a folder")
    return problems


def extract_bundle(data: bytes, into: Path, source: str, public_key: Any = None) -> BundleIndex:
    """Check bundle bytes, then unpack them into the empty or not yet existing folder `into`.

    `source` (a URL or path) names the bundle in errors. Raise
    `RuleFileError([Diagnostic("bad_bundle", ...)])` for anything unsafe or
    inconsistent (see docs/bundles.md); nothing is written then. Raise
    FileExistsError when `into` is not empty.
    """

    def refuse(messages: list[str]) -> RuleFileError:
        # One diagnostic: several at the same "position" would come out in no set order.
        shown = "; ".join(messages[:_SHOWN])
        more = f"; and {len(messages) - _SHOWN} more" if len(messages) > _SHOWN else ""
        return RuleFileError(
            [Diagnostic(Code.BAD_BUNDLE, f"refused bundle: {shown}{more}", source, hint=_HINT)]
        )

    try:
        members = _read_members(data)
        if INDEX_NAME not in members:
            raise _Refused(f"no {INDEX_NAME} in it")
        files, versions = _parse_index(members[INDEX_NAME])
        if public_key is not None:
            _check_signature(members, public_key)
    except _Refused as exc:
        raise refuse([str(exc)]) from None
    problems = _verify(members, files)
    if problems:
        raise refuse(problems)

    into = Path(into)
    if into.exists() and any(into.iterdir()):
        raise FileExistsError(f"{into} is not empty")
    into.mkdir(parents=True, exist_ok=True)
    # Names were checked above (relative, no '..', no links in the archive) and the
    # folder starts empty, so every path stays under `into`; "xb" never follows or
    # overwrites anything already there.
    for name in sorted(members):
        target = into.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(members[name])
    return BundleIndex(files, versions, _sha256(data))


# --- signatures and the version list ---------------------------------------------


def key_id(public_key: Any) -> str:
    """`sha256:<hex>` of the raw public key: names the key a bundle was signed with."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _sha256(raw)


def sign_index(index_bytes: bytes, signing_key: Any) -> bytes:
    """The SIGNATURE_NAME member: an Ed25519 signature of the exact index bytes (which
    list every file's sha256, so the signature covers every file)."""
    signature = signing_key.sign(index_bytes)
    return (
        json.dumps(
            {
                "algorithm": "ed25519",
                "key_id": key_id(signing_key.public_key()),
                "signature": base64.b64encode(signature).decode("ascii"),
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    ).encode("utf-8")


def _check_signature(members: dict[str, bytes], public_key: Any) -> None:
    from cryptography.exceptions import InvalidSignature

    text = members.get(SIGNATURE_NAME)
    if text is None:
        raise _Refused(
            f"it is not signed (no {SIGNATURE_NAME}) and this server requires a signature; "
            "build it with `ruleengine bundle --sign KEY`"
        )
    try:
        entry = json.loads(text.decode("utf-8"))
        signature = base64.b64decode(entry["signature"], validate=True)
        if entry.get("algorithm") != "ed25519":
            raise ValueError(f"algorithm {entry.get('algorithm')!r}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise _Refused(f"{SIGNATURE_NAME} is not a valid signature entry ({exc})") from None
    try:
        public_key.verify(signature, members[INDEX_NAME])
    except InvalidSignature:
        raise _Refused(
            f"bad signature: {SIGNATURE_NAME} does not verify with the configured public key "
            f"{key_id(public_key)} (signed with {entry.get('key_id', 'an unknown key')})"
        ) from None


def _read_key(path: Path, private: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    what = "private" if private else "public"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the {what} key {path}: {exc.strerror}") from None
    try:
        key = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a PEM {what} key ({exc})") from None
    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, wanted):
        raise ValueError(f"{path} is not an Ed25519 {what} key")
    return key


def load_signing_key(path: Path) -> Any:
    """An Ed25519 private key from a PEM file (`openssl genpkey -algorithm ed25519`);
    ValueError with a readable message otherwise."""
    return _read_key(path, private=True)


def load_public_key(path: Path) -> Any:
    """An Ed25519 public key from a PEM file (`openssl pkey -pubout`); ValueError otherwise."""
    return _read_key(path, private=False)


def verify_versions(index: BundleIndex, engine: Any, source: str) -> None:
    """Raise `RuleFileError` unless the versions loaded from a bundle are exactly those its
    index lists (rule set, version, effective date and content hash)."""

    def key(v: dict[str, str]) -> tuple[str, str]:
        return v["ruleset"], v["version"]

    listed = {key(v): v for v in index.versions}
    loaded = {
        (v.ruleset, v.version): {
            "ruleset": v.ruleset,
            "version": v.version,
            "effective_from": v.effective_from.isoformat(),
            "content_hash": v.content_hash,
        }
        for rs in engine.rulesets.values()
        for v in rs.versions
    }
    problems = []
    for name in sorted(listed.keys() - loaded.keys()):
        problems.append(f"{'@'.join(name)} is listed in {INDEX_NAME} but not in the bundle")
    for name in sorted(loaded.keys() - listed.keys()):
        problems.append(f"{'@'.join(name)} is in the bundle but not listed in {INDEX_NAME}")
    for name in sorted(listed.keys() & loaded.keys()):
        for field in ("effective_from", "content_hash"):
            if listed[name].get(field) != loaded[name][field]:
                problems.append(
                    f"{'@'.join(name)}: {INDEX_NAME} says {field} {listed[name].get(field)}, "
                    f"the files give {loaded[name][field]}"
                )
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise RuleFileError(
            [Diagnostic(Code.BAD_BUNDLE, f"refused bundle: {shown}{more}", source, hint=_HINT)]
        )
