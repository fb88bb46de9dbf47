package streams

import (
	"github.com/prometheus/client_golang/prometheus"
)

// appMetrics are an App's Prometheus metrics, labelled with the
// application.id (Kafka Streams' thread- and task-level metrics, folded
// into the Prometheus way: counters whose rate is the "-rate" metric).
type appMetrics struct {
	processed        prometheus.Counter
	processLatency   prometheus.Histogram
	commits          prometheus.Counter
	commitLatency    prometheus.Histogram
	dropped          *prometheus.CounterVec
	restored         prometheus.Counter
	restoreRemaining prometheus.Gauge
	aborted          prometheus.Counter
	tasks            prometheus.Gauge
	standbyTasks     prometheus.Gauge
	standbyUpdated   prometheus.Counter
}

// newAppMetrics creates the metrics and registers them on reg when it is
// not nil.
func newAppMetrics(reg prometheus.Registerer, appID string) (*appMetrics, error) {
	labels := prometheus.Labels{"application_id": appID}
	buckets := prometheus.ExponentialBuckets(1e-6, 4, 12)
	m := &appMetrics{
		processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnel_streams_records_processed_total", ConstLabels: labels,
			Help: "Input records processed by the application's tasks (process-total; its rate is process-rate).",
		}),
		processLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "runnel_streams_process_latency_seconds", ConstLabels: labels, Buckets: buckets,
			Help: "Time to run one input record through its task (process-latency).",
		}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnel_streams_commits_total", ConstLabels: labels,
			Help: "Commits of the application's threads (commit-total).",
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "runnel_streams_commit_latency_seconds", ConstLabels: labels, Buckets: prometheus.ExponentialBuckets(1e-4, 4, 10),
			Help: "Time to commit: flush stores and producer, commit offsets or the transaction (commit-latency).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "runnel_streams_dropped_records_total", ConstLabels: labels,
			Help: "Records dropped by the tasks (late for their window, negative timestamp, …) by reason (dropped-records-total).",
		}, []string{"reason"}),
		restored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnel_streams_restored_records_total", ConstLabels: labels,
			Help: "Changelog records applied to state stores while restoring.",
		}),
		restoreRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "runnel_streams_restore_remaining_records", ConstLabels: labels,
			Help: "Changelog records still to restore before the restoring tasks can process (restore-remaining-records-total).",
		}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnel_streams_aborted_transactions_total", ConstLabels: labels,
			Help: "Transactions aborted under exactly_once_v2; each rebuilds the tasks' state from the changelogs.",
		}),
		tasks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "runnel_streams_active_tasks", ConstLabels: labels,
			Help: "Tasks the instance's threads run.",
		}),
		standbyTasks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "runnel_streams_standby_tasks", ConstLabels: labels,
			Help: "Standby tasks the instance's threads keep current from the changelogs (num.standby.replicas).",
		}),
		standbyUpdated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "runnel_streams_standby_updated_records_total", ConstLabels: labels,
			Help: "Changelog records applied to the stores of standby tasks.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.processed, m.processLatency, m.commits, m.commitLatency, m.dropped, m.restored, m.restoreRemaining, m.aborted, m.tasks, m.standbyTasks, m.standbyUpdated} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// countDropped counts a record a task dropped, by reason (a task's
// OnDrop).
func (a *App) countDropped(_, reason string) { a.metrics.dropped.WithLabelValues(reason).Inc() }
