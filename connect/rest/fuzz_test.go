package rest

import (
	"errors"
	"testing"
)

// The request body decoders must never panic, and every failure must be a
// bad request (400) rather than anything else.

func addSeeds(f *testing.F) {
	for _, c := range restCases {
		if c.body != "" {
			f.Add([]byte(c.body))
		}
	}
	f.Add([]byte(`{"offsets":[{"partition":{"kafka_topic":"t","kafka_partition":0},"offset":{"kafka_offset":5}},{"partition":{"filename":"a"},"offset":null}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"config":null,"name":null}`))
}

func FuzzDecodeCreateRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := decodeCreateRequest(body); err != nil && !errors.Is(err, errBody) {
			t.Fatalf("error %v is not a body error", err)
		}
	})
}

func FuzzDecodeConfigBody(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeConfigBody(body)
		if err != nil && !errors.Is(err, errBody) {
			t.Fatalf("error %v is not a body error", err)
		}
		if err == nil && m != nil {
			for k, v := range m {
				// Invalid UTF-8 bytes become U+FFFD (3 bytes); nothing else grows.
				if v != nil && len(*v) > 3*len(body) {
					t.Fatalf("value of %q longer than the body allows", k)
				}
			}
		}
	})
}

func FuzzDecodeOffsets(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := decodeOffsets(body); err != nil && !errors.Is(err, errBody) {
			t.Fatalf("error %v is not a body error", err)
		}
	})
}
