#!/usr/bin/python3
"""confluent-kafka-python (Debian python3-confluent-kafka, librdkafka) against
a Runnel server.

Run with /usr/bin/python3 and COMPAT_BOOTSTRAP=host:port. Checks the
AdminClient (create_topics with configs and validate_only, list_topics,
describe_configs, create_partitions, delete_topics and their errors), the
Producer with delivery callbacks for 10,000 keyed records over several
partitions with acks=all and each codec, and a Consumer that uses assign()
without joining a group (group.id is set because librdkafka requires it,
nothing is committed) reading every record back exactly once and in
per-partition order; offsets_for_times and get_watermark_offsets. Consumer
groups: a subscribed member commits by hand (commit(asynchronous=False)),
closes, and the next member resumes exactly at the committed offsets, which
committed() and position() report; a second member joining triggers the
rebalance callbacks (revoke, then assign) and the two split the partitions,
reading every record once; AdminClient.list_groups shows the group, its
members and their assignments. confluent-kafka 1.7 has no
AdminClient.list_consumer_groups/describe_consumer_groups (added in 2.0);
list_groups (ListGroups and DescribeGroups) stands in for them.
Transactions: a transactional producer commits and aborts; read_committed
consumers read exactly the committed records and stop before an open
transaction; a consume-transform-produce loop with
send_offsets_to_transaction, every other transaction aborted and retried,
writes each input record exactly once and leaves the group's offsets at the
input's end.

Prints "ok   <check>" or "FAIL <check>: <reason>" per check and exits 1 when
any check failed.
"""

import os
import struct
import sys
import time
import traceback
import uuid

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_INVALID,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AdminClient,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
)

from checks import TIMEOUT, CheckFailed, check, expect, failures, wait_until

BOOTSTRAP = os.environ["COMPAT_BOOTSTRAP"]
RUN = uuid.uuid4().hex[:8]
RECORDS = 10000
PARTITIONS = 4
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]

def error_code(fut):
    """Returns the KafkaError code a future failed with, or None."""
    try:
        fut.result(timeout=TIMEOUT)
    except KafkaException as e:
        return e.args[0].code()
    return None


def code_name(code):
    return "success" if code is None else KafkaError(code).name()


def admin_client():
    # The admin handle is a librdkafka producer, which asks for
    # auto-creation in its metadata requests by default; it refreshes the
    # topics it has looked up, so a deleted topic would come back.
    return AdminClient({"bootstrap.servers": BOOTSTRAP, "allow.auto.create.topics": False})


def topic_meta(admin, topic):
    md = admin.list_topics(topic=topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return t


def create_topic(admin, topic, partitions, config=None):
    futs = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=20,
        request_timeout=TIMEOUT,
    )
    futs[topic].result(timeout=TIMEOUT)
    wait_until(
        "topic %s with %d partitions" % (topic, partitions),
        lambda: (lambda t: t is not None and len(t.partitions) == partitions)(topic_meta(admin, topic)),
    )


# ---- admin ----


class AdminState:
    """What the admin checks share: the client, the topic, the broker."""

    def __init__(self):
        self.admin = admin_client()
        self.topic = "ck-admin-" + RUN
        self.config = {"retention.ms": "7200000", "max.message.bytes": "500000"}
        self.broker = None


def admin_validate_only(st):
    # validate_only checks the request and creates nothing.
    futs = st.admin.create_topics(
        [NewTopic(st.topic, num_partitions=4, replication_factor=1, config=st.config)],
        validate_only=True,
        request_timeout=TIMEOUT,
    )
    code = error_code(futs[st.topic])
    expect(code is None, "validate_only create failed: %s", code_name(code))
    md = st.admin.list_topics(timeout=10)
    expect(st.topic not in md.topics, "validate_only created topic %s", st.topic)


def admin_create_and_list(st):
    create_topic(st.admin, st.topic, 4, st.config)
    md = st.admin.list_topics(timeout=10)
    expect(len(md.brokers) == 1, "want one broker, got %r", md.brokers)
    broker = next(iter(md.brokers.values()))
    st.broker = broker
    expect(
        "%s:%d" % (broker.host, broker.port) == BOOTSTRAP,
        "broker advertises %s:%d, want %s",
        broker.host,
        broker.port,
        BOOTSTRAP,
    )
    expect(md.controller_id == broker.id, "controller %r, want %r", md.controller_id, broker.id)
    expect(md.cluster_id, "metadata has no cluster id")
    t = md.topics.get(st.topic)
    expect(t is not None and t.error is None, "list_topics: %s missing or in error: %r", st.topic, t)
    expect(sorted(t.partitions) == [0, 1, 2, 3], "partitions %s", sorted(t.partitions))
    for p in t.partitions.values():
        expect(p.leader == broker.id and p.replicas == [broker.id] and p.isrs == [broker.id],
               "partition %d: leader %r replicas %r isrs %r", p.id, p.leader, p.replicas, p.isrs)


def admin_topic_configs(st):
    # The configs set at creation are dynamic topic configs, the rest are
    # defaults.
    res = ConfigResource("topic", st.topic)
    entries = st.admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    for k, v in st.config.items():
        e = entries.get(k)
        expect(e is not None and e.value == v, "config %s: got %r, want %r", k, e and e.value, v)
        expect(e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
               "config %s: source %r, want DYNAMIC_TOPIC_CONFIG", k, e.source)
        expect(not e.is_default, "config %s set at creation is reported as default", k)
    e = entries.get("cleanup.policy")
    expect(e is not None and e.value == "delete" and e.is_default,
           "cleanup.policy: want the default 'delete', got %r", e)


