"""Rule bundles: deterministic building, round trips, and every refusal of a hostile bundle."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import ruleengine
from ruleengine import bundle
from ruleengine.bundle import INDEX_NAME, BundleIndex, build_bundle, extract_bundle
from ruleengine.errors import RuleFileError

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
# Copies edited in place leave versions.lock behind (an unlocked rule set): a published
# version never changes, so check and load would refuse the edit (tests/test_publish.py).
UNLOCKED = shutil.ignore_patterns("versions.lock")
SOURCE = "https://rules.example.test/rules.tar.gz"

QUOTE_FACTS: dict[str, Any] = {
    "customer": {
        "id": "c-1",
        "country": "US",
        "tier": "gold",
        "email_verified": True,
        "member_since": "2020-01-01",
    },
    "order": {
        "currency": "USD",
        "items": [{"sku": "A", "quantity": 3, "unit_price": Decimal("16.78")}],
    },
}
# From rules/self-service/tests/options.yaml.
OPTIONS_FACTS: dict[str, Any] = {
    "account": {"country": "US"},
    "subscription": {
        "id": "SUB-1",
        "product": "maya-lt",
        "plan": "subscription",
        "channel": "direct",
        "term": "annual",
        "payment_method": "card",
        "seats": 1,
        "renewal_date": "2027-03-31",
        "auto_renew": True,
        "status": "active",
        "currency": "USD",
    },
}


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- building ----------------------------------------------------------------------


def test_build_is_deterministic_and_independent_of_place_and_time(tmp_path: Path) -> None:
    data, index = build_bundle(RULES)
    again, _ = build_bundle(RULES)
    assert data == again
    assert index.digest == sha(data)

    copy = tmp_path / "elsewhere"
    shutil.copytree(RULES, copy)
    for path in copy.rglob("*.yaml"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    moved, moved_index = build_bundle(copy)
    assert moved == data
    assert moved_index == index


def test_a_changed_file_changes_the_digest(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy, ignore=UNLOCKED)
    _, before = build_bundle(copy)
    rules_file = copy / "example" / "2026-07" / "rules.yaml"
    rules_file.write_text(rules_file.read_text("utf-8") + "# a comment\n", "utf-8")
    _, after = build_bundle(copy)
    assert after.digest != before.digest
    changed = "example/2026-07/rules.yaml"
    assert after.files[changed] != before.files[changed]
    assert {k: v for k, v in after.files.items() if k != changed} == {
        k: v for k, v in before.files.items() if k != changed
    }
    hashes = {v["version"]: v["content_hash"] for v in after.versions}
    assert (
        hashes["2026-07"] != {v["version"]: v["content_hash"] for v in before.versions}["2026-07"]
    )


def test_bundle_contents_and_index() -> None:
    data, index = build_bundle(RULES)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        assert members[0].name == INDEX_NAME
        names = [m.name for m in members[1:]]
        assert names == sorted(names)
        for member in members:
            assert member.isreg()
            assert (member.mtime, member.uid, member.gid, member.mode) == (0, 0, 0, 0o644)
            assert (member.uname, member.gname) == ("", "")
        raw_index = tar.extractfile(members[0])
        assert raw_index is not None
        stored = json.loads(raw_index.read())
    expected = sorted(
        p.relative_to(RULES).as_posix()
        for p in [*RULES.rglob("*.y*ml"), *RULES.rglob("versions.lock")]
    )
    assert names == expected
    assert "self-service/tests/options.yaml" in names  # suites travel with the rules
    assert stored == {"format": 1, "files": index.files, "versions": list(index.versions)}
    for name, digest in index.files.items():
        assert digest == sha((RULES / name).read_bytes())
    assert [(v["ruleset"], v["version"], v["effective_from"]) for v in index.versions] == [
        ("example", "2026-01", "2026-01-01"),
        ("example", "2026-07", "2026-07-01"),
        ("self-service", "2026-11", "2026-11-01"),
        ("self-service", "2026-12", "2026-12-01"),
    ]
    assert data[4:8] == b"\0\0\0\0"  # gzip header mtime


def test_round_trip_decides_like_the_folder(tmp_path: Path) -> None:
    data, built = build_bundle(RULES)
    into = tmp_path / "extracted"
    index = extract_bundle(data, into, SOURCE)
    assert index == built
    assert index.digest == sha(data)
    for name, digest in index.files.items():
        assert sha((into / name).read_bytes()) == digest

    original = ruleengine.load(RULES)
    extracted = ruleengine.load(into)
    loaded = {
        (v.ruleset, v.version): v.content_hash
        for rs in extracted.rulesets.values()
        for v in rs.versions
    }
    assert loaded == {(v["ruleset"], v["version"]): v["content_hash"] for v in index.versions}
    requests = [
        ("example", "quote", {**QUOTE_FACTS, "as_of": "2026-03-15"}),
        ("example", "quote", {**QUOTE_FACTS, "as_of": "2026-07-01"}),
        ("example", "checkout", {**QUOTE_FACTS, "as_of": "2026-07-01"}),
        ("self-service", "options", {**OPTIONS_FACTS, "as_of": "2026-11-15"}),
        ("self-service", "options", {**OPTIONS_FACTS, "as_of": "2026-12-15"}),
    ]
    for ruleset, decision, facts in requests:
        want = original.decide(ruleset, decision, facts)
        got = extracted.decide(ruleset, decision, facts)
        assert (got.result, got.version, got.content_hash) == (
            want.result,
            want.version,
            want.content_hash,
        )


def test_broken_rules_are_never_bundled(tmp_path: Path) -> None:
    shutil.copytree(RULES / "example", tmp_path / "example", ignore=UNLOCKED)
    rules_file = tmp_path / "example" / "2026-01" / "rules.yaml"
    text = rules_file.read_text("utf-8")
    rules_file.write_text(text.replace("customer.email_verified", "customer.email_verifed"))
    with pytest.raises(RuleFileError) as caught:
        build_bundle(tmp_path)
    assert caught.value.diagnostics
    assert all(d.file.endswith("2026-01/rules.yaml") for d in caught.value.diagnostics)


# --- reading: hand-made bundles ------------------------------------------------------

Entry = tuple[tarfile.TarInfo, bytes]
MANIFEST = "example/v1/manifest.yaml"
FILES = {MANIFEST: b"ruleset: example\n", "example/v1/rules.yaml": b"rules: {}\n"}


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info, data


def index_bytes(contents: dict[str, bytes], **override: Any) -> bytes:
    index = {"format": 1, "files": {n: sha(d) for n, d in contents.items()}, "versions": []}
    index.update(override)
    return json.dumps(index).encode()


def tar_gz(entries: list[Entry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return gzip.compress(buffer.getvalue())


def bundle_of(files: dict[str, bytes], *extra: Entry, index: bytes | None = None) -> bytes:
    return tar_gz(
        [
            member(INDEX_NAME, index_bytes(files) if index is None else index),
            *(member(n, d) for n, d in files.items()),
            *extra,
        ]
    )


@pytest.fixture
def into(tmp_path: Path) -> Path:
    # Nested, so a '../' escape would land inside tmp_path where the test can see it.
    return tmp_path / "a" / "b" / "into"


def refused(data: bytes, into: Path, tmp_path: Path) -> str:
    """Extract, expect a bad_bundle refusal naming SOURCE, check nothing was written; the text."""
    with pytest.raises(RuleFileError) as caught:
        extract_bundle(data, into, SOURCE)
    diagnostics = caught.value.diagnostics
    assert len(diagnostics) == 1
    assert {d.code for d in diagnostics} == {"bad_bundle"}
    assert {d.file for d in diagnostics} == {SOURCE}
    assert all(d.hint for d in diagnostics)
    assert list(tmp_path.rglob("*")) == [], "a refused bundle wrote files"
    return "\n".join(d.message for d in diagnostics)


def test_a_valid_hand_made_bundle_extracts(into: Path) -> None:
    data = bundle_of(FILES, member("example", kind=tarfile.DIRTYPE))
    index = extract_bundle(data, into, SOURCE)
    assert index == BundleIndex({n: sha(d) for n, d in FILES.items()}, (), sha(data))
    assert sorted(p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()) == [
        INDEX_NAME,
        *sorted(FILES),
    ]
    assert (into / MANIFEST).read_bytes() == FILES[MANIFEST]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "not a tar archive"),
        (b"this is not a bundle", "not a gzip file"),
        (gzip.compress(b"plain text, gzipped"), "not a tar archive"),
        (gzip.compress(b"\x1f\x8b" + os.urandom(2000))[:-9], "not a gzip file"),  # truncated
    ],
    ids=["empty", "garbage", "gzip-not-tar", "truncated-gzip"],
)
def test_garbage_is_refused(data: bytes, says: str, into: Path, tmp_path: Path) -> None:
    assert says in refused(data, into, tmp_path)


def test_an_uncompressed_tar_is_refused(into: Path, tmp_path: Path) -> None:
    plain = gzip.decompress(bundle_of(FILES))
    assert "not a gzip file" in refused(plain, into, tmp_path)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (member("evil.yaml", kind=tarfile.SYMTYPE, link="/etc/passwd"), "symbolic link"),
        (member("evil.yaml", kind=tarfile.LNKTYPE, link=MANIFEST), "hard link"),
        (member("evil.yaml", kind=tarfile.CHRTYPE), "device"),
        (member("evil.yaml", kind=tarfile.BLKTYPE), "device"),
        (member("evil.yaml", kind=tarfile.FIFOTYPE), "FIFO"),
    ],
    ids=["symlink", "hardlink", "char-device", "block-device", "fifo"],
)
def test_members_that_are_not_regular_files_are_refused(
    entry: Entry, says: str, into: Path, tmp_path: Path
) -> None:
    message = refused(bundle_of(FILES, entry), into, tmp_path)
    assert "not a regular file" in message
    assert says in message


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("../x.yaml", "'..' part"),
        ("../../x.yaml", "'..' part"),
        ("example/../../../x.yaml", "'..' part"),
        ("ABSOLUTE", "absolute path"),
        ("example\\..\\..\\x.yaml", "backslash"),
        ("./example/x.yaml", "'.' part"),
    ],
)
def test_names_that_could_escape_are_refused(
    name: str, says: str, into: Path, tmp_path: Path
) -> None:
    if name == "ABSOLUTE":
        name = str(tmp_path / "abs.yaml")  # would land in tmp_path if it were ever written
    files = {**FILES, name: b"x: 1\n"}
    assert says in refused(bundle_of(files), into, tmp_path)


def test_a_nul_in_a_name_is_refused(into: Path, tmp_path: Path) -> None:
    info, data = member("evil.yaml", b"x: 1\n")
    info.pax_headers = {"path": "evil\0.yaml"}  # only a pax header can carry a NUL
    assert "NUL" in refused(bundle_of(FILES, (info, data)), into, tmp_path)


def test_a_duplicate_name_is_refused(into: Path, tmp_path: Path) -> None:
    second = member(MANIFEST, FILES[MANIFEST])
    assert "appears twice" in refused(bundle_of(FILES, second), into, tmp_path)


def test_a_tampered_file_is_refused(into: Path, tmp_path: Path) -> None:
    tampered = {**FILES, MANIFEST: b"ruleset: evil\n"}
    data = bundle_of(tampered, index=index_bytes(FILES))
    assert f"{MANIFEST} does not match its sha256" in refused(data, into, tmp_path)


def test_a_file_not_in_the_index_is_refused(into: Path, tmp_path: Path) -> None:
    extra = member("example/v1/extra.yaml", b"x: 1\n")
    message = refused(bundle_of(FILES, extra), into, tmp_path)
    assert "example/v1/extra.yaml is in the archive but not in .bundle.json" in message


def test_a_listed_file_missing_from_the_archive_is_refused(into: Path, tmp_path: Path) -> None:
    listed = {**FILES, "example/v1/gone.yaml": b"x: 1\n"}
    data = bundle_of(FILES, index=index_bytes(listed))
    assert "example/v1/gone.yaml is listed in .bundle.json but missing" in refused(
        data, into, tmp_path
    )


def test_every_mismatch_is_listed(into: Path, tmp_path: Path) -> None:
    listed = {**FILES, MANIFEST: b"other", "example/v1/gone.yaml": b"x: 1\n"}
    data = bundle_of(FILES, member("extra.yaml", b"y"), index=index_bytes(listed))
    message = refused(data, into, tmp_path)
    assert "does not match" in message
    assert "missing from the archive" in message
    assert "not in .bundle.json" in message


def test_a_long_list_of_mismatches_is_cut_short(into: Path, tmp_path: Path) -> None:
    listed = {**FILES, **{f"example/v1/gone{i:02}.yaml": b"" for i in range(15)}}
    message = refused(bundle_of(FILES, index=index_bytes(listed)), into, tmp_path)
    assert message.count("missing from the archive") == 10
    assert message.endswith("; and 5 more")


@pytest.mark.parametrize(
    ("index", "says"),
    [
        (None, "no .bundle.json"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a format 1 bundle index"),
        (index_bytes(FILES, format=2), "not a format 1 bundle index"),
        (index_bytes(FILES, files={MANIFEST: "md5:abc"}), '"files" must map'),
        (index_bytes(FILES, versions=[{"ruleset": "example"}]), '"versions" must be'),
        (index_bytes({**FILES, "../x.yaml": b""}), "a name with a '..' part"),
    ],
    ids=["missing", "not-json", "not-object", "format-2", "bad-hash", "bad-versions", "bad-name"],
)
def test_a_bad_index_is_refused(index: bytes | None, says: str, into: Path, tmp_path: Path) -> None:
    if index is None:
        data = tar_gz([member(n, d) for n, d in FILES.items()])
    else:
        data = bundle_of(FILES, index=index)
    assert says in refused(data, into, tmp_path)


def test_a_path_both_file_and_folder_is_refused(into: Path, tmp_path: Path) -> None:
    files = {**FILES, "example/v1": b"x"}
    assert "both a file and a folder" in refused(bundle_of(files), into, tmp_path)


def test_too_many_members_are_refused(
    into: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"example/v1/f{i}.yaml": b"x: 1\n" for i in range(5)}
    data = bundle_of(files)
    monkeypatch.setattr(bundle, "MAX_BUNDLE_FILES", 3)
    assert "more than 3 members" in refused(data, into, tmp_path)
    monkeypatch.setattr(bundle, "MAX_BUNDLE_FILES", 6)  # the index and five files
    assert len(extract_bundle(data, into, SOURCE).files) == 5


def test_too_many_bytes_are_refused(
    into: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 MB of zeros gzips to about 1 KB: the limit must hold on what it unpacks to.
    data = bundle_of({**FILES, "example/v1/big.yaml": b"\0" * 1_000_000})
    assert len(data) < 10_000
    monkeypatch.setattr(bundle, "MAX_BUNDLE_BYTES", 500_000)
    assert "more than 500000 bytes" in refused(data, into, tmp_path)


def test_a_folder_that_is_not_empty_is_not_extracted_into(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        extract_bundle(bundle_of(FILES), tmp_path, SOURCE)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_an_empty_existing_folder_is_fine(tmp_path: Path) -> None:
    index = extract_bundle(bundle_of(FILES), tmp_path, SOURCE)
    assert (tmp_path / MANIFEST).read_bytes() == FILES[MANIFEST]
    assert set(index.files) == set(FILES)
