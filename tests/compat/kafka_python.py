#!/usr/bin/python3
"""kafka-python (Debian python3-kafka 2.0.2) against a Runnel server.

Run with /usr/bin/python3 and COMPAT_BOOTSTRAP=host:port. Checks the admin
client (create, describe, delete topics; describe topic and broker
configs), the producer with acks 0/1/all and every codec the Debian
packages provide, with keys, null keys and values and headers, and a
consumer using assign() and seek() without a group, reading everything back
in order; beginning and end offsets and offsets_for_times. Consumer groups:
a member with enable_auto_commit=False commits by hand, closes, and the next
member resumes exactly at the committed offsets (also after committing an
earlier offset with metadata); two members in threads split the partitions
and read each record once; the admin client lists and describes the group
and its committed offsets, and deletes it.

Prints "ok   <check>" or "FAIL <check>: <reason>" per check and exits 1 when
any check failed.
"""

import os
import sys
import threading
import time
import traceback
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import (
    GroupIdNotFoundError,
    InvalidConfigurationError,
    NoError,
    NonEmptyGroupError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)

from checks import TIMEOUT, CheckFailed, check, expect, failures, wait_until

BOOTSTRAP = os.environ["COMPAT_BOOTSTRAP"]
RUN = uuid.uuid4().hex[:8]

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


# ---- consumer groups ----

GROUP_TOPIC = "kp-group-" + RUN
GROUP_PARTS = 4
GROUP_PER_PART = 100
GROUP_TPS = [TopicPartition(GROUP_TOPIC, p) for p in range(GROUP_PARTS)]


def group_consumer(group, **extra):
    conf = dict(
        bootstrap_servers=BOOTSTRAP,
        group_id=group,
        client_id="compat-kafka-python",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=10000,
        heartbeat_interval_ms=500,
        request_timeout_ms=30000,
    )
    conf.update(extra)
    c = KafkaConsumer(**conf)
    c.subscribe([GROUP_TOPIC])
    return c


def group_produce():
    """Creates the group topic and produces GROUP_PER_PART records to each
    partition; returns {(partition, offset): value}."""
    admin = admin_client()
    try:
        create_topic(admin, GROUP_TOPIC, GROUP_PARTS)
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=5, request_timeout_ms=20000)
    try:
        futures = {}
        for i in range(GROUP_PER_PART):
            for p in range(GROUP_PARTS):
                value = b"group p%d i%d" % (p, i)
                futures[value] = producer.send(GROUP_TOPIC, key=b"k%d" % i, value=value, partition=p)
        producer.flush(timeout=TIMEOUT)
        produced = {}
        for value, f in futures.items():
            md = f.get(timeout=TIMEOUT)
            produced[(md.partition, md.offset)] = value
    finally:
        producer.close(timeout=10)
    want = {(p, o) for p in range(GROUP_PARTS) for o in range(GROUP_PER_PART)}
    expect(set(produced) == want, "acknowledged offsets are not 0..%d on every partition", GROUP_PER_PART - 1)
    return produced


def poll_records(consumer, want, timeout=TIMEOUT, extra=True):
    """Polls until want records came back (then, with extra, a little longer
    to catch any duplicate); returns them in the order received."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for msgs in consumer.poll(timeout_ms=500).values():
            got.extend(msgs)
    if extra:
        for msgs in consumer.poll(timeout_ms=500).values():
            got.extend(msgs)
    return got


def check_read(got, produced, start, name):
    """Checks that got holds, per partition and in order, exactly the
    produced records from offset start[p] on, each once."""
    for p in range(GROUP_PARTS):
        offs = [m.offset for m in got if m.partition == p]
        want = list(range(start[p], GROUP_PER_PART))
        expect(offs == want, "%s: partition %d offsets %s, want %s",
               name, p, short(offs), short(want))
    for m in got:
        expect(m.value == produced[(m.partition, m.offset)],
               "%s: partition %d offset %d has value %r, want %r",
               name, m.partition, m.offset, m.value, produced[(m.partition, m.offset)])


def short(offs):
    return "[]" if not offs else "%d..%d (%d)" % (offs[0], offs[-1], len(offs))


def group_offsets(admin, group):
    """The group's committed offsets, as the broker returns them."""
    return {tp: om for tp, om in admin.list_consumer_group_offsets(group).items() if tp.topic == GROUP_TOPIC}


