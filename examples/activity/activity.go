package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/runnel/runnel/streams"
	"github.com/runnel/runnel/streams/serde"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topic names of the pipeline.
const (
	topicPageViews      = "pageviews"
	topicClicks         = "clicks"
	topicUsers          = "users"
	topicPageViewCounts = "page-view-counts"
	topicUserSessions   = "user-sessions"
	topicEnrichedClicks = "enriched-clicks"
)

// PageView is one page view, keyed by user.
type PageView struct {
	User string `json:"user"`
	Page string `json:"page"`
	TS   int64  `json:"ts"` // ms since the epoch, also the record timestamp
}

// Click is one click on a page element, keyed by user.
type Click struct {
	User    string `json:"user"`
	Page    string `json:"page"`
	Element string `json:"element"`
	TS      int64  `json:"ts"`
}

// User is a row of the users table, keyed by user.
type User struct {
	User    string `json:"user"`
	Name    string `json:"name"`
	Country string `json:"country"`
}

// EnrichedClick is a click joined with its user's row.
type EnrichedClick struct {
	Click
	Name    string `json:"name,omitempty"`
	Country string `json:"country,omitempty"`
}

// eventTime reads the ts field of page views and clicks, so the windows
// follow when things happened, not when they were written.
func eventTime(_ string, _, value any, recordTS, _ int64) int64 {
	switch v := value.(type) {
	case PageView:
		return v.TS
	case Click:
		return v.TS
	}
	return recordTS
}

// topology builds the activity pipeline:
//
//   - page-view-counts: views per page per 1-minute tumbling window (10s
//     grace for late views), as text "page window-start window-end count";
//   - user-sessions: views per user session (30 minutes of inactivity
//     close a session), as text "user session-start session-end count";
//     merged-away sessions are not written;
//   - enriched-clicks: clicks joined with the users table, as JSON.
func topology() (*streams.Topology, error) {
	b := streams.NewBuilder()
	views := streams.StreamOf(b, topicPageViews, serde.String(), serde.JSON[PageView](), streams.WithTimestampExtractor(eventTime))

	byPage := streams.GroupBy(views, func(_ string, v PageView) string { return v.Page }, streams.Named("views-by-page"),
		streams.WithKeySerde(serde.String()), streams.WithValueSerde(serde.JSON[PageView]()))
	perMinute := streams.Count(streams.WindowedBy(byPage, streams.Tumbling(time.Minute).Grace(10*time.Second)), streams.Materialized("page-view-counts-store"))
	streams.Map(perMinute.ToStream(), func(k streams.Windowed[string], n int64) (string, string) {
		return k.Key, fmt.Sprintf("%s %s %s %d", k.Key, stamp(k.Window.Start), stamp(k.Window.End), n)
	}).To(topicPageViewCounts, serde.String(), serde.String())

	sessions := streams.Count(streams.WindowedBy(streams.GroupByKey(views), streams.Sessions(30*time.Minute)), streams.Materialized("user-sessions-store"))
	streams.Map(sessions.ToStream().Filter(func(_ streams.Windowed[string], n int64) bool { return n > 0 }),
		func(k streams.Windowed[string], n int64) (string, string) {
			return k.Key, fmt.Sprintf("%s %s %s %d", k.Key, stamp(k.Window.Start), stamp(k.Window.End), n)
		}).To(topicUserSessions, serde.String(), serde.String())

	clicks := streams.StreamOf(b, topicClicks, serde.String(), serde.JSON[Click](), streams.WithTimestampExtractor(eventTime))
	users := streams.TableOf(b, topicUsers, serde.String(), serde.JSON[User](), streams.Materialized("users-store"))
	streams.LeftJoinTable(clicks, users, func(_ string, c Click, u *User) EnrichedClick {
		e := EnrichedClick{Click: c}
		if u != nil {
			e.Name, e.Country = u.Name, u.Country
		}
		return e
	}).To(topicEnrichedClicks, serde.String(), serde.JSON[EnrichedClick]())
	return b.Build()
}

// stamp formats ms as RFC 3339 in UTC.
func stamp(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// generator writes users, then page views and clicks with event times a
// few seconds out of order.
type generator struct {
	users    int
	pages    int
	disorder time.Duration // how far event times may lag behind
	rng      *rand.Rand
	now      func() time.Time
}

// userRecords returns the rows of the users table.
func (g *generator) userRecords() []*kgo.Record {
	countries := []string{"DE", "FR", "NL", "PL", "SE"}
	var out []*kgo.Record
	for i := range g.users {
		u := User{User: userName(i), Name: "User " + strconv.Itoa(i), Country: countries[i%len(countries)]}
		out = append(out, jsonRecord(topicUsers, u.User, u, g.now().UnixMilli()))
	}
	return out
}

// next returns one page view, and a click on that page about a third of
// the time.
func (g *generator) next() []*kgo.Record {
	ts := g.now().Add(-time.Duration(g.rng.Int64N(int64(g.disorder) + 1))).UnixMilli()
	user := userName(g.rng.IntN(g.users))
	page := "/page/" + strconv.Itoa(g.rng.IntN(g.pages))
	out := []*kgo.Record{jsonRecord(topicPageViews, user, PageView{User: user, Page: page, TS: ts}, ts)}
	if g.rng.IntN(3) == 0 {
		c := Click{User: user, Page: page, Element: "button-" + strconv.Itoa(g.rng.IntN(4)), TS: ts}
		out = append(out, jsonRecord(topicClicks, user, c, ts))
	}
	return out
}

func userName(i int) string { return "user-" + strconv.Itoa(i) }

func jsonRecord(topic, key string, v any, ts int64) *kgo.Record {
	b, err := serde.JSON[any]().Serialize(topic, v)
	if err != nil {
		panic(err) // the event types always marshal
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: b, Timestamp: time.UnixMilli(ts)}
}

// generate writes the users table, then count page views (and their
// clicks), sleeping interval between views (0 for as fast as possible).
func generate(ctx context.Context, cl *kgo.Client, g *generator, count int, interval time.Duration) error {
	if err := cl.ProduceSync(ctx, g.userRecords()...).FirstErr(); err != nil {
		return fmt.Errorf("produce users: %w", err)
	}
	for i := 0; count <= 0 || i < count; i++ {
		if err := cl.ProduceSync(ctx, g.next()...).FirstErr(); err != nil {
			return fmt.Errorf("produce events: %w", err)
		}
		if interval > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
	}
	return nil
}
