#!/usr/bin/python3
"""kafka-python (Debian python3-kafka 2.0.2) against a Runnel server.

Run with /usr/bin/python3 and COMPAT_BOOTSTRAP=host:port. Checks the admin
client (create, describe, delete topics; describe topic and broker
configs), the producer with acks 0/1/all and every codec the Debian
packages provide, with keys, null keys and values and headers, and a
consumer using assign() and seek() without a group, reading everything back
in order; beginning and end offsets and offsets_for_times.

Prints "ok   <check>" or "FAIL <check>: <reason>" per check and exits 1 when
any check failed.
"""

import os
import sys
import time
import traceback
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (
    InvalidConfigurationError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)

BOOTSTRAP = os.environ["COMPAT_BOOTSTRAP"]
RUN = uuid.uuid4().hex[:8]
TIMEOUT = 30.0

failures = []


class CheckFailed(Exception):
    """A check's expectation did not hold."""


def expect(cond, msg, *args):
    if not cond:
        raise CheckFailed(msg % args if args else msg)


def check(name, fn, *args):
    """Runs one check and reports it; returns fn's result or None."""
    try:
        result = fn(*args)
    except CheckFailed as e:
        print("FAIL %s: %s" % (name, e), flush=True)
        failures.append(name)
        return None
    except Exception as e:  # an unexpected client error is a failure too
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
        traceback.print_exc(file=sys.stdout)
        failures.append(name)
        return None
    print("ok   %s" % name, flush=True)
    return result if result is not None else True