def admin_broker_configs(st):
    expect(st.broker is not None, "no broker known from list_topics")
    res = ConfigResource("broker", str(st.broker.id))
    entries = st.admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    for k in ("num.partitions", "log.dirs", "auto.create.topics.enable"):
        expect(k in entries, "broker config %s missing from %s", k, sorted(entries))


def admin_create_errors(st):
    futs = st.admin.create_topics([NewTopic(st.topic, num_partitions=1, replication_factor=1)],
                                  request_timeout=TIMEOUT)
    code = error_code(futs[st.topic])
    expect(code == KafkaError.TOPIC_ALREADY_EXISTS, "duplicate create: %s, want TOPIC_ALREADY_EXISTS", code_name(code))
    bad = "ck-rf3-" + RUN
    futs = st.admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=3)], request_timeout=TIMEOUT)
    code = error_code(futs[bad])
    expect(code == KafkaError.INVALID_REPLICATION_FACTOR,
           "replication factor 3 on one broker: %s, want INVALID_REPLICATION_FACTOR", code_name(code))
    for bad in ("ck bad name " + RUN, "ck-" + "x" * 250):
        futs = st.admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1)], request_timeout=TIMEOUT)
        code = error_code(futs[bad])
        expect(code == KafkaError.TOPIC_EXCEPTION,
               "topic name %r: %s, want INVALID_TOPIC_EXCEPTION", bad[:40], code_name(code))
    bad = "ck-badcfg-" + RUN
    futs = st.admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1,
                                            config={"retention.ms": "soon"})], request_timeout=TIMEOUT)
    code = error_code(futs[bad])
    expect(code == KafkaError.INVALID_CONFIG, "retention.ms=soon: %s, want INVALID_CONFIG", code_name(code))


def admin_broker_defaults(st):
    # KIP-464: -1 partitions and replication factor take the broker's
    # num.partitions and default.replication.factor.
    expect(st.broker is not None, "no broker known from list_topics")
    res = ConfigResource("broker", str(st.broker.id))
    entries = st.admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    want = int(entries["num.partitions"].value)
    topic = "ck-defaults-" + RUN
    futs = st.admin.create_topics([NewTopic(topic, num_partitions=-1, replication_factor=-1)],
                                  request_timeout=TIMEOUT)
    code = error_code(futs[topic])
    expect(code is None, "create with broker defaults: %s", code_name(code))
    t = wait_until("topic %s" % topic, lambda: topic_meta(st.admin, topic))
    expect(len(t.partitions) == want, "%d partitions, want num.partitions = %d", len(t.partitions), want)


def admin_alter_configs(st):
    # AlterConfigs (not incremental) replaces the topic's whole set of
    # dynamic configs: what it does not name returns to the default.
    res = ConfigResource("topic", st.topic, set_config={"retention.ms": "1000000"})
    st.admin.alter_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    res = ConfigResource("topic", st.topic)
    entries = st.admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    e = entries["retention.ms"]
    expect(e.value == "1000000" and e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
           "retention.ms after alter: %r (source %r)", e.value, e.source)
    e = entries["max.message.bytes"]
    expect(e.is_default and e.value == "1048588",
           "max.message.bytes not named in AlterConfigs: %r (default %r), want the default 1048588",
           e.value, e.is_default)
    res = ConfigResource("topic", st.topic, set_config={"no.such.config": "1"})
    try:
        st.admin.alter_configs([res], request_timeout=TIMEOUT)[res].result(timeout=TIMEOUT)
    except KafkaException as e:
        code = e.args[0].code()
    else:
        code = None
    expect(code == KafkaError.INVALID_CONFIG, "altering an unknown config: %s, want INVALID_CONFIG", code_name(code))


def admin_create_partitions(st):
    # Partitions can be added, not removed, and the new ones take records.
    futs = st.admin.create_partitions([NewPartitions(st.topic, 6)], operation_timeout=20, request_timeout=TIMEOUT)
    code = error_code(futs[st.topic])
    expect(code is None, "create_partitions to 6: %s", code_name(code))
    wait_until("6 partitions",
               lambda: (lambda t: t is not None and len(t.partitions) == 6)(topic_meta(st.admin, st.topic)))
    futs = st.admin.create_partitions([NewPartitions(st.topic, 2)], request_timeout=TIMEOUT)
    code = error_code(futs[st.topic])
    expect(code == KafkaError.INVALID_PARTITIONS, "shrink to 2 partitions: %s, want INVALID_PARTITIONS",
           code_name(code))
    delivered = []
    # No auto-creation from this producer: its metadata refreshes must not
    # bring the topic back after admin_delete removes it.
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "allow.auto.create.topics": False})
    p.produce(st.topic, b"to the new partition", b"k", partition=5,
              on_delivery=lambda err, msg: delivered.append((err, msg.partition(), msg.offset())))
    expect(p.flush(TIMEOUT) == 0, "record to partition 5 not delivered")
    expect(delivered == [(None, 5, 0)], "delivery to the new partition: %r", delivered)


