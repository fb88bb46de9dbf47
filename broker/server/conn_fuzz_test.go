package server

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzParseRequest feeds arbitrary frames to the request parser: it must
// never panic, and whatever it accepts must be a supported key and version.
func FuzzParseRequest(f *testing.F) {
	for key, vr := range supported {
		for _, v := range []int16{vr.min, vr.max} {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("fuzz")).AppendRequest(nil, req, 7)
			f.Add(frame[4:]) // without the size prefix, as readFrame returns it
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		r, err := parseRequest(frame)
		if err != nil {
			return
		}
		vr, ok := supported[r.Key()]
		if !ok || r.GetVersion() < vr.min || r.GetVersion() > vr.max {
			t.Fatalf("accepted %s v%d", kmsg.NameForKey(r.Key()), r.GetVersion())
		}
	})
}
