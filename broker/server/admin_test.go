package server_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/runnel/runnel/broker/brokertest"
	"github.com/runnel/runnel/broker/config"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testServer is a single-node Runnel broker listening on 127.0.0.1:0.
type testServer struct {
	addr   string
	logDir string
	// cfg is the broker's configuration, parsed again from the same
	// properties, for the config descriptions tests expect.
	cfg *config.Broker
}

// startServer starts a broker with server.properties overrides given as
// "key=value"; it stops when the test ends.
func startServer(t testing.TB, props ...string) testServer {
	t.Helper()
	s := brokertest.Start(t, props...)
	p := map[string]string{"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": s.Dir}
	for _, kv := range props {
		k, v, _ := strings.Cut(kv, "=")
		p[k] = v
	}
	bc, err := config.ParseBroker(p)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return testServer{addr: s.Addr, logDir: s.Dir, cfg: bc}
}

// clients returns a franz-go client and admin client for srv.
func (srv testServer) clients(t *testing.T, opts ...kgo.Opt) (*kgo.Client, *kadm.Client) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(srv.addr), kgo.RetryTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl, kadm.NewClient(cl)
}

// rawClient sends requests at exactly the version set on them, which a
// franz-go client would negotiate away.
type rawClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	f    *kmsg.RequestFormatter
	corr int32
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("admin-test"))}
}

// do sends req and decodes the response, failing the test on any
// transport or decoding error.
func do[R kmsg.Response](c *rawClient, req kmsg.Request) R {
	c.t.Helper()
	resp, err := c.try(req)
	if err != nil {
		c.t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp.(R)
}

func (c *rawClient) try(req kmsg.Request) (kmsg.Response, error) {
	c.corr++
	if err := c.nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := c.nc.Write(c.f.AppendRequest(nil, req, c.corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c.br, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.br, body); err != nil {
		return nil, err
	}
	if len(body) < 4 || int32(binary.BigEndian.Uint32(body)) != c.corr {
		return nil, fmt.Errorf("response does not carry correlation id %d", c.corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() {
		if len(body) == 0 || body[0] != 0 {
			return nil, errors.New("unexpected response header tags")
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return resp, nil
}

func codeName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if err := kerr.ErrorForCode(code); err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			return ke.Message
		}
	}
	return strconv.Itoa(int(code))
}

// checkErr asserts an error code and, when want is not NONE, that the
// message mentions each of mentions.
func checkErr(t *testing.T, what string, code int16, msg *string, want *kerr.Error, mentions ...string) {
	t.Helper()
	wantCode := int16(0)
	if want != nil {
		wantCode = want.Code
	}
	m := ""
	if msg != nil {
		m = *msg
	}
	if code != wantCode {
		t.Errorf("%s: error %s (%q), want %s", what, codeName(code), m, codeName(wantCode))
		return
	}
	for _, s := range mentions {
		if !strings.Contains(m, s) {
			t.Errorf("%s: message %q does not mention %q", what, m, s)
		}
	}
}

func strp(s string) *string { return &s }

func mustCreate(t *testing.T, adm *kadm.Client, partitions int32, configs map[string]*string, topics ...string) {
	t.Helper()
	resps, err := adm.CreateTopics(t.Context(), partitions, 1, configs, topics...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("creating %v: %v", topics, err)
	}
}

// topicMeta returns the topic's metadata, or nil when it does not exist.
func topicMeta(t *testing.T, c *rawClient, topic string) *kmsg.MetadataResponseTopic {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	resp := do[*kmsg.MetadataResponse](c, req)
	for i, mt := range resp.Topics {
		if mt.Topic != nil && *mt.Topic == topic {
			return &resp.Topics[i]
		}
	}
	return nil
}

// produce writes values to topic's partition, in order, acknowledged by
// all in-sync replicas.
func produce(t *testing.T, cl *kgo.Client, topic string, partition int32, values ...string) {
	t.Helper()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s-%d: %v", topic, partition, err)
	}
}

// topicConfigs describes topic's configs at v4 with synonyms.
func topicConfigs(t *testing.T, c *rawClient, topic string) map[string]kmsg.DescribeConfigsResponseResourceConfig {
	t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.SetVersion(4)
	req.IncludeSynonyms = true
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, rr)
	resp := do[*kmsg.DescribeConfigsResponse](c, req)
	if len(resp.Resources) != 1 || resp.Resources[0].ErrorCode != 0 {
		t.Fatalf("describe %s: %+v", topic, resp.Resources)
	}
	out := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, rc := range resp.Resources[0].Configs {
		out[rc.Name] = rc
	}
	return out
}

// overrides returns the topic's DYNAMIC_TOPIC_CONFIG values.
func overrides(t *testing.T, c *rawClient, topic string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, rc := range topicConfigs(t, c, topic) {
		if rc.Source == kmsg.ConfigSourceDynamicTopicConfig && rc.Value != nil {
			out[name] = *rc.Value
		}
	}
	return out
}

func TestCreateTopics(t *testing.T) {
	srv := startServer(t, "num.partitions=3", "log.segment.bytes=1048576")
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)

	t.Run("defaults and configs", func(t *testing.T) {
		resps, err := adm.CreateTopics(t.Context(), -1, -1, map[string]*string{"retention.ms": strp("1234")}, "defaults")
		if err != nil {
			t.Fatal(err)
		}
		r := resps["defaults"]
		if r.Err != nil || r.NumPartitions != 3 || r.ReplicationFactor != 1 || r.ID == [16]byte{} {
			t.Fatalf("created %+v, want 3 partitions (num.partitions), replication factor 1 and an ID", r)
		}
		mt := topicMeta(t, c, "defaults")
		if mt == nil || len(mt.Partitions) != 3 || mt.TopicID != r.ID {
			t.Fatalf("metadata %+v does not show the created topic %s", mt, uuid.UUID(r.ID))
		}
		if got := overrides(t, c, "defaults"); !maps.Equal(got, map[string]string{"retention.ms": "1234"}) {
			t.Errorf("overrides %v, want retention.ms=1234", got)
		}
	})

	t.Run("v7 response configs", func(t *testing.T) {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(7)
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "v7-configs", 2, 1
		rt.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "cleanup.policy", Value: strp("compact")}}
		req.Topics = append(req.Topics, rt)
		resp := do[*kmsg.CreateTopicsResponse](c, req)
		got := resp.Topics[0]
		checkErr(t, "create", got.ErrorCode, got.ErrorMessage, nil)
		if got.NumPartitions != 2 || got.ReplicationFactor != 1 || got.TopicID == [16]byte{} {
			t.Errorf("response %+v, want 2 partitions, replication factor 1 and a topic ID", got)
		}
		if mt := topicMeta(t, c, "v7-configs"); mt == nil || mt.TopicID != got.TopicID {
			t.Errorf("the response's topic ID is not the topic's")
		}
		want := config.DescribeTopic(srv.cfg, map[string]string{"cleanup.policy": "compact"})
		configs := map[string]kmsg.CreateTopicsResponseTopicConfig{}
		for _, rc := range got.Configs {
			configs[rc.Name] = rc
		}
		if len(configs) != len(want) || len(want) < 20 {
			t.Errorf("%d configs in the response, want every topic config (%d)", len(configs), len(want))
		}
		for _, tc := range []struct {
			name, value string
			source      kmsg.ConfigSource
		}{
			{"cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig},
			{"segment.bytes", "1048576", kmsg.ConfigSourceStaticBrokerConfig},
			{"max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig},
		} {
			rc, ok := configs[tc.name]
			if !ok || rc.Value == nil || *rc.Value != tc.value || rc.Source != int8(tc.source) {
				t.Errorf("%s: %+v, want %s from %v", tc.name, rc, tc.value, tc.source)
			}
		}
	})

	t.Run("explicit assignment", func(t *testing.T) {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(4)
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "assigned", -1, -1
		rt.ReplicaAssignment = []kmsg.CreateTopicsRequestTopicReplicaAssignment{
			{Partition: 0, Replicas: []int32{1}}, {Partition: 1, Replicas: []int32{1}},
		}
		req.Topics = append(req.Topics, rt)
		resp := do[*kmsg.CreateTopicsResponse](c, req)
		checkErr(t, "create", resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil)
		if mt := topicMeta(t, c, "assigned"); mt == nil || len(mt.Partitions) != 2 || !slices.Equal(mt.Partitions[1].Replicas, []int32{1}) {
			t.Errorf("metadata %+v, want two partitions on broker 1", mt)
		}
	})

	mustCreate(t, adm, 1, nil, "existing")
	type topicReq = kmsg.CreateTopicsRequestTopic
	simple := func(name string, partitions int32, rf int16) topicReq {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, rf
		return rt
	}
	withConfig := func(rt topicReq, k string, v *string) topicReq {
		rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: k, Value: v})
		return rt
	}
	withAssignment := func(rt topicReq, a map[int32][]int32) topicReq {
		for _, p := range slices.Sorted(maps.Keys(a)) {
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: p, Replicas: a[p]})
		}
		return rt
	}
	for _, tc := range []struct {
		name     string
		topic    topicReq
		want     *kerr.Error
		mentions []string
	}{
		{"exists", simple("existing", 1, 1), kerr.TopicAlreadyExists, []string{"existing"}},
		{"illegal name", simple("bad name!", 1, 1), kerr.InvalidTopicException, []string{"bad name!"}},
		{"empty name", simple("", 1, 1), kerr.InvalidTopicException, nil},
		{"internal name", simple("__consumer_offsets", 1, 1), kerr.InvalidTopicException, nil},
		{"metadata topic", simple("__cluster_metadata", 1, 1), kerr.InvalidRequest, []string{"__cluster_metadata"}},
		{"zero partitions", simple("p0", 0, 1), kerr.InvalidPartitions, nil},
		{"replication factor above brokers", simple("rf2", 1, 2), kerr.InvalidReplicationFactor, nil},
		{"zero replication factor", simple("rf0", 1, 0), kerr.InvalidReplicationFactor, nil},
		{"unknown config", withConfig(simple("c1", 1, 1), "retention.mss", strp("1")), kerr.InvalidConfig, []string{"retention.mss"}},
		{"bad config value", withConfig(simple("c2", 1, 1), "retention.ms", strp("soon")), kerr.InvalidConfig, []string{"retention.ms"}},
		{"null config value", withConfig(simple("c3", 1, 1), "segment.ms", nil), kerr.InvalidConfig, []string{"segment.ms"}},
		{"assignment with partition count", withAssignment(simple("a1", 1, -1), map[int32][]int32{0: {1}}), kerr.InvalidRequest, nil},
		{"assignment to unknown broker", withAssignment(simple("a2", -1, -1), map[int32][]int32{0: {7}}), kerr.InvalidReplicaAssignment, []string{"7"}},
		{"assignment with a gap", withAssignment(simple("a3", -1, -1), map[int32][]int32{0: {1}, 2: {1}}), kerr.InvalidReplicaAssignment, nil},
		{"assignment listing a broker twice", withAssignment(simple("a4", -1, -1), map[int32][]int32{0: {1, 1}}), kerr.InvalidReplicaAssignment, nil},
		{"too many partitions", simple("huge", 20000, 1), kerr.PolicyViolation, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []int16{0, 1, 4, 7} {
				req := kmsg.NewPtrCreateTopicsRequest()
				req.SetVersion(v)
				req.Topics = append(req.Topics, tc.topic)
				resp := do[*kmsg.CreateTopicsResponse](c, req)
				if len(resp.Topics) != 1 || resp.Topics[0].Topic != tc.topic.Topic {
					t.Fatalf("v%d: response topics %+v", v, resp.Topics)
				}
				got := resp.Topics[0]
				if v == 0 {
					// v0 has no error messages.
					checkErr(t, fmt.Sprintf("v%d", v), got.ErrorCode, nil, tc.want)
					continue
				}
				checkErr(t, fmt.Sprintf("v%d", v), got.ErrorCode, got.ErrorMessage, tc.want, tc.mentions...)
				if v >= 5 && (got.NumPartitions != -1 || len(got.Configs) != 0) {
					t.Errorf("v%d: failed creation reports %d partitions and %d configs", v, got.NumPartitions, len(got.Configs))
				}
			}
			if tc.topic.Topic != "existing" && topicMeta(t, c, tc.topic.Topic) != nil {
				t.Errorf("topic %q exists after a failed creation", tc.topic.Topic)
			}
		})
	}

	t.Run("duplicate names", func(t *testing.T) {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(5)
		req.Topics = []topicReq{simple("dup", 1, 1), simple("nodup", 1, 1), simple("dup", 2, 1)}
		resp := do[*kmsg.CreateTopicsResponse](c, req)
		if len(resp.Topics) != 3 {
			t.Fatalf("%d results for 3 topics", len(resp.Topics))
		}
		for _, i := range []int{0, 2} {
			checkErr(t, "dup", resp.Topics[i].ErrorCode, resp.Topics[i].ErrorMessage, kerr.InvalidRequest, "Duplicate topic name")
		}
		checkErr(t, "nodup", resp.Topics[1].ErrorCode, resp.Topics[1].ErrorMessage, nil)
		if topicMeta(t, c, "dup") != nil || topicMeta(t, c, "nodup") == nil {
			t.Error("want nodup created and dup not")
		}
	})

	t.Run("validate only", func(t *testing.T) {
		resps, err := adm.ValidateCreateTopics(t.Context(), 4, 1, map[string]*string{"cleanup.policy": strp("compact")}, "dry-run")
		if err != nil {
			t.Fatal(err)
		}
		if r := resps["dry-run"]; r.Err != nil || r.NumPartitions != 4 {
			t.Fatalf("validation %+v, want success with 4 partitions", r)
		}
		if topicMeta(t, c, "dry-run") != nil {
			t.Fatal("validate-only created the topic")
		}
		resps, err = adm.ValidateCreateTopics(t.Context(), 1, 1, map[string]*string{"cleanup.policy": strp("sometimes")}, "dry-run")
		if err != nil {
			t.Fatal(err)
		}
		if r := resps["dry-run"]; !errors.Is(r.Err, kerr.InvalidConfig) || !strings.Contains(r.ErrMessage, "cleanup.policy") {
			t.Errorf("validation of a bad value: %v %q, want INVALID_CONFIG naming cleanup.policy", r.Err, r.ErrMessage)
		}
		mustCreate(t, adm, 4, nil, "dry-run")
	})

	t.Run("every version", func(t *testing.T) {
		for v := int16(0); v <= 7; v++ {
			name := fmt.Sprintf("version-%d", v)
			req := kmsg.NewPtrCreateTopicsRequest()
			req.SetVersion(v)
			req.Topics = []topicReq{simple(name, 2, 1)}
			resp := do[*kmsg.CreateTopicsResponse](c, req)
			got := resp.Topics[0]
			checkErr(t, name, got.ErrorCode, got.ErrorMessage, nil)
			if v >= 5 && (got.NumPartitions != 2 || len(got.Configs) == 0) {
				t.Errorf("v%d: %d partitions, %d configs", v, got.NumPartitions, len(got.Configs))
			}
			if mt := topicMeta(t, c, name); mt == nil || len(mt.Partitions) != 2 {
				t.Errorf("v%d: topic not created with 2 partitions", v)
			}
		}
	})
}