def admin_delete(st):
    # Records in partitions 0 and 1, to show they do not come back when the
    # name is used again.
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "allow.auto.create.topics": False})
    for part in (0, 1):
        p.produce(st.topic, b"before delete", partition=part)
    expect(p.flush(TIMEOUT) == 0, "records before delete not delivered")
    futs = st.admin.delete_topics([st.topic], operation_timeout=20, request_timeout=TIMEOUT)
    code = error_code(futs[st.topic])
    expect(code is None, "delete_topics: %s", code_name(code))
    wait_until("topic %s to be gone" % st.topic, lambda: st.topic not in st.admin.list_topics(timeout=10).topics)
    # A topic created again under the same name starts empty.
    create_topic(st.admin, st.topic, 2)
    c = new_consumer()
    try:
        for part in (0, 1):
            marks = c.get_watermark_offsets(TopicPartition(st.topic, part), timeout=10, cached=False)
            expect(marks == (0, 0), "recreated topic partition %d has watermarks %r, want (0, 0)", part, marks)
    finally:
        c.close()
    futs = st.admin.delete_topics([st.topic], operation_timeout=20, request_timeout=TIMEOUT)
    code = error_code(futs[st.topic])
    expect(code is None, "delete_topics of the recreated topic: %s", code_name(code))
    missing = "ck-nosuch-" + RUN
    futs = st.admin.delete_topics([missing], request_timeout=TIMEOUT)
    code = error_code(futs[missing])
    expect(code == KafkaError.UNKNOWN_TOPIC_OR_PART,
           "delete unknown topic: %s, want UNKNOWN_TOPIC_OR_PART", code_name(code))


# ---- produce and consume ----


