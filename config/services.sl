# Per-service counters by destination port, with DNS kept for inspection.
d = rx | dport
d |53 count name=dns | pcap "dns.pcap"
d |80 count name=http
d |443 count name=https
d |22 count name=ssh
d |else count name=other-ports
