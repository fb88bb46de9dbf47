package group

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// unhex decodes hex written with spaces and | between fields.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordGoldenBytes pins the byte layout of each record Runnel writes
// to Kafka's, field by field.
func TestRecordGoldenBytes(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"offset key v1", OffsetKey("g1", "t", 3).AppendTo(nil),
			"0001 | 0002 6731 | 0001 74 | 00000003"},
		{"group key v2", GroupKey("g1").AppendTo(nil),
			"0002 | 0002 6731"},
		{"offset value v3", OffsetValue{Version: 3, Offset: 42, LeaderEpoch: 7, Metadata: "m", CommitTimestamp: 1000}.AppendTo(nil),
			"0003 | 000000000000002a | 00000007 | 0001 6d | 00000000000003e8"},
		{"offset value v1", OffsetValue{Version: 1, Offset: 42, Metadata: "", CommitTimestamp: 1000, ExpireTimestamp: 2000}.AppendTo(nil),
			"0001 | 000000000000002a | 0000 | 00000000000003e8 | 00000000000007d0"},
		{"offset value v4", OffsetValue{Version: 4, Offset: 1, LeaderEpoch: -1, Metadata: "ab", CommitTimestamp: 2}.AppendTo(nil),
			"0004 | 0000000000000001 | ffffffff | 03 6162 | 0000000000000002 | 00"},
		{"group value v3", GroupValue{
			Version: 3, ProtocolType: "consumer", Generation: 5, Protocol: "range", Leader: "m1",
			CurrentStateTimestamp: 1000,
			Members: []MemberValue{{
				MemberID: "m1", InstanceID: "", ClientID: "c", ClientHost: "/h",
				RebalanceTimeout: 60000, SessionTimeout: 45000, Subscription: []byte{1, 2}, Assignment: []byte{3},
			}},
		}.AppendTo(nil),
			"0003 | 0008 636f6e73756d6572 | 00000005 | 0005 72616e6765 | 0002 6d31 | 00000000000003e8 | 00000001 |" +
				"0002 6d31 | ffff | 0001 63 | 0002 2f68 | 0000ea60 | 0000afc8 | 00000002 0102 | 00000001 03"},
		{"empty group value v3", GroupValue{Version: 3, ProtocolType: "consumer", Generation: 2, CurrentStateTimestamp: -1}.AppendTo(nil),
			"0003 | 0008 636f6e73756d6572 | 00000002 | ffff | ffff | ffffffffffffffff | 00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := unhex(t, tt.want); !bytes.Equal(tt.got, want) {
				t.Fatalf("encoded\n%x\nwant\n%x", tt.got, want)
			}
		})
	}
}