def produce_codec(codec):
    """Produces RECORDS keyed records with acks=all and returns the topic and
    {(partition, offset): (key, value)} from the delivery reports."""
    admin = admin_client()
    topic = "ck-%s-%s" % (codec, RUN)
    create_topic(admin, topic, PARTITIONS)
    delivered = {}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append((msg.key(), err))
            return
        # Delivery reports carry no headers; each record had one, "i",
        # the number in its key.
        headers = [("i", str(int(msg.key()[4:])).encode())]
        delivered[(msg.partition(), msg.offset())] = (msg.key(), msg.value(), headers)

    p = Producer({
        "bootstrap.servers": BOOTSTRAP,
        "acks": "all",
        "compression.type": codec,
        "linger.ms": 5,
        "message.timeout.ms": 60000,
    })
    for i in range(RECORDS):
        key = b"key-%05d" % i
        value = b"%s value %d " % (codec.encode(), i) + b"y" * (i % 200)
        while True:
            try:
                p.produce(topic, value, key, headers=[("i", str(i).encode())], on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(60)
    expect(left == 0, "%d records still undelivered after flush", left)
    expect(not errors, "%d delivery errors, first: %r", len(errors), errors[:3])
    expect(len(delivered) == RECORDS, "%d distinct (partition, offset) pairs for %d records", len(delivered), RECORDS)
    parts = {}
    for (part, off), (key, _, _) in delivered.items():
        parts.setdefault(part, []).append((off, key))
    expect(len(parts) > 1, "all records went to partitions %s", sorted(parts))
    for part, recs in parts.items():
        recs.sort()
        offs = [o for o, _ in recs]
        expect(offs == list(range(len(offs))), "partition %d offsets not dense from 0: %s...", part, offs[:10])
        keys = [k for _, k in recs]
        expect(keys == sorted(keys), "partition %d offsets are not in produce order", part)
    return topic, delivered


def new_consumer(**extra):
    conf = {
        "bootstrap.servers": BOOTSTRAP,
        "group.id": "compat-assign-" + RUN,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
        "check.crcs": True,
    }
    conf.update(extra)
    return Consumer(conf)


def consume_codec(topic, delivered):
    c = new_consumer()
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        got = []
        eof = set()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and not (len(eof) == PARTITIONS and len(got) >= len(delivered)):
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                expect(msg.error().code() == KafkaError._PARTITION_EOF, "consume error: %s", msg.error())
                eof.add(msg.partition())
                continue
            got.append(msg)
        # A short extra poll to catch duplicates delivered past the end.
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            msg = c.poll(0.1)
            if msg is not None and not msg.error():
                got.append(msg)
    finally:
        c.close()
    seen = {}
    last = {}
    for m in got:
        po = (m.partition(), m.offset())
        expect(po not in seen, "partition %d offset %d read twice", *po)
        seen[po] = (m.key(), m.value(), m.headers())
        expect(last.get(m.partition(), -1) < m.offset(),
               "partition %d: offset %d after %d", m.partition(), m.offset(), last.get(m.partition(), -1))
        last[m.partition()] = m.offset()
    missing = set(delivered) - set(seen)
    expect(not missing, "%d delivered records not read back, e.g. %s", len(missing), sorted(missing)[:5])
    extra = set(seen) - set(delivered)
    expect(not extra, "%d records read that were never delivered, e.g. %s", len(extra), sorted(extra)[:5])
    for po, want in delivered.items():
        expect(seen[po] == want, "partition %d offset %d: read %r, delivered %r", po[0], po[1], seen[po], want)


def times_and_watermarks():
    admin = admin_client()
    topic = "ck-times-" + RUN
    create_topic(admin, topic, 1)
    base = (int(time.time()) - 3600) * 1000
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all"})
    for i in range(10):
        p.produce(topic, b"v%d" % i, b"k%d" % i, partition=0, timestamp=base + i * 1000)
    expect(p.flush(TIMEOUT) == 0, "records not delivered")
    c = new_consumer()
    try:
        tp = TopicPartition(topic, 0)
        lo, hi = c.get_watermark_offsets(tp, timeout=10, cached=False)
        expect((lo, hi) == (0, 10), "watermarks (%d, %d), want (0, 10)", lo, hi)
        for ts, want in [(base, 0), (base + 3500, 4), (base + 9000, 9), (base + 100000, -1)]:
            res = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            expect(res[0].error is None, "offsets_for_times(%d): %s", ts, res[0].error)
            expect(res[0].offset == want, "offsets_for_times(%d) = %d, want %d", ts, res[0].offset, want)
        # Start reading at the offset found for a timestamp.
        res = c.offsets_for_times([TopicPartition(topic, 0, base + 6500)], timeout=10)
        c.assign(res)
        got = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                expect(msg.error().code() == KafkaError._PARTITION_EOF, "consume error: %s", msg.error())
                break
            got.append((msg.offset(), msg.key(), msg.timestamp()))
        want = [(i, b"k%d" % i, (1, base + i * 1000)) for i in range(7, 10)]
        expect(got == want, "read from timestamp %d: %r, want %r", base + 6500, got, want)
    finally:
        c.close()


# ---- topic configs the broker enforces on produce ----


def produce_one(topic, key, value, **conf):
    """Produces one record with retries off, so that a broker error comes
    back as it is, and returns (error code or None, message)."""
    got = []
    c = {
        "bootstrap.servers": BOOTSTRAP,
        "acks": "all",
        "retries": 0,
        "message.timeout.ms": 10000,
        "message.max.bytes": 4000000,  # let the broker, not the client, judge sizes
        "allow.auto.create.topics": False,
    }
    c.update(conf)
    p = Producer(c)
    p.produce(topic, value, key, partition=0, on_delivery=lambda err, msg: got.append((err, msg)))
    expect(p.flush(TIMEOUT) == 0, "record to %s not reported within %.0fs", topic, TIMEOUT)
    expect(len(got) == 1, "want one delivery report, got %d", len(got))
    err, msg = got[0]
    return (None if err is None else err.code()), msg


def enforce_min_insync():
    admin = admin_client()
    topic = "ck-minisr-" + RUN
    create_topic(admin, topic, 1, {"min.insync.replicas": "2"})
    code, _ = produce_one(topic, b"k", b"acks=all")
    expect(code == KafkaError.NOT_ENOUGH_REPLICAS,
           "acks=all with ISR 1 < min.insync.replicas 2: %s, want NOT_ENOUGH_REPLICAS", code_name(code))
    code, msg = produce_one(topic, b"k", b"acks=1", acks="1")
    expect(code is None, "acks=1 with ISR 1 < min.insync.replicas 2: %s, want success", code_name(code))
    expect(msg.offset() == 0, "acks=1 record at offset %d, want 0 (the refused one must not be stored)", msg.offset())


def enforce_max_message_bytes():
    admin = admin_client()
    topic = "ck-maxmsg-" + RUN
    create_topic(admin, topic, 1, {"max.message.bytes": "500000"})
    code, _ = produce_one(topic, b"big", b"x" * 600000)
    expect(code == KafkaError.MSG_SIZE_TOO_LARGE,
           "600 kB record, topic max.message.bytes 500000: %s, want MSG_SIZE_TOO_LARGE", code_name(code))
    code, msg = produce_one(topic, b"small", b"x" * 400000)
    expect(code is None, "400 kB record, topic max.message.bytes 500000: %s", code_name(code))
    expect(msg.offset() == 0, "accepted record at offset %d, want 0", msg.offset())
    # The broker default, message.max.bytes 1048588, applies elsewhere.
    other = "ck-maxdefault-" + RUN
    create_topic(admin, other, 1)
    code, _ = produce_one(other, b"big", b"x" * 1500000)
    expect(code == KafkaError.MSG_SIZE_TOO_LARGE,
           "1.5 MB record, default message.max.bytes: %s, want MSG_SIZE_TOO_LARGE", code_name(code))


def enforce_compact_keys():
    admin = admin_client()
    topic = "ck-compact-" + RUN
    create_topic(admin, topic, 1, {"cleanup.policy": "compact"})
    code, _ = produce_one(topic, None, b"no key")
    expect(code == KafkaError.INVALID_RECORD,
           "record without a key on a compacted topic: %s, want INVALID_RECORD", code_name(code))
    code, msg = produce_one(topic, b"k", b"keyed")
    expect(code is None, "keyed record on a compacted topic: %s", code_name(code))
    expect(msg.offset() == 0, "keyed record at offset %d, want 0", msg.offset())


def log_append_time():
    admin = admin_client()
    topic = "ck-logappend-" + RUN
    create_topic(admin, topic, 1, {"message.timestamp.type": "LogAppendTime"})
    old = (int(time.time()) - 86400) * 1000
    before = int(time.time() * 1000)
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "compression.type": "lz4", "linger.ms": 5})
    reports = []
    for i in range(5):
        p.produce(topic, b"v%d" % i, b"k%d" % i, partition=0, timestamp=old + i,
                  on_delivery=lambda err, msg: reports.append((err, msg.timestamp())))
    expect(p.flush(TIMEOUT) == 0, "records not delivered")
    after = int(time.time() * 1000)
    for err, (ttype, ts) in reports:
        expect(err is None, "delivery error %s", err)
        expect(ttype == 2 and before - 1000 <= ts <= after + 1000,
               "delivery report timestamp (%d, %d), want LogAppendTime (2) between %d and %d", ttype, ts, before, after)
    c = new_consumer()
    try:
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 5 and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None or msg.error():
                continue
            got.append(msg.timestamp())
        expect(len(got) == 5, "read %d records, want 5", len(got))
        for ttype, ts in got:
            expect(ttype == 2 and before - 1000 <= ts <= after + 1000,
                   "read timestamp (%d, %d), want LogAppendTime (2) between %d and %d", ttype, ts, before, after)
        # Offsets by time use the broker's timestamps, not the producer's.
        res = c.offsets_for_times([TopicPartition(topic, 0, old)], timeout=10)
        expect(res[0].offset == 0, "offsets_for_times(producer time) = %d, want 0", res[0].offset)
        res = c.offsets_for_times([TopicPartition(topic, 0, after + 60000)], timeout=10)
        expect(res[0].offset == -1, "offsets_for_times(a minute after) = %d, want -1", res[0].offset)
    finally:
        c.close()


