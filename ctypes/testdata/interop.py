"""Reads and writes shmkit ctypes objects through Python's shared_memory.

Usage: interop.py SEGMENT SPEC_JSON

SPEC_JSON is a list of {"code", "off", "values"}: "off" is the offset of
element 0 from the segment base; the 128-byte ctypes header precedes it.
For every entry the script checks the header and the values (read with
memoryview.cast), then writes back each value transformed: integers
XOR 1, floats negated. Exit status 0 means every check passed.
"""
import json
import struct
import sys
from multiprocessing import resource_tracker, shared_memory

HDR = struct.Struct("<BBBBIQI")  # typecode, elemSize, shape, flags, dataOff, length, lockLen
HDR_SIZE = 128
SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8,
         "q": 8, "Q": 8, "f": 4, "d": 8, "c": 1, "u": 4}
# memoryview.cast has no 'u'; a wchar_t is a 4-byte code point on Linux.
CAST = {"u": "i"}


def main():
    name, spec = sys.argv[1], json.loads(sys.argv[2])
    shm = shared_memory.SharedMemory(name)
    # Python 3.11 has no track=False: stop the tracker from unlinking the
    # Go segment when this process exits.
    resource_tracker.unregister(shm._name, "shared_memory")
    failures = []
    try:
        for e in spec:
            code, off, values = e["code"], e["off"], e["values"]
            start = off - HDR_SIZE
            tc, esize, shape, flags, data_off, length, lock_len = HDR.unpack_from(shm.buf, start)
            want_hdr = (ord(code), SIZES[code], length, HDR_SIZE)
            if (tc, esize, len(values), data_off) != want_hdr:
                failures.append(f"{code}: header {(tc, esize, length, data_off)} != {want_hdr}")
                continue
            if start + data_off != off:
                failures.append(f"{code}: data offset {start + data_off} != {off}")
                continue
            raw = shm.buf[off:off + length * esize]
            mv = raw.cast(CAST.get(code, code))
            try:
                got = [x[0] if code == "c" else x for x in mv.tolist()]
                if got != values:
                    failures.append(f"{code}: read {got} != {values}")
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
    finally:
        shm.close()
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print("ok", len(spec))


main()
