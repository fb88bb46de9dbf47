#!/usr/bin/python3
"""Writes RecordBatch v2 files encoded by kafka-python, a client whose
encoder shares no code with Runnel's or franz-go's (its snappy output is
xerial-framed, as the Java client writes it).

Run from this directory with Debian's python3-kafka, python3-snappy,
python3-lz4 and python3-zstandard installed:

    /usr/bin/python3 kafka_python.py

golden_test.go rebuilds the same records (goldenRecords) and checks that
Runnel decodes every file to them.
"""

import kafka
from kafka.record.default_records import DefaultRecordBatchBuilder as B

CODECS = {
    "none": B.CODEC_NONE,
    "gzip": B.CODEC_GZIP,
    "snappy": B.CODEC_SNAPPY,
    "lz4": B.CODEC_LZ4,
    "zstd": B.CODEC_ZSTD,
}


def records():
    for i in range(40):
        key = None if i % 5 == 0 else ("key-%d" % i).encode()
        if i == 20:
            value = b"0123456789abcdef" * 4096  # 64 KiB: two xerial blocks
        elif i % 9 == 4:
            value = None
        else:
            value = (("value-%d " % i) * (1 + i % 13)).encode()
        if i % 3 == 0:
            headers = []
        elif i % 3 == 1:
            headers = [("h1", ("v%d" % i).encode()), ("null", None)]
        else:
            headers = [("empty", b"")]
        yield i, 1700000000000 + i * 7 - (i % 4) * 3, key, value, headers


def main():
    for name, codec in CODECS.items():
        b = B(magic=2, compression_type=codec, is_transactional=False,
              producer_id=123456, producer_epoch=7, base_sequence=1000,
              batch_size=1 << 20)
        for offset, ts, key, value, headers in records():
            if b.append(offset, ts, key, value, headers) is None:
                raise SystemExit("batch full")
        data = bytes(b.build())
        if data[22] & 7 != codec:
            raise SystemExit("%s: kafka-python did not compress" % name)
        with open("kafka-python-%s.bin" % name, "wb") as f:
            f.write(data)
        print(name, len(data), "bytes, kafka-python", kafka.__version__)


main()