func TestDeleteTopics(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 2, nil, "by-name", "by-id", "kept", "both", "v-dup")

	deleteReq := func(v int16, topics ...kmsg.DeleteTopicsRequestTopic) *kmsg.DeleteTopicsResponse {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.SetVersion(v)
		if v < 6 {
			for _, tp := range topics {
				req.TopicNames = append(req.TopicNames, *tp.Topic)
			}
		} else {
			req.Topics = topics
		}
		return do[*kmsg.DeleteTopicsResponse](c, req)
	}
	named := func(n string) kmsg.DeleteTopicsRequestTopic { return kmsg.DeleteTopicsRequestTopic{Topic: &n} }
	byID := func(id [16]byte) kmsg.DeleteTopicsRequestTopic { return kmsg.DeleteTopicsRequestTopic{TopicID: id} }

	t.Run("by name", func(t *testing.T) {
		resps, err := adm.DeleteTopics(t.Context(), "by-name")
		if err != nil || resps.Error() != nil {
			t.Fatalf("delete: %v %v", err, resps.Error())
		}
		if topicMeta(t, c, "by-name") != nil {
			t.Fatal("topic still exists")
		}
	})

	t.Run("by id", func(t *testing.T) {
		id := topicMeta(t, c, "by-id").TopicID
		resp := deleteReq(6, byID(id))
		got := resp.Topics[0]
		checkErr(t, "delete", got.ErrorCode, got.ErrorMessage, nil)
		if got.Topic == nil || *got.Topic != "by-id" || got.TopicID != id {
			t.Errorf("response names %v %v, want by-id %v", got.Topic, got.TopicID, id)
		}
		if topicMeta(t, c, "by-id") != nil {
			t.Fatal("topic still exists")
		}
	})

	both := topicMeta(t, c, "both").TopicID
	for _, tc := range []struct {
		name    string
		v       int16
		topics  []kmsg.DeleteTopicsRequestTopic
		want    []*kerr.Error
		mention string
	}{
		{"unknown name", 5, []kmsg.DeleteTopicsRequestTopic{named("nope")}, []*kerr.Error{kerr.UnknownTopicOrPartition}, "nope"},
		{"unknown name v0", 0, []kmsg.DeleteTopicsRequestTopic{named("nope")}, []*kerr.Error{kerr.UnknownTopicOrPartition}, ""},
		{"unknown id", 6, []kmsg.DeleteTopicsRequestTopic{byID(uuid.New())}, []*kerr.Error{kerr.UnknownTopicID}, ""},
		{"neither name nor id", 6, []kmsg.DeleteTopicsRequestTopic{{}}, []*kerr.Error{kerr.InvalidRequest}, "Neither"},
		{"name and id", 6, []kmsg.DeleteTopicsRequestTopic{{Topic: strp("both"), TopicID: both}}, []*kerr.Error{kerr.InvalidRequest}, "both topic name and topic id"},
		{"duplicate name", 6, []kmsg.DeleteTopicsRequestTopic{named("kept"), named("kept")}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}, "Duplicate"},
		{"duplicate name v5", 5, []kmsg.DeleteTopicsRequestTopic{named("kept"), named("kept")}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}, "Duplicate"},
		{"duplicate id", 6, []kmsg.DeleteTopicsRequestTopic{byID(both), byID(both)}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}, "Duplicate"},
		{"name of a given id", 6, []kmsg.DeleteTopicsRequestTopic{byID(both), named("both")}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}, "already supplied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := deleteReq(tc.v, tc.topics...)
			if len(resp.Topics) != len(tc.want) {
				t.Fatalf("%d results for %d entries", len(resp.Topics), len(tc.want))
			}
			for i, got := range resp.Topics {
				var mentions []string
				if tc.mention != "" {
					mentions = []string{tc.mention}
				}
				checkErr(t, tc.name, got.ErrorCode, got.ErrorMessage, tc.want[i], mentions...)
			}
			for _, name := range []string{"kept", "both"} {
				if topicMeta(t, c, name) == nil {
					t.Fatalf("%s was deleted by a failed request", name)
				}
			}
		})
	}

	t.Run("every version", func(t *testing.T) {
		for v := int16(0); v <= 6; v++ {
			name := fmt.Sprintf("del-v%d", v)
			mustCreate(t, adm, 1, nil, name)
			resp := deleteReq(v, named(name))
			checkErr(t, name, resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil)
			if v >= 6 && resp.Topics[0].TopicID == [16]byte{} {
				t.Errorf("v%d: no topic ID in the response", v)
			}
			if topicMeta(t, c, name) != nil {
				t.Errorf("v%d: topic still exists", v)
			}
		}
	})

	t.Run("deletion disabled", func(t *testing.T) {
		srv := startServer(t, "delete.topic.enable=false")
		_, adm := srv.clients(t)
		c := dialRaw(t, srv.addr)
		mustCreate(t, adm, 1, nil, "stays")
		for v, want := range map[int16]*kerr.Error{2: kerr.InvalidRequest, 3: kerr.TopicDeletionDisabled, 6: kerr.TopicDeletionDisabled} {
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.SetVersion(v)
			if v < 6 {
				req.TopicNames = []string{"stays"}
			} else {
				req.Topics = []kmsg.DeleteTopicsRequestTopic{named("stays")}
			}
			resp := do[*kmsg.DeleteTopicsResponse](c, req)
			checkErr(t, fmt.Sprintf("v%d", v), resp.Topics[0].ErrorCode, nil, want)
		}
		if topicMeta(t, c, "stays") == nil {
			t.Fatal("topic deleted although delete.topic.enable=false")
		}
	})
}