// TestRecordsAgainstKmsg checks every version against franz-go's kmsg
// codecs, which are generated from Kafka's own record definitions: bytes
// Runnel writes decode there to the same fields, and bytes written there
// decode here.
func TestRecordsAgainstKmsg(t *testing.T) {
	t.Run("keys", func(t *testing.T) {
		for _, v := range []int16{0, 1} {
			k := RecordKey{Version: v, Group: "grp", Topic: "topic", Partition: 9}
			var km kmsg.OffsetCommitKey
			if err := km.ReadFrom(k.AppendTo(nil)); err != nil {
				t.Fatal(err)
			}
			if km.Version != v || km.Group != "grp" || km.Topic != "topic" || km.Partition != 9 {
				t.Fatalf("kmsg read %+v", km)
			}
			back, err := ParseKey(km.AppendTo(nil))
			if err != nil || back != k {
				t.Fatalf("parsed %+v, %v; want %+v", back, err, k)
			}
		}
		gk := kmsg.GroupMetadataKey{Version: 2, Group: "grp"}
		back, err := ParseKey(gk.AppendTo(nil))
		if err != nil || back != GroupKey("grp") || back.IsOffset() {
			t.Fatalf("parsed %+v, %v", back, err)
		}
	})
	t.Run("offset values", func(t *testing.T) {
		for v := int16(0); v <= 4; v++ {
			ov := OffsetValue{Version: v, Offset: 1 << 40, LeaderEpoch: -1, Metadata: "meta\x00data", CommitTimestamp: 1700000000000, ExpireTimestamp: -1}
			if v >= 3 {
				ov.LeaderEpoch = 12
			}
			if v == 1 {
				ov.ExpireTimestamp = 1800000000000
			}
			var km kmsg.OffsetCommitValue
			if err := km.ReadFrom(ov.AppendTo(nil)); err != nil {
				t.Fatalf("v%d: kmsg: %v", v, err)
			}
			if km.Offset != ov.Offset || km.Metadata != ov.Metadata || km.CommitTimestamp != ov.CommitTimestamp ||
				v >= 3 && km.LeaderEpoch != ov.LeaderEpoch || v == 1 && km.ExpireTimestamp != ov.ExpireTimestamp {
				t.Fatalf("v%d: kmsg read %+v from %+v", v, km, ov)
			}
			back, err := ParseOffsetValue(km.AppendTo(nil))
			if err != nil || back != ov {
				t.Fatalf("v%d: parsed %+v, %v; want %+v", v, back, err, ov)
			}
		}
	})
	t.Run("group values", func(t *testing.T) {
		for v := int16(0); v <= 4; v++ {
			gv := GroupValue{
				Version: v, ProtocolType: "consumer", Generation: 3, Protocol: "cooperative-sticky", Leader: "a-1",
				CurrentStateTimestamp: -1,
				Members: []MemberValue{
					{MemberID: "a-1", ClientID: "a", ClientHost: "/10.0.0.1", RebalanceTimeout: -1, SessionTimeout: 10000, Subscription: []byte("sub-a"), Assignment: []byte("asg-a")},
					{MemberID: "b-1", ClientID: "b", ClientHost: "/10.0.0.2", RebalanceTimeout: -1, SessionTimeout: 10000, Subscription: []byte{}, Assignment: []byte{}},
				},
			}
			if v >= 1 {
				gv.Members[0].RebalanceTimeout, gv.Members[1].RebalanceTimeout = 30000, 60000
			}
			if v >= 2 {
				gv.CurrentStateTimestamp = 1700000000000
			}
			if v >= 3 {
				gv.Members[1].InstanceID = "static-b"
			}
			var km kmsg.GroupMetadataValue
			if err := km.ReadFrom(gv.AppendTo(nil)); err != nil {
				t.Fatalf("v%d: kmsg: %v", v, err)
			}
			if km.ProtocolType != gv.ProtocolType || km.Generation != gv.Generation || *km.Protocol != gv.Protocol ||
				*km.Leader != gv.Leader || len(km.Members) != 2 || v >= 2 && km.CurrentStateTimestamp != gv.CurrentStateTimestamp {
				t.Fatalf("v%d: kmsg read %+v", v, km)
			}
			for i, m := range km.Members {
				want := gv.Members[i]
				inst := ""
				if m.InstanceID != nil {
					inst = *m.InstanceID
				}
				if m.MemberID != want.MemberID || inst != want.InstanceID || m.ClientID != want.ClientID || m.ClientHost != want.ClientHost ||
					v >= 1 && m.RebalanceTimeoutMillis != want.RebalanceTimeout || m.SessionTimeoutMillis != want.SessionTimeout ||
					!bytes.Equal(m.Subscription, want.Subscription) || !bytes.Equal(m.Assignment, want.Assignment) {
					t.Fatalf("v%d: member %d: kmsg read %+v, want %+v", v, i, m, want)
				}
			}
			back, err := ParseGroupValue(km.AppendTo(nil))
			if err != nil || !reflect.DeepEqual(back, gv) {
				t.Fatalf("v%d: parsed %+v, %v; want %+v", v, back, err, gv)
			}
		}
	})
}