def wait_until(what, cond, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise CheckFailed("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(0.1)


def admin_client():
    return KafkaAdminClient(
        bootstrap_servers=BOOTSTRAP,
        client_id="compat-kafka-python",
        request_timeout_ms=20000,
    )


def new_consumer():
    return KafkaConsumer(
        bootstrap_servers=BOOTSTRAP,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=20000,
        consumer_timeout_ms=1000,
    )


def create_topic(admin, name, partitions, configs=None):
    admin.create_topics(
        [NewTopic(name, partitions, 1, topic_configs=configs or {})], timeout_ms=20000
    )
    wait_until("topic %s in metadata" % name, lambda: name in admin.list_topics())


def describe_configs(admin, rtype, name):
    """Returns {config name: value} for one resource, failing on its error."""
    responses = admin.describe_configs([ConfigResource(rtype, name)])
    for resp in responses:
        for res in resp.resources:
            error_code, error_message, _, res_name, entries = res[:5]
            expect(
                error_code == 0,
                "describe configs %s: error %d %s",
                res_name,
                error_code,
                error_message,
            )
            if str(res_name) == str(name):
                return {e[0]: e[1] for e in entries}
    raise CheckFailed("no describe-configs result for %s" % name)


# ---- admin ----


ADMIN_TOPIC = "kp-admin-" + RUN
ADMIN_CONFIGS = {"retention.ms": "3600000", "cleanup.policy": "compact"}


def admin_create(admin):
    create_topic(admin, ADMIN_TOPIC, 3, ADMIN_CONFIGS)
    desc = admin.describe_topics([ADMIN_TOPIC])
    expect(len(desc) == 1 and desc[0]["error_code"] == 0, "describe_topics: %r", desc)
    parts = sorted(p["partition"] for p in desc[0]["partitions"])
    expect(parts == [0, 1, 2], "want partitions [0, 1, 2], got %s", parts)
    for p in desc[0]["partitions"]:
        expect(p["leader"] >= 0 and p["isr"], "partition without leader or ISR: %r", p)


def admin_topic_configs(admin):
    got = describe_configs(admin, ConfigResourceType.TOPIC, ADMIN_TOPIC)
    for k, v in ADMIN_CONFIGS.items():
        expect(got.get(k) == v, "topic config %s: got %r, want %r", k, got.get(k), v)
    # Configs left at their default are listed with Kafka's defaults.
    for k, v in {"segment.bytes": "1073741824", "min.insync.replicas": "1"}.items():
        expect(got.get(k) == v, "default topic config %s: got %r, want %r", k, got.get(k), v)


def admin_create_errors(admin):
    try:
        admin.create_topics([NewTopic(ADMIN_TOPIC, 3, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    else:
        raise CheckFailed("creating %s twice did not fail with TOPIC_ALREADY_EXISTS" % ADMIN_TOPIC)
    try:
        admin.create_topics(
            [NewTopic("kp-badcfg-" + RUN, 1, 1, topic_configs={"no.such.config": "1"})],
            timeout_ms=20000,
        )
    except InvalidConfigurationError:
        pass
    else:
        raise CheckFailed("an unknown topic config did not fail with INVALID_CONFIG")


def admin_delete(admin):
    admin.delete_topics([ADMIN_TOPIC], timeout_ms=20000)
    wait_until("deleted topic %s to leave metadata" % ADMIN_TOPIC, lambda: ADMIN_TOPIC not in admin.list_topics())
    try:
        admin.delete_topics(["kp-nosuch-" + RUN], timeout_ms=20000)
    except UnknownTopicOrPartitionError:
        pass
    else:
        raise CheckFailed("deleting an unknown topic did not fail with UNKNOWN_TOPIC_OR_PARTITION")


def admin_broker_configs(admin):
    cluster = admin.describe_cluster()
    brokers = cluster["brokers"]
    expect(len(brokers) == 1, "want one broker, got %r", brokers)
    node = brokers[0]["node_id"]
    host, port = BOOTSTRAP.rsplit(":", 1)
    expect(
        brokers[0]["host"] == host and brokers[0]["port"] == int(port),
        "broker advertises %s:%s, want %s",
        brokers[0]["host"],
        brokers[0]["port"],
        BOOTSTRAP,
    )
    expect(cluster["controller_id"] == node, "controller %r, want %r", cluster["controller_id"], node)
    got = describe_configs(admin, ConfigResourceType.BROKER, str(node))
    for k in ("num.partitions", "auto.create.topics.enable", "log.retention.ms", "message.max.bytes"):
        expect(k in got, "broker config %s missing from %s", k, sorted(got))


# ---- produce and consume ----

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]
ACKS = [0, 1, "all"]
PER_COMBO = 300
PARTITIONS = 3


def combo_records(combo):
    """The records one combination sends: (partition, key, value, headers)."""
    recs = []
    for j in range(PER_COMBO):
        key = ("%s-%d" % (combo, j)).encode()
        value = ("value %d " % j).encode() + b"x" * (j % 97)
        if j == 0:
            key = None
        if j == 1:
            value = None  # a tombstone
        headers = [("combo", combo.encode()), ("j", str(j).encode())]
        if j % 10 == 0:
            headers.append(("empty", b""))
        recs.append((j % PARTITIONS, key, value, headers))
    return recs


def produce_combo(acks, codec):
    """Produces one combination to its own topic and returns what it sent."""
    combo = "acks%s-%s" % (acks, codec or "none")
    topic = "kp-%s-%s" % (combo, RUN)
    admin = admin_client()
    try:
        create_topic(admin, topic, PARTITIONS)
    finally:
        admin.close()
    producer = KafkaProducer(
        bootstrap_servers=BOOTSTRAP,
        acks=acks,
        compression_type=codec,
        linger_ms=5,
        max_in_flight_requests_per_connection=1,
        request_timeout_ms=20000,
    )
    try:
        recs = combo_records(combo)
        futures = [
            producer.send(topic, key=k, value=v, headers=h, partition=p) for p, k, v, h in recs
        ]
        producer.flush(timeout=TIMEOUT)
        offsets = []
        for f in futures:
            md = f.get(timeout=TIMEOUT)
            offsets.append((md.partition, md.offset))
    finally:
        producer.close(timeout=10)
    if acks != 0:
        # Each acknowledged offset is the next one on its partition.
        next_off = [0] * PARTITIONS
        for (p, _, _, _), (mp, mo) in zip(recs, offsets):
            expect(mp == p, "record for partition %d acknowledged on %d", p, mp)
            expect(mo == next_off[p], "partition %d: acknowledged offset %d, want %d", p, mo, next_off[p])
            next_off[p] += 1
    return topic, recs


def read_all(consumer, topic, partitions, want, timeout=TIMEOUT):
    """Assigns every partition from the beginning and reads want records."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for msgs in consumer.poll(timeout_ms=500).values():
            got.extend(msgs)
    # Anything beyond want is a duplicate or a stray record.
    for msgs in consumer.poll(timeout_ms=300).values():
        got.extend(msgs)
    return got


def consume_combo(consumer, topic, recs):
    got = read_all(consumer, topic, PARTITIONS, len(recs))
    expect(len(got) == len(recs), "read %d records, want %d", len(got), len(recs))
    for p in range(PARTITIONS):
        want = [(k, v, h) for rp, k, v, h in recs if rp == p]
        have = [m for m in got if m.partition == p]
        offs = [m.offset for m in have]
        expect(offs == list(range(len(want))), "partition %d offsets %s..., want 0..%d", p, offs[:10], len(want) - 1)
        for i, (m, (k, v, h)) in enumerate(zip(have, want)):
            mh = [(hk, bytes(hv)) for hk, hv in (m.headers or [])]
            expect(
                (m.key, m.value, mh) == (k, v, h),
                "partition %d offset %d: got key=%r value=%r headers=%r, want key=%r value=%r headers=%r",
                p, m.offset, m.key, m.value, mh, k, v, h,
            )
            expect(m.timestamp_type == 0, "offset %d has timestamp type %r, want CreateTime", m.offset, m.timestamp_type)


def seek_and_positions(consumer, topic, recs):
    tp = TopicPartition(topic, 0)
    want = [(k, v) for p, k, v, _ in recs if p == 0]
    consumer.assign([tp])
    consumer.seek(tp, 10)
    got = []
    deadline = time.monotonic() + TIMEOUT
    while len(got) < len(want) - 10 and time.monotonic() < deadline:
        for msgs in consumer.poll(timeout_ms=500).values():
            got.extend(msgs)
    expect(got and got[0].offset == 10, "after seek(10) first offset is %s", got[0].offset if got else None)
    expect([(m.key, m.value) for m in got] == want[10:], "records after seek(10) differ from those produced")
    expect(consumer.position(tp) == len(want), "position %d, want %d", consumer.position(tp), len(want))
    consumer.seek_to_end(tp)
    expect(consumer.position(tp) == len(want), "position after seek_to_end %d, want %d", consumer.position(tp), len(want))
    extra = consumer.poll(timeout_ms=500)
    expect(not any(extra.values()), "poll after seek_to_end returned records: %r", extra)


def large_record(consumer):
    topic = "kp-large-" + RUN
    admin = admin_client()
    try:
        create_topic(admin, topic, 1)
    finally:
        admin.close()
    value = bytes(range(256)) * (900 * 1024 // 256)
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", request_timeout_ms=20000)
    try:
        md = producer.send(topic, key=b"big", value=value, partition=0).get(timeout=TIMEOUT)
        producer.send(topic, key=b"small", value=b"after", partition=0).get(timeout=TIMEOUT)
    finally:
        producer.close(timeout=10)
    expect(md.offset == 0, "large record at offset %d", md.offset)
    got = read_all(consumer, topic, 1, 2)
    expect([m.key for m in got] == [b"big", b"small"], "read keys %r", [m.key for m in got])
    expect(got[0].value == value, "large value came back with %d bytes, want %d", len(got[0].value), len(value))


def offsets_and_times(consumer):
    topic = "kp-times-" + RUN
    admin = admin_client()
    try:
        create_topic(admin, topic, 1)
    finally:
        admin.close()
    base = (int(time.time()) - 3600) * 1000
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", request_timeout_ms=20000)
    try:
        for i in range(10):
            producer.send(topic, key=b"k%d" % i, value=b"v", partition=0, timestamp_ms=base + i * 1000)
        producer.flush(timeout=TIMEOUT)
    finally:
        producer.close(timeout=10)
    tp = TopicPartition(topic, 0)
    begin = consumer.beginning_offsets([tp])[tp]
    end = consumer.end_offsets([tp])[tp]
    expect((begin, end) == (0, 10), "beginning/end offsets %d/%d, want 0/10", begin, end)
    cases = [
        (base, (0, base)),
        (base + 3500, (4, base + 4000)),
        (base + 9000, (9, base + 9000)),
        (base + 100000, None),
    ]
    for ts, want in cases:
        got = consumer.offsets_for_times({tp: ts})[tp]
        got = None if got is None else (got.offset, got.timestamp)
        expect(got == want, "offsets_for_times(%d) = %r, want %r", ts, got, want)
    got = read_all(consumer, topic, 1, 10)
    stamps = [m.timestamp for m in got]
    expect(stamps == [base + i * 1000 for i in range(10)], "timestamps read back %r", stamps)


def out_of_order_times(consumer):
    """Offsets by time are the earliest offset whose timestamp is at or
    after the target, also when timestamps go back, across and inside
    batches."""
    topic = "kp-ooo-" + RUN
    admin = admin_client()
    try:
        create_topic(admin, topic, 1)
    finally:
        admin.close()
    base = (int(time.time()) - 3600) * 1000
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=50, request_timeout_ms=20000)
    try:
        for ts in [1000, 5000, 2000, 6000, 3000]:  # one batch each
            producer.send(topic, b"v", partition=0, timestamp_ms=base + ts)
            producer.flush(timeout=TIMEOUT)
        for ts in [9000, 7000, 8000]:  # one batch
            producer.send(topic, b"w", partition=0, timestamp_ms=base + ts)
        producer.flush(timeout=TIMEOUT)
    finally:
        producer.close(timeout=10)
    tp = TopicPartition(topic, 0)
    cases = [(0, (0, 1000)), (1500, (1, 5000)), (5500, (3, 6000)), (6500, (5, 9000)),
             (8500, (5, 9000)), (9500, None)]
    for target, want in cases:
        got = consumer.offsets_for_times({tp: base + target})[tp]
        got = None if got is None else (got.offset, got.timestamp - base)
        expect(got == want, "offsets_for_times(base+%d) = %r, want %r", target, got, want)


def pinned_versions(consumer):
    """kafka-python picks Produce v3..v7 from api_version; each must work."""
    for api, produce_v in [((0, 11), 3), ((1, 0), 4), ((1, 1), 5), ((2, 0), 6)]:
        topic = "kp-v%d-%s" % (produce_v, RUN)
        admin = admin_client()
        try:
            create_topic(admin, topic, 1)
        finally:
            admin.close()
        producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, api_version=api, acks="all",
                                 compression_type="gzip", linger_ms=5, request_timeout_ms=20000)
        try:
            futures = [producer.send(topic, key=b"k%d" % i, value=b"produce v%d %d" % (produce_v, i),
                                     headers=[("v", str(produce_v).encode())], partition=0)
                       for i in range(50)]
            producer.flush(timeout=TIMEOUT)
            offsets = [f.get(timeout=TIMEOUT).offset for f in futures]
        finally:
            producer.close(timeout=10)
        expect(offsets == list(range(50)), "Produce v%d: acknowledged offsets %s...", produce_v, offsets[:5])
        got = read_all(consumer, topic, 1, 50)
        want = [(b"k%d" % i, b"produce v%d %d" % (produce_v, i)) for i in range(50)]
        expect([(m.key, m.value) for m in got] == want, "Produce v%d: records read back differ", produce_v)
        expect(all(m.headers == [("v", str(produce_v).encode())] for m in got),
               "Produce v%d: headers read back differ", produce_v)


def main():
    admin = admin_client()
    try:
        if check("admin: create_topics with configs, describe_topics", admin_create, admin):
            check("admin: describe_configs of the topic", admin_topic_configs, admin)
            check("admin: create_topics errors (exists, unknown config)", admin_create_errors, admin)
            check("admin: delete_topics (and unknown topic)", admin_delete, admin)
        check("admin: describe_cluster and broker describe_configs", admin_broker_configs, admin)
    finally:
        admin.close()

    produced = {}
    for acks in ACKS:
        for codec in CODECS:
            name = "producer acks=%s compression=%s" % (acks, codec or "none")
            res = check(name, produce_combo, acks, codec)
            if res:
                produced[(acks, codec)] = res

    consumer = new_consumer()
    try:
        for (acks, codec), (topic, recs) in produced.items():
            name = "consumer assign+read back acks=%s compression=%s" % (acks, codec or "none")
            check(name, consume_combo, consumer, topic, recs)
        if ("all", None) in produced:
            topic, recs = produced[("all", None)]
            check("consumer seek/position/seek_to_end", seek_and_positions, consumer, topic, recs)
        check("900 KiB record round trip", large_record, consumer)
        check("beginning/end offsets and offsets_for_times", offsets_and_times, consumer)
        check("offsets_for_times with out-of-order timestamps", out_of_order_times, consumer)
        check("pinned api_version: Produce v3, v4, v5, v6", pinned_versions, consumer)
    finally:
        consumer.close()

    if failures:
        print("kafka-python: %d check(s) failed" % len(failures))
        sys.exit(1)
    print("kafka-python: all checks passed")


if __name__ == "__main__":
    main()