func TestDeleteRecords(t *testing.T) {
	srv := startServer(t)
	cl, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 1, nil, "records")
	mustCreate(t, adm, 1, map[string]*string{"cleanup.policy": strp("compact")}, "compacted")
	var values []string
	for i := range 10 {
		values = append(values, strconv.Itoa(i))
	}
	produce(t, cl, "records", 0, values[:5]...)
	produce(t, cl, "records", 0, values[5:]...)

	startOffset := func() int64 {
		t.Helper()
		offs, err := adm.ListStartOffsets(t.Context(), "records")
		if err != nil {
			t.Fatal(err)
		}
		o, ok := offs.Lookup("records", 0)
		if !ok || o.Err != nil {
			t.Fatalf("list start offsets: %+v", o)
		}
		return o.Offset
	}
	deleteRaw := func(v int16, topic string, partition int32, offset int64) kmsg.DeleteRecordsResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrDeleteRecordsRequest()
		req.SetVersion(v)
		req.TimeoutMillis = 5000
		req.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: topic, Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: partition, Offset: offset}}}}
		resp := do[*kmsg.DeleteRecordsResponse](c, req)
		return resp.Topics[0].Partitions[0]
	}

	// Delete below offset 4: the start offset moves.
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "records", Partition: 0, At: 4})
	resps, err := adm.DeleteRecords(t.Context(), os)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := resps.Lookup("records", 0); !ok || r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records: %+v, want low watermark 4", r)
	}
	if got := startOffset(); got != 4 {
		t.Fatalf("earliest offset %d after deleting below 4", got)
	}
	// Exactly the records from offset 4 on are read back, in order.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(srv.addr), kgo.ConsumeTopics("records"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []string
	for len(got) < 6 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		fs := consumer.PollFetches(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			t.Fatalf("consumed %v, then timed out", got)
		}
		fs.EachError(func(topic string, partition int32, err error) {
			t.Fatalf("fetching %s-%d: %v", topic, partition, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < 4 {
				t.Errorf("read deleted offset %d", r.Offset)
			}
			got = append(got, string(r.Value))
		})
	}
	if !slices.Equal(got, values[4:]) {
		t.Fatalf("read %v after deleting below 4, want %v", got, values[4:])
	}

	for _, tc := range []struct {
		name      string
		topic     string
		partition int32
		offset    int64
		want      *kerr.Error
		low       int64
	}{
		{"below the start offset changes nothing", "records", 0, 2, nil, 4},
		{"at the start offset", "records", 0, 4, nil, 4},
		{"above the high watermark", "records", 0, 11, kerr.OffsetOutOfRange, -1},
		{"negative", "records", 0, -5, kerr.OffsetOutOfRange, -1},
		{"unknown partition", "records", 3, 0, kerr.UnknownTopicOrPartition, -1},
		{"unknown topic", "nope", 0, 0, kerr.UnknownTopicOrPartition, -1},
		{"compacted topic", "compacted", 0, 0, kerr.PolicyViolation, -1},
		{"up to 7", "records", 0, 7, nil, 7},
		{"-1 means the high watermark", "records", 0, -1, nil, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := deleteRaw(2, tc.topic, tc.partition, tc.offset)
			checkErr(t, tc.name, got.ErrorCode, nil, tc.want)
			if got.LowWatermark != tc.low {
				t.Errorf("low watermark %d, want %d", got.LowWatermark, tc.low)
			}
		})
	}
	if got := startOffset(); got != 10 {
		t.Errorf("earliest offset %d after deleting everything, want 10", got)
	}
	offs, err := adm.ListEndOffsets(t.Context(), "records")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("records", 0); o.Offset != 10 {
		t.Errorf("end offset %d after deleting records, want 10", o.Offset)
	}
	for v := int16(0); v <= 2; v++ {
		if got := deleteRaw(v, "records", 0, 10); got.ErrorCode != 0 || got.LowWatermark != 10 {
			t.Errorf("v%d: %+v", v, got)
		}
	}
	// New records continue after the deleted ones.
	produce(t, cl, "records", 0, "10")
	offs, err = adm.ListEndOffsets(t.Context(), "records")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("records", 0); o.Offset != 11 {
		t.Errorf("end offset %d after one more record, want 11", o.Offset)
	}
}

func TestOffsetForLeaderEpoch(t *testing.T) {
	srv := startServer(t)
	cl, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 1, nil, "epochs")
	produce(t, cl, "epochs", 0, "a", "b", "c", "d", "e")
	epoch := topicMeta(t, c, "epochs").Partitions[0].LeaderEpoch

	query := func(v int16, topic string, current, leaderEpoch int32) kmsg.OffsetForLeaderEpochResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrOffsetForLeaderEpochRequest()
		req.SetVersion(v)
		req.ReplicaID = -1
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = 0, current, leaderEpoch
		req.Topics = []kmsg.OffsetForLeaderEpochRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetForLeaderEpochRequestTopicPartition{rp}}}
		resp := do[*kmsg.OffsetForLeaderEpochResponse](c, req)
		return resp.Topics[0].Partitions[0]
	}
	for v := int16(0); v <= 4; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			got := query(v, "epochs", -1, epoch)
			checkErr(t, "current epoch", got.ErrorCode, nil, nil)
			if got.EndOffset != 5 || (v >= 1 && got.LeaderEpoch != epoch) {
				t.Errorf("epoch %d: end offset %d in epoch %d, want 5 in %d", epoch, got.EndOffset, got.LeaderEpoch, epoch)
			}
			got = query(v, "epochs", -1, epoch+3)
			if got.ErrorCode != 0 || got.EndOffset != -1 || (v >= 1 && got.LeaderEpoch != -1) {
				t.Errorf("future epoch: %+v, want -1/-1", got)
			}
			got = query(v, "nope", -1, epoch)
			checkErr(t, "unknown topic", got.ErrorCode, nil, kerr.UnknownTopicOrPartition)
			if v >= 2 {
				got = query(v, "epochs", epoch, epoch)
				checkErr(t, "matching current epoch", got.ErrorCode, nil, nil)
				got = query(v, "epochs", epoch+1, epoch)
				checkErr(t, "newer current epoch", got.ErrorCode, nil, kerr.UnknownLeaderEpoch)
			}
		})
	}

	t.Run("kadm", func(t *testing.T) {
		var req kadm.OffsetForLeaderEpochRequest
		req.Add("epochs", 0, epoch)
		resps, err := adm.OffsetForLeaderEpoch(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		r := resps["epochs"][0]
		if r.Err != nil || r.EndOffset != 5 || r.LeaderEpoch != epoch {
			t.Errorf("%+v, want end offset 5 in epoch %d", r, epoch)
		}
	})
}