func TestParseRecordErrors(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) error
		in    string
		want  error
	}{
		{"empty key", keyErr, "", ErrInvalidRecord},
		{"unknown key version", keyErr, "0003 0001 67", ErrUnsupportedRecordVersion},
		{"key string past end", keyErr, "0001 0005 6767", ErrInvalidRecord},
		{"key null group", keyErr, "0002 ffff", ErrInvalidRecord},
		{"offset value v5", offsetErr, "0005 0000000000000001", ErrUnsupportedRecordVersion},
		{"offset value negative version", offsetErr, "ffff", ErrUnsupportedRecordVersion},
		{"offset value truncated", offsetErr, "0003 00000000000000", ErrInvalidRecord},
		{"offset value v4 length past end", offsetErr, "0004 0000000000000001 ffffffff 7f", ErrInvalidRecord},
		{"group value huge member count", groupErr, "0003 0001 63 00000001 ffff ffff ffffffffffffffff 7fffffff", ErrInvalidRecord},
		{"group value negative bytes", groupErr, "0000 0001 63 00000001 ffff ffff 00000001 0001 61 0001 62 0001 63 00000000 ffffffff", ErrInvalidRecord},
		{"group value v4 null members", groupErr, "0004 02 63 00000001 00 00 0000000000000000 00", ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse(unhex(t, tt.in)); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func keyErr(b []byte) error    { _, err := ParseKey(b); return err }
func offsetErr(b []byte) error { _, err := ParseOffsetValue(b); return err }
func groupErr(b []byte) error  { _, err := ParseGroupValue(b); return err }

// The fuzz targets check that the decoders never panic, and that whatever
// they accept encodes back to bytes that decode to the same thing.

func FuzzParseKey(f *testing.F) {
	f.Add(OffsetKey("g", "t", 1).AppendTo(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err != nil {
			return
		}
		again, err := ParseKey(k.AppendTo(nil))
		if err != nil || again != k {
			t.Fatalf("re-parsed %+v, %v; want %+v", again, err, k)
		}
	})
}

func FuzzParseOffsetValue(f *testing.F) {
	f.Add(OffsetValue{Version: 3, Offset: 1, LeaderEpoch: 2, Metadata: "m", CommitTimestamp: 3}.AppendTo(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseOffsetValue(b)
		if err != nil {
			return
		}
		again, err := ParseOffsetValue(v.AppendTo(nil))
		if err != nil || again != v {
			t.Fatalf("re-parsed %+v, %v; want %+v", again, err, v)
		}
	})
}

func FuzzParseGroupValue(f *testing.F) {
	f.Add(GroupValue{Version: 3, ProtocolType: "consumer", Generation: 1, Members: []MemberValue{{MemberID: "m"}}}.AppendTo(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseGroupValue(b)
		if err != nil {
			return
		}
		again, err := ParseGroupValue(v.AppendTo(nil))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-parsed %+v, %v; want %+v", again, err, v)
		}
	})
}

// FuzzSubscriptionTopics also checks the topics read against a full
// decoding of the consumer protocol subscription, where that succeeds.
func FuzzSubscriptionTopics(f *testing.F) {
	f.Add(consumerSubscription("a", "b"))
	for v := int16(0); v <= 3; v++ {
		s := kmsg.NewConsumerMemberMetadata()
		s.Version, s.Topics, s.UserData = v, []string{"orders", ""}, []byte("u")
		s.OwnedPartitions = []kmsg.ConsumerMemberMetadataOwnedPartition{{Topic: "orders", Partitions: []int32{1}}}
		f.Add(s.AppendTo(nil))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		topics, ok := subscriptionTopics(b)
		if ok && len(topics) > len(b) {
			t.Fatalf("%d topics from %d bytes", len(topics), len(b))
		}
		var full kmsg.ConsumerMemberMetadata
		if ok && full.ReadFrom(b) == nil && !slices.Equal(topics, full.Topics) && (len(topics) > 0 || len(full.Topics) > 0) {
			t.Fatalf("topics %q, the full subscription says %q", topics, full.Topics)
		}
	})
}

// consumerSubscription encodes a consumer protocol subscription v0 with
// the given topics and no user data.
func consumerSubscription(topics ...string) []byte {
	s := kmsg.NewConsumerMemberMetadata()
	s.Topics = topics
	return s.AppendTo(nil)
}

func TestSubscriptionTopics(t *testing.T) {
	for v := int16(0); v <= 3; v++ {
		s := kmsg.NewConsumerMemberMetadata()
		s.Version = v
		s.Topics = []string{"orders", "payments"}
		s.UserData = []byte("sticky state")
		got, ok := subscriptionTopics(s.AppendTo(nil))
		if !ok || !reflect.DeepEqual(got, []string{"orders", "payments"}) {
			t.Fatalf("v%d: %v %v", v, got, ok)
		}
	}
	if _, ok := subscriptionTopics([]byte("goka copartition metadata")); ok {
		t.Fatal("parsed a non-consumer subscription")
	}
}

func TestPartitionFor(t *testing.T) {
	// Hash codes from Java's String.hashCode, abs mod 50.
	tests := []struct {
		key  string
		want int32
	}{
		{"", 0},
		{"a", 97 % 50},
		{"my-group", 1906497762 % 50},
		{"console-consumer-12345", 158455506 % 50},
		{"polygenelubricants", 0},    // hashCode is Integer.MIN_VALUE; Kafka's abs makes it 0
		{"\U0001F600", 1772899 % 50}, // a surrogate pair in UTF-16
	}
	for _, tt := range tests {
		if got := PartitionFor(tt.key, 50); got != tt.want {
			t.Errorf("PartitionFor(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}