def group_manual_commit(produced):
    group = "kp-manual-" + RUN
    admin = admin_client()
    try:
        # 1. A member reads part of the topic, commits what it consumed
        # and closes without committing again.
        c = group_consumer(group, max_poll_records=50)
        try:
            first = poll_records(c, 150, extra=False)
            expect(len(first) >= 150, "first member read %d records, want at least 150", len(first))
            expect(c.assignment() == set(GROUP_TPS), "assignment %s, want all %d partitions",
                   sorted(c.assignment()), GROUP_PARTS)
            c.commit()
            positions = {tp.partition: c.position(tp) for tp in GROUP_TPS}
        finally:
            c.close(autocommit=False)
        got = group_offsets(admin, group)
        want = {tp: positions[tp.partition] for tp in GROUP_TPS}
        expect({tp: om.offset for tp, om in got.items()} == want,
               "committed offsets %s, want the positions %s", got, want)

        # 2. The next member resumes exactly at those offsets and reads the
        # rest; between the two every record was read once. Then it commits
        # earlier offsets, with metadata, and closes.
        rest = sum(GROUP_PER_PART - o for o in positions.values())
        c = group_consumer(group)
        try:
            second = poll_records(c, rest)
            check_read(second, produced, positions, "second member")
            seen = [(m.partition, m.offset) for m in first + second]
            expect(len(seen) == len(set(seen)) == len(produced),
                   "the two members read %d records (%d distinct), want %d each once",
                   len(seen), len(set(seen)), len(produced))
            rewind = {tp: OffsetAndMetadata(10 + 7 * tp.partition, "kp rewind %d" % tp.partition)
                      for tp in GROUP_TPS}
            c.commit(rewind)
        finally:
            c.close(autocommit=False)
        got = group_offsets(admin, group)
        expect(got == rewind, "committed offsets and metadata %s, want %s", got, rewind)

        # 3. A third member resumes at the earlier offsets.
        start = {tp.partition: om.offset for tp, om in rewind.items()}
        c = group_consumer(group)
        try:
            third = poll_records(c, sum(GROUP_PER_PART - o for o in start.values()))
            check_read(third, produced, start, "third member")
            tp = GROUP_TPS[1]
            om = c.committed(tp, metadata=True)
            expect(om is not None and (om.offset, om.metadata) == (rewind[tp].offset, rewind[tp].metadata),
                   "committed(%s) = %r, want %r", tp, om, rewind[tp])
        finally:
            c.close(autocommit=False)
    finally:
        admin.close()


class Member(threading.Thread):
    """One group member polling in its own thread (a KafkaConsumer joins and
    rebalances inside poll, so members sharing a thread would block each
    other). Auto-commit is on: it commits every 500 ms, before a rebalance
    and when the member closes."""

    def __init__(self, group, name):
        super().__init__(name=name, daemon=True)
        self.consumer = group_consumer(group, client_id=name, enable_auto_commit=True,
                                       auto_commit_interval_ms=500)
        self.lock = threading.Lock()
        self.records = []
        self.assigned = set()
        self.error = None
        self.done = threading.Event()

    def run(self):
        try:
            while not self.done.is_set():
                polled = self.consumer.poll(timeout_ms=200)
                with self.lock:
                    for msgs in polled.values():
                        self.records.extend((m.partition, m.offset, m.value) for m in msgs)
                    self.assigned = {tp.partition for tp in self.consumer.assignment()}
        except Exception as e:  # reported by the check
            self.error = e
        finally:
            self.consumer.close()

    def snapshot(self):
        with self.lock:
            return list(self.records), set(self.assigned)

    def stop(self):
        self.done.set()
        self.join(TIMEOUT)
        expect(not self.is_alive(), "member %s did not stop", self.name)
        expect(self.error is None, "member %s failed: %r", self.name, self.error)