func TestDescribeConfigs(t *testing.T) {
	srv := startServer(t, "log.segment.bytes=1048576", "log.retention.hours=48")
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	topicOverrides := map[string]string{"retention.ms": "1234", "cleanup.policy": "compact"}
	mustCreate(t, adm, 1, map[string]*string{"retention.ms": strp("1234"), "cleanup.policy": strp("compact")}, "described")

	t.Run("every topic config", func(t *testing.T) {
		rcs, err := adm.DescribeTopicConfigs(t.Context(), "described")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On("described", nil)
		if err != nil || rc.Err != nil {
			t.Fatalf("describe: %v %v", err, rc.Err)
		}
		want := config.DescribeTopic(srv.cfg, topicOverrides)
		got := map[string]kadm.Config{}
		for _, cfg := range rc.Configs {
			got[cfg.Key] = cfg
		}
		if len(got) != len(want) || len(want) < 20 {
			t.Errorf("%d configs described, want every topic config (%d)", len(got), len(want))
		}
		for _, e := range want {
			g, ok := got[e.Name]
			if !ok {
				t.Errorf("%s missing", e.Name)
				continue
			}
			if g.Source != kmsg.ConfigSource(e.Source) || g.Source == kmsg.ConfigSourceUnknown {
				t.Errorf("%s: source %v, want %v", e.Name, g.Source, e.Source)
			}
			if !e.Sensitive && !e.Null && (g.Value == nil || *g.Value != e.Value) {
				t.Errorf("%s: value %v, want %q", e.Name, g.Value, e.Value)
			}
			if len(g.Synonyms) != len(e.Synonyms) {
				t.Errorf("%s: %d synonyms, want %d", e.Name, len(g.Synonyms), len(e.Synonyms))
			}
		}
		for _, tc := range []struct {
			name, value string
			source      kmsg.ConfigSource
			synonyms    []kadm.ConfigSynonym
		}{
			{"retention.ms", "1234", kmsg.ConfigSourceDynamicTopicConfig, []kadm.ConfigSynonym{
				{Key: "retention.ms", Value: strp("1234"), Source: kmsg.ConfigSourceDynamicTopicConfig},
				{Key: "log.retention.hours", Value: strp("48"), Source: kmsg.ConfigSourceStaticBrokerConfig},
			}},
			{"segment.bytes", "1048576", kmsg.ConfigSourceStaticBrokerConfig, []kadm.ConfigSynonym{
				{Key: "log.segment.bytes", Value: strp("1048576"), Source: kmsg.ConfigSourceStaticBrokerConfig},
			}},
			{"max.message.bytes", "1048588", kmsg.ConfigSourceDefaultConfig, []kadm.ConfigSynonym{
				{Key: "message.max.bytes", Value: strp("1048588"), Source: kmsg.ConfigSourceDefaultConfig},
			}},
			{"cleanup.policy", "compact", kmsg.ConfigSourceDynamicTopicConfig, []kadm.ConfigSynonym{
				{Key: "cleanup.policy", Value: strp("compact"), Source: kmsg.ConfigSourceDynamicTopicConfig},
			}},
		} {
			g := got[tc.name]
			if g.Value == nil || *g.Value != tc.value || g.Source != tc.source {
				t.Errorf("%s = %v from %v, want %s from %v", tc.name, g.Value, g.Source, tc.value, tc.source)
			}
			// The listed synonyms come first, in this order.
			for i, want := range tc.synonyms {
				if i >= len(g.Synonyms) {
					t.Errorf("%s: synonyms %v, want %v first", tc.name, g.Synonyms, tc.synonyms)
					break
				}
				s := g.Synonyms[i]
				if s.Key != want.Key || s.Source != want.Source || s.Value == nil || *s.Value != *want.Value {
					t.Errorf("%s: synonym %d is %s=%v from %v, want %s=%s from %v", tc.name, i, s.Key, s.Value, s.Source, want.Key, *want.Value, want.Source)
				}
			}
		}
	})

	describe := func(v int16, synonyms, docs bool, resources ...kmsg.DescribeConfigsRequestResource) *kmsg.DescribeConfigsResponse {
		t.Helper()
		req := kmsg.NewPtrDescribeConfigsRequest()
		req.SetVersion(v)
		req.IncludeSynonyms, req.IncludeDocumentation = synonyms, docs
		req.Resources = resources
		resp := do[*kmsg.DescribeConfigsResponse](c, req)
		if len(resp.Resources) != len(resources) {
			t.Fatalf("%d resources answered, %d asked", len(resp.Resources), len(resources))
		}
		return resp
	}
	resource := func(typ kmsg.ConfigResourceType, name string, names ...string) kmsg.DescribeConfigsRequestResource {
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName, rr.ConfigNames = typ, name, names
		return rr
	}
	const topic, brokerType = kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker

	t.Run("config names", func(t *testing.T) {
		resp := describe(4, false, false, resource(topic, "described", "retention.ms", "no.such.config"))
		if cs := resp.Resources[0].Configs; len(cs) != 1 || cs[0].Name != "retention.ms" {
			t.Errorf("configs %+v, want retention.ms only", cs)
		}
		// An empty list asks for everything, as Kafka reads it.
		rr := resource(topic, "described")
		rr.ConfigNames = []string{}
		resp = describe(4, false, false, rr)
		if n := len(resp.Resources[0].Configs); n != len(config.DescribeTopic(srv.cfg, topicOverrides)) {
			t.Errorf("%d configs for an empty name list", n)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			rr   kmsg.DescribeConfigsRequestResource
			want *kerr.Error
		}{
			{"unknown topic", resource(topic, "nope"), kerr.UnknownTopicOrPartition},
			{"illegal topic name", resource(topic, "bad name"), kerr.InvalidTopicException},
			{"other broker", resource(brokerType, "2"), kerr.InvalidRequest},
			{"broker name not a number", resource(brokerType, "one"), kerr.InvalidRequest},
			{"broker logger", resource(kmsg.ConfigResourceTypeBrokerLogger, "1"), kerr.InvalidRequest},
			{"group", resource(kmsg.ConfigResourceTypeGroupConfig, "g"), kerr.InvalidRequest},
		} {
			for _, v := range []int16{0, 4} {
				resp := describe(v, true, true, tc.rr, resource(topic, "described"))
				got := resp.Resources[0]
				checkErr(t, fmt.Sprintf("%s v%d", tc.name, v), got.ErrorCode, got.ErrorMessage, tc.want)
				if len(got.Configs) != 0 || got.ResourceName != tc.rr.ResourceName || got.ResourceType != tc.rr.ResourceType {
					t.Errorf("%s: %+v", tc.name, got)
				}
				if ok := resp.Resources[1]; ok.ErrorCode != 0 || len(ok.Configs) == 0 {
					t.Errorf("%s: the other resource failed too", tc.name)
				}
			}
		}
	})

	t.Run("brokers", func(t *testing.T) {
		resp := describe(4, true, false, resource(brokerType, "1"), resource(brokerType, ""))
		node := resp.Resources[0]
		checkErr(t, "node", node.ErrorCode, node.ErrorMessage, nil)
		if len(node.Configs) != len(srv.cfg.Describe()) {
			t.Errorf("%d broker configs, want every one (%d)", len(node.Configs), len(srv.cfg.Describe()))
		}
		found := false
		for _, rc := range node.Configs {
			if rc.Name == "log.segment.bytes" {
				found = true
				if rc.Value == nil || *rc.Value != "1048576" || rc.Source != kmsg.ConfigSourceStaticBrokerConfig {
					t.Errorf("log.segment.bytes: %+v", rc)
				}
			}
			if rc.IsSensitive && rc.Value != nil {
				t.Errorf("%s is sensitive but has a value", rc.Name)
			}
		}
		if !found {
			t.Error("log.segment.bytes not described")
		}
		// The cluster default lists dynamic configs only; there are none.
		def := resp.Resources[1]
		checkErr(t, "cluster default", def.ErrorCode, def.ErrorMessage, nil)
		if len(def.Configs) != 0 {
			t.Errorf("cluster default lists %d configs, want none", len(def.Configs))
		}
	})

	t.Run("versions", func(t *testing.T) {
		for v := int16(0); v <= 4; v++ {
			for _, flags := range []struct{ synonyms, docs bool }{{false, false}, {true, true}} {
				resp := describe(v, flags.synonyms, flags.docs, resource(topic, "described", "retention.ms", "max.message.bytes"))
				configs := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
				for _, rc := range resp.Resources[0].Configs {
					configs[rc.Name] = rc
				}
				rm, mm := configs["retention.ms"], configs["max.message.bytes"]
				if rm.Value == nil || *rm.Value != "1234" || mm.Value == nil || *mm.Value != "1048588" {
					t.Errorf("v%d: values %v %v", v, rm.Value, mm.Value)
				}
				if v == 0 && (rm.IsDefault || !mm.IsDefault) {
					t.Errorf("v0: IsDefault %v for an override, %v for a default", rm.IsDefault, mm.IsDefault)
				}
				if v >= 1 && (rm.Source != kmsg.ConfigSourceDynamicTopicConfig || mm.Source != kmsg.ConfigSourceDefaultConfig) {
					t.Errorf("v%d: sources %v %v", v, rm.Source, mm.Source)
				}
				if wantSyn := v >= 1 && flags.synonyms; (len(rm.ConfigSynonyms) > 0) != wantSyn {
					t.Errorf("v%d synonyms=%v: %d synonyms", v, flags.synonyms, len(rm.ConfigSynonyms))
				}
				if v >= 3 {
					if rm.ConfigType != kmsg.ConfigTypeLong {
						t.Errorf("v%d: retention.ms type %v, want LONG", v, rm.ConfigType)
					}
					if wantDoc := flags.docs; (rm.Documentation != nil && *rm.Documentation != "") != wantDoc {
						t.Errorf("v%d docs=%v: documentation %v", v, flags.docs, rm.Documentation)
					}
				}
			}
		}
	})
}

