#!/usr/bin/python3
"""Writes the hand-made seeds of fuzz_data_stream into corpus/data_stream/.

Each seed is: one options byte (bits 0-1 format ASCII/BASE64/FRAMED/UNFRAMED,
bit 2 RAW, bit 3 text header, bit 4 NO_STATUS, bit 5 ONE_SHOT, bit 6 NO_HEADER),
one chunk-size byte, then the stream as the PandA would send it.
"""
import base64
import os
import struct
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "data_stream")


def xml_header(process, fmt, sample_bytes, fields):
    sb = f' sample_bytes="{sample_bytes}"' if sample_bytes else ""
    return ("<header>\n<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
            "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" "
            f"process=\"{process}\" format=\"{fmt}\"{sb} />\n<fields>\n{fields}</fields>\n</header>\n\n").encode()


SCALED = ('<field name="PCAP.BITS0" type="uint32" capture="Value" />\n'
          '<field name="INENC1.VAL" type="double" capture="Value" scale="0.000125" offset="0" units="deg" />\n')
RAW = ('<field name="PCAP.GATE_DURATION" type="int32" capture="Value" scale="8e-09" offset="0" units="s" />\n'
       '<field name="PCAP.BITS0" type="uint32" capture="Value" />\n'
       '<field name="INENC1.VAL" type="int32" capture="Min" scale="0.5" offset="1" units="mm" />\n'
       '<field name="PCAP.TS_TRIG" type="int64" capture="Value" scale="8e-09" offset="0" units="s" />\n'
       '<field name="INENC1.VAL" type="int64" capture="Mean" scale="0.5" offset="1" units="mm" />\n'
       '<field name="INENC1.VAL" type="int96" capture="StdDev" scale="0.5" offset="1" units="mm" />\n')


def frame(payload):
    return b"BIN " + struct.pack("<I", len(payload) + 8) + payload


def scaled_samples(n):
    return b"".join(struct.pack("<Id", i, 0.5 * i) for i in range(n))


def raw_samples(n):
    out = b""
    for i in range(n):
        sq = 30 * (i + 1)
        out += struct.pack("<iIiqq", 4, i, -i, 125000000 * i, 10 * i)
        out += sq.to_bytes(12, "little", signed=True)
    return out


def seeds():
    s = scaled_samples(5)
    yield "framed_scaled", 0x02, 7, b"OK\n" + xml_header("Scaled", "Framed", 12, SCALED) + frame(s[:24]) + frame(s[24:]) + b"END 5 Ok\n"
    r = raw_samples(4)
    yield "framed_raw_stddev", 0x06, 63, b"OK\n" + xml_header("Raw", "Framed", 40, RAW) + frame(r) + b"END 4 Disarmed\n"
    lines = b"".join(b" %d %.10g\n" % (i, 0.5 * i) for i in range(4))
    yield "ascii_scaled", 0x00, 3, b"OK\n" + xml_header("Scaled", "ASCII", 0, SCALED) + lines + b"END 4 Ok\n"
    raw_lines = b"".join(b" " + b" ".join(b"0x%08x" % w for w in struct.unpack("<10I", r[i * 40:(i + 1) * 40])) + b"\n" for i in range(4))
    yield "ascii_raw", 0x04, 11, b"OK\n" + xml_header("Raw", "ASCII", 0, RAW) + raw_lines + b"END 4 Ok\n"
    b64 = b"".join(b" " + base64.b64encode(s[i:i + 57]) + b"\0\n" for i in range(0, len(s), 57))
    yield "base64_scaled", 0x01, 5, b"OK\n" + xml_header("Scaled", "Base64", 12, SCALED) + b64 + b"END 5 Ok\n"
    yield "unframed", 0x03, 9, b"OK\n" + xml_header("Scaled", "Unframed", 12, SCALED) + s + b"END 5 Ok\n"
    text = (b"arm_time: 2026-01-15T10:00:00Z\nmissed: 0\nprocess: Scaled\nformat: Framed\nsample_bytes: 12\n"
            b"fields:\n PCAP.BITS0 uint32 Value\n INENC1.VAL double Value scale: 0.5 offset: 0 units: deg\n\n")
    yield "text_header", 0x0A, 13, b"OK\n" + text + frame(s) + b"END 5 Ok\n"
    yield "bare", 0x7B, 4, struct.pack("<IiIi", 1, -1, 2, -2)
    yield "rearm", 0x02, 30, (b"OK\n" + xml_header("Scaled", "Framed", 12, SCALED) + frame(s) + b"END 5 Ok\n") * 2
    yield "one_shot", 0x22, 50, b"OK\n" + xml_header("Scaled", "Framed", 12, SCALED) + frame(s) + b"END 5 Ok\ntrailing"
    yield "err", 0x02, 1, b"ERR Invalid data capture option\n"
    yield "legacy_count", 0x06, 20, b"OK\n" + xml_header("Raw", "Framed", 8, '<field name="INENC1.VAL" type="int32" capture="Value" scale="1" offset="0" units="" />\n') + frame(struct.pack("<Ii", 1, 5)) + b"END 1 Ok\n"


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, opts, chunk, stream in seeds():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(bytes([opts, chunk]) + stream)
    print(f"wrote seeds to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
