//! Prometheus metrics: request counts and latency histograms by method, route and status, requests
//! in flight, and the database pool. Each API state has its own registry.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crm_domain::PoolStatus;

/// The metrics of one API instance.
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pub(crate) in_flight: IntGauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub(crate) fn new() -> Self {
        let labels = &["method", "route", "status"];
        let requests = defined(IntCounterVec::new(
            Opts::new("crm_http_requests_total", "HTTP requests served."),
            labels,
        ));
        let latency = defined(HistogramVec::new(
            HistogramOpts::new(
                "crm_http_request_duration_seconds",
                "Time from receiving a request to its response headers.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        ));
        let gauge = |name: &str, help: &str| defined(IntGauge::new(name, help));
        let in_flight = gauge("crm_http_requests_in_flight", "Requests being served.");
        let pool_connections = gauge("crm_db_pool_connections", "Open database connections.");
        let pool_idle = gauge(
            "crm_db_pool_idle_connections",
            "Open database connections not in use.",
        );
        let pool_max = gauge(
            "crm_db_pool_max_connections",
            "Most connections the pool opens.",
        );
        let registry = Registry::new();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(in_flight.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
        ] {
            // Each name is registered once on a fresh registry.
            let _ = registry.register(collector);
        }
        Self {
            registry,
            requests,
            latency,
            in_flight,
            pool_connections,
            pool_idle,
            pool_max,
        }
    }

    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// The text exposition, with the pool gauges read now.
    pub(crate) fn render(&self, pool: PoolStatus) -> String {
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.pool_max.set(i64::from(pool.max_size));
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// Metric definitions are constants: a failure is a programming error caught by any test run.
fn defined<T>(metric: prometheus::Result<T>) -> T {
    match metric {
        Ok(metric) => metric,
        Err(e) => unreachable!("invalid metric definition: {e}"),
    }
}