// alterResource builds a legacy AlterConfigs resource.
func alterResource(typ kmsg.ConfigResourceType, name string, kv ...*string) kmsg.AlterConfigsRequestResource {
	rr := kmsg.NewAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName = typ, name
	for i := 0; i+1 < len(kv); i += 2 {
		rr.Configs = append(rr.Configs, kmsg.AlterConfigsRequestResourceConfig{Name: *kv[i], Value: kv[i+1]})
	}
	return rr
}

func TestAlterConfigs(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 1, map[string]*string{"retention.ms": strp("1000"), "segment.ms": strp("2000")}, "altered")
	const topic, brokerType = kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker
	alter := func(v int16, validateOnly bool, rs ...kmsg.AlterConfigsRequestResource) *kmsg.AlterConfigsResponse {
		t.Helper()
		req := kmsg.NewPtrAlterConfigsRequest()
		req.SetVersion(v)
		req.ValidateOnly = validateOnly
		req.Resources = rs
		resp := do[*kmsg.AlterConfigsResponse](c, req)
		if len(resp.Resources) != len(rs) {
			t.Fatalf("%d resources answered, %d asked", len(resp.Resources), len(rs))
		}
		return resp
	}

	t.Run("replace", func(t *testing.T) {
		resp := alter(2, false, alterResource(topic, "altered", strp("retention.ms"), strp("5000"), strp("cleanup.policy"), strp("compact")))
		checkErr(t, "alter", resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil)
		// segment.ms was not named, so its override is gone.
		want := map[string]string{"retention.ms": "5000", "cleanup.policy": "compact"}
		if got := overrides(t, c, "altered"); !maps.Equal(got, want) {
			t.Errorf("overrides %v, want %v", got, want)
		}
	})

	t.Run("validate only", func(t *testing.T) {
		before := overrides(t, c, "altered")
		resp := alter(1, true, alterResource(topic, "altered", strp("retention.ms"), strp("1")))
		checkErr(t, "validate", resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil)
		if got := overrides(t, c, "altered"); !maps.Equal(got, before) {
			t.Errorf("validate-only changed overrides from %v to %v", before, got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		before := overrides(t, c, "altered")
		for _, tc := range []struct {
			name     string
			rr       kmsg.AlterConfigsRequestResource
			want     *kerr.Error
			mentions []string
		}{
			{"unknown key", alterResource(topic, "altered", strp("retention.mss"), strp("1")), kerr.InvalidConfig, []string{"retention.mss"}},
			{"broker key on a topic", alterResource(topic, "altered", strp("log.retention.ms"), strp("1")), kerr.InvalidConfig, []string{"log.retention.ms"}},
			{"bad value", alterResource(topic, "altered", strp("retention.ms"), strp("ten")), kerr.InvalidConfig, []string{"retention.ms"}},
			{"bad enum value", alterResource(topic, "altered", strp("cleanup.policy"), strp("shred")), kerr.InvalidConfig, []string{"cleanup.policy"}},
			{"null value", alterResource(topic, "altered", strp("retention.ms"), nil), kerr.InvalidRequest, []string{"retention.ms"}},
			{"duplicate key", alterResource(topic, "altered", strp("retention.ms"), strp("1"), strp("retention.ms"), strp("2")), kerr.InvalidRequest, []string{"duplicate"}},
			{"unknown topic", alterResource(topic, "nope", strp("retention.ms"), strp("1")), kerr.UnknownTopicOrPartition, nil},
			{"unknown broker key", alterResource(brokerType, "1", strp("no.such.config"), strp("1")), kerr.InvalidConfig, []string{"no.such.config"}},
			{"read-only broker config", alterResource(brokerType, "1", strp("log.dirs"), strp("/tmp")), kerr.InvalidConfig, []string{"log.dirs"}},
			{"other broker", alterResource(brokerType, "2", strp("log.retention.ms"), strp("1")), kerr.InvalidRequest, []string{"2"}},
			{"cluster default", alterResource(brokerType, "", strp("log.retention.ms"), strp("1")), kerr.InvalidRequest, nil},
			{"broker logger", alterResource(kmsg.ConfigResourceTypeBrokerLogger, "1", strp("root"), strp("INFO")), kerr.InvalidRequest, nil},
		} {
			for _, v := range []int16{0, 2} {
				for _, validateOnly := range []bool{false, true} {
					resp := alter(v, validateOnly, tc.rr)
					got := resp.Resources[0]
					checkErr(t, fmt.Sprintf("%s v%d validateOnly=%v", tc.name, v, validateOnly), got.ErrorCode, got.ErrorMessage, tc.want, tc.mentions...)
					if got.ResourceName != tc.rr.ResourceName || got.ResourceType != tc.rr.ResourceType {
						t.Errorf("%s: answered for %v %q", tc.name, got.ResourceType, got.ResourceName)
					}
				}
			}
		}
		if got := overrides(t, c, "altered"); !maps.Equal(got, before) {
			t.Errorf("failed requests changed overrides from %v to %v", before, got)
		}
	})

	t.Run("duplicate resource", func(t *testing.T) {
		mustCreate(t, adm, 1, nil, "other")
		rr := alterResource(topic, "altered", strp("retention.ms"), strp("7"))
		resp := alter(2, false, rr, alterResource(topic, "other", strp("retention.ms"), strp("8")), rr)
		for _, i := range []int{0, 2} {
			checkErr(t, "duplicate", resp.Resources[i].ErrorCode, resp.Resources[i].ErrorMessage, kerr.InvalidRequest, "at most once")
		}
		checkErr(t, "other", resp.Resources[1].ErrorCode, resp.Resources[1].ErrorMessage, nil)
		if got := overrides(t, c, "other"); got["retention.ms"] != "8" {
			t.Errorf("other: %v", got)
		}
		if got := overrides(t, c, "altered"); got["retention.ms"] == "7" {
			t.Error("a duplicated resource was altered")
		}
	})

	t.Run("kadm state", func(t *testing.T) {
		resps, err := adm.AlterTopicConfigsState(t.Context(), []kadm.AlterConfig{{Name: "segment.ms", Value: strp("60000")}}, "altered")
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := resps.On("altered", nil); r.Err != nil {
			t.Fatal(r.Err)
		}
		if got := overrides(t, c, "altered"); !maps.Equal(got, map[string]string{"segment.ms": "60000"}) {
			t.Errorf("overrides %v, want segment.ms only", got)
		}
	})
}

func TestIncrementalAlterConfigs(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 1, map[string]*string{"retention.ms": strp("1000")}, "incr")
	const topic, brokerType = kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker
	type op = kmsg.IncrementalAlterConfigsRequestResourceConfig
	set := func(k, v string) op { return op{Name: k, Op: kmsg.IncrementalAlterConfigOpSet, Value: &v} }
	del := func(k string) op { return op{Name: k, Op: kmsg.IncrementalAlterConfigOpDelete} }
	appendOp := func(k, v string) op { return op{Name: k, Op: kmsg.IncrementalAlterConfigOpAppend, Value: &v} }
	subtract := func(k, v string) op { return op{Name: k, Op: kmsg.IncrementalAlterConfigOpSubtract, Value: &v} }
	resource := func(typ kmsg.ConfigResourceType, name string, ops ...op) kmsg.IncrementalAlterConfigsRequestResource {
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName, rr.Configs = typ, name, ops
		return rr
	}
	alter := func(v int16, validateOnly bool, rs ...kmsg.IncrementalAlterConfigsRequestResource) *kmsg.IncrementalAlterConfigsResponse {
		t.Helper()
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		req.SetVersion(v)
		req.ValidateOnly = validateOnly
		req.Resources = rs
		resp := do[*kmsg.IncrementalAlterConfigsResponse](c, req)
		if len(resp.Resources) != len(rs) {
			t.Fatalf("%d resources answered, %d asked", len(resp.Resources), len(rs))
		}
		return resp
	}

	for _, tc := range []struct {
		name string
		ops  []op
		want map[string]string
	}{
		{"set and delete", []op{set("segment.ms", "5000"), del("retention.ms")}, map[string]string{"segment.ms": "5000"}},
		{"append to the default", []op{appendOp("cleanup.policy", "compact")}, map[string]string{"segment.ms": "5000", "cleanup.policy": "delete,compact"}},
		{"subtract", []op{subtract("cleanup.policy", "delete")}, map[string]string{"segment.ms": "5000", "cleanup.policy": "compact"}},
		{"append an item present", []op{appendOp("cleanup.policy", "compact")}, map[string]string{"segment.ms": "5000", "cleanup.policy": "compact"}},
		{"delete what is not set", []op{del("retention.bytes")}, map[string]string{"segment.ms": "5000", "cleanup.policy": "compact"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := alter(1, false, resource(topic, "incr", tc.ops...))
			checkErr(t, tc.name, resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil)
			if got := overrides(t, c, "incr"); !maps.Equal(got, tc.want) {
				t.Errorf("overrides %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("validate only", func(t *testing.T) {
		before := overrides(t, c, "incr")
		resp := alter(0, true, resource(topic, "incr", set("retention.ms", "1"), del("segment.ms")))
		checkErr(t, "validate", resp.Resources[0].ErrorCode, resp.Resources[0].ErrorMessage, nil)
		if got := overrides(t, c, "incr"); !maps.Equal(got, before) {
			t.Errorf("validate-only changed overrides from %v to %v", before, got)
		}
	})

	t.Run("errors", func(t *testing.T) {
		before := overrides(t, c, "incr")
		for _, tc := range []struct {
			name     string
			rr       kmsg.IncrementalAlterConfigsRequestResource
			want     *kerr.Error
			mentions []string
		}{
			{"unknown key", resource(topic, "incr", set("retention.mss", "1")), kerr.InvalidConfig, []string{"retention.mss"}},
			{"unknown key deleted", resource(topic, "incr", del("retention.mss")), kerr.InvalidConfig, []string{"retention.mss"}},
			{"bad value", resource(topic, "incr", set("segment.ms", "-")), kerr.InvalidConfig, []string{"segment.ms"}},
			{"append to a non-list", resource(topic, "incr", appendOp("retention.ms", "1")), kerr.InvalidConfig, []string{"retention.ms"}},
			{"subtract from a non-list", resource(topic, "incr", subtract("segment.ms", "1")), kerr.InvalidConfig, []string{"segment.ms"}},
			{"append a bad item", resource(topic, "incr", appendOp("cleanup.policy", "shred")), kerr.InvalidConfig, []string{"cleanup.policy"}},
			{"unknown operation", resource(topic, "incr", op{Name: "retention.ms", Op: 9, Value: strp("1")}), kerr.InvalidRequest, nil},
			{"set null", resource(topic, "incr", op{Name: "retention.ms", Op: kmsg.IncrementalAlterConfigOpSet}), kerr.InvalidRequest, []string{"retention.ms"}},
			{"duplicate key", resource(topic, "incr", set("retention.ms", "1"), del("retention.ms")), kerr.InvalidRequest, nil},
			{"unknown topic", resource(topic, "nope", set("retention.ms", "1")), kerr.UnknownTopicOrPartition, nil},
			{"read-only broker config", resource(brokerType, "1", set("log.dirs", "/tmp")), kerr.InvalidConfig, []string{"log.dirs"}},
			{"read-only cluster default", resource(brokerType, "", set("log.dirs", "/tmp")), kerr.InvalidConfig, []string{"log.dirs"}},
			{"unknown broker key", resource(brokerType, "", set("no.such.config", "1")), kerr.InvalidConfig, []string{"no.such.config"}},
			{"other broker", resource(brokerType, "3", set("log.retention.ms", "1")), kerr.InvalidRequest, nil},
			{"client metrics", resource(kmsg.ConfigResourceTypeClientMetrics, "m", set("interval.ms", "1")), kerr.InvalidRequest, nil},
		} {
			for _, v := range []int16{0, 1} {
				resp := alter(v, false, tc.rr)
				got := resp.Resources[0]
				checkErr(t, fmt.Sprintf("%s v%d", tc.name, v), got.ErrorCode, got.ErrorMessage, tc.want, tc.mentions...)
			}
		}
		if got := overrides(t, c, "incr"); !maps.Equal(got, before) {
			t.Errorf("failed requests changed overrides from %v to %v", before, got)
		}
	})

	t.Run("kadm", func(t *testing.T) {
		resps, err := adm.AlterTopicConfigs(t.Context(), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.bytes", Value: strp("4096")}}, "incr")
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := resps.On("incr", nil); r.Err != nil {
			t.Fatal(r.Err)
		}
		if got := overrides(t, c, "incr"); got["retention.bytes"] != "4096" || got["segment.ms"] != "5000" {
			t.Errorf("overrides %v, want retention.bytes added and the others kept", got)
		}
	})
}

func TestCreatePartitions(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 1, nil, "grow")
	partitions := func(topic string) int {
		t.Helper()
		mt := topicMeta(t, c, topic)
		if mt == nil {
			t.Fatalf("%s does not exist", topic)
		}
		return len(mt.Partitions)
	}

	resps, err := adm.UpdatePartitions(t.Context(), 3, "grow")
	if err != nil || resps.Error() != nil {
		t.Fatalf("grow to 3: %v %v", err, resps.Error())
	}
	if n := partitions("grow"); n != 3 {
		t.Fatalf("%d partitions after growing to 3", n)
	}
	// A client that loads the topic's metadata now sees the new partitions.
	producer, _ := srv.clients(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce(t, producer, "grow", 2, "into the new partition")
	offs, err := adm.ListEndOffsets(t.Context(), "grow")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("grow", 2); o.Err != nil || o.Offset != 1 {
		t.Errorf("new partition's end offset %+v, want 1", o)
	}

	resps, err = adm.ValidateUpdatePartitions(t.Context(), 5, "grow")
	if err != nil || resps.Error() != nil {
		t.Fatalf("validate growing to 5: %v %v", err, resps.Error())
	}
	if n := partitions("grow"); n != 3 {
		t.Fatalf("validate-only changed the partition count to %d", n)
	}

	type topicReq = kmsg.CreatePartitionsRequestTopic
	grow := func(topic string, count int32, assignment ...[]int32) topicReq {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, count
		for _, a := range assignment {
			rt.Assignment = append(rt.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: a})
		}
		return rt
	}
	emptyAssignment := grow("grow", 4)
	emptyAssignment.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{}
	for _, tc := range []struct {
		name   string
		topics []topicReq
		want   []*kerr.Error
	}{
		{"same count", []topicReq{grow("grow", 3)}, []*kerr.Error{kerr.InvalidPartitions}},
		{"fewer", []topicReq{grow("grow", 1)}, []*kerr.Error{kerr.InvalidPartitions}},
		{"unknown topic", []topicReq{grow("nope", 4)}, []*kerr.Error{kerr.UnknownTopicOrPartition}},
		{"unknown broker", []topicReq{grow("grow", 4, []int32{7})}, []*kerr.Error{kerr.InvalidReplicaAssignment}},
		{"too many assignments", []topicReq{grow("grow", 4, []int32{1}, []int32{1})}, []*kerr.Error{kerr.InvalidReplicaAssignment}},
		{"wrong replication factor", []topicReq{grow("grow", 4, []int32{1, 1})}, []*kerr.Error{kerr.InvalidReplicaAssignment}},
		{"empty assignment", []topicReq{emptyAssignment}, []*kerr.Error{kerr.InvalidReplicaAssignment}},
		{"duplicate topic", []topicReq{grow("grow", 4), grow("grow", 5)}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}},
		{"too many partitions", []topicReq{grow("grow", 20000)}, []*kerr.Error{kerr.PolicyViolation}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for v := int16(0); v <= 3; v++ {
				req := kmsg.NewPtrCreatePartitionsRequest()
				req.SetVersion(v)
				req.Topics = tc.topics
				resp := do[*kmsg.CreatePartitionsResponse](c, req)
				if len(resp.Topics) != len(tc.want) {
					t.Fatalf("v%d: %d results for %d topics", v, len(resp.Topics), len(tc.want))
				}
				for i, got := range resp.Topics {
					checkErr(t, fmt.Sprintf("v%d %s", v, got.Topic), got.ErrorCode, got.ErrorMessage, tc.want[i])
					if got.ErrorMessage == nil || *got.ErrorMessage == "" {
						t.Errorf("v%d: error without a message", v)
					}
				}
			}
			if n := partitions("grow"); n != 3 {
				t.Fatalf("a failed request changed the partition count to %d", n)
			}
		})
	}

	t.Run("assignment and versions", func(t *testing.T) {
		for v := int16(0); v <= 3; v++ {
			req := kmsg.NewPtrCreatePartitionsRequest()
			req.SetVersion(v)
			req.Topics = []topicReq{grow("grow", int32(4+v), []int32{1})}
			resp := do[*kmsg.CreatePartitionsResponse](c, req)
			checkErr(t, fmt.Sprintf("v%d", v), resp.Topics[0].ErrorCode, resp.Topics[0].ErrorMessage, nil)
			if n := partitions("grow"); n != int(4+v) {
				t.Fatalf("v%d: %d partitions, want %d", v, n, 4+v)
			}
		}
	})
}

func TestDescribeLogDirs(t *testing.T) {
	srv := startServer(t)
	cl, adm := srv.clients(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	c := dialRaw(t, srv.addr)
	mustCreate(t, adm, 2, nil, "sized")
	mustCreate(t, adm, 1, nil, "empty")
	produce(t, cl, "sized", 1, strings.Repeat("x", 1000), strings.Repeat("y", 1000))
	dir, err := filepath.Abs(srv.logDir)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("kadm", func(t *testing.T) {
		all, err := adm.DescribeAllLogDirs(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		dirs, ok := all[1]
		if !ok || len(dirs) != 1 {
			t.Fatalf("log dirs %+v, want one dir on broker 1", all)
		}
		d, ok := dirs[dir]
		if !ok || d.Err != nil {
			t.Fatalf("dir %s missing or failed: %+v", dir, dirs)
		}
		if p := d.Topics["sized"][1]; p.Size < 2000 {
			t.Errorf("sized-1 is %d bytes, want at least the 2000 bytes produced", p.Size)
		}
		if _, ok := d.Topics["empty"][0]; !ok {
			t.Error("empty-0 not listed")
		}
	})

	describe := func(v int16, topics []kmsg.DescribeLogDirsRequestTopic) *kmsg.DescribeLogDirsResponse {
		t.Helper()
		req := kmsg.NewPtrDescribeLogDirsRequest()
		req.SetVersion(v)
		req.Topics = topics
		return do[*kmsg.DescribeLogDirsResponse](c, req)
	}
	listed := func(resp *kmsg.DescribeLogDirsResponse) []string {
		var out []string
		for _, d := range resp.Dirs {
			for _, tp := range d.Topics {
				for _, p := range tp.Partitions {
					out = append(out, fmt.Sprintf("%s-%d", tp.Topic, p.Partition))
				}
			}
		}
		return out
	}
	for v := int16(0); v <= 4; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			resp := describe(v, nil)
			if len(resp.Dirs) != 1 || resp.Dirs[0].Dir != dir || resp.Dirs[0].ErrorCode != 0 || resp.ErrorCode != 0 {
				t.Fatalf("dirs %+v, want %s", resp.Dirs, dir)
			}
			if got := listed(resp); !slices.Equal(got, []string{"empty-0", "sized-0", "sized-1"}) {
				t.Errorf("all partitions: %v", got)
			}
			for _, tp := range resp.Dirs[0].Topics {
				for _, p := range tp.Partitions {
					if p.OffsetLag != 0 || p.IsFuture {
						t.Errorf("%s-%d: lag %d future %v", tp.Topic, p.Partition, p.OffsetLag, p.IsFuture)
					}
				}
			}
			d := resp.Dirs[0]
			if v >= 4 && (d.TotalBytes <= 0 || d.UsableBytes < 0 || d.UsableBytes > d.TotalBytes) {
				t.Errorf("volume total %d usable %d", d.TotalBytes, d.UsableBytes)
			}
			resp = describe(v, []kmsg.DescribeLogDirsRequestTopic{{Topic: "sized", Partitions: []int32{1, 7}}, {Topic: "nope", Partitions: []int32{0}}})
			if got := listed(resp); !slices.Equal(got, []string{"sized-1"}) {
				t.Errorf("sized-1, sized-7, nope-0 asked: %v listed", got)
			}
			resp = describe(v, []kmsg.DescribeLogDirsRequestTopic{})
			if got := listed(resp); len(got) != 0 || len(resp.Dirs) != 1 {
				t.Errorf("no topics asked: %d dirs, %v listed", len(resp.Dirs), got)
			}
		})
	}
}

