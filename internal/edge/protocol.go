package edge

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-edge/rampart/internal/metrics"
)

// protoCounters count requests by protocol:
// rampart_requests_by_protocol_total{protocol="http/1.1"|"h2"|"h3"}.
type protoCounters struct {
	h1, h2, h3 prometheus.Counter
	// retries counts the QUIC Retry packets sent (address validation).
	retries prometheus.Counter
}

func newProtoCounters(reg *metrics.Registry, log *slog.Logger) *protoCounters {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_requests_by_protocol_total",
		Help: "Requests served by the edge, by HTTP protocol (http/1.1, h2, h3).",
	}, []string{"protocol"})
	if err := reg.Registerer().Register(vec); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			log.Error("registering the protocol metric", "error", err)
			return nil
		}
		vec = are.ExistingCollector.(*prometheus.CounterVec)
	}
	retries := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rampart_quic_retries_total",
		Help: "QUIC connection attempts answered with a Retry (address validation): above quic.retry_above handshakes per second, or while a zone is under attack.",
	})
	if err := reg.Registerer().Register(retries); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			retries = are.ExistingCollector.(prometheus.Counter)
		}
	}
	return &protoCounters{
		h1:      vec.WithLabelValues("http/1.1"),
		h2:      vec.WithLabelValues("h2"),
		h3:      vec.WithLabelValues("h3"),
		retries: retries,
	}
}

// observe counts one request of HTTP major version major.
func (p *protoCounters) observe(major int) {
	if p == nil {
		return
	}
	switch major {
	case 3:
		p.h3.Inc()
	case 2:
		p.h2.Inc()
	default:
		p.h1.Inc()
	}
}
