// Package metrics is the instance's Prometheus registry: what the
// adapters count (Firestore reads and writes, socket connects), served on
// an address of its own (METRICS_ADDR), never on the public port. It uses
// prometheus/client_golang, the Prometheus project's own client.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the instance's counters. One per process: the tests run
// several instances in one process, each with its own registry.
type Metrics struct {
	reg *prometheus.Registry
	// FirestoreReads counts billed document reads by RPC (a query that
	// returns nothing is billed one; every document change a listener
	// receives is one).
	FirestoreReads *prometheus.CounterVec
	// FirestoreWrites counts document writes by RPC.
	FirestoreWrites *prometheus.CounterVec
	// FirestoreCalls is the duration of unary Firestore calls (commits,
	// transactions' begins and rollbacks) by RPC, failed ones included.
	FirestoreCalls *prometheus.HistogramVec
	// Connects and Disconnects count sockets.
	Connects, Disconnects prometheus.Counter
	// Events counts events handed to sockets, by kind (once per user or
	// room, whatever the number of their sockets).
	Events *prometheus.CounterVec
}

// New returns a registry with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		FirestoreReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatapp_firestore_reads_total", Help: "Firestore document reads, as billed, by RPC.",
		}, []string{"rpc"}),
		FirestoreWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatapp_firestore_writes_total", Help: "Firestore document writes, by RPC.",
		}, []string{"rpc"}),
		FirestoreCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chatapp_firestore_call_seconds", Help: "Unary Firestore calls' durations (commits, transactions), by RPC.",
			// 2 ms to 14 s, 1.5× apart: fine enough for a p99 to the
			// nearest bucket, wide enough for an emulator under load.
			Buckets: prometheus.ExponentialBuckets(0.002, 1.5, 22),
		}, []string{"rpc"}),
		Connects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatapp_socket_connects_total", Help: "Sockets connected.",
		}),
		Disconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatapp_socket_disconnects_total", Help: "Sockets disconnected.",
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatapp_events_total", Help: "Realtime events handed to sockets, by kind.",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.FirestoreReads, m.FirestoreWrites, m.FirestoreCalls, m.Connects, m.Disconnects, m.Events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Reads implements firestore.Meter.
func (m *Metrics) Reads(rpc string, n int) { m.FirestoreReads.WithLabelValues(rpc).Add(float64(n)) }

// Writes implements firestore.Meter.
func (m *Metrics) Writes(rpc string, n int) { m.FirestoreWrites.WithLabelValues(rpc).Add(float64(n)) }

// Called implements firestore.Meter.
func (m *Metrics) Called(rpc string, d time.Duration) {
	m.FirestoreCalls.WithLabelValues(rpc).Observe(d.Seconds())
}

// Register adds a collector (e.g. a gauge read from the hub).
func (m *Metrics) Register(c prometheus.Collector) { m.reg.MustRegister(c) }

// GaugeFunc adds a gauge whose value f reads at each scrape (sockets,
// listeners): state the instance keeps anyway, so nothing is counted twice.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