func TestDescribeCluster(t *testing.T) {
	srv := startServer(t)
	_, adm := srv.clients(t)
	c := dialRaw(t, srv.addr)
	meta, err := adm.BrokerMetadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(srv.addr)
	port, _ := strconv.Atoi(portStr)

	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.SetVersion(v)
		resp := do[*kmsg.DescribeClusterResponse](c, req)
		checkErr(t, fmt.Sprintf("v%d", v), resp.ErrorCode, resp.ErrorMessage, nil)
		if resp.ClusterID == "" || resp.ClusterID != meta.Cluster || resp.ControllerID != 1 {
			t.Errorf("v%d: cluster %q controller %d, want %q and 1", v, resp.ClusterID, resp.ControllerID, meta.Cluster)
		}
		if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 1 || resp.Brokers[0].Host != host || resp.Brokers[0].Port != int32(port) {
			t.Errorf("v%d: brokers %+v, want node 1 at %s", v, resp.Brokers, srv.addr)
		}
		if resp.ClusterAuthorizedOperations != -2147483648 {
			t.Errorf("v%d: authorized operations %d", v, resp.ClusterAuthorizedOperations)
		}
		if v >= 1 && resp.EndpointType != 1 {
			t.Errorf("v%d: endpoint type %d", v, resp.EndpointType)
		}
	}
	for _, tc := range []struct {
		endpointType int8
		want         *kerr.Error
		mention      string
	}{
		{2, kerr.MismatchedEndpointType, "CONTROLLER"},
		{3, kerr.UnsupportedEndpointType, "3"},
		{0, kerr.UnsupportedEndpointType, "0"},
	} {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.SetVersion(1)
		req.EndpointType = tc.endpointType
		resp := do[*kmsg.DescribeClusterResponse](c, req)
		checkErr(t, fmt.Sprintf("endpoint type %d", tc.endpointType), resp.ErrorCode, resp.ErrorMessage, tc.want, tc.mention)
		if resp.ClusterID != "" || len(resp.Brokers) != 0 {
			t.Errorf("endpoint type %d: a refusal carries cluster data", tc.endpointType)
		}
	}
}