# ---- consumer groups ----

GROUP_TOPIC = "ck-group-" + RUN
GROUP_PARTS = 4
GROUP_PER_PART = 200


def group_tps(offsets=None):
    return [TopicPartition(GROUP_TOPIC, p, offsets[p] if offsets else OFFSET_INVALID) for p in range(GROUP_PARTS)]


def group_produce():
    """Creates the group topic with GROUP_PER_PART records in each
    partition; returns {(partition, offset): value}."""
    admin = admin_client()
    create_topic(admin, GROUP_TOPIC, GROUP_PARTS)
    return group_produce_more(0)


def group_produce_more(first):
    """Produces GROUP_PER_PART records numbered from first to each
    partition; returns {(partition, offset): value} from the delivery
    reports."""
    delivered = {}
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered[(msg.partition(), msg.offset())] = msg.value()

    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5})
    for i in range(first, first + GROUP_PER_PART):
        for part in range(GROUP_PARTS):
            p.produce(GROUP_TOPIC, b"group p%d i%d" % (part, i), b"k%d" % i, partition=part, on_delivery=on_delivery)
    expect(p.flush(TIMEOUT) == 0, "records not delivered")
    expect(not errors, "delivery errors: %r", errors[:3])
    return delivered


def group_consumer(group, **extra):
    conf = {
        "bootstrap.servers": BOOTSTRAP,
        "group.id": group,
        "client.id": "compat-confluent-kafka",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "heartbeat.interval.ms": 500,
        "session.timeout.ms": 10000,
    }
    conf.update(extra)
    return Consumer(conf)


def poll_group(consumers, want, sink, timeout=TIMEOUT, settle_for=0.5):
    """Polls every consumer in turn (rebalance callbacks run inside poll)
    until want records arrived in total, then settle_for seconds longer to
    catch any duplicate; sink(consumer index, message) takes each record."""
    n = 0
    deadline = time.monotonic() + timeout
    settle = None
    while True:
        now = time.monotonic()
        if n >= want and settle is None:
            settle = now + settle_for
        if (settle is not None and now >= settle) or now > deadline:
            return n
        for i, c in enumerate(consumers):
            msg = c.poll(0.05)
            if msg is None:
                continue
            expect(msg.error() is None, "consume error: %s", msg.error())
            sink(i, msg)
            n += 1


def check_group_read(got, produced, start, name):
    """got is [(partition, offset, value)]: per partition, in order, exactly
    the produced records from start[p] on, each once."""
    for p in range(GROUP_PARTS):
        offs = [o for gp, o, _ in got if gp == p]
        want = [o for gp, o in sorted(produced) if gp == p and o >= start[p]]
        expect(offs == want, "%s: partition %d read offsets %s, want %s", name, p, span(offs), span(want))
    for p, o, v in got:
        expect(v == produced[(p, o)], "%s: partition %d offset %d has %r, want %r", name, p, o, v, produced[(p, o)])


def span(offs):
    return "[]" if not offs else "%d..%d (%d)" % (offs[0], offs[-1], len(offs))


def offsets_of(tps):
    return {tp.partition: tp.offset for tp in tps}


