"""Reads and writes shmkit ctypes objects through Python's shared_memory.

Usage: interop.py SEGMENT SPEC_JSON

SPEC_JSON is a list of {"name", "code", "shape", "lock", "off", "values"}.
The script knows only the layouts documented in shm/doc.go and
ctypes/doc.go: it finds each object by name in the segment's directory,
checks that element 0 sits 128 bytes into the payload (and where Go says,
"off"), checks the ctypes header and the values (read with memoryview.cast),
then writes back each value transformed: integers XOR 1, floats negated.
Exit status 0 means every check passed.
"""
import json
import struct
import sys
from multiprocessing import resource_tracker, shared_memory

# shm/doc.go: segment header, participant table, directory.
SEG_MAGIC = b"SHMKTSM1"
SEG_HDR_SIZE, SLOT_SIZE, ENTRY_SIZE = 256, 64, 128
ENTRY_READY = 3
# ctypes/doc.go: the 128-byte header before element 0.
HDR = struct.Struct("<BBBBIQI")  # typecode, elemSize, shape, flags, dataOff, length, lockLen
HDR_SIZE, LOCK_NAME_OFF = 128, 32
SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8,
         "q": 8, "Q": 8, "f": 4, "d": 8, "c": 1, "u": 4}
# memoryview.cast has no 'u'; a wchar_t is a 4-byte code point on Linux.
CAST = {"u": "i"}


def directory(buf):
    """Returns {name: (kind, payload offset, payload size)} of ready objects."""
    if bytes(buf[0:8]) != SEG_MAGIC:
        raise SystemExit(f"segment magic {bytes(buf[0:8])!r}")
    slots, = struct.unpack_from("<I", buf, 44)
    entries, = struct.unpack_from("<I", buf, 56)
    objs = {}
    for i in range(entries):
        e = SEG_HDR_SIZE + slots * SLOT_SIZE + i * ENTRY_SIZE
        state, = struct.unpack_from("<Q", buf, e)
        if state & 0xFF != ENTRY_READY:
            continue
        kind = bytes(buf[e + 16:e + 20])
        off, size, name_len = struct.unpack_from("<QQI", buf, e + 24)
        objs[bytes(buf[e + 48:e + 48 + name_len]).decode()] = (kind, off, size)
    return objs


def check(buf, objs, e, failures):
    name, code = e["name"], e["code"]
    if name not in objs:
        failures.append(f"{name}: not in the directory")
        return
    kind, payload, size = objs[name]
    off = payload + HDR_SIZE
    if kind != b"CTYP" or off != e["off"]:
        failures.append(f"{name}: kind {kind!r}, element 0 at {off}, Go says {e['off']}")
        return
    tc, esize, shape, flags, data_off, length, lock_len = HDR.unpack_from(buf, payload)
    lock = bytes(buf[payload + LOCK_NAME_OFF:payload + LOCK_NAME_OFF + lock_len]).decode()
    got_hdr = (chr(tc), esize, chr(shape), flags, data_off, length, lock)
    want_hdr = (code, SIZES[code], e["shape"], 1 if e["lock"] else 0, HDR_SIZE,
                len(e["values"]), e["lock"])
    if got_hdr != want_hdr:
        failures.append(f"{name}: header {got_hdr} != {want_hdr}")
        return
    if HDR_SIZE + length * esize > size:
        failures.append(f"{name}: {length} elements overrun the {size}-byte payload")
        return
    raw = buf[off:off + length * esize]
    mv = raw.cast(CAST.get(code, code))
    try:
        got = [x[0] if code == "c" else x for x in mv.tolist()]
        if got != e["values"]:
            failures.append(f"{name}: read {got} != {e['values']}")
        for i, v in enumerate(got):
            if code in "fd":
                mv[i] = -v
            elif code == "c":
                mv[i] = bytes([v ^ 1])
            else:
                mv[i] = v ^ 1
    finally:
        mv.release()
        raw.release()


def main():
    seg, spec = sys.argv[1], json.loads(sys.argv[2])
    shm = shared_memory.SharedMemory(seg)
    # Python 3.11 has no track=False: stop the tracker from unlinking the
    # Go segment when this process exits.
    resource_tracker.unregister(shm._name, "shared_memory")
    failures = []
    try:
        objs = directory(shm.buf)
        for e in spec:
            check(shm.buf, objs, e, failures)
    finally:
        shm.close()
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("ok", len(spec))


main()