// fuzzBytes turns fuzz input into request fields. Names and values are
// drawn mostly from small vocabularies of real and near-miss topics and
// configs, so inputs reach the handlers' checks, and sometimes taken raw.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) byte() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzBytes) int32() int32 {
	switch c := f.byte(); c % 8 {
	case 0:
		return -1
	case 1:
		return 0
	case 2:
		return 1
	case 3:
		return int32(binary.BigEndian.Uint32([]byte{f.byte(), f.byte(), f.byte(), f.byte()}))
	default:
		return int32(c) - 64
	}
}

func (f *fuzzBytes) int64() int64 { return int64(f.int32()) }

func (f *fuzzBytes) count() int { return int(f.byte() % 4) }

func (f *fuzzBytes) pick(vocab ...string) string {
	c := f.byte()
	if int(c) < len(vocab) {
		return vocab[c]
	}
	if c%3 == 0 {
		n := int(f.byte() % 16)
		out := make([]byte, 0, n)
		for range n {
			out = append(out, f.byte())
		}
		return string(out)
	}
	return vocab[int(c)%len(vocab)]
}

func (f *fuzzBytes) topic() string {
	return f.pick("fuzzed", "nope", "", "bad name", "__consumer_offsets", "__cluster_metadata", "fuzzed-2")
}

func (f *fuzzBytes) configName() string {
	return f.pick("retention.ms", "cleanup.policy", "segment.bytes", "max.message.bytes", "log.retention.ms", "log.dirs", "no.such.config")
}

func (f *fuzzBytes) value() *string {
	if f.byte()%5 == 0 {
		return nil
	}
	v := f.pick("1", "-1", "1000", "compact", "delete,compact", "abc", "", "9223372036854775808")
	return &v
}

func (f *fuzzBytes) resource() (kmsg.ConfigResourceType, string) {
	types := []kmsg.ConfigResourceType{2, 4, 8, 16, 32, 0}
	typ := types[int(f.byte())%len(types)]
	if typ == kmsg.ConfigResourceTypeBroker {
		return typ, f.pick("1", "", "2", "x")
	}
	return typ, f.topic()
}