def group_manual_commit(produced):
    group = "ck-manual-" + RUN
    # 1. A member reads part of the topic and commits synchronously what
    # it consumed; committed() (asked of the broker) and position() agree.
    first = []
    c = group_consumer(group)
    try:
        c.subscribe([GROUP_TOPIC])
        poll_group([c], 300, lambda _, m: first.append((m.partition(), m.offset(), m.value())), settle_for=0)
        expect(len(first) == 300, "first member read %d records, want 300", len(first))
        expect(sorted(tp.partition for tp in c.assignment()) == list(range(GROUP_PARTS)),
               "assignment %r, want all %d partitions", c.assignment(), GROUP_PARTS)
        consumed = {}
        for p, o, _ in first:
            consumed[p] = o + 1
        res = c.commit(asynchronous=False)
        expect(all(tp.error is None for tp in res), "commit errors: %r", [tp.error for tp in res if tp.error])
        # The result lists the whole assignment; partitions nothing was
        # read from carry OFFSET_INVALID and are not committed.
        done = {p: o for p, o in offsets_of(res).items() if o != OFFSET_INVALID}
        expect(done == consumed, "commit() committed %s, want the consumed positions %s", done, consumed)
        pos = offsets_of(c.position(group_tps()))
        want_pos = {p: consumed.get(p, OFFSET_INVALID) for p in range(GROUP_PARTS)}
        expect(pos == want_pos, "position() %s, want %s", pos, want_pos)
        com = offsets_of(c.committed(group_tps(), timeout=10))
        expect(com == want_pos, "committed() %s, want %s", com, want_pos)
    finally:
        c.close()

    # 2. The next member resumes exactly there; between the two each record
    # is read once. It then commits explicit, earlier offsets.
    start = {p: consumed.get(p, 0) for p in range(GROUP_PARTS)}
    second = []
    c = group_consumer(group)
    try:
        c.subscribe([GROUP_TOPIC])
        com = offsets_of(c.committed(group_tps(), timeout=10))
        expect(com == want_pos, "a new member's committed() %s, want %s", com, want_pos)
        poll_group([c], len(produced) - len(first), lambda _, m: second.append((m.partition(), m.offset(), m.value())))
        check_group_read(second, produced, start, "second member")
        seen = [(p, o) for p, o, _ in first + second]
        expect(len(seen) == len(set(seen)) == len(produced),
               "the two members read %d records (%d distinct), want %d each once", len(seen), len(set(seen)), len(produced))
        rewind = {p: 20 + 11 * p for p in range(GROUP_PARTS)}
        res = c.commit(offsets=group_tps(rewind), asynchronous=False)
        expect(offsets_of(res) == rewind and all(tp.error is None for tp in res), "commit(offsets): %r", res)
        com = offsets_of(c.committed(group_tps(), timeout=10))
        expect(com == rewind, "committed() after commit(offsets) %s, want %s", com, rewind)
    finally:
        c.close()

    # 3. A third member resumes at the earlier offsets.
    third = []
    c = group_consumer(group)
    try:
        c.subscribe([GROUP_TOPIC])
        poll_group([c], sum(GROUP_PER_PART - o for o in rewind.values()),
                   lambda _, m: third.append((m.partition(), m.offset(), m.value())))
        check_group_read(third, produced, rewind, "third member")
        pos = offsets_of(c.position(group_tps()))
        expect(pos == {p: GROUP_PER_PART for p in range(GROUP_PARTS)}, "position() at the end %s", pos)
    finally:
        c.close()


def decode_assignment(data):
    """Decodes a consumer-protocol member assignment into {topic: [partitions]}."""
    off = 2  # version
    (ntopics,) = struct.unpack_from(">i", data, off)
    off += 4
    out = {}
    for _ in range(ntopics):
        (tlen,) = struct.unpack_from(">h", data, off)
        off += 2
        topic = data[off:off + tlen].decode()
        off += tlen
        (nparts,) = struct.unpack_from(">i", data, off)
        off += 4
        out[topic] = sorted(struct.unpack_from(">%di" % nparts, data, off))
        off += 4 * nparts
    return out


def group_rebalance(produced):
    group = "ck-rebalance-" + RUN
    names = ["ck-member-a", "ck-member-b"]
    events = [[], []]  # per member: ("assign"|"revoke", [partitions])
    reads = []  # (member, partition, offset, value)

    def callbacks(i):
        def on_assign(consumer, parts):
            events[i].append(("assign", sorted(tp.partition for tp in parts)))

        def on_revoke(consumer, parts):
            events[i].append(("revoke", sorted(tp.partition for tp in parts)))
            # Commit what was consumed before the partitions move
            # (_NO_OFFSET: nothing new since the last commit).
            try:
                consumer.commit(asynchronous=False)
            except KafkaException as e:
                if e.args[0].code() != KafkaError._NO_OFFSET:
                    raise
        return on_assign, on_revoke

    def holding(i):
        """The partitions member i holds after its latest callback."""
        ev = events[i]
        return set(ev[-1][1]) if ev and ev[-1][0] == "assign" else set()

    consumers = []
    admin = admin_client()
    try:
        # 1. One member takes every partition and reads everything.
        a = group_consumer(group, **{"client.id": names[0]})
        consumers.append(a)
        on_assign, on_revoke = callbacks(0)
        a.subscribe([GROUP_TOPIC], on_assign=on_assign, on_revoke=on_revoke)
        poll_group([a], len(produced), lambda i, m: reads.append((0, m.partition(), m.offset(), m.value())))
        expect(holding(0) == set(range(GROUP_PARTS)), "first member's rebalance events %r, want all partitions",
               events[0])
        expect(len(reads) == len(produced), "first member read %d of %d records", len(reads), len(produced))

        # 2. A second member joins: the first is called with a revoke and
        # then an assign, the second with an assign; between them they
        # hold every partition once.
        b = group_consumer(group, **{"client.id": names[1]})
        consumers.append(b)
        on_assign, on_revoke = callbacks(1)
        b.subscribe([GROUP_TOPIC], on_assign=on_assign, on_revoke=on_revoke)
        deadline = time.monotonic() + 60
        while True:
            ha, hb = holding(0), holding(1)
            if ha and hb and not ha & hb and ha | hb == set(range(GROUP_PARTS)):
                break
            expect(time.monotonic() < deadline, "timed out waiting for the members to split the partitions: "
                   "events %r and %r", events[0], events[1])
            for i, c in enumerate(consumers):
                msg = c.poll(0.05)
                if msg is not None:
                    expect(msg.error() is None, "consume error: %s", msg.error())
                    reads.append((i, msg.partition(), msg.offset(), msg.value()))
        kinds = [k for k, _ in events[0]]
        expect(kinds[:3] == ["assign", "revoke", "assign"],
               "first member's rebalance callbacks %r, want assign, revoke, assign", events[0])
        expect(events[0][1] == ("revoke", list(range(GROUP_PARTS))), "first member's revoke %r", events[0][1])
        expect([k for k, _ in events[1]] == ["assign"], "second member's rebalance callbacks %r", events[1])

        # 3. New records go to whoever holds their partition; no record
        # is read twice (the revoke callback committed the first reads).
        more = group_produce_more(GROUP_PER_PART)
        everything = dict(produced)
        everything.update(more)
        poll_group(consumers, len(everything) - len(reads),
                   lambda i, m: reads.append((i, m.partition(), m.offset(), m.value())))
        seen = [(p, o) for _, p, o, _ in reads]
        expect(len(seen) == len(set(seen)) == len(everything),
               "the members read %d records (%d distinct), want %d each once", len(seen), len(set(seen)), len(everything))
        for i, p, o, v in reads:
            expect(v == everything[(p, o)], "partition %d offset %d has %r, want %r", p, o, v, everything[(p, o)])
        for i, p, o, _ in reads:
            if (p, o) in more:
                expect(p in holding(i), "%s read partition %d, which it does not hold", names[i], p)

        # 4. AdminClient.list_groups: the stable group, its members and
        # their assignments as the broker reports them.
        groups = admin.list_groups(timeout=10)
        mine = [g for g in groups if g.id == group]
        expect(len(mine) == 1, "list_groups() lists %s %d times", group, len(mine))
        g = admin.list_groups(group=group, timeout=10)[0]
        expect((g.error, g.state, g.protocol_type, g.protocol) == (None, "Stable", "consumer", "range"),
               "group %s: error %r state %r protocol type %r protocol %r, want Stable consumer range",
               group, g.error, g.state, g.protocol_type, g.protocol)
        expect(sorted(m.client_id for m in g.members) == names, "members' client ids %r",
               [m.client_id for m in g.members])
        for m in g.members:
            i = names.index(m.client_id)
            got = decode_assignment(m.assignment)
            expect(got == {GROUP_TOPIC: sorted(holding(i))}, "list_groups says %s holds %r; it holds %s",
                   m.client_id, got, sorted(holding(i)))
        b.commit(asynchronous=False)
        a.commit(asynchronous=False)
    finally:
        for c in consumers:
            c.close()

    # 5. Both gone: the group is empty and keeps its offsets.
    g = admin.list_groups(group=group, timeout=10)[0]
    expect((g.state, g.members) == ("Empty", []), "after both members left: state %r members %r", g.state, g.members)
    c = group_consumer(group)
    try:
        com = offsets_of(c.committed(group_tps(), timeout=10))
        want = {p: 2 * GROUP_PER_PART for p in range(GROUP_PARTS)}
        expect(com == want, "committed offsets after both members left %s, want %s", com, want)
    finally:
        c.close()


