package broker

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports each hosted partition's log and log-cleaner state,
// read at scrape time so nothing is kept twice.
type collector struct {
	b *Broker

	logSize, logStart, logEnd, highWatermark *prometheus.Desc
	dirtyRatio, cleans, cleanRead, cleanWritten, cleanRemoved, lastClean,
	uncleanable *prometheus.Desc
	fetchSessions *prometheus.Desc
}

func newCollector(b *Broker) *collector {
	labels := []string{"topic", "partition"}
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, labels, nil) }
	return &collector{
		b:             b,
		logSize:       d("runnel_log_size_bytes", "Bytes of the partition's segments on disk."),
		logStart:      d("runnel_log_start_offset", "The partition's log start offset."),
		logEnd:        d("runnel_log_end_offset", "The partition's log end offset."),
		highWatermark: d("runnel_partition_high_watermark", "The partition's high watermark."),
		dirtyRatio:    d("runnel_log_cleaner_dirty_ratio", "Share of a compacted log's cleanable bytes not yet cleaned (min.cleanable.dirty.ratio is compared with it)."),
		cleans:        d("runnel_log_cleaner_cleans_total", "Completed cleans of the log."),
		cleanRead:     d("runnel_log_cleaner_read_bytes_total", "Bytes the cleaner read from the log."),
		cleanWritten:  d("runnel_log_cleaner_written_bytes_total", "Bytes the cleaner wrote as cleaned segments."),
		cleanRemoved:  d("runnel_log_cleaner_removed_records_total", "Records the cleaner removed (older values, expired tombstones)."),
		lastClean:     d("runnel_log_cleaner_last_clean_timestamp_seconds", "When the last clean of the log finished (Unix seconds)."),
		uncleanable:   d("runnel_log_cleaner_uncleanable", "1 when the cleaner gave up on the log after an error."),
		fetchSessions: prometheus.NewDesc("runnel_fetch_sessions", "Incremental fetch sessions open (Kafka's NumIncrementalFetchSessions); at most max.incremental.fetch.session.cache.slots.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.logSize, c.logStart, c.logEnd, c.highWatermark,
		c.dirtyRatio, c.cleans, c.cleanRead, c.cleanWritten, c.cleanRemoved, c.lastClean, c.uncleanable, c.fetchSessions} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
	}
	counter := func(d *prometheus.Desc, v float64, lv ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, lv...)
	}
	gauge(c.fetchSessions, float64(c.b.srv.FetchSessions()))
	for _, p := range c.b.replicas.Partitions() {
		lv := []string{p.Topic, strconv.Itoa(int(p.Index))}
		st := p.State()
		gauge(c.logSize, float64(p.Log().Size()), lv...)
		gauge(c.logStart, float64(st.LogStartOffset), lv...)
		gauge(c.logEnd, float64(st.LogEndOffset), lv...)
		gauge(c.highWatermark, float64(st.HighWatermark), lv...)
	}
	for tp, s := range c.b.logs.CleanerStats() {
		lv := []string{tp.Topic, strconv.Itoa(int(tp.Partition))}
		gauge(c.dirtyRatio, s.DirtyRatio, lv...)
		counter(c.cleans, float64(s.Cleans), lv...)
		counter(c.cleanRead, float64(s.BytesRead), lv...)
		counter(c.cleanWritten, float64(s.BytesWritten), lv...)
		counter(c.cleanRemoved, float64(s.RecordsRemoved), lv...)
		if !s.LastCleanTime.IsZero() {
			gauge(c.lastClean, float64(s.LastCleanTime.UnixNano())/1e9, lv...)
		}
		var u float64
		if s.Uncleanable {
			u = 1
		}
		gauge(c.uncleanable, u, lv...)
	}
}