func (f *fuzzBytes) partitions() []int32 {
	out := []int32{}
	for range f.count() {
		out = append(out, f.int32())
	}
	return out
}

// request builds a request of key from the input. Creations and config
// changes are validate-only, so inputs cannot fill the disk. It returns
// the number of results the response must hold (-1: not countable).
func (f *fuzzBytes) request(key int16) (kmsg.Request, int) {
	switch key {
	case 19:
		r := kmsg.NewPtrCreateTopicsRequest()
		r.ValidateOnly = true
		for range f.count() {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = f.topic(), f.int32(), int16(f.int32())
			for range f.count() {
				rt.ReplicaAssignment = append(rt.ReplicaAssignment, kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: f.int32(), Replicas: f.partitions()})
			}
			for range f.count() {
				rt.Configs = append(rt.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: f.configName(), Value: f.value()})
			}
			r.Topics = append(r.Topics, rt)
		}
		return r, len(r.Topics)
	case 20:
		r := kmsg.NewPtrDeleteTopicsRequest()
		for range f.count() {
			tp := kmsg.NewDeleteTopicsRequestTopic()
			switch f.byte() % 3 {
			case 0:
				n := f.topic()
				tp.Topic = &n
				r.TopicNames = append(r.TopicNames, n)
			case 1:
				tp.TopicID = uuid.UUID{f.byte(), f.byte()}
				r.TopicNames = append(r.TopicNames, "nope")
			}
			r.Topics = append(r.Topics, tp)
		}
		return r, len(r.Topics)
	case 21:
		r := kmsg.NewPtrDeleteRecordsRequest()
		for range f.count() {
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = f.topic()
			for _, p := range f.partitions() {
				rt.Partitions = append(rt.Partitions, kmsg.DeleteRecordsRequestTopicPartition{Partition: p, Offset: f.int64()})
			}
			r.Topics = append(r.Topics, rt)
		}
		return r, len(r.Topics)
	case 23:
		r := kmsg.NewPtrOffsetForLeaderEpochRequest()
		r.ReplicaID = f.int32()
		for range f.count() {
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = f.topic()
			for _, p := range f.partitions() {
				rt.Partitions = append(rt.Partitions, kmsg.OffsetForLeaderEpochRequestTopicPartition{Partition: p, CurrentLeaderEpoch: f.int32(), LeaderEpoch: f.int32()})
			}
			r.Topics = append(r.Topics, rt)
		}
		return r, len(r.Topics)
	case 32:
		r := kmsg.NewPtrDescribeConfigsRequest()
		r.IncludeSynonyms, r.IncludeDocumentation = f.byte()%2 == 0, f.byte()%2 == 0
		for range f.count() {
			rr := kmsg.NewDescribeConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = f.resource()
			if f.byte()%2 == 0 {
				rr.ConfigNames = []string{}
				for range f.count() {
					rr.ConfigNames = append(rr.ConfigNames, f.configName())
				}
			}
			r.Resources = append(r.Resources, rr)
		}
		return r, len(r.Resources)
	case 33:
		r := kmsg.NewPtrAlterConfigsRequest()
		r.ValidateOnly = true
		for range f.count() {
			rr := kmsg.NewAlterConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = f.resource()
			for range f.count() {
				rr.Configs = append(rr.Configs, kmsg.AlterConfigsRequestResourceConfig{Name: f.configName(), Value: f.value()})
			}
			r.Resources = append(r.Resources, rr)
		}
		return r, len(r.Resources)
	case 35:
		r := kmsg.NewPtrDescribeLogDirsRequest()
		if f.byte()%2 == 0 {
			r.Topics = []kmsg.DescribeLogDirsRequestTopic{}
			for range f.count() {
				r.Topics = append(r.Topics, kmsg.DescribeLogDirsRequestTopic{Topic: f.topic(), Partitions: f.partitions()})
			}
		}
		return r, -1
	case 37:
		r := kmsg.NewPtrCreatePartitionsRequest()
		r.ValidateOnly = true
		for range f.count() {
			rt := kmsg.NewCreatePartitionsRequestTopic()
			rt.Topic, rt.Count = f.topic(), f.int32()
			if f.byte()%2 == 0 {
				rt.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{}
				for range f.count() {
					rt.Assignment = append(rt.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: f.partitions()})
				}
			}
			r.Topics = append(r.Topics, rt)
		}
		return r, len(r.Topics)
	case 44:
		r := kmsg.NewPtrIncrementalAlterConfigsRequest()
		r.ValidateOnly = true
		for range f.count() {
			rr := kmsg.NewIncrementalAlterConfigsRequestResource()
			rr.ResourceType, rr.ResourceName = f.resource()
			for range f.count() {
				rr.Configs = append(rr.Configs, kmsg.IncrementalAlterConfigsRequestResourceConfig{
					Name: f.configName(), Op: kmsg.IncrementalAlterConfigOp(f.byte() % 5), Value: f.value(),
				})
			}
			r.Resources = append(r.Resources, rr)
		}
		return r, len(r.Resources)
	default:
		r := kmsg.NewPtrDescribeClusterRequest()
		r.IncludeClusterAuthorizedOperations = f.byte()%2 == 0
		r.EndpointType = int8(f.byte() % 4)
		return r, -1
	}
}

// results counts the results of a response with one per entry asked.
func results(resp kmsg.Response) int {
	switch r := resp.(type) {
	case *kmsg.CreateTopicsResponse:
		return len(r.Topics)
	case *kmsg.DeleteTopicsResponse:
		return len(r.Topics)
	case *kmsg.DeleteRecordsResponse:
		return len(r.Topics)
	case *kmsg.OffsetForLeaderEpochResponse:
		return len(r.Topics)
	case *kmsg.DescribeConfigsResponse:
		return len(r.Resources)
	case *kmsg.AlterConfigsResponse:
		return len(r.Resources)
	case *kmsg.CreatePartitionsResponse:
		return len(r.Topics)
	case *kmsg.IncrementalAlterConfigsResponse:
		return len(r.Resources)
	}
	return -1
}

// adminVersions are the versions of the admin APIs served, by key.
var adminVersions = []struct{ key, min, max int16 }{
	{19, 0, 7}, {20, 0, 6}, {21, 0, 2}, {23, 0, 4}, {32, 0, 4},
	{33, 0, 2}, {35, 0, 4}, {37, 0, 3}, {44, 0, 1}, {60, 0, 1},
}

// FuzzAdminRequests sends the admin APIs requests built from the input, at
// every version, and checks that each is answered with a well-formed
// response holding one result per entry asked about, and no
// UNKNOWN_SERVER_ERROR (a bad request has its own error code).
func FuzzAdminRequests(f *testing.F) {
	srv := startServer(f)
	mustCreateTB(f, srv, "fuzzed")
	c := dialRaw(f, srv.addr)
	f.Fuzz(func(t *testing.T, which uint8, version int16, input []byte) {
		av := adminVersions[int(which)%len(adminVersions)]
		fb := &fuzzBytes{b: input}
		req, want := fb.request(av.key)
		v := av.min + int16(uint16(version)%uint16(av.max-av.min+1))
		req.SetVersion(v)
		if dt, ok := req.(*kmsg.DeleteTopicsRequest); ok {
			// Each version carries one of the two lists.
			if v < 6 {
				dt.Topics, want = nil, len(dt.TopicNames)
			} else {
				dt.TopicNames = nil
			}
		}
		resp, err := c.try(req)
		if err != nil {
			t.Fatalf("%s v%d: %v", kmsg.NameForKey(av.key), v, err)
		}
		if got := results(resp); got != want {
			t.Fatalf("%s v%d: %d results for %d entries", kmsg.NameForKey(av.key), v, got, want)
		}
		if slices.Contains(allErrorCodes(reflect.ValueOf(resp), nil), kerr.UnknownServerError.Code) {
			t.Fatalf("%s v%d: UNKNOWN_SERVER_ERROR in %+v", kmsg.NameForKey(av.key), v, resp)
		}
	})
}

// allErrorCodes appends every ErrorCode field found in v, at any depth.
func allErrorCodes(v reflect.Value, codes []int16) []int16 {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			codes = allErrorCodes(v.Elem(), codes)
		}
	case reflect.Slice:
		for i := range v.Len() {
			codes = allErrorCodes(v.Index(i), codes)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 {
				codes = append(codes, int16(v.Field(i).Int()))
			} else if f.IsExported() {
				codes = allErrorCodes(v.Field(i), codes)
			}
		}
	}
	return codes
}

// mustCreateTB creates a one-partition topic through a raw request.
func mustCreateTB(tb testing.TB, srv testServer, topic string) {
	tb.Helper()
	c := dialRaw(tb, srv.addr)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(7)
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, rt)
	if resp := do[*kmsg.CreateTopicsResponse](c, req); resp.Topics[0].ErrorCode != 0 {
		tb.Fatalf("create %s: %s", topic, codeName(resp.Topics[0].ErrorCode))
	}
}