# ---- transactions ----

TXN_PARTS = 3
TXN_ROUNDS = 6
TXN_PER_ROUND = 90


def read_to_end(topic, parts, **extra):
    """Reads every partition of topic from the beginning to its end (the
    last stable offset under read_committed) and returns the values by
    partition, in order."""
    c = new_consumer(**extra)
    got = {p: [] for p in range(parts)}
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(parts)])
        eof = set()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and len(eof) < parts:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                expect(msg.error().code() == KafkaError._PARTITION_EOF, "consume error: %s", msg.error())
                eof.add(msg.partition())
                continue
            got[msg.partition()].append(msg.value())
        expect(len(eof) == parts, "only %d of %d partitions read to their end", len(eof), parts)
    finally:
        c.close()
    return got


def txn_producer(txn_id):
    p = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": txn_id,
                  "transaction.timeout.ms": 60000, "allow.auto.create.topics": False})
    p.init_transactions(TIMEOUT)
    return p


def transactions_commit_abort():
    """A transactional producer commits some transactions and aborts
    others; a read_committed consumer reads exactly the committed records,
    in order, and stops before a transaction still open; a read_uncommitted
    one reads everything written."""
    admin = admin_client()
    topic = "ck-txn-" + RUN
    create_topic(admin, topic, TXN_PARTS)
    p = txn_producer("ck-txn-" + RUN)
    want = {q: [] for q in range(TXN_PARTS)}
    written = {q: [] for q in range(TXN_PARTS)}
    for t in range(TXN_ROUNDS):
        p.begin_transaction()
        vals = [("t%d-%d" % (t, i)).encode() for i in range(TXN_PER_ROUND)]
        for i, v in enumerate(vals):
            p.produce(topic, v, b"k%d" % i, partition=i % TXN_PARTS)
            written[i % TXN_PARTS].append(v)
        # Written before the abort: abort_transaction drops what is still
        # queued in the client, and the broker must see aborted records.
        expect(p.flush(TIMEOUT) == 0, "transaction %d not delivered", t)
        if t % 3 == 2:
            p.abort_transaction(TIMEOUT)
        else:
            p.commit_transaction(TIMEOUT)
            for i, v in enumerate(vals):
                want[i % TXN_PARTS].append(v)
    # A transaction left open: read_committed readers stop before it.
    p.begin_transaction()
    p.produce(topic, b"open", b"k", partition=0)
    expect(p.flush(TIMEOUT) == 0, "open transaction's record not delivered")
    got = read_to_end(topic, TXN_PARTS, **{"isolation.level": "read_committed"})
    expect(got == want, "read_committed read %s records, want %s committed ones",
           {q: len(v) for q, v in got.items()}, {q: len(v) for q, v in want.items()})
    p.abort_transaction(TIMEOUT)
    got = read_to_end(topic, TXN_PARTS, **{"isolation.level": "read_committed"})
    expect(got == want, "after the abort read_committed read %s records, want %s",
           {q: len(v) for q, v in got.items()}, {q: len(v) for q, v in want.items()})
    written[0].append(b"open")
    got = read_to_end(topic, TXN_PARTS, **{"isolation.level": "read_uncommitted"})
    expect(got == written, "read_uncommitted read %s records, want all %s written",
           {q: len(v) for q, v in got.items()}, {q: len(v) for q, v in written.items()})