def group_split_and_admin(produced):
    group = "kp-split-" + RUN
    admin = admin_client()
    members = [Member(group, "kp-member-a"), Member(group, "kp-member-b")]
    try:
        for m in members:
            m.start()

        # Both members hold partitions, none twice, and between them read
        # every record once.
        def split():
            snaps = [m.snapshot() for m in members]
            for m in members:
                expect(m.error is None, "member %s failed: %r", m.name, m.error)
            (ra, pa), (rb, pb) = snaps
            if not pa or not pb or pa & pb or pa | pb != set(range(GROUP_PARTS)):
                return None
            if len(ra) + len(rb) < len(produced):
                return None
            return snaps

        snaps = wait_until("two members to split %d partitions and read %d records" % (GROUP_PARTS, len(produced)),
                           split, timeout=60)
        time.sleep(0.5)  # any duplicate would arrive now
        snaps = [m.snapshot() for m in members]
        seen = [(p, o) for recs, _ in snaps for p, o, _ in recs]
        expect(len(seen) == len(set(seen)) == len(produced),
               "the members read %d records (%d distinct), want %d each once", len(seen), len(set(seen)), len(produced))
        for recs, _ in snaps:
            for p, o, v in recs:
                expect(v == produced[(p, o)], "partition %d offset %d has value %r, want %r", p, o, v, produced[(p, o)])

        # The admin client sees the stable group, its members and their
        # assignments, and (auto-commit) offsets at the end of each partition.
        expect((group, "consumer") in admin.list_consumer_groups(),
               "list_consumer_groups has no (%r, 'consumer'): %r", group, admin.list_consumer_groups())
        desc = admin.describe_consumer_groups([group])
        expect(len(desc) == 1 and desc[0].group == group, "describe_consumer_groups: %r", desc)
        d = desc[0]
        expect((d.error_code, d.state, d.protocol_type, d.protocol) == (0, "Stable", "consumer", "range"),
               "group %s: error %d state %r protocol type %r protocol %r, want 0 Stable consumer range",
               group, d.error_code, d.state, d.protocol_type, d.protocol)
        expect(sorted(mem.client_id for mem in d.members) == ["kp-member-a", "kp-member-b"],
               "members' client ids %r", [mem.client_id for mem in d.members])
        by_client = {m.name: snap[1] for m, snap in zip(members, snaps)}
        for mem in d.members:
            parts = {p for t, ps in mem.member_assignment.assignment if t == GROUP_TOPIC for p in ps}
            expect(parts == by_client[mem.client_id], "describe says %s holds %s; the member holds %s",
                   mem.client_id, sorted(parts), sorted(by_client[mem.client_id]))
            expect(list(mem.member_metadata.subscription) == [GROUP_TOPIC],
                   "%s subscription %r", mem.client_id, mem.member_metadata.subscription)
        ends = {tp: GROUP_PER_PART for tp in GROUP_TPS}
        wait_until("auto-committed offsets at the end of every partition",
                   lambda: {tp: om.offset for tp, om in group_offsets(admin, group).items()} == ends)

        # A group with members cannot be deleted.
        res = admin.delete_consumer_groups([group])
        expect(res == [(group, NonEmptyGroupError)], "delete_consumer_groups of a stable group: %r", res)

        for m in members:
            m.stop()
        d = admin.describe_consumer_groups([group])[0]
        expect((d.state, d.members) == ("Empty", []), "after both members left: state %r members %r", d.state, d.members)
        got = {tp: om.offset for tp, om in group_offsets(admin, group).items()}
        expect(got == ends, "committed offsets after the members closed: %s, want %s", got, ends)

        res = admin.delete_consumer_groups([group])
        expect(res == [(group, NoError)], "delete_consumer_groups of the empty group: %r", res)
        expect(group not in [g for g, _ in admin.list_consumer_groups()], "deleted group %s is still listed", group)
        got = group_offsets(admin, group)
        expect(got == {}, "deleted group still has offsets %s", got)
        res = admin.delete_consumer_groups([group])
        expect(res == [(group, GroupIdNotFoundError)], "deleting the group again: %r", res)
    finally:
        for m in members:
            m.done.set()
        admin.close()



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

    group_records = check("consumer groups: produce %d records to %d partitions" % (GROUP_PARTS * GROUP_PER_PART, GROUP_PARTS),
                     group_produce)
    if group_records:
        check("consumer group: manual commit(), close, restart resumes at the committed offsets",
              group_manual_commit, group_records)
        check("consumer group: two members split the partitions; admin list/describe/offsets/delete",
              group_split_and_admin, group_records)

    if failures:
        print("kafka-python: %d check(s) failed" % len(failures))
        sys.exit(1)
    print("kafka-python: all checks passed")


if __name__ == "__main__":
    main()
