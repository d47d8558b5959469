# The demo that scripts/demo.sh runs on pcap-samples/mixed.pcap.
#
# Keep the web traffic in a file, count every IP protocol, and send a 1-in-10
# sample of everything else out of port 1 (in sl-replay: OUTDIR/tx-1.pcap).

web = rx | bpf "tcp port 80"          # a named stream: read by reference, never copied
web | count name=http
web | pcap "web.pcap"

p = rx | ipproto                      # a classifier: class = IP protocol number
p |6 count name=tcp
p |17 count name=udp
p |1 count name=icmp
p |58 count name=icmpv6
p |132 count name=sctp
p |else count name=not-ip             # ARP, and anything without an IP header

rx | bpf "not tcp port 80" | sample 10 | tx 1