def transactions_consume_transform_produce():
    """Exactly-once consume-transform-produce: a group member reads an
    input topic read_committed, writes each record upper-cased to an output
    topic and commits its input offsets in the same transaction
    (send_offsets_to_transaction); every other transaction is aborted and
    retried from the committed offsets. The output holds every input record
    exactly once; the group's committed offsets are the input's end."""
    admin = admin_client()
    src, dst = "ck-eos-in-" + RUN, "ck-eos-out-" + RUN
    create_topic(admin, src, 2)
    create_topic(admin, dst, 2)
    inp = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all"})
    values = [("rec-%d" % i).encode() for i in range(400)]
    for i, v in enumerate(values):
        inp.produce(src, v, partition=i % 2)
    expect(inp.flush(TIMEOUT) == 0, "input not delivered")
    group = "ck-eos-" + RUN
    p = txn_producer("ck-eos-" + RUN)
    attempt = 0
    done = 0
    deadline = time.monotonic() + 3 * TIMEOUT
    while done < len(values) and time.monotonic() < deadline:
        c = group_consumer_committed(group)
        try:
            batch = []
            end = time.monotonic() + 2
            while len(batch) < 50 and time.monotonic() < end:
                msg = c.poll(0.2)
                if msg is None or msg.error():
                    continue
                batch.append(msg)
            if not batch:
                continue
            p.begin_transaction()
            for m in batch:
                p.produce(dst, m.value().upper(), partition=m.partition())
            p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), TIMEOUT)
            attempt += 1
            if attempt % 2 == 0:
                p.abort_transaction(TIMEOUT)
            else:
                p.commit_transaction(TIMEOUT)
                done += len(batch)
        finally:
            c.close()
    expect(done == len(values), "transformed %d of %d records", done, len(values))
    got = read_to_end(dst, 2, **{"isolation.level": "read_committed"})
    out = sorted(v for vs in got.values() for v in vs)
    expect(out == sorted(v.upper() for v in values),
           "output has %d records (%d distinct), want each of %d exactly once",
           len(out), len(set(out)), len(values))
    c = group_consumer_committed(group)
    try:
        committed = c.committed([TopicPartition(src, q) for q in range(2)], timeout=TIMEOUT)
    finally:
        c.close()
    expect([tp.offset for tp in committed] == [200, 200], "committed offsets %s, want [200, 200]",
           [tp.offset for tp in committed])


def group_consumer_committed(group):
    """A read_committed member of group that resumes from the committed
    offsets, assigned both partitions of its topic directly."""
    c = Consumer({
        "bootstrap.servers": BOOTSTRAP,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    })
    src = "ck-eos-in-" + RUN
    tps = c.committed([TopicPartition(src, q) for q in range(2)], timeout=TIMEOUT)
    c.assign([TopicPartition(src, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING) for tp in tps])
    return c


def main():
    st = AdminState()
    check("admin: create_topics validate_only creates nothing", admin_validate_only, st)
    if check("admin: create_topics with configs, list_topics", admin_create_and_list, st):
        check("admin: describe_configs of the topic", admin_topic_configs, st)
        check("admin: create_topics errors (exists, replication factor, name, config value)", admin_create_errors, st)
        check("admin: create_topics with broker defaults (KIP-464)", admin_broker_defaults, st)
        check("admin: create_partitions (grow, refuse shrink, use new)", admin_create_partitions, st)
        check("admin: alter_configs replaces the topic's configs", admin_alter_configs, st)
        check("admin: delete_topics, recreate under the same name, unknown topic", admin_delete, st)
    check("admin: describe_configs of the broker", admin_broker_configs, st)
    produced = {}
    for codec in CODECS:
        res = check("producer %d records acks=all compression=%s (delivery reports)" % (RECORDS, codec),
                    produce_codec, codec)
        if res:
            produced[codec] = res
    for codec, (topic, delivered) in produced.items():
        check("consumer assign reads compression=%s exactly once, in order" % codec,
              consume_codec, topic, delivered)
    check("offsets_for_times and get_watermark_offsets", times_and_watermarks)
    check("min.insync.replicas=2: acks=all refused, acks=1 accepted", enforce_min_insync)
    check("max.message.bytes (topic) and message.max.bytes (broker) refuse large records", enforce_max_message_bytes)
    check("cleanup.policy=compact refuses records without a key", enforce_compact_keys)
    check("message.timestamp.type=LogAppendTime: broker timestamps", log_append_time)
    group_records = check("consumer groups: produce %d records to %d partitions" % (GROUP_PARTS * GROUP_PER_PART,
                                                                                   GROUP_PARTS), group_produce)
    if group_records:
        check("consumer group: commit(asynchronous=False), committed(), position(), restart resumes there",
              group_manual_commit, group_records)
        check("consumer group: second member joining: rebalance callbacks, split, list_groups",
              group_rebalance, group_records)
    check("transactions: commit and abort, read_committed reads only committed records, stops at an open one",
          transactions_commit_abort)
    check("transactions: consume-transform-produce with send_offsets_to_transaction, aborts retried, exactly once",
          transactions_consume_transform_produce)
    if failures:
        print("confluent-kafka: %d check(s) failed" % len(failures))
        sys.exit(1)
    print("confluent-kafka: all checks passed")


if __name__ == "__main__":
    main()
