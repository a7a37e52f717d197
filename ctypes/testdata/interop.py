"""Reads and writes shmkit ctypes objects from Python, following the recipe
in ctypes/doc.go ("Reading from Python") step by step.

Usage: interop.py SEGMENT SPEC_JSON

SPEC_JSON is a list of {"name", "code", "shape", "lock", "off", "values"}.
The script knows only the documented layouts: it attaches without ever
unlinking, checks every byte of the segment header (checksum included),
walks the directory taking only ready entries with a sane name length,
checks each entry's name hash, object header, ctypes header and lock word,
reads the values ('u' through cast('I')), then writes back each value
transformed: integers XOR 1, floats negated, characters with bit 0 flipped.
Exit status 0 means every check passed.
"""
import json
import mmap
import os
import struct
import sys

# ---- Step 1: attach without ever unlinking ------------------------------


def attach(name):
    """Returns (buffer, close) for segment name."""
    d = os.environ.get("SHMKIT_DIR", "")
    if d and os.path.realpath(d) != "/dev/shm":
        # SharedMemory only looks in /dev/shm: map the file itself.
        with open(os.path.join(d, name), "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
        return memoryview(m), m.close
    from multiprocessing import shared_memory
    if sys.version_info >= (3, 13):
        shm = shared_memory.SharedMemory(name, track=False)
    else:
        shm = shared_memory.SharedMemory(name)
        from multiprocessing import resource_tracker
        resource_tracker.unregister(shm._name, "shared_memory")
    return shm.buf, shm.close


# ---- xxHash64, seed 0 (the segment checksum and the name hashes) --------

M64 = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P4, P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return _rotl((acc + lane * P2) & M64, 31) * P1 & M64


def _merge(h, v):
    return ((h ^ _round(0, v)) * P1 + P4) & M64


def xxh64(data, seed=0):
    data, n, i = bytes(data), len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for k in range(4):
            h = _merge(h, v[k])
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        h ^= _round(0, struct.unpack_from("<Q", data, i)[0])
        h = (_rotl(h, 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h ^= struct.unpack_from("<I", data, i)[0] * P1 & M64
        h = (_rotl(h, 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h ^= data[i] * P5 & M64
        h = _rotl(h, 11) * P1 & M64
        i += 1
    h ^= h >> 33
    h = h * P2 & M64
    h ^= h >> 29
    h = h * P3 & M64
    return h ^ (h >> 32)


assert xxh64(b"") == 0xEF46DB3751D8E999


# ---- Step 2: the segment header (shm/doc.go) ----------------------------

SEG = struct.Struct("<8sIIBBHIQQIIQII")  # bytes 0-64
SEG_HDR_SIZE, SLOT_SIZE, ENTRY_SIZE, OBJ_HDR_SIZE = 256, 64, 128, 64
ENTRY = struct.Struct("<QQ4sIQQI4x80s")  # 128 bytes
OBJ = struct.Struct("<4s4sIIQ40x")  # 64 bytes before every payload
FREE, CLAIMED, NAMED, READY, FAILED = 0, 1, 2, 3, 4


def segment(buf):
    """Checks the header; returns (slots, entries, arena offset)."""
    (magic, version, order, word, line, pad, arena, size, _cid, _pid, slots,
     _start, entries, flags) = SEG.unpack_from(buf, 0)
    (checksum,) = struct.unpack_from("<Q", buf, 64)
    want = (b"SHMKTSM1", 1, 0x01020304, 8, 64, 0, len(buf), 0)
    got = (magic, version >> 16, order, word, line, pad, size, flags)
    if got != want:
        raise SystemExit(f"segment header {got} != {want}")
    if checksum != xxh64(buf[8:64]):
        raise SystemExit("segment header checksum")
    for lo, hi in ((72, 128), (136, 192), (196, 256)):
        if any(buf[lo:hi]):
            raise SystemExit(f"segment header padding {lo}-{hi} not zero")
    if entries & (entries - 1) or arena < SEG_HDR_SIZE + slots * SLOT_SIZE + entries * ENTRY_SIZE:
        raise SystemExit(f"segment geometry: {slots} slots, {entries} entries, arena at {arena}")
    return slots, entries, arena


# ---- Step 3: the directory: only ready entries are objects --------------


def directory(buf, slots, entries, arena):
    """Returns {name: (kind, version, payload offset, payload size)}."""
    objs = {}
    for i in range(entries):
        e = SEG_HDR_SIZE + slots * SLOT_SIZE + i * ENTRY_SIZE
        state, h, kind, version, off, size, name_len, name = ENTRY.unpack_from(buf, e)
        if state & 0xFF != READY:
            continue  # free, being created, or failed: its bytes mean nothing
        if state & 0xFFFFFF00 or not 1 <= name_len <= 80:
            raise SystemExit(f"entry {i}: state {state:#x}, name length {name_len}")
        name = name[:name_len]
        if h != xxh64(name):
            raise SystemExit(f"entry {i}: hash of {name!r}")
        if off < arena + OBJ_HDR_SIZE or off % 64 or size > len(buf) - off:
            raise SystemExit(f"entry {i}: payload {off}+{size} outside the arena")
        omagic, okind, over, oindex, osize = OBJ.unpack_from(buf, off - OBJ_HDR_SIZE)
        if (omagic, okind, over, oindex, osize) != (b"SHMO", kind, version, i, size):
            raise SystemExit(f"entry {i}: object header {(omagic, okind, over, oindex, osize)}")
        if name.decode() in objs:
            raise SystemExit(f"entry {i}: a second ready entry named {name!r}")
        objs[name.decode()] = (kind, version, off, size)
    return objs


# ---- Step 4: the ctypes header, the lock word, the elements -------------

HDR = struct.Struct("<cBcBIQI12x80s16x")  # 128 bytes
HDR_SIZE = 128
SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8,
         "q": 8, "Q": 8, "f": 4, "d": 8, "c": 1, "u": 4}
CAST = {"u": "I"}  # memoryview.cast rejects 'u': a wchar_t is a uint32 code point


def check(buf, objs, e, failures):
    name, code = e["name"], e["code"]
    if name not in objs:
        failures.append(f"{name}: not in the directory")
        return
    kind, version, payload, size = objs[name]
    off = payload + HDR_SIZE
    if (kind, version >> 16, off) != (b"CTYP", 1, e["off"]):
        failures.append(f"{name}: kind {kind!r} v{version:#x}, element 0 at {off}, Go says {e['off']}")
        return
    tc, esize, shape, flags, data_off, length, lock_len, lock = HDR.unpack_from(buf, payload)
    if any(buf[payload + 20:payload + 32]) or any(buf[payload + 112:payload + HDR_SIZE]):
        failures.append(f"{name}: reserved header bytes not zero")
    got_hdr = (tc.decode(), esize, shape.decode(), flags, data_off, length, lock[:lock_len].decode())
    want_hdr = (code, SIZES[code], e["shape"], 1 if e["lock"] else 0, HDR_SIZE,
                len(e["values"]), e["lock"])
    if got_hdr != want_hdr:
        failures.append(f"{name}: header {got_hdr} != {want_hdr}")
        return
    padded = (length * esize + 7) // 8 * 8
    if HDR_SIZE + padded > size:
        failures.append(f"{name}: {length} elements overrun the {size}-byte payload")
        return
    if any(buf[off + length * esize:off + padded]):
        failures.append(f"{name}: padding after the elements not zero")
    if e["lock"]:
        lk = objs.get(e["lock"])
        if lk is None or lk[0] not in (b"RLCK", b"LOCK"):
            failures.append(f"{name}: lock {e['lock']!r} is {lk}")
            return
        (word,) = struct.unpack_from("<I", buf, lk[2])
        if word != 0:  # bits 0-28 holder token, 29 not recoverable, 30 owner died, 31 waiters
            failures.append(f"{name}: lock word {word:#x}; nobody holds it")
    raw = buf[off:off + length * esize]
    mv = raw.cast(CAST.get(code, code))
    try:
        got = mv.tolist()
        want = e["values"]
        if code == "c":  # 1-byte bytes objects
            got = [x[0] for x in got]
        if code == "u":  # code points: one character each
            got, want = [chr(x) for x in got], [chr(v) for v in want]
        if got != want:
            failures.append(f"{name}: read {got} != {want}")
        for i, v in enumerate(got):
            if code in "fd":
                mv[i] = -v
            elif code == "c":
                mv[i] = bytes([v ^ 1])
            elif code == "u":
                mv[i] = ord(v) ^ 1
            else:
                mv[i] = v ^ 1
    finally:
        mv.release()
        raw.release()


def main():
    seg, spec = sys.argv[1], json.loads(sys.argv[2])
    buf, close = attach(seg)
    failures = []
    try:
        objs = directory(buf, *segment(buf))
        for e in spec:
            check(buf, objs, e, failures)
    finally:
        buf.release()
        close()
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("ok", len(spec))


main()
