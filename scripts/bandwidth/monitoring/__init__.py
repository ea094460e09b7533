"""Monitoring over time: Prometheus configuration from the inventory, rules, alert routing, the monthly report.

The metric names are the contract of docs/monitoring.md; the collector itself runs on the gateways
(roles/bandwidth/files/bandwidth-exporter)."""
